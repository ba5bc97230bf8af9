package bolt

import (
	"context"
	"fmt"
	"os"

	"go.etcd.io/bbolt"

	"github.com/kmipd/kmipd/adapters/storage/internal/fsutil"
	"github.com/kmipd/kmipd/ports"
)

var _ ports.Snapshotter = (*Store)(nil)

// Snapshot implements ports.Snapshotter with bbolt's Tx.WriteTo in a read
// transaction: a consistent copy while the writer goes on.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bolt store %s: snapshot: %w", s.path, err)
	}
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(f)
		return err
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsutil.SyncDir(path)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("bolt store %s: snapshot to %s: %w", s.path, path, err)
	}
	return nil
}
