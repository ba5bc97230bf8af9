package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/kmipd/kmipd/ports"
)

var _ ports.UsedIdentifiers = (*Store)(nil)

// UsedIDs implements ports.UsedIdentifiers.
func (s *Store) UsedIDs(ctx context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketUsed).Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && bytes.Equal(k, []byte(after)) {
			k, _ = c.Next()
		}
		for ; k != nil && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

// MarkUsed implements ports.UsedIdentifiers in one write transaction.
func (s *Store) MarkUsed(ctx context.Context, ids []string) error {
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		objs, used := tx.Bucket(bucketObjects), tx.Bucket(bucketUsed)
		// Every check before any write: a refused call writes nothing.
		for _, id := range ids {
			if objs.Get([]byte(id)) != nil {
				return fmt.Errorf("bolt store: identifier %q belongs to an object: %w", id, ports.ErrExists)
			}
		}
		for _, id := range ids {
			if err := used.Put([]byte(id), nil); err != nil {
				return fmt.Errorf("bolt store %s: %w", s.path, err)
			}
		}
		return nil
	})
}
