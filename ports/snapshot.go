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

// UsedIdentifiers is the optional capability of a Store to list and record
// the identifiers of deleted objects, which Create refuses forever, so that
// a copy of the store (kmipd store copy) keeps refusing them.
type UsedIdentifiers interface {
	// UsedIDs returns at most limit used identifiers greater than after, in
	// ascending order.
	UsedIDs(ctx context.Context, after string, limit int) ([]string, error)
	// MarkUsed records ids as used, all or none; ErrExists if an object has
	// one of them. Identifiers already used are no error.
	MarkUsed(ctx context.Context, ids []string) error
}
