// Package kmiptls serves KMIP over TLS with the binary TTLV encoding (KMIP 1.4
// §10 "Transport", KMIP 2.1 §13 "Transport"): it authenticates each client by
// its certificate, frames and decodes request messages, passes them to a
// ports.MessageHandler and writes the encoded responses back. Its API follows
// net/http: a Server struct, Serve and Shutdown.
package kmiptls

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// ErrServerClosed is returned by Serve after Shutdown was called.
var ErrServerClosed = errors.New("kmiptls: server closed")

// Defaults for the zero values of Settings' fields.
const (
	DefaultMaxMessageSize   = 1 << 20
	DefaultReadTimeout      = 30 * time.Second
	DefaultWriteTimeout     = 30 * time.Second
	DefaultIdleTimeout      = 2 * time.Minute
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxConnections   = 1024
	DefaultRequestTimeout   = 30 * time.Second
)

// keepBuffer is the largest per-connection buffer kept between messages, so
// that idle connections do not pin large allocations.
const keepBuffer = 64 << 10

// Server accepts TLS connections and answers KMIP request messages on them,
// one at a time per connection and concurrently across connections. Its
// fields must not change once Serve was called.
type Server struct {
	// Handler answers decoded messages. Required.
	Handler ports.MessageHandler
	// TLSConfig is the server's TLS configuration (see NewTLSConfig). It
	// must verify client certificates; its VerifyConnection, if any, runs
	// before the identity checks. Required.
	TLSConfig *tls.Config
	// RequireClientAuthEKU demands that the client certificate carry the
	// clientAuth extended key usage (anyExtendedKeyUsage does not count, as
	// in PyKMIP), like pykmip-server's
	// enable_tls_client_auth; a certificate without it is refused during
	// the handshake. False accepts certificates without the extension; one
	// whose extension lists only other usages is refused either way, by
	// crypto/tls's chain verification.
	RequireClientAuthEKU bool
	// CRL, when set, refuses a client whose certificate chain holds a
	// revoked certificate: at the handshake (resumptions included) and
	// before each request, so that a connection opened before the
	// revocation is closed at its next request. Nil checks no revocation.
	CRL *CRL
	// Settings are the limits and timeouts: a message over MaxMessageSize
	// closes the connection unread; IdleTimeout also bounds the wait for
	// the first message after the handshake; ReadTimeout starts at a
	// message's first byte.
	Settings
	// Authenticate, when set, is asked before each decoded request req
	// whether the client its certificate identifies (who) may be served,
	// and returns the principal the request runs as (with third-party
	// groups, or the user of the request's Credential, for instance). An
	// error refuses the request: the client gets the Handler's
	// ports.UnauthenticatedHandler answer, if it has one, and the
	// connection is closed. Nil serves every verified client as its
	// certificate names it, without group information.
	Authenticate func(ctx context.Context, who domain.Principal, req *kmip.Item) (domain.Principal, error)
	// MemoryBudget bounds the bytes held by request messages being read
	// and handled and by responses being written, across all connections.
	// A request whose bytes do not fit is left unread until they do, so
	// that its client's sends stall (TCP backpressure); if they still do
	// not fit when ReadTimeout expires, its connection is closed. The
	// process holds a few times these bytes (decoded copies, storage and
	// crypto buffers). Zero means MaxConnections × MaxMessageSize, which
	// adds no limit to the connection cap.
	MemoryBudget int64
	// ClientMemoryBudget bounds the part of MemoryBudget that the
	// requests of one client identity (certificate common name) may hold
	// together, so that one client cannot take the whole budget. Zero
	// means half of MemoryBudget. Both are raised to MaxMessageSize when
	// below it, so that a message of that size can always be read.
	ClientMemoryBudget int64
	// Log receives connection events; the zero Logger discards them.
	// Message bytes are never logged.
	Log zerolog.Logger
	// Events, when set, is told of connections for metrics; its funcs must
	// not block.
	Events ConnEvents

	// current is the TLS configuration new connections get: TLSConfig with
	// the identity checks, until SetTLSConfig replaces it.
	current atomic.Pointer[tls.Config]

	mu         sync.Mutex
	inShutdown bool
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	connWG     sync.WaitGroup
	baseCtx    context.Context
	cancelBase context.CancelFunc
	budget     *budget
	// budgetLogged is when logBudgetWait last logged.
	budgetLogged time.Time
}

// connState is where a connection is in its life; Shutdown closes the
// connections that are not active.
type connState int

const (
	stateNew    connState = iota // TLS handshake
	stateIdle                    // waiting for a message's first byte
	stateActive                  // reading, handling or answering a message
)

// conn is one client connection.
type conn struct {
	srv    *Server
	raw    net.Conn
	tc     *tls.Conn
	who    string    // the client's certificate common name
	held   int64     // bytes reserved from srv.budget for the current message
	state  connState // guarded by srv.mu
	log    zerolog.Logger
	buf    []byte // read buffer, reused
	wbuf   []byte // write buffer, reused
	prefix prefixReader
	// abort skips the TLS close_notify on close: the peer let a deadline
	// pass or a write fail, so the alert could only block for its 5s.
	abort bool
	// refused closes the connection once the current answer is written:
	// the client failed authentication.
	refused bool
}

// init sets up the server's bookkeeping; callers hold s.mu.
func (s *Server) init() {
	if s.baseCtx == nil {
		s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
		s.listeners = map[*net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
		s.budget = s.newBudget()
	}
}

// newBudget returns the memory budget of MemoryBudget and
// ClientMemoryBudget, with their defaults.
func (s *Server) newBudget() *budget {
	maxConns := s.Effective().MaxConnections
	msgSize := int64(s.maxMessageSize())
	total := s.MemoryBudget
	if total <= 0 {
		total = int64(maxConns) * msgSize
	}
	perClient := s.ClientMemoryBudget
	if perClient <= 0 {
		perClient = total / 2
	}
	return newBudget(total, perClient, msgSize)
}

// Serve accepts connections on l, which it wraps in TLS itself, and serves
// each in its own goroutine. It closes l when it returns; after Shutdown it
// returns ErrServerClosed, for a TLSConfig that does not require and verify
// client certificates a configuration error, otherwise the listener's error.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil {
		l.Close()
		return errors.New("kmiptls: Server.Handler is nil")
	}
	cfg, err := s.tlsConfig(s.TLSConfig)
	if err != nil {
		l.Close()
		return err
	}
	s.current.CompareAndSwap(nil, cfg)

	s.mu.Lock()
	s.init()
	if s.inShutdown {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[&l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, &l)
		s.mu.Unlock()
		l.Close()
	}()

	var delay time.Duration
	for {
		raw, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Transient failures such as EMFILE: back off and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.Log.Error().Err(err).Dur("retry_in", delay).Msg("kmip: accept failed")
			time.Sleep(delay)
			continue
		}
		delay = 0
		if c := s.newConn(raw); c != nil {
			go c.serve(s.current.Load())
		}
	}
}

// Shutdown stops the server gracefully: it closes the listeners and the
// connections that are idle or still in their handshake, lets requests in
// flight finish and their responses be written, then closes those
// connections too, and returns once every connection is gone. If ctx expires
// first, it cancels the requests' context, closes every connection and
// returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.init()
	s.inShutdown = true
	for l := range s.listeners {
		(*l).Close()
	}
	for c := range s.conns {
		if c.state != stateActive {
			c.raw.Close()
		}
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.connWG.Wait() // no Add can follow: newConn refuses once inShutdown
		close(done)
	}()
	select {
	case <-done:
		s.cancelBase()
		return nil
	case <-ctx.Done():
		// Close before cancelling: a handler that returns as soon as its
		// context ends must not get its answer written to a connection the
		// deadline has cut.
		s.mu.Lock()
		for c := range s.conns {
			c.raw.Close()
		}
		s.mu.Unlock()
		s.cancelBase()
		return ctx.Err()
	}
}

// SetTLSConfig makes cfg (checked as Serve checks TLSConfig) the
// configuration of every connection accepted from now on: a renewed server
// certificate or CA bundle, without dropping open connections. On error
// the configuration in force stays.
func (s *Server) SetTLSConfig(cfg *tls.Config) error {
	c, err := s.tlsConfig(cfg)
	if err != nil {
		return err
	}
	s.current.Store(c)
	return nil
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inShutdown
}

// tlsConfig returns the TLS configuration connections are served with,
// built from base (Authenticator.ServerConfig).
func (s *Server) tlsConfig(base *tls.Config) (*tls.Config, error) {
	return s.Authenticator().ServerConfig(base)
}

// Authenticator is the authentication sequence the server's fields
// configure, which the HTTPS listener shares (kmiphttp.Server.Auth).
func (s *Server) Authenticator() Authenticator {
	return Authenticator{RequireClientAuthEKU: s.RequireClientAuthEKU, CRL: s.CRL, ThirdParty: s.Authenticate}
}

func (s *Server) identity(cs tls.ConnectionState) (domain.Principal, error) {
	return s.Authenticator().Identity(cs)
}

func (s *Server) revoked(cs tls.ConnectionState) error { return s.Authenticator().Revoked(cs) }

// newConn registers raw, or closes it and returns nil when the server is
// shutting down or full.
func (s *Server) newConn(raw net.Conn) *conn {
	maxConns := s.Effective().MaxConnections
	remote := raw.RemoteAddr().String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown {
		raw.Close()
		return nil
	}
	if len(s.conns) >= maxConns {
		raw.Close()
		s.Log.Warn().Str("remote", remote).Int("max_connections", maxConns).
			Msg("kmip: connection refused: too many connections")
		return nil
	}
	c := &conn{srv: s, raw: raw, state: stateNew, log: s.Log.With().Str("remote", remote).Logger()}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.Events.opened()
	return c
}

// setState moves c to st; it returns false, and leaves c to be closed, when
// the server is shutting down.
func (c *conn) setState(st connState) bool {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.srv.inShutdown {
		return false
	}
	c.state = st
	return true
}

func (s *Server) durations() (handshake, idle, read, write time.Duration) {
	e := s.Effective()
	return e.HandshakeTimeout, e.IdleTimeout, e.ReadTimeout, e.WriteTimeout
}

func (s *Server) maxMessageSize() int { return s.Effective().MaxMessageSize }

// serve runs the connection until it ends; it never lets a panic escape.
func (c *conn) serve(cfg *tls.Config) {
	s := c.srv
	defer func() {
		if r := recover(); r != nil {
			c.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("kmip: panic in connection")
		}
		if c.tc != nil && !c.abort {
			c.tc.Close()
		}
		c.raw.Close()
		clear(c.buf)
		clear(c.wbuf)
		if c.held > 0 {
			s.budget.release(c.who, c.held)
		}
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.Events.closed()
		s.connWG.Done()
	}()

	handshakeTimeout, idleTimeout, readTimeout, writeTimeout := s.durations()
	c.tc = tls.Server(c.raw, cfg)
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := c.tc.Handshake(); err != nil {
		c.log.Warn().Err(err).Msg("kmip: TLS handshake failed")
		s.Events.handshakeFailed(HandshakeCause(err))
		return
	}
	cs := c.tc.ConnectionState()
	who, err := s.identity(cs)
	if err != nil {
		c.log.Warn().Err(err).Msg("kmip: client refused")
		return
	}
	c.who = who.Name
	c.log = c.log.With().Str("client", who.Name).Logger()
	c.log.Debug().Str("tls_version", tls.VersionName(cs.Version)).
		Str("cipher_suite", tls.CipherSuiteName(cs.CipherSuite)).Msg("kmip: connection opened")
	defer func() { c.log.Debug().Msg("kmip: connection closed") }()
	c.raw.SetDeadline(time.Time{})
	if !c.setState(stateIdle) {
		return
	}

	ctx := ports.WithRemoteAddr(ports.WithPeer(s.baseCtx, who), c.raw.RemoteAddr().String())
	lim := s.Effective().Limits
	for {
		// Read and write deadlines both: in TLS 1.3 a Read may write
		// (answering a KeyUpdate), and a peer that reads nothing must not
		// block that write forever.
		c.raw.SetDeadline(time.Now().Add(idleTimeout))
		if _, err := io.ReadFull(c.tc, c.prefix.hdr[:1]); err != nil {
			c.logReadEnd(err, false)
			return
		}
		if !c.setState(stateActive) {
			return
		}
		if err := s.revoked(cs); err != nil {
			c.log.Warn().Err(err).Msg("kmip: closing connection: client certificate revoked")
			return
		}
		msg, err := c.readMessage(ctx, readTimeout)
		if err != nil {
			c.logReadEnd(err, true)
			return
		}
		out, ok := c.handle(ctx, msg, lim)
		clear(msg)
		if cap(msg) <= keepBuffer {
			c.buf = msg[:0]
		}
		if !ok {
			return
		}
		s.budget.grow(c.who, int64(len(out)))
		c.held += int64(len(out))
		c.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err = c.tc.Write(out)
		clear(out)
		if cap(out) <= keepBuffer {
			c.wbuf = out[:0]
		}
		s.budget.release(c.who, c.held)
		c.held = 0
		if err != nil {
			c.abort = true
			c.log.Debug().Err(err).Msg("kmip: writing a response failed")
			return
		}
		if c.refused {
			return
		}
		if !c.setState(stateIdle) {
			return
		}
	}
}

// errBudgetExhausted ends a connection whose request did not fit in the
// memory budget within the read timeout.
var errBudgetExhausted = errors.New("memory budget exhausted")

// readMessage reads the rest of a request message whose first byte is in
// c.prefix, within readTimeout. Before the body is read, its length is
// reserved from the memory budget (in c.held), waiting unread while it does
// not fit; a message over MaxMessageSize is refused by ttlv.ReadMessage
// unread, so it reserves nothing.
func (c *conn) readMessage(ctx context.Context, readTimeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(readTimeout)
	c.raw.SetDeadline(deadline)
	// A failed header read leaves the error to ttlv.ReadMessage, which
	// meets it again when it reads past the bytes that arrived.
	got, _ := io.ReadFull(c.tc, c.prefix.hdr[1:])
	c.prefix.r, c.prefix.n, c.prefix.off = c.tc, 1+got, 0
	maxSize := c.srv.maxMessageSize()
	buf := c.buf
	if c.prefix.n == len(c.prefix.hdr) {
		total := int64(len(c.prefix.hdr)) + int64(binary.BigEndian.Uint32(c.prefix.hdr[4:]))
		if total <= int64(maxSize) {
			if err := c.reserve(ctx, deadline, readTimeout, total); err != nil {
				return nil, err
			}
		}
	}
	return ttlv.ReadMessage(&c.prefix, buf, maxSize)
}

// reserve takes n bytes from the memory budget for the current message,
// waiting no later than deadline. After a wait, the client gets a whole
// readTimeout again for the body: the wait was the server's doing.
func (c *conn) reserve(ctx context.Context, deadline time.Time, readTimeout time.Duration, n int64) error {
	if c.srv.budget.tryAcquire(c.who, n) {
		c.held = n
		return nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	waited, err := c.srv.budget.acquire(ctx, c.who, n)
	if waited {
		c.srv.logBudgetWait()
	}
	if err != nil {
		if c.srv.shuttingDown() {
			return err
		}
		return errBudgetExhausted
	}
	c.held = n
	if waited {
		c.raw.SetDeadline(time.Now().Add(readTimeout))
	}
	return nil
}

// budgetLogEvery spaces the warnings that requests wait for the memory budget.
const budgetLogEvery = time.Minute

// logBudgetWait warns that requests wait for the memory budget, at most once
// every budgetLogEvery.
func (s *Server) logBudgetWait() {
	now := time.Now()
	s.mu.Lock()
	if now.Sub(s.budgetLogged) < budgetLogEvery {
		s.mu.Unlock()
		return
	}
	s.budgetLogged = now
	s.mu.Unlock()
	s.Log.Warn().Int64("memory_budget", s.budget.total).Int64("memory_budget_per_client", s.budget.perClient).
		Int("waiting", s.budget.waiting()).Msg("kmip: memory budget exhausted: requests wait unread (logged at most once a minute)")
}

// logReadEnd logs why reading from the client stopped; inMessage tells
// whether part of a message had arrived.
func (c *conn) logReadEnd(err error, inMessage bool) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.abort = true
	}
	switch {
	case errors.Is(err, io.EOF):
		// The client closed the connection between messages.
	case errors.Is(err, errBudgetExhausted):
		c.abort = true
		c.log.Warn().Int64("memory_budget", c.srv.budget.total).Int64("memory_budget_per_client", c.srv.budget.perClient).
			Msg("kmip: closing connection: request did not fit in the memory budget within the read timeout")
	case errors.Is(err, ttlv.ErrFraming):
		c.log.Warn().Err(err).Msg("kmip: closing connection: unreadable request")
	case errors.Is(err, os.ErrDeadlineExceeded) && inMessage:
		c.log.Info().Msg("kmip: closing connection: request not received within the read timeout")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Debug().Msg("kmip: closing idle connection")
	case c.srv.shuttingDown():
	default:
		c.log.Debug().Err(err).Msg("kmip: read failed")
	}
}

// handle decodes one message, answers it and encodes the answer; ok is false
// when the connection must be closed. A panic is logged and closes the
// connection.
func (c *conn) handle(ctx context.Context, msg []byte, lim ttlv.Limits) (out []byte, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).
				Msg("kmip: panic while handling a request; closing connection")
			out, ok = nil, false
		}
	}()
	rctx := newRequestContext(ctx, c.srv.Effective().RequestTimeout)
	defer rctx.end()
	ctx = rctx

	var resp *kmip.Item
	req, err := ttlv.Decode(msg, lim)
	switch {
	case err == nil:
		var authOK bool
		if ctx, authOK = c.authenticate(ctx, req); !authOK {
			uh, ok := c.srv.Handler.(ports.UnauthenticatedHandler)
			if !ok {
				return nil, false
			}
			resp = uh.HandleUnauthenticated(ctx, req)
			break
		}
		resp = c.srv.Handler.HandleMessage(ctx, req)
	case errors.Is(err, ttlv.ErrInvalid):
		c.log.Info().Err(err).Msg("kmip: undecodable request")
		resp = c.srv.Handler.HandleUndecodable(ctx, err)
	default:
		c.log.Warn().Err(err).Msg("kmip: closing connection: unreadable request")
		return nil, false
	}
	if resp == nil {
		c.log.Error().Msg("kmip: handler returned no response; closing connection")
		return nil, false
	}
	out, err = ttlv.AppendEncode(c.wbuf[:0], resp)
	if err != nil {
		c.log.Error().Err(err).Msg("kmip: cannot encode response; closing connection")
		return nil, false
	}
	return out, true
}

// authenticate runs the Authenticate hook for request req and returns the
// context carrying the principal to serve; false refuses the request and
// marks the connection to be closed.
func (c *conn) authenticate(ctx context.Context, req *kmip.Item) (context.Context, bool) {
	who, _ := ports.PeerFrom(ctx)
	ctx, err := c.srv.Authenticator().Authenticate(ctx, who, req)
	if err != nil {
		c.refused = true
		c.log.Warn().Err(err).Msg("kmip: request refused and connection closed: authentication failed")
		return ctx, false
	}
	return ctx, true
}

// prefixReader yields the first n bytes of hdr, already read, then reads
// from r.
type prefixReader struct {
	hdr    [8]byte // a TTLV item header
	n, off int
	r      io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if p.off < p.n {
		m := copy(b, p.hdr[p.off:p.n])
		p.off += m
		return m, nil
	}
	return p.r.Read(b)
}
