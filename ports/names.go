package ports

import "context"

// NameLocks serializes the checks and writes that keep a Name Value unique,
// across every process that shares a store: while one NameSession holds the
// lock of a name, no other session anywhere acquires it. A store shared by
// several nodes (PostgreSQL) provides it; for a store one process owns, an
// in-process lock is equivalent.
type NameLocks interface {
	// NameSession returns a session that holds nothing yet.
	NameSession(ctx context.Context) (NameSession, error)
}

// NameSession holds name locks for one operation: from the uniqueness
// check until the write it guards has committed.
type NameSession interface {
	// Lock acquires the locks of names not yet held by the session,
	// waiting until ctx ends; on an error it holds what it held before.
	Lock(ctx context.Context, names ...string) error
	// Release frees every lock the session holds; the session may not be
	// used again.
	Release()
}
