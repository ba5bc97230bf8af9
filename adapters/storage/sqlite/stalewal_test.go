package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// crashImage copies the files of the store at path, as a crash would leave
// them, into dir under the name k.db, and returns that path. suffixes picks
// the files: "" the database, "-wal", "-wal.owner".
func crashImage(t *testing.T, path, dir string, suffixes ...string) string {
	t.Helper()
	img := filepath.Join(dir, "k.db")
	for _, suf := range suffixes {
		b, err := os.ReadFile(path + suf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(img+suf, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// openWithObjects opens a new store at path holding objects ids, their
// writes still in the WAL, and closes it when the test ends.
func openWithObjects(t *testing.T, path string, ids ...string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, id := range ids {
		if err := s.Create(context.Background(), storetest.Sample(id)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestStaleWALRefused: after a crash, a WAL next to a database file that is
// not its own (the file was replaced while kmipd ran) is refused at open,
// with both untouched, instead of being applied to it; the same crash image
// with its own file opens with every write.
func TestStaleWALRefused(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	o := openWithObjects(t, other, "other-only")
	if err := o.Close(); err != nil { // checkpointed: the file holds its identity
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.db")
	openWithObjects(t, a, "a-1", "a-2", "a-3")

	// The crash image as it is: opens with every acknowledged write.
	good := crashImage(t, a, t.TempDir(), "", "-wal", "-wal.owner")
	s, err := sqlite.Open(good, sqlite.Options{Create: ports.CreationOpenExisting})
	if err != nil {
		t.Fatalf("Open of a crash image: %v", err)
	}
	if info, _ := s.Info(context.Background()); info.Objects != 3 {
		t.Fatalf("crash image holds %d objects, want 3", info.Objects)
	}
	s.Close()

	// The same image with the database file replaced by the other store.
	bad := crashImage(t, a, t.TempDir(), "-wal", "-wal.owner")
	b, _ := os.ReadFile(other)
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(bad + "-wal")
	for _, c := range []ports.Creation{ports.CreationAuto, ports.CreationOpenExisting} {
		s, err := sqlite.Open(bad, sqlite.Options{Create: c})
		if !errors.Is(err, ports.ErrNotAStore) || !strings.Contains(err.Error(), "belongs to store") {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Open of a file with another store's WAL: %v, want ErrNotAStore naming the WAL's store", err)
		}
	}
	if after, _ := os.ReadFile(bad + "-wal"); string(after) != string(wal) {
		t.Fatal("the refused open changed the WAL")
	}
}

// TestOrphanWALRefused: a WAL whose database file is gone is refused rather
// than applied to a new, empty file, and no file is left at the path.
func TestOrphanWALRefused(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a.db")
	openWithObjects(t, a, "a-1")
	img := crashImage(t, a, t.TempDir(), "-wal", "-wal.owner")
	s, err := sqlite.Open(img, sqlite.Options{})
	if !errors.Is(err, ports.ErrNotAStore) || !strings.Contains(err.Error(), "without its database file") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open beside an orphan WAL: %v, want ErrNotAStore", err)
	}
	if _, err := os.Lstat(img); !os.IsNotExist(err) {
		t.Fatalf("the refused open left a file at the path: %v", err)
	}
}
