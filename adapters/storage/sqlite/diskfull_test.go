package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// TestDiskFull fills a small disk with Creates: they then fail with
// ports.ErrNoSpace and write nothing; once space is freed, writes succeed
// again without reopening, and every acknowledged write is there after
// reopening (storetest.DiskFull).
func TestDiskFull(t *testing.T) {
	open := func(path string) (ports.Store, error) { return sqlite.Open(path, sqlite.Options{}) }
	path, acked := storetest.DiskFull(t, open, "2m", 512<<10)
	checkExactly(t, path, acked)
}

// TestFullWALCheckpointed fills the disk while new objects take the pages
// of deleted ones: when the WAL can grow no more, the store checkpoints it
// into those pages, which needs no new space, and truncates it, so the
// Creates go on succeeding where they would fail for lack of space.
func TestFullWALCheckpointed(t *testing.T) {
	dir := storetest.SmallDisk(t, "4m")
	path := filepath.Join(dir, "k.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var kept []string
	for i := range 30 {
		id := fmt.Sprintf("old-%02d", i)
		if err := s.Create(ctx, storetest.Sample(id)); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			kept = append(kept, id)
		}
	}
	for i := 1; i < 30; i += 2 {
		if err := s.Delete(ctx, fmt.Sprintf("old-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close() // checkpoints the WAL into the database and removes it
	// Leave room for 160 KiB of WAL: two Creates.
	filler := freeSpace(t, dir) - 160<<10
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, filler), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = sqlite.Open(path, sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		id := fmt.Sprintf("new-%02d", i)
		if err := s.Create(ctx, storetest.Sample(id)); err != nil {
			t.Fatalf("Create %d into the pages of deleted objects, with the WAL filling the disk: %v", i, err)
		}
		kept = append(kept, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, path, kept)
}

// freeSpace returns the bytes free on dir's file system.
func freeSpace(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// checkExactly reopens the store at path and checks it holds exactly ids.
func checkExactly(t *testing.T, path string, ids []string) {
	t.Helper()
	storetest.ExactlyAfterReopen(t, func(path string) (ports.Store, error) {
		return sqlite.Open(path, sqlite.Options{Create: ports.CreationOpenExisting})
	}, path, ids)
}
