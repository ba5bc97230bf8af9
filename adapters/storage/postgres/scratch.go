package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmipd/kmipd/ports"
)

var _ ports.ScratchStore = (*Store)(nil)

// PutScratch implements ports.ScratchStore; it also purges expired values.
func (s *Store) PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ports.ScratchQuota) error {
	return s.writeScratch(ctx, key, value, expires, true, quotas)
}

// AddScratch implements ports.ScratchStore: an insert that does nothing on
// a conflict, after the expired values are purged, in one transaction; a
// concurrent insert of the same key on another node waits for this one to
// commit and then does nothing.
func (s *Store) AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	return s.writeScratch(ctx, key, value, expires, false, nil)
}

// writeScratch stores value under key until expires in one transaction,
// after purging expired values and checking quotas; with replace false the
// insert does nothing on a conflict and the error then wraps
// ports.ErrExists.
func (s *Store) writeScratch(ctx context.Context, key string, value []byte, expires time.Time, replace bool, quotas []ports.ScratchQuota) error {
	if key == "" {
		return errors.New("postgres store: empty scratch key")
	}
	value = append([]byte{}, value...) // never nil: the column is NOT NULL
	onConflict := `DO NOTHING`
	if replace {
		onConflict = `DO UPDATE SET expires = excluded.expires, value = excluded.value`
	}
	now := time.Now().UnixNano()
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM kmipd_scratch WHERE expires <= $1`, now); err != nil {
			return err
		}
		for _, q := range quotas {
			if err := checkQuota(ctx, tx, q, key, len(value)); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO kmipd_scratch (key, expires, value) VALUES ($1, $2, $3)
			ON CONFLICT (key) `+onConflict, []byte(key), expires.UnixNano(), value)
		if err != nil {
			return err
		}
		if !replace && tag.RowsAffected() == 0 {
			return refuse(fmt.Errorf("postgres store: scratch value %q: %w", key, ports.ErrExists))
		}
		return nil
	})
}

// checkQuota fails with ports.ErrQuotaExceeded when adding a value of size
// bytes under key would break q. A transaction-scoped advisory lock on the
// prefix serializes the count and the insert of every node's writers under
// one prefix, so two nodes cannot both take the last place.
func checkQuota(ctx context.Context, tx pgx.Tx, q ports.ScratchQuota, key string, size int) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('kmipd-scratch-quota:' || $1, 0))`, q.Prefix); err != nil {
		return err
	}
	var end []byte
	if e, ok := prefixEnd([]byte(q.Prefix)); ok {
		end = e
	}
	var n int
	var total int64
	err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(length(value)), 0) FROM kmipd_scratch
		WHERE key >= $1 AND ($2::bytea IS NULL OR key < $2) AND key != $3`,
		[]byte(q.Prefix), end, []byte(key)).Scan(&n, &total)
	if err != nil {
		return err
	}
	if strings.HasPrefix(key, q.Prefix) {
		n, total = n+1, total+int64(size)
	}
	if q.Exceeded(n, total) {
		return refuse(fmt.Errorf("postgres store: prefix %q: %w", q.Prefix, ports.ErrQuotaExceeded))
	}
	return nil
}

// prefixEnd is the least byte string above every one starting with prefix;
// false when there is none (an empty prefix, or one of 0xff bytes).
func prefixEnd(prefix []byte) ([]byte, bool) {
	b := append([]byte(nil), prefix...)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return b[:i+1], true
		}
	}
	return nil, false
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
