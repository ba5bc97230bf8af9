package ports

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

type peerKey struct{}

// WithPeer returns a context carrying the authenticated client.
func WithPeer(ctx context.Context, p domain.Principal) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFrom returns the authenticated client of the request, if the transport set one.
func PeerFrom(ctx context.Context) (domain.Principal, bool) {
	p, ok := ctx.Value(peerKey{}).(domain.Principal)
	return p, ok
}

// MessageHandler answers decoded KMIP request messages. Transports (TTLV over
// TLS, later HTTPS with JSON and XML) decode, call it, and encode the answer.
type MessageHandler interface {
	// HandleMessage answers one request message; it never returns nil and
	// never panics on any input tree.
	HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item
	// HandleUndecodable answers a message whose framing was intact but whose
	// contents could not be decoded: an error response with Result Reason
	// Invalid Message.
	HandleUndecodable(ctx context.Context, err error) *kmip.Item
}

// Clock tells the time; tests substitute a fixed one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
