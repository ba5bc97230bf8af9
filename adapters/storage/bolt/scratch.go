package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmipd/kmipd/ports"
)

// The ports.ScratchStore values: bucket "scratch" maps a key to its expiry
// (8 bytes, big-endian Unix nanoseconds) and value; bucket "scratch_exp"
// holds one empty-valued key per value, expiry then key, so that purging
// expired values reads only those.
var (
	bucketScratch    = []byte("scratch")
	bucketScratchExp = []byte("scratch_exp")
)

var _ ports.ScratchStore = (*Store)(nil)

func expKey(exp uint64, key string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, exp), key...)
}

// unixNano is t in Unix nanoseconds, clamped to the unsigned range.
func unixNano(t time.Time) uint64 {
	if n := t.UnixNano(); n > 0 {
		return uint64(n)
	}
	return 0
}

// PutScratch implements ports.ScratchStore; it also purges expired values.
func (s *Store) PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ports.ScratchQuota) error {
	return s.writeScratch(ctx, key, value, expires, true, quotas)
}

// AddScratch implements ports.ScratchStore in one write transaction.
func (s *Store) AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	return s.writeScratch(ctx, key, value, expires, false, nil)
}

// writeScratch stores value under key until expires in one write
// transaction, after purging expired values and checking quotas; with
// replace false an unexpired value under key is kept and the error wraps
// ports.ErrExists.
func (s *Store) writeScratch(ctx context.Context, key string, value []byte, expires time.Time, replace bool, quotas []ports.ScratchQuota) error {
	if key == "" {
		return errors.New("bolt store: empty scratch key")
	}
	exp := unixNano(expires)
	rec := append(binary.BigEndian.AppendUint64(nil, exp), value...)
	now := unixNano(time.Now())
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		if err := purgeScratch(tx, now); err != nil {
			return err
		}
		if !replace && tx.Bucket(bucketScratch).Get([]byte(key)) != nil {
			return fmt.Errorf("bolt store: scratch value %q: %w", key, ports.ErrExists)
		}
		for _, q := range quotas {
			if err := checkQuota(tx, q, key, len(value)); err != nil {
				return err
			}
		}
		if err := deleteScratch(tx, key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketScratch).Put([]byte(key), rec); err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
		if err := tx.Bucket(bucketScratchExp).Put(expKey(exp, key), nil); err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
		return nil
	})
}

// checkQuota fails with ports.ErrQuotaExceeded when adding a value of size
// bytes under key would break q; the purge before it left only unexpired
// values, and keys are sorted, so only q's prefix is read.
func checkQuota(tx *bbolt.Tx, q ports.ScratchQuota, key string, size int) error {
	n, total := 0, int64(0)
	prefix := []byte(q.Prefix)
	if bytes.HasPrefix([]byte(key), prefix) {
		n, total = 1, int64(size)
	}
	c := tx.Bucket(bucketScratch).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if string(k) != key && len(v) >= 8 {
			n++
			total += int64(len(v) - 8)
		}
	}
	if q.Exceeded(n, total) {
		return fmt.Errorf("bolt store: prefix %q: %w", q.Prefix, ports.ErrQuotaExceeded)
	}
	return nil
}

// purgeScratch deletes the values that expired at or before now.
func purgeScratch(tx *bbolt.Tx, now uint64) error {
	limit := binary.BigEndian.AppendUint64(nil, now)
	var keys [][]byte
	c := tx.Bucket(bucketScratchExp).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) <= 0; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := tx.Bucket(bucketScratchExp).Delete(k); err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
		if err := tx.Bucket(bucketScratch).Delete(k[8:]); err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
	}
	return nil
}

// deleteScratch removes key's value and expiry entry, if any.
func deleteScratch(tx *bbolt.Tx, key string) error {
	b := tx.Bucket(bucketScratch)
	old := b.Get([]byte(key))
	if old == nil {
		return nil
	}
	if len(old) >= 8 {
		if err := tx.Bucket(bucketScratchExp).Delete(expKey(binary.BigEndian.Uint64(old), key)); err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("bolt store: %w", err)
	}
	return nil
}

// GetScratch implements ports.ScratchStore.
func (s *Store) GetScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	now := unixNano(time.Now())
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketScratch).Get([]byte(key))
		if len(rec) < 8 || binary.BigEndian.Uint64(rec) <= now {
			return fmt.Errorf("bolt store: scratch value: %w", ports.ErrNotFound)
		}
		value = bytes.Clone(rec[8:])
		if value == nil {
			value = []byte{}
		}
		return nil
	})
	return value, err
}

// TakeScratch implements ports.ScratchStore in one write transaction.
func (s *Store) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	now := unixNano(time.Now())
	err := s.submit(ctx, func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketScratch).Get([]byte(key))
		if len(rec) < 8 || binary.BigEndian.Uint64(rec) <= now {
			return fmt.Errorf("bolt store: scratch value: %w", ports.ErrNotFound)
		}
		v := append([]byte{}, rec[8:]...)
		if err := deleteScratch(tx, key); err != nil {
			return err
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
	return s.submit(ctx, func(tx *bbolt.Tx) error { return deleteScratch(tx, key) })
}
