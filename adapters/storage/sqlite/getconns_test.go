package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// Get's own connections stay open between reads, yet each read sees what
// another node on the same file committed just before: an update, a
// delete, a create.
func TestGetSeesAnotherNodesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.db")
	a, err := sqlite.Open(path, sqlite.Options{ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(path, sqlite.Options{ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := a.Create(ctx, storetest.Sample("x")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := b.Get(ctx, "x")
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision != uint64(i) {
			t.Fatalf("b read revision %d, want %d", got.Revision, i)
		}
		if err := a.Update(ctx, "x", func(o *domain.Object) error { o.State = domain.Deactivated; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "x"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("b.Get after a deleted the object: %v, want ErrNotFound", err)
	}
	if err := a.Create(ctx, storetest.Sample("y")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "y"); err != nil || got.ID != "y" {
		t.Fatalf("b.Get of an object a created: %v, %v", got, err)
	}
}

// More Gets at once than connections wait for one and all succeed; a Get
// with an ended context returns the context's error.
func TestGetWaitsForAConnection(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "one.db"), sqlite.Options{ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Create(ctx, storetest.Sample("x")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got, err := s.Get(ctx, "x"); err != nil || got.ID != "x" {
					t.Errorf("Get: %v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with an ended context: %v", err)
	}
}
