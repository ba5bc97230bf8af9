// Package admin is kmipd's operator listener: an HTTP(S) server for
// /healthz (the process answers), /readyz (the store, the crypto engine and
// whatever else the server needs answer within a deadline, and the server is
// not draining) and /metrics (Prometheus). It serves nothing that reads or
// changes managed objects.
package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Check is one readiness condition: Probe answers nil when the dependency
// is usable; it must honour ctx's deadline.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Server is the admin listener. Its zero value serves /healthz only; set
// the fields before Serve and leave them alone afterwards.
type Server struct {
	// Metrics serves /metrics; nil answers 404.
	Metrics http.Handler
	// Checks are run, concurrently, for each /readyz.
	Checks []Check
	// CheckTimeout bounds each check (default 2s): a check that has not
	// answered by then counts as failed.
	CheckTimeout time.Duration
	// TLSConfig, when set, makes the listener HTTPS (with whatever client
	// certificate policy it carries).
	TLSConfig *tls.Config
	// Log receives failed checks and listener errors.
	Log zerolog.Logger
	// Backup, when set, answers GET /backup with a consistent copy of the
	// store, written to w. It is served only over TLS (TLSConfig set) and
	// only to a client MayBackup accepts; otherwise /backup is 404 or 403.
	Backup func(ctx context.Context, w io.Writer) error
	// MayBackup tells whether the request's client (its verified
	// certificate) may take backups.
	MayBackup func(r *http.Request) bool

	draining atomic.Bool
	once     sync.Once
	srv      *http.Server
}

// SetDraining marks the server as shutting down: /readyz answers 503 from
// then on, so that a load balancer stops sending new connections.
func (s *Server) SetDraining() { s.draining.Store(true) }

func (s *Server) init() {
	s.once.Do(func() {
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", s.healthz)
		mux.HandleFunc("/readyz", s.readyz)
		mux.HandleFunc("/metrics", s.metrics)
		mux.HandleFunc("/backup", s.backup)
		s.srv = &http.Server{
			Handler:           readOnly(mux),
			TLSConfig:         s.TLSConfig,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          nil,
		}
	})
}

// readOnly refuses every method but GET and HEAD.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Serve answers on ln until Shutdown; it returns http.ErrServerClosed then.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	if s.TLSConfig != nil {
		return s.srv.ServeTLS(ln, "", "")
	}
	return s.srv.Serve(ln)
}

// Shutdown stops the listener and waits for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	return s.srv.Shutdown(ctx)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz runs every check and answers 200 with one "name: ok" line each, or
// 503 naming the failures; 503 "draining" once SetDraining was called.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "draining: not accepting new work")
		return
	}
	results := s.runChecks(r.Context())
	code := http.StatusOK
	var b strings.Builder
	for _, name := range sortedNames(results) {
		if err := results[name]; err != nil {
			code = http.StatusServiceUnavailable
			fmt.Fprintf(&b, "%s: failed: %s\n", name, oneLine(err.Error()))
			s.Log.Warn().Str("check", name).Err(err).Msg("admin: readiness check failed")
			continue
		}
		fmt.Fprintf(&b, "%s: ok\n", name)
	}
	w.WriteHeader(code)
	fmt.Fprint(w, b.String())
}

// runChecks runs the checks concurrently, each under CheckTimeout.
func (s *Server) runChecks(ctx context.Context) map[string]error {
	timeout := s.CheckTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make(map[string]error, len(s.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.Checks {
		wg.Add(1)
		done := make(chan error, 1)
		go func() { done <- safeProbe(ctx, c.Probe) }()
		go func() {
			defer wg.Done()
			var err error
			select {
			case err = <-done:
			case <-ctx.Done():
				err = fmt.Errorf("no answer within %s", timeout)
			}
			mu.Lock()
			results[c.Name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// safeProbe runs a probe, turning a panic into a failure.
func safeProbe(ctx context.Context, probe func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check panicked: %v", r)
		}
	}()
	if probe == nil {
		return errors.New("no probe")
	}
	return probe(ctx)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		http.NotFound(w, r)
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

// backup streams a snapshot of the store to a client allowed to take one.
// A failure after the first byte can only cut the stream short, so the
// length is not known in advance and the client must check what it got
// (kmipd backup opens it).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if s.Backup == nil || s.TLSConfig == nil || r.TLS == nil {
		http.NotFound(w, r)
		return
	}
	if s.MayBackup == nil || !s.MayBackup(r) {
		s.Log.Warn().Str("remote", r.RemoteAddr).Msg("admin: backup refused: client not allowed")
		http.Error(w, "forbidden: this client certificate may not take backups", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	cw := &countingWriter{w: w}
	if err := s.Backup(r.Context(), cw); err != nil {
		s.Log.Error().Err(err).Str("remote", r.RemoteAddr).Msg("admin: backup failed")
		if cw.n == 0 {
			http.Error(w, "backup failed: "+oneLine(err.Error()), http.StatusInternalServerError)
			return
		}
		// The status line is gone: cutting the stream is what tells the client.
		panic(http.ErrAbortHandler)
	}
	s.Log.Info().Str("remote", r.RemoteAddr).Msg("admin: backup served")
}

func sortedNames(m map[string]error) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
