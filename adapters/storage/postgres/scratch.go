package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmipd/kmipd/ports"
)

var _ ports.ScratchStore = (*Store)(nil)

// PutScratch implements ports.ScratchStore; it also purges expired values.
func (s *Store) PutScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	if key == "" {
		return errors.New("postgres store: empty scratch key")
	}
	value = append([]byte{}, value...) // never nil: the column is NOT NULL
	now := time.Now().UnixNano()
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM kmipd_scratch WHERE expires <= $1`, now)
		b.Queue(`INSERT INTO kmipd_scratch (key, expires, value) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET expires = excluded.expires, value = excluded.value`,
			[]byte(key), expires.UnixNano(), value)
		return tx.SendBatch(ctx, b).Close()
	})
}

// GetScratch implements ports.ScratchStore.
func (s *Store) GetScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.read(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		err := c.QueryRow(ctx, `SELECT value FROM kmipd_scratch WHERE key = $1 AND expires > $2`,
			[]byte(key), time.Now().UnixNano()).Scan(&value)
		if errors.Is(err, pgx.ErrNoRows) {
			return refuse(fmt.Errorf("postgres store: scratch value: %w", ports.ErrNotFound))
		}
		return err
	})
	return value, err
}

// TakeScratch implements ports.ScratchStore: one DELETE … RETURNING, so that
// of concurrent callers on any nodes one gets the value.
func (s *Store) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `DELETE FROM kmipd_scratch WHERE key = $1 AND expires > $2 RETURNING value`,
			[]byte(key), time.Now().UnixNano()).Scan(&value)
		if errors.Is(err, pgx.ErrNoRows) {
			return refuse(fmt.Errorf("postgres store: scratch value: %w", ports.ErrNotFound))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return value, nil
}

// DeleteScratch implements ports.ScratchStore.
func (s *Store) DeleteScratch(ctx context.Context, key string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM kmipd_scratch WHERE key = $1`, []byte(key))
		return err
	})
}
