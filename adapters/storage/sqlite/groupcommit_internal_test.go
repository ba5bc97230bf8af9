package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/domain"
)

// TestConcurrentCreatesShareCommits: 64 writers at once need fewer commits
// than writes, because each commit takes every request waiting for it.
func TestConcurrentCreatesShareCommits(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.q.Batches()
	const writers = 64
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			obj := &domain.Object{ID: fmt.Sprintf("g%02d", i), Type: 2, State: domain.PreActive, Owner: "o", Policy: "default"}
			if err := s.Create(context.Background(), obj); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := s.q.Batches() - before; n >= writers {
		t.Fatalf("%d commits for %d concurrent creates: no group commit", n, writers)
	} else {
		t.Logf("%d concurrent creates in %d commits", writers, n)
	}
}
