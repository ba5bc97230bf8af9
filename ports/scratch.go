package ports

import (
	"context"
	"errors"
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
	// any earlier value. An empty key is refused. Each quota is checked in
	// the same transaction as the write, so it holds for every node on the
	// backend: when storing would leave more unexpired values under the
	// quota's prefix than MaxValues, or more value bytes than MaxBytes (the
	// value being replaced not counted), nothing is stored and the error
	// wraps ErrQuotaExceeded.
	PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ScratchQuota) error
	// AddScratch stores a copy of value under key until expires only when
	// no unexpired value is there; otherwise nothing is stored and the
	// error wraps ErrExists. The check and the write are one transaction:
	// of concurrent callers on every node of the backend at most one adds
	// its value, so all of them can then read the same one. An empty key
	// is refused.
	AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error
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

// ScratchQuota bounds the unexpired scratch values whose keys start with
// Prefix (every value when empty): at most MaxValues of them, together at
// most MaxBytes bytes of value. A zero bound is no bound. A put under
// another prefix is not refused by it.
type ScratchQuota struct {
	Prefix    string
	MaxValues int
	MaxBytes  int64
	// ValueOverhead is the number of bytes of each stored value that are not
	// the caller's (a sealing decorator's envelope): MaxBytes counts the
	// values' bytes less this much per value.
	ValueOverhead int64
}

// ErrQuotaExceeded: a PutScratch would exceed one of its ScratchQuotas.
var ErrQuotaExceeded = errors.New("scratch quota exceeded")

// Exceeded reports whether values values taking bytes bytes, found under
// q's prefix, break q.
func (q ScratchQuota) Exceeded(values int, bytes int64) bool {
	return (q.MaxValues > 0 && values > q.MaxValues) || (q.MaxBytes > 0 && bytes-int64(values)*q.ValueOverhead > q.MaxBytes)
}
