package ports

import (
	"context"
	"errors"
)

// CredentialVerifier checks the password of a Credential carried in a
// request's header (KMIP 1.4 §2.1.2 and §6.6, KMIP 2.1 §9.4 and §9.11).
type CredentialVerifier interface {
	// Verify returns nil when password is user's password. It returns an
	// error wrapping ErrBadCredential when the user is unknown or the
	// password is wrong (the two are not told apart), and one wrapping
	// ErrUnavailable when it cannot decide; it never accepts on an error,
	// and neither logs nor returns the password.
	Verify(ctx context.Context, user, password string) error
}

// ErrBadCredential: the credential's user is unknown or its password wrong.
var ErrBadCredential = errors.New("unknown user or wrong password")
