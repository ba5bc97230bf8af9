package ports

import (
	"context"
	"time"
)

// Audit record events: an item's intent is recorded before it runs, its
// result after; a whole message refused before any item ran has only a
// result.
const (
	AuditIntent = "intent"
	AuditResult = "result"
)

// AuditRecord is one entry of the audit trail: who asked what of which
// objects, and what came of it. It never holds key material, plaintext,
// PINs or passwords: only identifiers and names.
type AuditRecord struct {
	Time time.Time
	// Event is AuditIntent or AuditResult.
	Event string
	// Request identifies the request message; Item is the batch item's
	// index in it. The intent and result of one item share both.
	Request string
	Item    int
	// Client is the identity (certificate CN), Groups its groups when a
	// group service supplied them, Address the client's network address.
	Client  string
	Groups  []string
	Address string
	// Version is the protocol version the request was answered in.
	Version string
	// Operation is the KMIP operation name ("" when the item named none).
	Operation string
	// UIDs are the objects the item named or returned; UIDsOmitted counts
	// those left out of a long list (a Locate's answer).
	UIDs        []string
	UIDsOmitted int
	// Keys are the objects whose key the operation used (Get, Encrypt,
	// Decrypt, Sign, MAC, Derive Key, Export and their kin).
	Keys []string
	// Status and Reason are the item's Result Status and Result Reason
	// (results only).
	Status string
	Reason string
}

// Auditor keeps the audit trail.
type Auditor interface {
	// Record appends rec to the trail; it returns an error when rec was not
	// written, and then the trail holds nothing of it.
	Record(ctx context.Context, rec AuditRecord) error
}

// BufferedAuditor is the optional capability of an Auditor to write a record
// without waiting for it to be durable, so that one sync can cover several
// records (an item's intent and its result). Records keep the order they
// were written in, whichever of Append and Record wrote them.
type BufferedAuditor interface {
	Auditor
	// Append writes rec to the trail after every record written before it,
	// without waiting for it to be durable, and returns its mark for Sync.
	// On an error the trail holds nothing of rec.
	Append(ctx context.Context, rec AuditRecord) (AuditMark, error)
	// Sync returns nil once the record marked upto is durable, with every
	// record written before it; it is cheap when they already are. An
	// error means the record may never be: it is to be taken as not
	// written, and Sync keeps failing for it.
	Sync(ctx context.Context, upto AuditMark) error
}

// AuditMark identifies a record a BufferedAuditor appended.
type AuditMark uint64

type remoteKey struct{}

// WithRemoteAddr returns a context carrying the client's network address.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteKey{}, addr)
}

// RemoteAddrFrom returns the client's network address, "" if the
// transport set none.
func RemoteAddrFrom(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey{}).(string)
	return s
}
