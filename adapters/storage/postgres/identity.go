package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmipd/kmipd/adapters/storage/internal/identity"
	"github.com/kmipd/kmipd/ports"
)

var (
	_ ports.Describer       = (*Store)(nil)
	_ ports.HealthChecker   = (*Store)(nil)
	_ ports.UsedIdentifiers = (*Store)(nil)
)

// metaSchema holds the store's identity (schema version 2): a database a
// node opens holds the store it opened, or it is refused.
const metaSchema = `
CREATE TABLE IF NOT EXISTS kmipd_meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);`

// storeIdentity is what a Store knows of the store it opened.
type storeIdentity struct {
	mu   sync.Mutex
	info ports.StoreInfo
	lost error // set once the database stops holding info.ID
}

// checkCreation applies opt.Create to whether the database holds a kmipd
// schema (exists), inside the migration's locked transaction.
func (s *Store) checkCreation(ctx context.Context, tx pgx.Tx, create ports.Creation) (exists bool, err error) {
	if err := tx.QueryRow(ctx, `SELECT to_regclass('kmipd_objects') IS NOT NULL`).Scan(&exists); err != nil {
		return false, err
	}
	switch {
	case !exists && create == ports.CreationOpenExisting:
		return false, refuse(fmt.Errorf("postgres store %s: %w", s.name, ports.ErrNoStore))
	case exists && create == ports.CreationNew:
		return true, refuse(fmt.Errorf("postgres store %s: a kmipd store already exists: %w", s.name, ports.ErrExists))
	}
	return exists, nil
}

// loadIdentity reads the store's identity, writing one for a new store or
// one a kmipd older than identities made.
func (s *Store) loadIdentity(ctx context.Context, tx pgx.Tx, created bool) error {
	if _, err := tx.Exec(ctx, metaSchema); err != nil {
		return err
	}
	var id, at *string
	if err := tx.QueryRow(ctx, `SELECT (SELECT value FROM kmipd_meta WHERE key = 'store_id'),
		(SELECT value FROM kmipd_meta WHERE key = 'created')`).Scan(&id, &at); err != nil {
		return err
	}
	s.ident.info.New = created
	if id == nil {
		nid, t := identity.New()
		if _, err := tx.Exec(ctx, `INSERT INTO kmipd_meta (key, value) VALUES ('store_id', $1), ('created', $2)`,
			nid, t.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		s.ident.info.ID, s.ident.info.Created = nid, t
		return nil
	}
	t, terr := time.Parse(time.RFC3339Nano, deref(at))
	if !identity.Valid(*id) || terr != nil {
		return refuse(fmt.Errorf("postgres store %s: %w: bad store identity %q", s.name, ports.ErrNotAStore, *id))
	}
	s.ident.info.ID, s.ident.info.Created = *id, t
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Info implements ports.Describer.
func (s *Store) Info(ctx context.Context) (ports.StoreInfo, error) {
	s.ident.mu.Lock()
	info := s.ident.info
	s.ident.mu.Unlock()
	err := s.read(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM kmipd_objects`).Scan(&info.Objects)
	})
	return info, err
}

// Check implements ports.HealthChecker: the database still holds the
// identity the store opened (a database restored from another store, or
// recreated, does not). Once lost, the store stays lost; an unreachable
// database is unavailable, not lost.
func (s *Store) Check(ctx context.Context) error {
	s.ident.mu.Lock()
	lost, want := s.ident.lost, s.ident.info.ID
	s.ident.mu.Unlock()
	if lost != nil {
		return lost
	}
	var id *string
	err := s.read(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT value FROM kmipd_meta WHERE key = 'store_id'`).Scan(&id)
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && deref(id) != want) {
		lost := fmt.Errorf("postgres store %s: %w: it holds store %q, not %q", s.name, ports.ErrStoreLost, deref(id), want)
		s.ident.mu.Lock()
		s.ident.lost = lost
		s.ident.mu.Unlock()
		return lost
	}
	return err
}

// UsedIDs implements ports.UsedIdentifiers: identifiers given once
// (kmipd_ids) that no object holds any more.
func (s *Store) UsedIDs(ctx context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := s.read(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT i.id FROM kmipd_ids i WHERE i.id > $1
			AND NOT EXISTS (SELECT 1 FROM kmipd_objects o WHERE o.id = i.id) ORDER BY i.id LIMIT $2`, []byte(after), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		ids = ids[:0]
		for rows.Next() {
			var id []byte
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, string(id))
		}
		return rows.Err()
	})
	return ids, err
}

// MarkUsed implements ports.UsedIdentifiers in one transaction.
func (s *Store) MarkUsed(ctx context.Context, ids []string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, id := range ids {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM kmipd_objects WHERE id = $1`, []byte(id)).Scan(&one)
			if err == nil {
				return refuse(fmt.Errorf("postgres store: identifier %q belongs to an object: %w", id, ports.ErrExists))
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO kmipd_ids (id) VALUES ($1) ON CONFLICT DO NOTHING`, []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}
