// Package fsutil holds the file-system steps both storage engines need for
// durability beyond what their own commits fsync.
package fsutil

import (
	"os"
	"path/filepath"
)

// SyncDir fsyncs the directory holding path, so that a database file created
// there survives a power loss (a file's own fsync does not persist its
// directory entry).
func SyncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
