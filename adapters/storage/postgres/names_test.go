package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
)

// Name locks hold across two stores (two nodes) on one database: a name
// one session holds is refused to the other until released; a wait its
// context ends leaves nothing held; a closed session's locks are gone.
func TestNameLocksAcrossNodes(t *testing.T) {
	ctx := context.Background()
	dsn, err := pgtest.Shared(t).CreateDatabase(ctx, fmt.Sprintf("names_%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	a, b := openDSN(t, dsn, postgres.Options{}), openDSN(t, dsn, postgres.Options{})
	sa, _ := a.NameSession(ctx)
	sb, _ := b.NameSession(ctx)
	if err := sa.Lock(ctx, "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	if err := sa.Lock(ctx, "n1"); err != nil {
		t.Fatalf("relocking a held name: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := sb.Lock(short, "n2"); err == nil {
		t.Fatal("node B got a name node A holds")
	}
	if err := sb.Lock(ctx, "other"); err != nil {
		t.Fatalf("node B, another name: %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- sb.Lock(ctx, "n1") }()
	select {
	case err := <-got:
		t.Fatalf("node B got n1 while node A holds it: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	sa.Release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("node B after A released: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node B still waits after node A released")
	}
	sb.Release()
	sa2, _ := a.NameSession(ctx)
	defer sa2.Release()
	quick, cancel2 := context.WithTimeout(ctx, 2*time.Second)
	defer cancel2()
	if err := sa2.Lock(quick, "n1", "n2", "other"); err != nil {
		t.Fatalf("names released by both sessions are not free: %v", err)
	}
}
