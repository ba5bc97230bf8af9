package ports

import "context"

// Snapshotter is the optional capability of a Store to copy itself while
// it serves: a backup. The copy is a store its own adapter opens.
type Snapshotter interface {
	// Snapshot writes the store as one transaction saw it to a new file at
	// path, created with mode 0600 (an existing file is refused), and syncs
	// the file and its directory before it returns. Writes that commit
	// meanwhile are either wholly in the copy or wholly absent.
	Snapshot(ctx context.Context, path string) error
}
