package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, pgtest.Options{TCP: true})) }

// The cluster answers on its socket and its TCP port, with fsync on (the
// crash tests rely on it), and each test gets a database of its own.
func TestCluster(t *testing.T) {
	c := pgtest.Shared(t)
	ctx := context.Background()
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if a == b {
		t.Fatalf("two databases share one connection string %q", a)
	}
	for _, dsn := range []string{a, c.URL("postgres")} {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect %s: %v", dsn, err)
		}
		var fsync, commit string
		if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &commit); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if fsync != "on" || commit != "on" {
			t.Errorf("fsync=%s synchronous_commit=%s, want on", fsync, commit)
		}
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	conn.Close(ctx)
}
