package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// TestDiskFull fills a small disk with Creates: they then fail with
// ports.ErrNoSpace and write nothing; once space is freed, writes succeed
// again without reopening, and every acknowledged write is there after
// reopening.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k.db")
	s, err := bolt.Open(path, bolt.Options{})
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
		if err := s.Create(ctx, storetest.Sample(id)); err != nil {
			t.Fatalf("Create after space was freed: %v", err)
		}
		acked = append(acked, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = bolt.Open(path, bolt.Options{Create: ports.CreationOpenExisting})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged %s after reopening: %v", id, err)
		}
	}
	if info, _ := s.Info(ctx); info.Objects != len(acked) {
		t.Fatalf("%d objects after reopening, want the %d acknowledged", info.Objects, len(acked))
	}
}
