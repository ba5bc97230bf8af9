package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// UsedIdentifiersCopy checks a store's ports.UsedIdentifiers: deleted
// identifiers are listed in order and in pages; identifiers marked used in
// another store are refused by Create there; marking an object's identifier
// is refused and marks nothing.
func UsedIdentifiersCopy(t *testing.T, open Opener) {
	ctx := context.Background()
	src, _ := fresh(t, open)
	u, ok := src.(ports.UsedIdentifiers)
	if !ok {
		t.Fatalf("%T does not implement ports.UsedIdentifiers", src)
	}
	var deleted []string
	for _, id := range []string{"u-03", "u-01", "u-02", "u-05", "u-04"} {
		mustCreate(t, src, Sample(id))
		if err := src.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, id)
	}
	mustCreate(t, src, Sample("kept"))
	slices.Sort(deleted)
	var got []string
	for after := ""; ; {
		page, err := u.UsedIDs(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	if !slices.Equal(got, deleted) {
		t.Fatalf("UsedIDs paged = %v, want %v", got, deleted)
	}

	dst, _ := fresh(t, open)
	mustCreate(t, dst, Sample("there"))
	du := dst.(ports.UsedIdentifiers)
	if err := du.MarkUsed(ctx, []string{"x-1", "there"}); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("MarkUsed of an object's identifier: %v, want ErrExists", err)
	}
	if ids, _ := du.UsedIDs(ctx, "", 10); len(ids) != 0 {
		t.Fatalf("a refused MarkUsed marked %v", ids)
	}
	if err := du.MarkUsed(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := du.MarkUsed(ctx, got[:1]); err != nil {
		t.Fatalf("MarkUsed of an identifier already used: %v", err)
	}
	for _, id := range got {
		if err := dst.Create(ctx, Sample(id)); !errors.Is(err, ports.ErrExists) {
			t.Errorf("Create of %s after MarkUsed: %v, want ErrExists", id, err)
		}
	}
}
