package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
func (s *Store) PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ports.ScratchQuota) error {
	return s.writeScratch(ctx, key, value, expires, true, quotas)
}

// AddScratch implements ports.ScratchStore: the purge and the insert that
// does nothing on a conflict are one write transaction.
func (s *Store) AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	return s.writeScratch(ctx, key, value, expires, false, nil)
}

// writeScratch stores value under key until expires in one write
// transaction, after purging expired values and checking quotas; with
// replace false the insert does nothing on a conflict and the error then
// wraps ports.ErrExists.
func (s *Store) writeScratch(ctx context.Context, key string, value []byte, expires time.Time, replace bool, quotas []ports.ScratchQuota) error {
	if key == "" {
		return errors.New("sqlite store: empty scratch key")
	}
	value = append([]byte{}, value...) // never nil: the column is NOT NULL
	onConflict := `DO NOTHING`
	if replace {
		onConflict = `DO UPDATE SET expires = excluded.expires, value = excluded.value`
	}
	now := time.Now().UnixNano()
	return s.submit(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM scratch WHERE expires <= ?`, now); err != nil {
			return s.translate(err)
		}
		for _, q := range quotas {
			if err := s.checkQuota(tx, q, key, len(value)); err != nil {
				return err
			}
		}
		res, err := tx.Exec(`INSERT INTO scratch (key, expires, value) VALUES (?, ?, ?)
			ON CONFLICT (key) `+onConflict, key, expires.UnixNano(), value)
		if err != nil || replace {
			return s.translate(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.translate(err)
		} else if n == 0 {
			return fmt.Errorf("sqlite store: scratch value %q: %w", key, ports.ErrExists)
		}
		return nil
	})
}

// checkQuota fails with ports.ErrQuotaExceeded when adding a value of size
// bytes under key would break q; the purge before it left only unexpired
// values. The prefix is a key range, so the primary key index serves it.
func (s *Store) checkQuota(tx *sql.Tx, q ports.ScratchQuota, key string, size int) error {
	var n int
	var total int64
	err := tx.QueryRow(`SELECT count(*), coalesce(sum(length(value)), 0) FROM scratch
		WHERE key >= ? AND (? = '' OR key < ?) AND key != ?`,
		q.Prefix, prefixEnd(q.Prefix), prefixEnd(q.Prefix), key).Scan(&n, &total)
	if err != nil {
		return s.translate(err)
	}
	if strings.HasPrefix(key, q.Prefix) {
		n, total = n+1, total+int64(size)
	}
	if q.Exceeded(n, total) {
		return fmt.Errorf("sqlite store: prefix %q: %w", q.Prefix, ports.ErrQuotaExceeded)
	}
	return nil
}

// prefixEnd is the least string above every string starting with prefix,
// or "" when there is none (an empty prefix, or one of 0xff bytes).
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
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
