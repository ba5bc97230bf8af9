package kmiptls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var (
	testPKI     DevPKI
	testPKIErr  error
	testPKIOnce sync.Once
	testPKIDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testPKIDir != "" {
		os.RemoveAll(testPKIDir)
	}
	os.Exit(code)
}

// pki returns a development PKI shared by the package's tests.
func pki(t *testing.T) DevPKI {
	t.Helper()
	testPKIOnce.Do(func() {
		testPKIDir, testPKIErr = os.MkdirTemp("", "kmiptls-test-")
		if testPKIErr == nil {
			testPKI, testPKIErr = GenerateDevPKI(filepath.Join(testPKIDir, "pki"), DevPKIOptions{})
		}
	})
	if testPKIErr != nil {
		t.Fatal(testPKIErr)
	}
	return testPKI
}

var (
	cannedResponse = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "ok"))
	undecodableAns = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "invalid"))
	testRequest    = kmip.Struct(kmip.TagRequestMessage, kmip.Int(kmip.TagBatchCount, 1))
)

// fakeHandler answers every message with cannedResponse and records what it saw.
type fakeHandler struct {
	mu          sync.Mutex
	peers       []domain.Principal
	peerOK      []bool
	requests    []*kmip.Item
	undecodable []error

	// Optional behaviour for one test.
	started chan struct{} // receives once per HandleMessage call
	release chan struct{} // HandleMessage waits for it (or ctx) when non-nil
	ctxErr  chan error    // receives ctx.Err() when ctx ended the wait
	panics  bool
}

func (h *fakeHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	p, ok := ports.PeerFrom(ctx)
	h.mu.Lock()
	h.peers = append(h.peers, p)
	h.peerOK = append(h.peerOK, ok)
	h.requests = append(h.requests, req)
	panics := h.panics
	h.mu.Unlock()
	if panics {
		panic("handler exploded")
	}
	if h.started != nil {
		h.started <- struct{}{}
	}
	if h.release != nil {
		select {
		case <-h.release:
		case <-ctx.Done():
			h.ctxErr <- ctx.Err()
		}
	}
	return cannedResponse
}

func (h *fakeHandler) HandleUndecodable(ctx context.Context, err error) *kmip.Item {
	h.mu.Lock()
	h.undecodable = append(h.undecodable, err)
	h.mu.Unlock()
	return undecodableAns
}

func (h *fakeHandler) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests) + len(h.undecodable)
}

type testServer struct {
	srv     *Server
	addr    string
	h       *fakeHandler
	serveCh chan error
}

// startServer serves on an ephemeral 127.0.0.1 port with the dev PKI and
// shuts the server down when the test ends.
func startServer(t *testing.T, h *fakeHandler, mutate func(*Server)) *testServer {
	t.Helper()
	p := pki(t)
	cfg, _, err := NewTLSConfig(TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert})
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = &fakeHandler{}
	}
	srv := &Server{Handler: h, TLSConfig: cfg}
	if mutate != nil {
		mutate(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, addr: l.Addr().String(), h: h, serveCh: make(chan error, 1)}
	go func() { ts.serveCh <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

// clientConfig trusts the dev CA and presents certFile/keyFile when set.
func clientConfig(t *testing.T, certFile, keyFile string) *tls.Config {
	t.Helper()
	p := pki(t)
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

func adminConfig(t *testing.T) *tls.Config {
	p := pki(t)
	return clientConfig(t, p.ClientCert, p.ClientKey)
}

// dial connects and completes the client side of the handshake (in TLS 1.3
// the server may still refuse the client afterwards).
func dial(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	// A generous safety net so a broken server fails the test instead of
	// hanging it; no assertion depends on it.
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, nil
}

func roundTrip(c net.Conn, req *kmip.Item) (*kmip.Item, error) {
	b, err := ttlv.Encode(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(b); err != nil {
		return nil, err
	}
	return readResponse(c)
}

func readResponse(c net.Conn) (*kmip.Item, error) {
	msg, err := ttlv.ReadMessage(c, nil, 0)
	if err != nil {
		return nil, err
	}
	return ttlv.Decode(msg, ttlv.Limits{})
}

// assertClosedByServer reads from c and fails unless the server closed the
// connection (rather than the safety-net deadline expiring).
func assertClosedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("read succeeded; want the connection closed by the server")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open: %v", err)
	}
}

// assertRefused fails unless a client with cfg cannot get an answer.
func assertRefused(t *testing.T, ts *testServer, cfg *tls.Config) {
	t.Helper()
	c, err := dial(t, ts.addr, cfg)
	if err != nil {
		return // refused during the handshake (TLS 1.2 or client-side checks)
	}
	if resp, err := roundTrip(c, testRequest); err == nil {
		t.Fatalf("got response %v; want the connection refused", resp)
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection neither served nor closed: %v", err)
	}
	if n := ts.h.calls(); n != 0 {
		t.Fatalf("handler called %d times for a refused client", n)
	}
}

func TestRoundTripPropagatesIdentity(t *testing.T) {
	ts := startServer(t, nil, nil)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // several requests on one connection
		resp, err := roundTrip(c, testRequest)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if !resp.Equal(cannedResponse) {
			t.Fatalf("request %d: response %v, want %v", i, resp, cannedResponse)
		}
	}
	ts.h.mu.Lock()
	defer ts.h.mu.Unlock()
	if len(ts.h.requests) != 3 {
		t.Fatalf("handler saw %d requests, want 3", len(ts.h.requests))
	}
	for i := range ts.h.requests {
		if !ts.h.requests[i].Equal(testRequest) {
			t.Errorf("request %d decoded as %v", i, ts.h.requests[i])
		}
		if !ts.h.peerOK[i] || ts.h.peers[i].Name != DevClientName {
			t.Errorf("request %d: peer %+v (set %v), want %q", i, ts.h.peers[i], ts.h.peerOK[i], DevClientName)
		}
	}
}

func TestClientWithoutCertificateRefused(t *testing.T) {
	ts := startServer(t, nil, nil)
	assertRefused(t, ts, clientConfig(t, "", ""))
}

func TestCertificateFromAnotherCARefused(t *testing.T) {
	ts := startServer(t, nil, nil)
	other, err := GenerateDevPKI(t.TempDir(), DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertRefused(t, ts, clientConfig(t, other.ClientCert, other.ClientKey))
}

func TestExpiredCertificateRefused(t *testing.T) {
	ts := startServer(t, nil, nil)
	now := time.Now()
	cert, key, err := IssueCert(pki(t), t.TempDir(), "expired", CertOptions{
		CommonName: "expired", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	assertRefused(t, ts, clientConfig(t, cert, key))
}

func TestCommonNameRequired(t *testing.T) {
	dir := t.TempDir()
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	for name, o := range map[string]CertOptions{
		"no-cn":    {ExtKeyUsage: eku},
		"multi-cn": {CommonName: "alice", ExtraCommonNames: []string{"bob"}, ExtKeyUsage: eku},
	} {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, nil, nil)
			cert, key, err := IssueCert(pki(t), dir, name, o)
			if err != nil {
				t.Fatal(err)
			}
			assertRefused(t, ts, clientConfig(t, cert, key))
		})
	}
}

func TestClientAuthEKU(t *testing.T) {
	dir := t.TempDir()
	noEKUCert, noEKUKey, err := IssueClientCert(pki(t), dir, "noeku", false)
	if err != nil {
		t.Fatal(err)
	}
	ekuCert, ekuKey, err := IssueClientCert(pki(t), dir, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	served := func(t *testing.T, ts *testServer, cert, key, want string) {
		t.Helper()
		c, err := dial(t, ts.addr, clientConfig(t, cert, key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := roundTrip(c, testRequest); err != nil {
			t.Fatal(err)
		}
		ts.h.mu.Lock()
		defer ts.h.mu.Unlock()
		if got := ts.h.peers[len(ts.h.peers)-1].Name; got != want {
			t.Fatalf("identity %q, want %q", got, want)
		}
	}

	t.Run("off", func(t *testing.T) {
		ts := startServer(t, nil, nil)
		served(t, ts, noEKUCert, noEKUKey, "noeku")
		served(t, ts, ekuCert, ekuKey, "bob")
	})
	t.Run("on", func(t *testing.T) {
		ts := startServer(t, nil, func(s *Server) { s.RequireClientAuthEKU = true })
		assertRefused(t, ts, clientConfig(t, noEKUCert, noEKUKey))
		served(t, ts, ekuCert, ekuKey, "bob")
	})
}

func TestOldTLSVersionRefused(t *testing.T) {
	ts := startServer(t, nil, nil)
	cfg := adminConfig(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := dial(t, ts.addr, cfg); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	// TLS 1.2 is still accepted.
	cfg = adminConfig(t)
	cfg.MaxVersion = tls.VersionTLS12
	c, err := dial(t, ts.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
}

func TestOversizedMessageClosesWithoutReadingBody(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxMessageSize = 1024 })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	// A Request Message header announcing 1 MiB; the body is never sent, so
	// the server can only close if it does not wait for it.
	if _, err := c.Write([]byte{0x42, 0x00, 0x78, 0x01, 0x00, 0x10, 0x00, 0x00}); err != nil {
		t.Fatal(err)
	}
	assertClosedByServer(t, c)
	if n := ts.h.calls(); n != 0 {
		t.Fatalf("handler called %d times", n)
	}
}

func TestGarbageClosesConnection(t *testing.T) {
	ts := startServer(t, nil, nil)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	assertClosedByServer(t, c)
	if n := ts.h.calls(); n != 0 {
		t.Fatalf("handler called %d times", n)
	}
}

func TestInvalidMessageAnsweredAsUndecodable(t *testing.T) {
	ts := startServer(t, nil, nil)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	// A well-framed Request Message holding a Boolean whose value is 2.
	bad := []byte{
		0x42, 0x00, 0x78, 0x01, 0x00, 0x00, 0x00, 0x10,
		0x42, 0x00, 0x08, 0x06, 0x00, 0x00, 0x00, 0x08,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	}
	if _, err := c.Write(bad); err != nil {
		t.Fatal(err)
	}
	resp, err := readResponse(c)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Equal(undecodableAns) {
		t.Fatalf("response %v, want %v", resp, undecodableAns)
	}
	ts.h.mu.Lock()
	if len(ts.h.undecodable) != 1 || !errors.Is(ts.h.undecodable[0], ttlv.ErrInvalid) {
		t.Errorf("HandleUndecodable got %v, want one ttlv.ErrInvalid", ts.h.undecodable)
	}
	ts.h.mu.Unlock()
	// The connection stays usable.
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
}

func TestIdleClientCutOff(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.IdleTimeout = 200 * time.Millisecond })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	assertClosedByServer(t, c)
}

func TestSlowRequestCutOff(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.ReadTimeout = 200 * time.Millisecond })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	// Half a header, then silence (slowloris).
	if _, err := c.Write([]byte{0x42, 0x00, 0x78, 0x01}); err != nil {
		t.Fatal(err)
	}
	assertClosedByServer(t, c)
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.MaxConnections = 1 })
	c1, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c1, testRequest); err != nil {
		t.Fatal(err)
	}
	if c2, err := dial(t, ts.addr, adminConfig(t)); err == nil {
		if _, err := roundTrip(c2, testRequest); err == nil {
			t.Fatal("second connection served beyond MaxConnections=1")
		}
	}
	// The first connection is unaffected.
	if _, err := roundTrip(c1, testRequest); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownWaitsForInFlightRequest(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 1), release: make(chan struct{}), ctxErr: make(chan error, 1)}
	ts := startServer(t, h, nil)
	busy, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	idle, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ttlv.Encode(testRequest)
	if _, err := busy.Write(b); err != nil {
		t.Fatal(err)
	}
	<-h.started

	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- ts.srv.Shutdown(context.Background()) }()

	// The idle connection is closed while the request is still in flight,
	// and Serve returns.
	assertClosedByServer(t, idle)
	if err := <-ts.serveCh; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	select {
	case err := <-shutdownErr:
		t.Fatalf("Shutdown returned %v before the in-flight request finished", err)
	default:
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Error("new connection accepted after Shutdown")
	}

	close(h.release)
	resp, err := readResponse(busy)
	if err != nil {
		t.Fatalf("in-flight response lost: %v", err)
	}
	if !resp.Equal(cannedResponse) {
		t.Fatalf("response %v", resp)
	}
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	assertClosedByServer(t, busy)
}

func TestShutdownDeadlineCancelsRequests(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 1), release: make(chan struct{}), ctxErr: make(chan error, 1)}
	ts := startServer(t, h, nil)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ttlv.Encode(testRequest)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown returned %v, want context.DeadlineExceeded", err)
	}
	if err := <-h.ctxErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler context ended with %v, want context.Canceled", err)
	}
	assertClosedByServer(t, c)
}

func TestServeAfterShutdown(t *testing.T) {
	cfg := &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()}
	srv := &Server{Handler: &fakeHandler{}, TLSConfig: cfg}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
}

func TestPanickingHandlerDoesNotKillServer(t *testing.T) {
	h := &fakeHandler{panics: true}
	ts := startServer(t, h, nil)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err == nil {
		t.Fatal("got a response from a panicking handler")
	}
	h.mu.Lock()
	h.panics = false
	h.mu.Unlock()
	c2, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c2, testRequest); err != nil {
		t.Fatalf("server not serving after a handler panic: %v", err)
	}
}

func TestPrefixReader(t *testing.T) {
	p := &prefixReader{hdr: [8]byte{'a'}, n: 1, r: io.MultiReader()}
	if n, err := p.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	b, err := io.ReadAll(&prefixReader{hdr: [8]byte{'a'}, n: 1, r: io.LimitReader(zeroReader{}, 2)})
	if err != nil || string(b) != "a\x00\x00" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }
