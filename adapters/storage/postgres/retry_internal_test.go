package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/ports/storetest"
)

// A pooled connection the server dropped (it restarted) fails the next
// call before COMMIT; the store runs the call again on a new connection
// instead of failing it, for writes and reads.
func TestRetriesAConnectionLostBeforeCommit(t *testing.T) {
	c := pgtest.Shared(t)
	if c.DataDir == "" {
		t.Skip("the cluster was not started by this test binary")
	}
	ctx := context.Background()
	cfg, err := ParseConfig(pgtest.NewDatabase(t), Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Never ping an idle connection before use: under load a connection is
	// never idle, and a dead one is found only by using it.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s, err := openConfig(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Create(ctx, storetest.Sample("before")); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, storetest.Sample("after")); err != nil {
		t.Fatalf("Create on a connection the restarted server dropped: %v", err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "after"); err != nil {
		t.Fatalf("Get on a connection the restarted server dropped: %v", err)
	}
}
