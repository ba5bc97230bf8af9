package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// scratchSchema is the table of ports.ScratchStore values, created on every
// open so that databases made before it gain it; expires is in Unix
// nanoseconds.
const scratchSchema = `
CREATE TABLE IF NOT EXISTS scratch (
	key     TEXT PRIMARY KEY,
	expires INTEGER NOT NULL,
	value   BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scratch_expires ON scratch (expires);
`

var _ ports.ScratchStore = (*Store)(nil)

// PutScratch implements ports.ScratchStore; it also purges expired values.
func (s *Store) PutScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	if key == "" {
		return errors.New("sqlite store: empty scratch key")
	}
	value = append([]byte{}, value...) // never nil: the column is NOT NULL
	now := time.Now().UnixNano()
	return s.submit(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM scratch WHERE expires <= ?`, now); err != nil {
			return s.translate(err)
		}
		_, err := tx.Exec(`INSERT INTO scratch (key, expires, value) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET expires = excluded.expires, value = excluded.value`,
			key, expires.UnixNano(), value)
		return s.translate(err)
	})
}

// GetScratch implements ports.ScratchStore.
func (s *Store) GetScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.read(ctx, func() error {
		err := s.rdb.QueryRowContext(ctx, `SELECT value FROM scratch WHERE key = ? AND expires > ?`,
			key, time.Now().UnixNano()).Scan(&value)
		if err = s.ctxErr(ctx, err); errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("sqlite store: scratch value: %w", err)
		}
		return err
	})
	return value, err
}

// TakeScratch implements ports.ScratchStore in one write transaction.
func (s *Store) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.submit(ctx, func(tx *sql.Tx) error {
		var v []byte
		err := tx.QueryRow(`SELECT value FROM scratch WHERE key = ? AND expires > ?`, key, time.Now().UnixNano()).Scan(&v)
		if err = s.translate(err); errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("sqlite store: scratch value: %w", err)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM scratch WHERE key = ?`, key); err != nil {
			return s.translate(err)
		}
		value = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return value, nil
}

// DeleteScratch implements ports.ScratchStore.
func (s *Store) DeleteScratch(ctx context.Context, key string) error {
	return s.submit(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM scratch WHERE key = ?`, key)
		return s.translate(err)
	})
}
