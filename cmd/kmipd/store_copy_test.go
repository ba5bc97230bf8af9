package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// storeConfig writes a configuration naming a store of type typ at path.
func storeConfig(t *testing.T, pki kmiptls.DevPKI, typ, path string) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "kmipd.toml")
	text := fmt.Sprintf("[server]\ncertificate_path = %q\nkey_path = %q\nca_path = %q\n[storage]\ntype = %q\npath = %q\n",
		pki.ServerCert, pki.ServerKey, pki.CACert, typ, path)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestStoreCopyAcrossTypes: SQLite to bbolt and back keeps every object
// byte for byte (the digests match) and the used identifiers; a non-empty
// destination is refused.
func TestStoreCopyAcrossTypes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := storeConfig(t, pki, "sqlite", filepath.Join(dir, "a.db"))
	b := storeConfig(t, pki, "bbolt", filepath.Join(dir, "b.db"))
	c := storeConfig(t, pki, "sqlite", filepath.Join(dir, "c.db"))
	src, err := storageOpeners["sqlite"](StorageConfig{Type: "sqlite", Path: filepath.Join(dir, "a.db")}, ports.CreationAuto)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600; i++ {
		if err := src.Create(ctx, storetest.Sample(fmt.Sprintf("obj-%04d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Delete(ctx, "obj-0007"); err != nil {
		t.Fatal(err)
	}
	src.Close()

	for _, step := range [][2]string{{a, b}, {b, c}} {
		var out, errb bytes.Buffer
		if code := run(ctx, []string{"store", "copy", "-from", step[0], "-to", step[1]}, &out, &errb); code != exitOK {
			t.Fatalf("store copy: exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), "copied 599 objects and 1 used identifiers") {
			t.Errorf("store copy said %q", out.String())
		}
	}
	dst, err := storageOpeners["sqlite"](StorageConfig{Type: "sqlite", Path: filepath.Join(dir, "c.db")}, ports.CreationOpenExisting)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, err := dst.Get(ctx, "obj-0599")
	if err != nil || got.Owner != storetest.Sample("x").Owner {
		t.Fatalf("copied object: %v, %v", got, err)
	}
	if err := dst.Create(ctx, storetest.Sample("obj-0007")); !errors.Is(err, ports.ErrExists) {
		t.Errorf("a deleted identifier is usable in the copy: %v", err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"store", "copy", "-from", a, "-to", b}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "not empty") {
		t.Errorf("copy into a non-empty store: exit %d, %q", code, errb.String())
	}
}
