package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// Snapshot checks a store's ports.Snapshotter: a copy taken while writers
// run opens with the same adapter, holds every object written before it
// began, unchanged, and only whole objects of the writes that raced it; the
// file is owner-only; an existing path and an ended context are refused
// and leave no file behind.
func Snapshot(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	snap, ok := s.(ports.Snapshotter)
	if !ok {
		t.Fatalf("%T does not implement ports.Snapshotter", s)
	}
	ctx := context.Background()
	before := population(200)
	createAll(t, s, before)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	raced := make(chan string, 10000)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("raced-%06d", i)
			if err := s.Create(ctx, Sample(id)); err != nil {
				t.Errorf("create %s while snapshotting: %v", id, err)
				return
			}
			raced <- id
		}
	}()
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot")
	err := snap.Snapshot(ctx, path)
	close(stop)
	wg.Wait()
	close(raced)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	copyStore := openAt(t, open, path)
	for _, o := range before {
		checkSame(t, get(t, copyStore, o.ID), o)
	}
	racedIDs := map[string]bool{}
	for id := range raced {
		racedIDs[id] = true
	}
	all := locate(t, copyStore, ports.LocateQuery{})
	if len(all) < len(before) {
		t.Fatalf("snapshot holds %d objects, want at least %d", len(all), len(before))
	}
	for _, id := range all {
		if racedIDs[id] {
			checkSame(t, get(t, copyStore, id), Sample(id))
		}
	}

	if err := snap.Snapshot(ctx, path); err == nil {
		t.Error("Snapshot over an existing file succeeded")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	other := filepath.Join(dir, "canceled")
	if err := snap.Snapshot(canceled, other); err == nil {
		t.Error("Snapshot with an ended context succeeded")
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a failed Snapshot left %s (stat: %v)", other, err)
	}
}
