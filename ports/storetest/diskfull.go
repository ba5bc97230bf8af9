package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// SmallDisk mounts a tmpfs of size (as mount's size= option, "2m") at a new
// directory and returns it, or skips the test saying why it cannot (it
// needs root).
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s tmpfs to fill (needs root): %v %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// DiskFull fills a disk of diskSize, fillerBytes of which a file takes,
// with Creates of stores open opens: they then fail with ports.ErrNoSpace
// and write nothing; reads go on; once the file is removed, writes succeed
// again without reopening. It returns the store's path and every
// acknowledged identifier, the store closed, for the caller to check after
// reopening (ExactlyAfterReopen).
func DiskFull(t *testing.T, open Opener, diskSize string, fillerBytes int) (path string, acked []string) {
	t.Helper()
	dir := SmallDisk(t, diskSize)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, fillerBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "k.db")
	s, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	full := 0
	for i := 0; full < 20 && i < 100000; i++ {
		id := fmt.Sprintf("obj-%05d", i)
		err := s.Create(ctx, Sample(id))
		switch {
		case err == nil:
			acked = append(acked, id)
		case errors.Is(err, ports.ErrNoSpace):
			full++
		default:
			t.Fatalf("Create %s (after %d acknowledged) on a full disk: %v", id, len(acked), err)
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
		if err := s.Create(ctx, Sample(id)); err != nil {
			t.Fatalf("Create after space was freed: %v", err)
		}
		acked = append(acked, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, acked
}

// ExactlyAfterReopen opens the store at path again and checks that it
// holds exactly the objects ids: each one readable, and no other.
func ExactlyAfterReopen(t *testing.T, open Opener, path string, ids []string) {
	t.Helper()
	s, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range ids {
		if _, err := s.Get(context.Background(), id); err != nil {
			t.Fatalf("acknowledged %s after reopening: %v", id, err)
		}
	}
	d, ok := s.(ports.Describer)
	if !ok {
		t.Fatalf("%T cannot count its objects (ports.Describer)", s)
	}
	if info, _ := d.Info(context.Background()); info.Objects != len(ids) {
		t.Fatalf("%d objects after reopening, want the %d acknowledged", info.Objects, len(ids))
	}
}
