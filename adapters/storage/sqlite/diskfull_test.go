package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// smallDisk mounts a tmpfs of size bytes at a new directory, or skips the
// test saying why it cannot.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s tmpfs to fill (needs root): %v %s", size, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestDiskFull fills a small disk with Creates: they then fail with
// ports.ErrNoSpace and write nothing; once space is freed, writes succeed
// again without reopening, and every acknowledged write is there after
// reopening.
func TestDiskFull(t *testing.T) {
	dir := smallDisk(t, "2m")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var acked []string
	full := 0
	for i := 0; full < 20 && i < 100000; i++ {
		id := fmt.Sprintf("obj-%05d", i)
		err := s.Create(ctx, storetest.Sample(id))
		switch {
		case err == nil:
			acked = append(acked, id)
		case errors.Is(err, ports.ErrNoSpace):
			full++
		default:
			t.Fatalf("Create %s on a full disk: %v", id, err)
		}
	}
	if full == 0 || len(acked) == 0 {
		t.Fatalf("%d Creates acknowledged, %d refused for lack of space: the disk never filled", len(acked), full)
	}
	if _, err := s.Get(ctx, acked[0]); err != nil {
		t.Fatalf("Get on a full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id := fmt.Sprintf("after-%d", i)
		if err := s.Create(ctx, storetest.Sample(id)); err != nil {
			t.Fatalf("Create after space was freed: %v", err)
		}
		acked = append(acked, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, path, acked)
}

// TestFullWALCheckpointed fills the disk while new objects take the pages
// of deleted ones: when the WAL can grow no more, the store checkpoints it
// into those pages, which needs no new space, and truncates it, so the
// Creates go on succeeding where they would fail for lack of space.
func TestFullWALCheckpointed(t *testing.T) {
	dir := smallDisk(t, "4m")
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
	s, err := sqlite.Open(path, sqlite.Options{Create: ports.CreationOpenExisting})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range ids {
		if _, err := s.Get(context.Background(), id); err != nil {
			t.Fatalf("acknowledged %s after reopening: %v", id, err)
		}
	}
	if info, _ := s.Info(context.Background()); info.Objects != len(ids) {
		t.Fatalf("%d objects after reopening, want the %d acknowledged", info.Objects, len(ids))
	}
}
