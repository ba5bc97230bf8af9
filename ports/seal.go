package ports

import (
	"context"
	"errors"
)

// KEK is a key-encryption key that seals data keys at rest (the [seal] of
// the configuration): a key file or a non-extractable key in an HSM. Those
// who hold a KEK port wrap and unwrap data keys with it; none ever sees the
// KEK's bytes. Every method is safe for concurrent use.
type KEK interface {
	// ID names this KEK, stably across restarts and distinctly from every
	// other KEK (a key file's ID is derived from its key, an HSM key's from
	// its token and label); sealed records name the KEK that wraps them.
	ID() string
	// WrapKey encrypts and authenticates dek, a data key of 16 to 64 bytes,
	// under the KEK. Each call gives a different result.
	WrapKey(ctx context.Context, dek []byte) (wrapped []byte, err error)
	// UnwrapKey returns the data key WrapKey wrapped, or an error wrapping
	// ErrUnwrap if wrapped was not made by this KEK or was altered.
	UnwrapKey(ctx context.Context, wrapped []byte) (dek []byte, err error)
}

// ErrUnwrap reports a wrapped data key the KEK cannot unwrap: it was wrapped
// under another KEK, or altered.
var ErrUnwrap = errors.New("data key cannot be unwrapped")
