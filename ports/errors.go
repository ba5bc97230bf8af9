// Package ports holds the interfaces kmipd's core needs from the outside world
// (storage, cryptographic engine, group lookup, policy source, clock), their
// typed errors, and the contract test suites every adapter must pass.
package ports

import "errors"

// Port errors. Adapters translate native errors into these at their edge; the
// application maps them to KMIP Result Reasons in one place.
var (
	// ErrNotFound: no object with that identifier (Item Not Found).
	ErrNotFound = errors.New("not found")
	// ErrExists: an object with that identifier exists or existed (an
	// identifier is never reused).
	ErrExists = errors.New("already exists")
	// ErrConflict: the object is not at the revision the caller expected;
	// another write came first.
	ErrConflict = errors.New("object changed meanwhile")
	// ErrUnavailable: the backend (database, HSM, directory) cannot be reached now.
	ErrUnavailable = errors.New("backend unavailable")
	// ErrClosed: the adapter was closed.
	ErrClosed = errors.New("closed")
	// ErrUnsupported: the backend does not implement this algorithm, length or
	// capability (Cryptographic Failure / Feature Not Supported, by context).
	ErrUnsupported = errors.New("not supported by this backend")
	// ErrInvalidLength: the key length is not valid for the algorithm (Invalid Field).
	ErrInvalidLength = errors.New("invalid cryptographic length for the algorithm")
	// ErrInvalidInput: data, IV, padding or parameters the operation cannot
	// accept (Invalid Message / Invalid Field, by context).
	ErrInvalidInput = errors.New("invalid input for the cryptographic operation")
	// ErrCryptoFailure: a cryptographic check failed, such as an
	// authentication tag or key-unwrap integrity check (Cryptographic Failure).
	ErrCryptoFailure = errors.New("cryptographic check failed")
)

// ErrNotExtractable: the engine keeps the key and will not release its
// material (a sensitive, non-extractable HSM key) (Not Extractable).
var ErrNotExtractable = errors.New("key is not extractable from the engine")

// ErrKeyMaterialUnavailable: the engine keeps no key under a reference it
// issued (the HSM object was deleted, or the token replaced or restored from
// an older backup). The stored object exists; its key cannot be used until
// the material is back in the engine (Key Value Not Present).
var ErrKeyMaterialUnavailable = errors.New("key material unavailable in the engine")

// KeyMaterialError is ErrKeyMaterialUnavailable for one key: ID is the
// object's Unique Identifier, Ref the engine's reference to its key.
type KeyMaterialError struct {
	ID, Ref string
}

func (e *KeyMaterialError) Error() string {
	return ErrKeyMaterialUnavailable.Error() + ": key " + e.ID + " (reference " + e.Ref + ")"
}

// Is makes errors.Is(err, ErrKeyMaterialUnavailable) hold.
func (e *KeyMaterialError) Is(target error) bool { return target == ErrKeyMaterialUnavailable }

// Store lifecycle errors: what opening a store found, and a store that stopped
// being the one it opened.
var (
	// ErrStoreLost: the store's database is no longer the one the adapter
	// opened (its file was removed or replaced, or it holds another store's
	// identity). The store then refuses every write, and may refuse reads,
	// until the process opens it again; nothing is acknowledged after it.
	ErrStoreLost = errors.New("store lost: the database is no longer the one opened")
	// ErrNoStore: no store exists where the adapter was told to open one, and
	// it was told not to create one (CreationOpenExisting).
	ErrNoStore = errors.New("no store exists there")
	// ErrNotAStore: the location holds something that is not a kmipd store
	// (another application's database, an empty or foreign file); it is
	// refused, never initialised over.
	ErrNotAStore = errors.New("not a kmipd store")
	// ErrNoSpace: the backend has no space left to write (a full disk); the
	// write did nothing and may succeed once space is freed.
	ErrNoSpace = errors.New("no space left for the store")
)
