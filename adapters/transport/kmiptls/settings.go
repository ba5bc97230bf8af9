package kmiptls

import (
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

// Settings are the size limits and timeouts of a KMIP listener. The TTLV
// server (Server) and the HTTPS server (kmiphttp.Server) both embed one, so
// that one value configures both listeners alike; a zero field takes its
// Default (see Effective). Each server's documentation says how it applies
// them.
type Settings struct {
	// MaxMessageSize is the largest request message accepted (the TTLV
	// header included). Zero means DefaultMaxMessageSize (1 MiB).
	MaxMessageSize int
	// ReadTimeout bounds reading one whole request once it has started.
	// Zero means DefaultReadTimeout (30s).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response. Zero means
	// DefaultWriteTimeout (30s).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for a connection's next request. Zero
	// means DefaultIdleTimeout (2m).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake. Zero means
	// DefaultHandshakeTimeout (10s).
	HandshakeTimeout time.Duration
	// MaxConnections caps the open connections (per listener); excess
	// connections are accepted and closed at once. Zero means
	// DefaultMaxConnections (1024).
	MaxConnections int
	// RequestTimeout bounds handling one request message: it is the
	// deadline of the context passed to the Handler, and so to storage and
	// crypto. Zero means DefaultRequestTimeout (30s).
	RequestTimeout time.Duration
	// Limits bounds the decoder; zero fields take ttlv.DefaultLimits
	// except MaxSize, which defaults to the effective MaxMessageSize.
	Limits ttlv.Limits
}

// Effective returns s with every zero (or negative) field replaced by its
// default, as both servers apply it.
func (s Settings) Effective() Settings {
	if s.MaxMessageSize <= 0 {
		s.MaxMessageSize = DefaultMaxMessageSize
	}
	s.ReadTimeout = orDefault(s.ReadTimeout, DefaultReadTimeout)
	s.WriteTimeout = orDefault(s.WriteTimeout, DefaultWriteTimeout)
	s.IdleTimeout = orDefault(s.IdleTimeout, DefaultIdleTimeout)
	s.HandshakeTimeout = orDefault(s.HandshakeTimeout, DefaultHandshakeTimeout)
	s.RequestTimeout = orDefault(s.RequestTimeout, DefaultRequestTimeout)
	if s.MaxConnections <= 0 {
		s.MaxConnections = DefaultMaxConnections
	}
	if s.Limits.MaxSize <= 0 {
		s.Limits.MaxSize = s.MaxMessageSize
	}
	if s.Limits.MaxDepth <= 0 {
		s.Limits.MaxDepth = ttlv.DefaultLimits.MaxDepth
	}
	if s.Limits.MaxItems <= 0 {
		s.Limits.MaxItems = ttlv.DefaultLimits.MaxItems
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
