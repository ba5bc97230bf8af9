package kmiptls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
)

// ConnEvents are callbacks a Server makes as connections come and go, for
// metrics; a nil func is not called.
type ConnEvents struct {
	// Opened is called for every accepted connection, Closed when it ends.
	Opened, Closed func()
	// HandshakeFailed is called with HandshakeCause of a failed handshake.
	HandshakeFailed func(cause string)
}

func (e ConnEvents) opened() {
	if e.Opened != nil {
		e.Opened()
	}
}

func (e ConnEvents) closed() {
	if e.Closed != nil {
		e.Closed()
	}
}

func (e ConnEvents) handshakeFailed(cause string) {
	if e.HandshakeFailed != nil {
		e.HandshakeFailed(cause)
	}
}

// HandshakeCause classifies a failed TLS handshake for metrics: "timeout",
// "eof" (the client went away), "no_certificate", "bad_certificate"
// (unknown issuer, expired, wrong usage), "client_refused" (kmipd's own
// identity checks: no or several CNs, a CA certificate, no clientAuth, a
// revoked certificate), "protocol" (version, suites, malformed records) or
// "other".
func HandshakeCause(err error) string {
	var ne net.Error
	var unknownAuthority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var recordHeader tls.RecordHeaderError
	var alert tls.AlertError
	msg := err.Error()
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, net.ErrClosed) || strings.Contains(msg, "EOF") || strings.Contains(msg, "connection reset"):
		return "eof"
	case strings.Contains(msg, "didn't provide a certificate"):
		return "no_certificate"
	case errors.As(err, &unknownAuthority) || errors.As(err, &invalid) || errors.As(err, &hostname) ||
		strings.Contains(msg, "failed to verify certificate"):
		return "bad_certificate"
	case strings.Contains(msg, "common name") || strings.Contains(msg, "CA certificate") ||
		strings.Contains(msg, "clientAuth") || strings.Contains(msg, "revoked") ||
		strings.Contains(msg, "client certificate refused"):
		return "client_refused"
	case errors.As(err, &recordHeader) || errors.As(err, &alert) || strings.Contains(msg, "protocol version") ||
		strings.Contains(msg, "cipher suite") || strings.Contains(msg, "unexpected message") || strings.Contains(msg, "unsupported versions"):
		return "protocol"
	}
	return "other"
}
