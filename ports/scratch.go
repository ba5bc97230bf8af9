package ports

import (
	"context"
	"time"
)

// ScratchStore is the optional capability of a Store to keep short-lived
// values by key, next to the objects and shared like them by every node on
// the same backend: the state of streamed operations (KMIP 1.4 §4.29-4.34,
// Correlation Value) lives here so that any node can take the next part.
// Values are durable like objects until they expire; an expired value is
// never returned, and the store purges expired values when convenient.
type ScratchStore interface {
	// PutScratch stores a copy of value under key until expires, replacing
	// any earlier value. An empty key is refused.
	PutScratch(ctx context.Context, key string, value []byte, expires time.Time) error
	// GetScratch returns a copy of the value under key, or ErrNotFound when
	// there is none or it has expired.
	GetScratch(ctx context.Context, key string) ([]byte, error)
	// TakeScratch returns the value under key and removes it, atomically:
	// of concurrent callers at most one gets it, the others ErrNotFound (as
	// when there is none or it has expired).
	TakeScratch(ctx context.Context, key string) ([]byte, error)
	// DeleteScratch removes the value under key; deleting an absent key is
	// not an error.
	DeleteScratch(ctx context.Context, key string) error
}
