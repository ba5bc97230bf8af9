package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// TestFailingRequestInBatch: when one request of a batch fails, the batch,
// first run without savepoints, runs again with them, and the others are
// committed with all their index entries.
func TestFailingRequestInBatch(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "f.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Create(ctx, storetest.Sample("dup")); err != nil {
		t.Fatal(err)
	}
	// Hold the writer so that the creates below queue up and form one batch.
	release := make(chan struct{})
	held := make(chan struct{})
	go s.submit(ctx, func(*sql.Tx) error { close(held); <-release; return nil })
	<-held
	ids := []string{"a", "dup", "b", "c"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = s.Create(ctx, storetest.Sample(id)) })
	}
	for s.q.Waiting() < int64(len(ids)) {
		time.Sleep(time.Millisecond)
	}
	before := s.q.Batches()
	close(release)
	wg.Wait()
	if n := s.q.Batches() - before; n != 1 {
		t.Logf("the creates took %d batches", n)
	}
	for i, id := range ids {
		if id == "dup" {
			if !errors.Is(errs[i], ports.ErrExists) {
				t.Errorf("Create(dup) = %v, want ErrExists", errs[i])
			}
		} else if errs[i] != nil {
			t.Errorf("Create(%s) = %v", id, errs[i])
		}
	}
	got, err := s.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: domain.IndexOwner, Key: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a b c dup]" {
		t.Fatalf("Locate by owner = %v, want [a b c dup]", got)
	}
}
