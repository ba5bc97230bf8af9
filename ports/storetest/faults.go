package storetest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// CreationOpener opens the store kept at path as create allows.
type CreationOpener func(path string, create ports.Creation) (ports.Store, error)

// Faults runs the contract of a store whose ground moves: every store has an
// identity (ports.Describer) and notices (ports.HealthChecker) when the path
// it was opened at stops naming its database, after which it acknowledges
// no write; opening never creates a store it was told not to, and never
// takes over something that is not a kmipd store.
func Faults(t *testing.T, open CreationOpener) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open CreationOpener)
	}{
		{"Identity", testIdentity},
		{"OpenExistingMissing", testOpenExistingMissing},
		{"CreateNewOverExisting", testCreateNewOverExisting},
		{"NotAStore", testNotAStore},
		{"DirectoryRemoved", testDirectoryRemoved},
		{"RemovedNoticedByCheck", testRemovedNoticedByCheck},
		{"RenamedAway", testRenamedAway},
		{"Replaced", testReplaced},
		{"OverwrittenInPlace", testOverwrittenInPlace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openWith opens a store at path as create allows and closes it when the test ends.
func openWith(t testing.TB, open CreationOpener, path string, create ports.Creation) ports.Store {
	t.Helper()
	s, err := open(path, create)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// info returns s's ports.Describer answer, failing if s has none.
func info(t testing.TB, s ports.Store) ports.StoreInfo {
	t.Helper()
	d, ok := s.(ports.Describer)
	if !ok {
		t.Fatalf("%T does not implement ports.Describer", s)
	}
	in, err := d.Info(context.Background())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	return in
}

// check returns s's ports.HealthChecker answer, failing if s has none.
func check(t testing.TB, s ports.Store) error {
	t.Helper()
	h, ok := s.(ports.HealthChecker)
	if !ok {
		t.Fatalf("%T does not implement ports.HealthChecker", s)
	}
	return h.Check(context.Background())
}

func testIdentity(t *testing.T, open CreationOpener) {
	path := filepath.Join(t.TempDir(), "store")
	s := openWith(t, open, path, ports.CreationAuto)
	first := info(t, s)
	if !first.New || len(first.ID) != 32 || first.Objects != 0 || time.Since(first.Created) > time.Minute {
		t.Fatalf("new store: Info = %+v, want New, a 32-digit identity, 0 objects, created now", first)
	}
	if err := check(t, s); err != nil {
		t.Fatalf("Check of a healthy store: %v", err)
	}
	createAll(t, s, population(3))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openWith(t, open, path, ports.CreationOpenExisting)
	again := info(t, s)
	if again.New || again.ID != first.ID || !again.Created.Equal(first.Created) || again.Objects != 3 {
		t.Fatalf("reopened store: Info = %+v, want not New, identity %s created %v, 3 objects", again, first.ID, first.Created)
	}
	other := info(t, openWith(t, open, filepath.Join(t.TempDir(), "store"), ports.CreationNew))
	if !other.New || other.ID == first.ID {
		t.Fatalf("second new store: Info = %+v, want New with an identity of its own", other)
	}
}

func testOpenExistingMissing(t *testing.T, open CreationOpener) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "store"), filepath.Join(dir, "gone", "store")} {
		s, err := open(path, ports.CreationOpenExisting)
		if !errors.Is(err, ports.ErrNoStore) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("open missing %s with CreationOpenExisting: %v, want ErrNoStore", path, err)
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Fatalf("open with CreationOpenExisting left something at %s: %v", path, err)
		}
	}
}

func testCreateNewOverExisting(t *testing.T, open CreationOpener) {
	path := filepath.Join(t.TempDir(), "store")
	s := openWith(t, open, path, ports.CreationNew)
	id := info(t, s).ID
	mustCreate(t, s, Sample("kept"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := open(path, ports.CreationNew); !errors.Is(err, ports.ErrExists) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("CreationNew over an existing store: %v, want ErrExists", err)
	}
	s = openWith(t, open, path, ports.CreationAuto)
	if in := info(t, s); in.ID != id || in.New {
		t.Fatalf("store after a refused CreationNew: %+v, want identity %s", in, id)
	}
	get(t, s, "kept")
}

func testNotAStore(t *testing.T, open CreationOpener) {
	for i, create := range []ports.Creation{ports.CreationAuto, ports.CreationOpenExisting, ports.CreationAuto} {
		garbage := bytes.Repeat([]byte("not a kmipd store. "), 1000)
		if i == 2 {
			garbage = garbage[:100] // shorter than any database's first page
		}
		path := filepath.Join(t.TempDir(), "store")
		if err := os.WriteFile(path, garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := open(path, create); !errors.Is(err, ports.ErrNotAStore) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("open of a foreign file (creation %d): %v, want ErrNotAStore", create, err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, garbage) {
			t.Fatalf("open of a foreign file (creation %d) changed it", create)
		}
	}
	path := filepath.Join(t.TempDir(), "store")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := open(path, ports.CreationOpenExisting); !errors.Is(err, ports.ErrNotAStore) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("open of an empty file with CreationOpenExisting: %v, want ErrNotAStore", err)
	}
}

// checkLost checks that every operation of s fails with ErrStoreLost.
func checkLost(t *testing.T, s ports.Store) {
	t.Helper()
	ctx := context.Background()
	lost := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ports.ErrStoreLost) {
			t.Errorf("%s on a lost store: %v, want ErrStoreLost", op, err)
		}
	}
	lost("Create", s.Create(ctx, Sample("after-the-fault")))
	lost("Update", s.Update(ctx, "obj-000", func(*domain.Object) error { return nil }))
	lost("Delete", s.Delete(ctx, "obj-001"))
	_, err := s.Get(ctx, "obj-000")
	lost("Get", err)
	_, err = s.Locate(ctx, ports.LocateQuery{})
	lost("Locate", err)
	if sc, ok := s.(ports.ScratchStore); ok {
		lost("PutScratch", sc.PutScratch(ctx, "k", []byte("v"), time.Now().Add(time.Hour)))
	}
	lost("Check", check(t, s))
}

// closeLost closes a lost store, which must say it was lost.
func closeLost(t *testing.T, s ports.Store) {
	t.Helper()
	if err := s.Close(); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("Close of a lost store: %v, want ErrStoreLost", err)
	}
}

func testDirectoryRemoved(t *testing.T, open CreationOpener) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "store")
	s := openWith(t, open, path, ports.CreationAuto)
	createAll(t, s, population(4))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// The first write after the removal is refused, and so is everything after.
	if err := s.Create(context.Background(), Sample("first-after")); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("Create after the directory was removed: %v, want ErrStoreLost", err)
	}
	checkLost(t, s)
	// A store made again at the path does not revive the lost one.
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	openWith(t, open, path, ports.CreationNew).Close()
	checkLost(t, s)
	closeLost(t, s)
}

func testRemovedNoticedByCheck(t *testing.T, open CreationOpener) {
	path := filepath.Join(t.TempDir(), "store")
	s := openWith(t, open, path, ports.CreationAuto)
	mustCreate(t, s, Sample("obj-000"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := check(t, s); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("Check after the file was removed: %v, want ErrStoreLost", err)
	}
	checkLost(t, s)
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("a lost store made a file at its path again: %v", err)
	}
}

func testRenamedAway(t *testing.T, open CreationOpener) {
	dir := t.TempDir()
	path, moved := filepath.Join(dir, "store"), filepath.Join(dir, "moved")
	s := openWith(t, open, path, ports.CreationAuto)
	id := info(t, s).ID
	objs := population(6)
	createAll(t, s, objs)
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	checkLost(t, s)
	closeLost(t, s)
	// Moved back, the file holds every write acknowledged before the fault
	// and none refused after it.
	if err := os.Rename(moved, path); err != nil {
		t.Fatal(err)
	}
	s = openWith(t, open, path, ports.CreationOpenExisting)
	if in := info(t, s); in.ID != id || in.Objects != len(objs) {
		t.Fatalf("moved store: Info = %+v, want identity %s with %d objects", in, id, len(objs))
	}
	for _, o := range objs {
		checkSame(t, get(t, s, o.ID), o)
	}
}

func testReplaced(t *testing.T, open CreationOpener) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "store"), filepath.Join(dir, "other")
	s := openWith(t, open, path, ports.CreationAuto)
	createAll(t, s, population(3))
	o := openWith(t, open, other, ports.CreationAuto)
	otherID := info(t, o).ID
	mustCreate(t, o, Sample("other-only"))
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	checkLost(t, s)
	closeLost(t, s)
	// Opened again, the path holds the other store, intact, which says so.
	s = openWith(t, open, path, ports.CreationOpenExisting)
	if in := info(t, s); in.ID != otherID || in.Objects != 1 {
		t.Fatalf("replaced store: Info = %+v, want the other store %s with 1 object", in, otherID)
	}
	get(t, s, "other-only")
}

func testOverwrittenInPlace(t *testing.T, open CreationOpener) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "store"), filepath.Join(dir, "other")
	s := openWith(t, open, path, ports.CreationAuto)
	createAll(t, s, population(3))
	o := openWith(t, open, other, ports.CreationAuto)
	mustCreate(t, o, Sample("other-only"))
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil { // cp other store: same inode, other content
		t.Fatal(err)
	}
	if err := check(t, s); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("Check after the file was overwritten by another store: %v, want ErrStoreLost", err)
	}
	checkLost(t, s)
}
