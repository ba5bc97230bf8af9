package ports

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
)

// Store keeps managed objects durably. Every method is safe for concurrent
// use; every write is durable (fsynced) when it returns nil, and concurrent
// writers may share one commit. A call whose context ends before the store
// acts on it returns an error wrapping ctx.Err(); such a write, and a refused
// one (ErrExists, ErrNotFound, fn's error), has written nothing. Stores hold
// no truth in process memory that another node sharing the same backend
// could contradict.
type Store interface {
	// Create stores a copy of a new object as given, Revision included. It
	// returns ErrExists if the identifier is taken or was ever taken: an
	// identifier is never reused, not even after its object was deleted.
	// It refuses an empty identifier.
	Create(ctx context.Context, obj *domain.Object) error
	// Get returns a copy of the object, or ErrNotFound.
	Get(ctx context.Context, id string) (*domain.Object, error)
	// Update runs fn on a copy of the current object inside one transaction and
	// stores what fn leaves, with Revision set to the stored one plus one. If
	// fn returns an error nothing is written and Update returns that error;
	// fn must not change obj.ID (Update then fails) and must not call the
	// store's write methods. fn may run more than once (a store reruns a
	// transaction it rolled back), so it must have no effect outside obj
	// except noting what it saw in variables each run overwrites; the run
	// whose result is stored is the last one. fn sees the stored Revision,
	// so a caller learns the revision it wrote as obj.Revision+1 there.
	// ErrNotFound if there is no object.
	Update(ctx context.Context, id string, fn func(obj *domain.Object) error) error
	// Delete removes the object and its index entries, and keeps its
	// identifier as used in the same transaction (so that Create refuses it
	// forever); ErrNotFound if absent.
	Delete(ctx context.Context, id string) error
	// DeleteIf is Delete done only while the stored object is at revision,
	// checked and deleted in one transaction: ErrConflict, and nothing
	// deleted, if it is at another one; ErrNotFound if absent.
	DeleteIf(ctx context.Context, id string, revision uint64) error
	// Locate returns the identifiers of objects having every term of q.Terms
	// and at least one term of each group of q.Any (all objects when both are
	// empty), in ascending identifier order, starting after q.After, at most
	// q.Limit of them (no limit when 0). It reads index entries only, about as
	// many as there are matches, never every stored object. The terms are
	// those of domain.Object.IndexTerms: a store keeps index entries for
	// those alone, and a term domain.Indexed refuses must not be asked for
	// (a store written by an earlier release may still hold entries for such
	// terms, stale ones included; they are never read).
	Locate(ctx context.Context, q LocateQuery) ([]string, error)
	// Close releases the store; later calls return ErrClosed.
	Close() error
}

// LocateQuery is a conjunction of index terms (domain.Object.IndexTerms) and
// of disjunctions of index terms, with keyset pagination. A caller filtering
// on search terms stores do not index (domain.Indexed) checks them on the
// objects the query returns.
type LocateQuery struct {
	// Terms must all be present.
	Terms []domain.IndexTerm
	// Any lists groups of terms: an object matches a group when it has at
	// least one of its terms; an empty group matches nothing. The first group
	// is taken to be the most selective (a caller's access terms, say).
	Any [][]domain.IndexTerm
	// After and Limit page through the result: only identifiers greater than
	// After, at most Limit of them (0: no limit).
	After string
	Limit int
}

// BulkCreator is the optional capability of a Store to create many objects in
// one transaction, for imports and bulk loads.
type BulkCreator interface {
	// CreateAll stores copies of objs as Create does, all or none: it returns
	// ErrExists, and writes nothing, if any identifier is taken or repeated.
	CreateAll(ctx context.Context, objs []*domain.Object) error
}

// Creation says whether opening a store may create it; the zero value
// creates a missing store, as development mode wants.
type Creation int

const (
	// CreationAuto opens the store, creating an empty one when there is none.
	CreationAuto Creation = iota
	// CreationOpenExisting opens an existing store and fails with ErrNoStore,
	// creating nothing, when there is none.
	CreationOpenExisting
	// CreationNew creates a new store and fails with ErrExists, touching
	// nothing, when something already exists there.
	CreationNew
)

// StoreInfo is what a store says about itself.
type StoreInfo struct {
	// ID is the store's identity: 128 random bits in hex, written when the
	// store was created (or, for a store written by a kmipd older than
	// identities, when it was first opened by one that has them) and never
	// changed.
	ID string
	// Created is when the identity was written.
	Created time.Time
	// New reports that this process created the store when it opened it.
	New bool
	// Objects is the number of managed objects the store holds.
	Objects int
}

// HealthChecker is the optional capability of a Store to tell whether it is
// still the store it opened: a store whose database was removed or replaced
// underneath it stops acknowledging writes and says so here.
type HealthChecker interface {
	// Check returns nil while the store is usable, and an error wrapping
	// ErrStoreLost once its database is no longer the one it opened, from
	// then on. It is cheap enough to call every second.
	Check(ctx context.Context) error
}

// Describer is the optional capability of a Store to describe itself.
type Describer interface {
	// Info returns the store's identity, creation time and object count.
	Info(ctx context.Context) (StoreInfo, error)
}
