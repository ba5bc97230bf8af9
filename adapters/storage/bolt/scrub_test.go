package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports/storetest"
)

// Zeroing the free pages after destroys, with reads running meanwhile,
// leaves a file bbolt's own consistency check accepts and every surviving
// object readable.
func TestScrubKeepsFileConsistent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := s.Create(ctx, storetest.Sample(fmt.Sprintf("o%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for i := r; ; i = (i + 7) % n {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Get(ctx, fmt.Sprintf("o%03d", i)); err != nil && i%3 != 0 {
					t.Errorf("Get o%03d during scrubs: %v", i, err)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for i := 0; i < n; i += 3 {
		writers.Go(func() {
			id := fmt.Sprintf("o%03d", i)
			var err error
			if i%2 == 0 {
				err = s.Update(ctx, id, func(o *domain.Object) error { o.Payload = nil; return nil })
			} else {
				err = s.Delete(ctx, id)
			}
			if err != nil {
				t.Errorf("destroying %s: %v", id, err)
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("bbolt check after scrubs: %v", err)
	}
	s2, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i := range n {
		id := fmt.Sprintf("o%03d", i)
		obj, err := s2.Get(ctx, id)
		switch {
		case i%3 != 0 && (err != nil || obj.Payload == nil):
			t.Errorf("%s: %v, payload %v", id, err, obj)
		case i%3 == 0 && i%2 == 0 && (err != nil || obj.Payload != nil):
			t.Errorf("destroyed %s: %v, payload kept", id, err)
		case i%3 == 0 && i%2 == 1 && err == nil:
			t.Errorf("deleted %s still readable", id)
		}
	}
}
