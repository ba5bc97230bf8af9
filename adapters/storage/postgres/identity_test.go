package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

func TestUsedIdentifiersCopy(t *testing.T) { storetest.UsedIdentifiersCopy(t, opener(t)) }

// TestIdentityAndCreation: a database gets a store identity when the store
// is created and keeps it; "never create" refuses an empty database and
// "create new" an existing store; a database that comes to hold another
// store's identity (a restore of another store) is lost for good.
func TestIdentityAndCreation(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Shared(t)
	// A new database each run: the shared cluster outlives one run (-count).
	dsn, err := c.CreateDatabase(ctx, fmt.Sprintf("identity_creation_%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{Create: ports.CreationOpenExisting}); !errors.Is(err, ports.ErrNoStore) {
		t.Fatalf("open existing of an empty database: %v, want ErrNoStore", err)
	}
	s := openDSN(t, dsn, postgres.Options{Create: ports.CreationNew})
	info, err := s.Info(ctx)
	if err != nil || !info.New || len(info.ID) != 32 {
		t.Fatalf("Info of a new store = %+v, %v", info, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check of a healthy store: %v", err)
	}
	again := openDSN(t, dsn, postgres.Options{Create: ports.CreationOpenExisting})
	if i2, _ := again.Info(ctx); i2.ID != info.ID || i2.New {
		t.Fatalf("reopened store: %+v, want identity %s and not new", i2, info.ID)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{Create: ports.CreationNew}); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("create new over an existing store: %v, want ErrExists", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE kmipd_meta SET value = '0123456789abcdef0123456789abcdef' WHERE key = 'store_id'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("Check after the identity changed: %v, want ErrStoreLost", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE kmipd_meta SET value = $1 WHERE key = 'store_id'`, info.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); !errors.Is(err, ports.ErrStoreLost) {
		t.Fatalf("a lost store came back: %v", err)
	}
}
