package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/kmipd/kmipd/adapters/storage/internal/fsutil"
	"github.com/kmipd/kmipd/ports"
)

var _ ports.Snapshotter = (*Store)(nil)

// Snapshot implements ports.Snapshotter with VACUUM INTO on a reading
// connection: one read transaction's view, compacted, while writers go on.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	// VACUUM INTO takes an empty file, so the copy is created owner-only
	// here, and an existing one refused.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite store %s: snapshot: %w", s.path, err)
	}
	f.Close()
	// The read pool is query_only, which SQLite applies to VACUUM INTO too;
	// a connection of its own reads the same way without that guard.
	err = s.read(ctx, func() error {
		db, err := sql.Open("sqlite", s.uri)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, `VACUUM INTO ?`, path)
		return err
	})
	if err == nil {
		err = syncFile(path)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("sqlite store %s: snapshot to %s: %w", s.path, path, s.translate(err))
	}
	return nil
}

// syncFile flushes a written file and its directory entry to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fsutil.SyncDir(path)
}
