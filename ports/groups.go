package ports

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Authenticator is a third-party authentication service (pykmip-server
// "Third-Party Integration", e.g. SLUGS): it validates the identity taken from
// a client's certificate and tells the groups that identity belongs to.
type Authenticator interface {
	// Authenticate returns the user's groups (possibly none) when the
	// service knows the user. It returns ErrUnknownUser when the service
	// does not know the user or has no group information for it, and an
	// error wrapping ErrUnavailable when the service cannot be asked or
	// answers unexpectedly; it never grants access on an error.
	Authenticate(ctx context.Context, user string) (groups []string, err error)
}

// Authentication errors.
var (
	// ErrUnknownUser: the authentication service does not know the user.
	ErrUnknownUser = errors.New("user unknown to the authentication service")
	// ErrNotAuthenticated: no enabled authentication service validated the
	// client (Result Reason Authentication Not Successful).
	ErrNotAuthenticated = errors.New("authentication not successful")
)

// UnauthenticatedHandler is an optional MessageHandler capability: the
// answer to a request that is refused because its client could not be
// authenticated, sent before the transport closes the connection.
type UnauthenticatedHandler interface {
	// HandleUnauthenticated answers req with Result Reason Authentication
	// Not Successful, in the request's protocol version when it can.
	HandleUnauthenticated(ctx context.Context, req *kmip.Item) *kmip.Item
}
