package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// DestroyLeavesNoKey checks what a store promises for destroyed key
// material: once an Update that drops an object's payload (as KMIP Destroy
// does) or a Delete has returned, no file in the store's directory holds the
// object's key bytes, while the store is open and after Close. A key that is
// not destroyed must be found, so that the scan is known to see the files.
func DestroyLeavesNoKey(t *testing.T, open Opener) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := open(filepath.Join(dir, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]byte{}
	for i := range 40 {
		id := fmt.Sprintf("obj-%02d", i)
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			t.Fatal(err)
		}
		keys[id] = key
		obj := Sample(id)
		obj.Payload.Child(kmip.TagKeyBlock).Child(kmip.TagKeyValue).Child(kmip.TagKeyMaterial).Value = key
		if err := s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	// Rewrite the neighbours a few times, so that the keys' pages are
	// copied about as a working store's are.
	for round := range 3 {
		for id := range keys {
			if err := s.Update(ctx, id, func(o *domain.Object) error {
				o.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, fmt.Sprint("round ", round)))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	destroyed, deleted, kept := "obj-07", "obj-21", "obj-33"
	if err := s.Update(ctx, destroyed, func(o *domain.Object) error { o.Payload = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, id := range []string{destroyed, deleted} {
			for _, f := range filesHolding(t, dir, keys[id]) {
				t.Errorf("%s: %s holds the key bytes of %s", when, f, id)
			}
		}
		if len(filesHolding(t, dir, keys[kept])) == 0 {
			t.Errorf("%s: no file holds the key of %s, which was not destroyed: the scan sees nothing", when, kept)
		}
	}
	check("right after the calls returned")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close")
}

// filesHolding returns the files of dir whose bytes contain b.
func filesHolding(t testing.TB, dir string, b []byte) []string {
	return filesWithPrefixHolding(t, dir, "", b)
}

// StoreFilesHolding returns the files of the store at dbPath (the database
// and the files beside it whose names start with its name, such as
// SQLite's -wal and -shm) that contain b: for tests that key bytes are, or
// are not, at rest.
func StoreFilesHolding(t testing.TB, dbPath string, b []byte) []string {
	dir, base := filepath.Split(dbPath)
	return filesWithPrefixHolding(t, dir, base, b)
}

// filesWithPrefixHolding returns the files of dir named prefix... whose
// bytes contain b.
func filesWithPrefixHolding(t testing.TB, dir, prefix string, b []byte) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, b) {
			out = append(out, e.Name())
		}
	}
	return out
}
