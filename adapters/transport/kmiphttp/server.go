// Package kmiphttp serves KMIP over HTTPS (KMIP Profiles 1.4 §5.3 and 2.1
// §5.3 "HTTPS"): one request message per POST to /kmip, in the encoding the
// request's Content-Type names — binary TTLV (application/octet-stream), the
// JSON encoding (application/json, package kmipjson) or the XML encoding
// (text/xml or application/xml, package kmipxml) — answered in the same
// encoding. Clients are authenticated exactly as on the TTLV port, by the
// shared kmiptls.Authenticator, and the same ports.MessageHandler answers.
// HTTP/1.1 keep-alive and HTTP/2 are both served. Its API follows
// kmiptls.Server: a Server struct, Serve and Shutdown.
package kmiphttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// MemoryBudget bounds the bytes held by requests in flight, per client
// identity and in total (kmiptls.Server implements it).
type MemoryBudget interface {
	// AcquireMemory reserves n bytes for who, waiting until ctx ends.
	AcquireMemory(ctx context.Context, who string, n int64) error
	// GrowMemory adds n bytes already allocated, without waiting.
	GrowMemory(who string, n int64)
	// ReleaseMemory returns n bytes who held.
	ReleaseMemory(who string, n int64)
}

// MaxStreams is the most requests one HTTP/2 connection has in flight
// (SETTINGS_MAX_CONCURRENT_STREAMS); a client's further streams wait or are
// refused, so that one connection cannot start hundreds of operations.
const MaxStreams = 16

// Path is the URL path KMIP requests are posted to.
const Path = "/kmip"

// ErrServerClosed is returned by Serve after Shutdown was called.
var ErrServerClosed = http.ErrServerClosed

// Server answers KMIP request messages posted over HTTPS. Its fields must
// not change once Serve was called; zero settings take the kmiptls
// defaults, so both listeners agree.
type Server struct {
	// Handler answers decoded messages. Required.
	Handler ports.MessageHandler
	// TLSConfig is the server's TLS configuration (kmiptls.NewTLSConfig),
	// which must require and verify client certificates. Required.
	TLSConfig *tls.Config
	// Auth authenticates each request's client, as on the TTLV port.
	Auth kmiptls.Authenticator
	// Settings are the TTLV server's limits and timeouts, applied per
	// request: a body over MaxMessageSize is answered 413 without being
	// read (when Content-Length announces it) or as soon as it passes the
	// limit; HandshakeTimeout (or ReadTimeout, if shorter) also bounds the
	// reading of each request's header; IdleTimeout bounds the wait for
	// the next request on a kept-alive connection; the HTTP server's write
	// deadline is RequestTimeout + WriteTimeout, since it also runs while
	// the request is handled; MaxConnections counts this listener's
	// connections. The JSON and XML decoders cap Limits.MaxDepth at
	// kmipxml.MaxDepth.
	kmiptls.Settings
	// Log receives request and connection events; message bytes are
	// never logged.
	Log zerolog.Logger
	// Memory, when set, is the memory budget request bodies and their
	// answers are reserved from before the body is read (the TTLV server's,
	// so that one budget bounds both listeners). A request that cannot
	// reserve within ReadTimeout is answered 503 unread.
	Memory MemoryBudget

	mu         sync.Mutex
	hs         *http.Server
	closed     bool
	baseCtx    context.Context
	cancelBase context.CancelFunc

	// current is the TLS configuration handshakes get (SetTLSConfig).
	current atomic.Pointer[tls.Config]
}

// Serve accepts connections on l, wraps them in TLS and serves HTTP/1.1 and
// HTTP/2 on them until Shutdown. It closes l when it returns; after
// Shutdown it returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil {
		l.Close()
		return errors.New("kmiphttp: Server.Handler is nil")
	}
	cfg, err := s.serverConfig(s.TLSConfig)
	if err != nil {
		l.Close()
		return err
	}
	s.current.CompareAndSwap(nil, cfg)
	// Each handshake takes the configuration in force (SetTLSConfig).
	outer := &tls.Config{NextProtos: cfg.NextProtos, MinVersion: cfg.MinVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.current.Load(), nil }}
	set := s.Effective()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	hs := &http.Server{
		Handler:   s,
		TLSConfig: outer,
		// net/http bounds the handshake by the shortest of these.
		ReadHeaderTimeout: min(set.HandshakeTimeout, set.ReadTimeout),
		ReadTimeout:       set.ReadTimeout,
		WriteTimeout:      set.RequestTimeout + set.WriteTimeout,
		IdleTimeout:       set.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		// A TTLV connection runs one request at a time; an HTTP/2 one
		// multiplexes at most MaxStreams, not Go's default of 250.
		HTTP2:       &http.HTTP2Config{MaxConcurrentStreams: MaxStreams},
		BaseContext: func(net.Listener) context.Context { return s.baseCtx },
		ErrorLog:    log.New(debugWriter{s.Log}, "", 0),
	}
	s.hs = hs
	s.mu.Unlock()
	return hs.ServeTLS(&limitListener{Listener: l, max: set.MaxConnections, log: s.Log}, "", "")
}

// serverConfig is base with the authentication checks and HTTP's protocols.
func (s *Server) serverConfig(base *tls.Config) (*tls.Config, error) {
	cfg, err := s.Auth.ServerConfig(base)
	if err != nil {
		return nil, err
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	return cfg, nil
}

// SetTLSConfig makes cfg (checked as Serve checks TLSConfig) the
// configuration of every handshake from now on: a renewed certificate or
// CA bundle, open connections kept. On error the one in force stays.
func (s *Server) SetTLSConfig(cfg *tls.Config) error {
	c, err := s.serverConfig(cfg)
	if err != nil {
		return err
	}
	s.current.Store(c)
	return nil
}

// Shutdown stops the server gracefully: it closes the listener and idle
// connections, lets requests in flight finish and their responses be
// written, and returns once every connection is gone. If ctx expires first,
// it cancels the requests' context, closes every connection and returns
// ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	hs, cancel := s.hs, s.cancelBase
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	err := hs.Shutdown(ctx)
	cancel()
	if err != nil {
		hs.Close()
	}
	return err
}

// encoding is one of the three message encodings, chosen by Content-Type.
type encoding struct {
	name   string
	decode func(b []byte, lim ttlv.Limits) (*kmip.Item, error)
	encode func(it *kmip.Item) ([]byte, error)
}

var (
	encTTLV = encoding{"ttlv", ttlv.Decode, ttlv.Encode}
	encJSON = encoding{"json", kmipjson.Decode, encodeJSON}
	encXML  = encoding{"xml", decodeXML, encodeXML}
)

// encodings maps the media types of a request's Content-Type to encodings.
var encodings = map[string]encoding{
	"application/octet-stream": encTTLV,
	"application/json":         encJSON,
	"text/xml":                 encXML,
	"application/xml":          encXML,
}

func decodeXML(b []byte, lim ttlv.Limits) (*kmip.Item, error) {
	return kmipxml.DecodeLimited(bytes.NewReader(b), lim.MaxDepth, lim.MaxItems)
}

func encodeXML(it *kmip.Item) ([]byte, error) {
	var b bytes.Buffer
	if err := kmipxml.Encode(&b, it); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// undecodable reports whether err means the body is not a valid message in
// its encoding (answered with Result Reason Invalid Message).
func undecodable(err error) bool {
	return errors.Is(err, ttlv.ErrInvalid) || errors.Is(err, ttlv.ErrFraming) ||
		errors.Is(err, kmipjson.ErrInvalid) || errors.Is(err, kmipxml.ErrInvalid)
}

func (s *Server) maxMessageSize() int { return s.Effective().MaxMessageSize }

// ServeHTTP answers one POST /kmip request; it never lets a panic escape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rlog := s.Log.With().Str("remote", r.RemoteAddr).Str("proto", r.Proto).Logger()
	defer func() {
		if p := recover(); p != nil {
			rlog.Error().Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("kmip: panic while handling an HTTPS request")
			w.Header().Set("Connection", "close")
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	media, enc, ok := s.admit(w, r)
	if !ok {
		return
	}
	who, err := s.Auth.Identity(*r.TLS)
	if err != nil {
		rlog.Warn().Err(err).Msg("kmip: HTTPS request refused: client certificate")
		refuse(w, http.StatusForbidden, "client certificate refused")
		return
	}
	rlog = rlog.With().Str("client", who.Name).Str("encoding", enc.name).Logger()
	held, ok := s.reserve(r, who.Name, rlog)
	if !ok {
		w.Header().Set("Retry-After", "1")
		refuse(w, http.StatusServiceUnavailable, "server busy: memory budget exhausted")
		return
	}
	defer func() { s.release(who.Name, held) }()
	body, err := readBody(w, r, s.maxMessageSize())
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			refuse(w, http.StatusRequestEntityTooLarge, "request larger than max_message_size")
			return
		}
		rlog.Info().Err(err).Msg("kmip: reading an HTTPS request body failed")
		refuse(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	out, closeAfter, ok := s.answer(ports.WithRemoteAddr(r.Context(), r.RemoteAddr), who, enc, body, rlog)
	clear(body)
	if !ok {
		refuse(w, http.StatusInternalServerError, "the request could not be answered")
		return
	}
	held += s.grow(who.Name, len(out))
	h := w.Header()
	h.Set("Content-Type", media)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Set("Cache-Control", "no-store")
	if closeAfter {
		h.Set("Connection", "close")
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(out); err != nil {
		rlog.Debug().Err(err).Msg("kmip: writing an HTTPS response failed")
	}
	clear(out)
}

// admit checks what can be checked before the body is read — path, method,
// Content-Type, announced length, TLS — and answers the request itself when
// it fails; otherwise it returns the media type and its encoding.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (string, encoding, bool) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return "", encoding{}, false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "KMIP requests are POSTed", http.StatusMethodNotAllowed)
		return "", encoding{}, false
	}
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	media = strings.ToLower(media)
	enc, ok := encodings[media]
	if !ok {
		http.Error(w, "Content-Type must be application/octet-stream, application/json, text/xml or application/xml",
			http.StatusUnsupportedMediaType)
		return "", encoding{}, false
	}
	if r.ContentLength > int64(s.maxMessageSize()) {
		refuse(w, http.StatusRequestEntityTooLarge, "request larger than max_message_size")
		return "", encoding{}, false
	}
	if r.TLS == nil {
		refuse(w, http.StatusForbidden, "TLS required")
		return "", encoding{}, false
	}
	return media, enc, true
}

// reserve takes the request body's announced length (MaxMessageSize when
// it is not announced) from the memory budget, waiting at most
// ReadTimeout; it returns the bytes held, and false when they could not
// be had.
func (s *Server) reserve(r *http.Request, who string, rlog zerolog.Logger) (int64, bool) {
	if s.Memory == nil {
		return 0, true
	}
	n := int64(s.maxMessageSize())
	if r.ContentLength >= 0 && r.ContentLength < n {
		n = r.ContentLength
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.Effective().ReadTimeout)
	defer cancel()
	if err := s.Memory.AcquireMemory(ctx, who, n); err != nil {
		rlog.Warn().Int64("bytes", n).Msg("kmip: HTTPS request refused: memory budget exhausted")
		return 0, false
	}
	return n, true
}

// grow adds n bytes of an answer to the memory budget and returns them.
func (s *Server) grow(who string, n int) int64 {
	if s.Memory == nil {
		return 0
	}
	s.Memory.GrowMemory(who, int64(n))
	return int64(n)
}

// release returns what reserve and grow took.
func (s *Server) release(who string, held int64) {
	if s.Memory != nil && held > 0 {
		s.Memory.ReleaseMemory(who, held)
	}
}

// refuse answers with an HTTP error and closes the connection after it.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
}

// readBody reads the whole body, at most maxSize bytes.
func readBody(w http.ResponseWriter, r *http.Request, maxSize int) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, int64(maxSize))
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(rd)
	return buf.Bytes(), err
}

// answer decodes one message, authenticates its client (the same sequence
// as on the TTLV port), has the Handler answer it and encodes the answer;
// closeAfter asks for the connection to be closed (authentication failed),
// and ok is false when there is no answer to send.
func (s *Server) answer(ctx context.Context, who domain.Principal, enc encoding, body []byte, rlog zerolog.Logger) (out []byte, closeAfter, ok bool) {
	set := s.Effective()
	ctx, cancel := context.WithTimeout(ports.WithPeer(ctx, who), set.RequestTimeout)
	defer cancel()
	lim := set.Limits
	var resp *kmip.Item
	req, err := enc.decode(body, lim)
	switch {
	case err == nil:
		actx, aerr := s.Auth.Authenticate(ctx, who, req)
		if aerr != nil {
			rlog.Warn().Err(aerr).Msg("kmip: HTTPS request refused: authentication failed")
			uh, ok := s.Handler.(ports.UnauthenticatedHandler)
			if !ok {
				return nil, true, false
			}
			resp, closeAfter = uh.HandleUnauthenticated(ctx, req), true
			break
		}
		resp = s.Handler.HandleMessage(actx, req)
	case undecodable(err):
		rlog.Info().Err(err).Msg("kmip: undecodable HTTPS request")
		resp = s.Handler.HandleUndecodable(ctx, err)
	default:
		rlog.Warn().Err(err).Msg("kmip: unreadable HTTPS request")
		return nil, true, false
	}
	if resp == nil {
		rlog.Error().Msg("kmip: handler returned no response")
		return nil, true, false
	}
	out, err = enc.encode(resp)
	if err != nil {
		rlog.Error().Err(err).Msg("kmip: cannot encode the response in the request's encoding")
		return nil, true, false
	}
	return out, closeAfter, true
}

// debugWriter sends net/http's own log lines (TLS handshake errors and the
// like) to the debug level.
type debugWriter struct{ log zerolog.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.log.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// encodeJSON writes compact JSON and a newline, for terminals (curl).
func encodeJSON(it *kmip.Item) ([]byte, error) {
	b, err := kmipjson.Append(nil, it)
	return append(b, '\n'), err
}
