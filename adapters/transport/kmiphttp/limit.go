package kmiphttp

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// limitListener caps the open connections accepted from its Listener, as the
// TTLV port does: a connection beyond max is accepted and closed at once, so
// the client learns at once instead of waiting in the backlog.
type limitListener struct {
	net.Listener
	max  int
	log  zerolog.Logger
	open atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > int64(l.max) {
			l.open.Add(-1)
			c.Close()
			l.log.Warn().Str("remote", c.RemoteAddr().String()).Int("max_connections", l.max).
				Msg("kmip: HTTPS connection refused: too many connections")
			continue
		}
		return &limitConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
	}
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
