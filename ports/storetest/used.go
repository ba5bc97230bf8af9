package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// testDeleteIf checks the conditional delete: only at the given revision,
// else ErrConflict with the object intact; a deleted identifier stays used.
func testDeleteIf(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	ctx := context.Background()
	orig := Sample("di")
	orig.Revision = 7
	mustCreate(t, s, orig.Clone())
	for _, rev := range []uint64{0, 6, 8} {
		if err := s.DeleteIf(ctx, "di", rev); !errors.Is(err, ports.ErrConflict) {
			t.Fatalf("DeleteIf at revision %d of an object at 7: %v, want ErrConflict", rev, err)
		}
	}
	checkSame(t, get(t, s, "di"), orig)
	checkLocate(t, s, []string{"di"}, domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"})
	if err := s.Update(ctx, "di", func(o *domain.Object) error { return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.DeleteIf(ctx, "di", 7); !errors.Is(err, ports.ErrConflict) {
		t.Fatalf("DeleteIf at the revision before an Update: %v, want ErrConflict", err)
	}
	if err := s.DeleteIf(ctx, "di", 8); err != nil {
		t.Fatalf("DeleteIf at the stored revision: %v", err)
	}
	if _, err := s.Get(ctx, "di"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get after DeleteIf: %v, want ErrNotFound", err)
	}
	for _, term := range orig.IndexTerms() {
		checkLocate(t, s, nil, term)
	}
	if err := s.DeleteIf(ctx, "di", 8); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("second DeleteIf: %v, want ErrNotFound", err)
	}
	if err := s.DeleteIf(ctx, "never", 0); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("DeleteIf of a missing object: %v, want ErrNotFound", err)
	}
	if err := s.Create(ctx, Sample("di")); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("Create after DeleteIf: %v, want ErrExists", err)
	}
}

// testDeleteIfRace runs DeleteIf at the revision it read against
// concurrent Updates: the check and the delete are one transaction, so a
// DeleteIf that succeeds never loses an acknowledged Update made after the
// revision it named.
func testDeleteIfRace(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("race-%02d", i)
		mustCreate(t, s, Sample(id))
		var wg sync.WaitGroup
		var updErr, delErr error
		wg.Go(func() {
			updErr = s.Update(ctx, id, func(o *domain.Object) error { o.State = domain.Deactivated; return nil })
		})
		wg.Go(func() { delErr = s.DeleteIf(ctx, id, 0) })
		wg.Wait()
		_, getErr := s.Get(ctx, id)
		switch {
		case delErr == nil && updErr == nil:
			t.Fatalf("%s: both DeleteIf at revision 0 and an Update succeeded: the Update was lost", id)
		case delErr == nil && !errors.Is(updErr, ports.ErrNotFound):
			t.Fatalf("%s: Update after DeleteIf: %v, want ErrNotFound", id, updErr)
		case delErr == nil && !errors.Is(getErr, ports.ErrNotFound):
			t.Fatalf("%s: DeleteIf succeeded, Get: %v", id, getErr)
		case delErr != nil && !errors.Is(delErr, ports.ErrConflict):
			t.Fatalf("%s: DeleteIf: %v, want nil or ErrConflict", id, delErr)
		case delErr != nil && (updErr != nil || getErr != nil):
			t.Fatalf("%s: DeleteIf refused, Update %v, Get %v", id, updErr, getErr)
		}
	}
}

// testUsedIdentifiers checks that an identifier is never reused: after
// Delete, after DeleteIf, through CreateAll, and after the store is reopened.
func testUsedIdentifiers(t *testing.T, open Opener) {
	path := filepath.Join(t.TempDir(), "store")
	s, err := open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx := context.Background()
	mustCreate(t, s, Sample("gone"))
	mustCreate(t, s, Sample("gone-if"))
	mustCreate(t, s, Sample("kept"))
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.DeleteIf(ctx, "gone-if", 0); err != nil {
		t.Fatalf("DeleteIf: %v", err)
	}
	check := func(s ports.Store) {
		t.Helper()
		for _, id := range []string{"gone", "gone-if"} {
			squat := Sample(id)
			squat.Owner = "mallory"
			if err := s.Create(ctx, squat); !errors.Is(err, ports.ErrExists) {
				t.Fatalf("Create of used identifier %q: %v, want ErrExists", id, err)
			}
			if bulk, ok := s.(ports.BulkCreator); ok {
				if err := bulk.CreateAll(ctx, []*domain.Object{Sample("fresh-" + id), squat}); !errors.Is(err, ports.ErrExists) {
					t.Fatalf("CreateAll with used identifier %q: %v, want ErrExists", id, err)
				}
				if _, err := s.Get(ctx, "fresh-"+id); !errors.Is(err, ports.ErrNotFound) {
					t.Fatalf("refused CreateAll wrote an object (Get: %v)", err)
				}
			}
			if _, err := s.Get(ctx, id); !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("Get of used identifier %q: %v, want ErrNotFound", id, err)
			}
			if err := s.Update(ctx, id, func(*domain.Object) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("Update of used identifier %q: %v, want ErrNotFound", id, err)
			}
		}
		checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "mallory"})
		checkLocate(t, s, []string{"kept"})
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check(openAt(t, open, path))
}
