package kmiphttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var (
	testPKI     kmiptls.DevPKI
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

func pki(t *testing.T) kmiptls.DevPKI {
	t.Helper()
	testPKIOnce.Do(func() {
		testPKIDir, testPKIErr = os.MkdirTemp("", "kmiphttp-test-")
		if testPKIErr == nil {
			testPKI, testPKIErr = kmiptls.GenerateDevPKI(filepath.Join(testPKIDir, "pki"), kmiptls.DevPKIOptions{})
		}
	})
	if testPKIErr != nil {
		t.Fatal(testPKIErr)
	}
	return testPKI
}

var (
	cannedResponse = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "ok"),
		kmip.Int(kmip.TagCryptographicUsageMask, 12))
	undecodableAns = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "invalid"))
	refusedAns     = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "unauthenticated"))
	testRequest    = kmip.Struct(kmip.TagRequestMessage, kmip.Int(kmip.TagBatchCount, 1),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)))
)

// fakeHandler answers every message with cannedResponse and records what it saw.
type fakeHandler struct {
	mu          sync.Mutex
	peers       []domain.Principal
	requests    []*kmip.Item
	undecodable []error
	started     chan struct{}
	release     chan struct{}
}

func (h *fakeHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	p, _ := ports.PeerFrom(ctx)
	h.mu.Lock()
	h.peers = append(h.peers, p)
	h.requests = append(h.requests, req)
	h.mu.Unlock()
	if h.started != nil {
		h.started <- struct{}{}
	}
	if h.release != nil {
		<-h.release
	}
	return cannedResponse
}

func (h *fakeHandler) HandleUndecodable(ctx context.Context, err error) *kmip.Item {
	h.mu.Lock()
	h.undecodable = append(h.undecodable, err)
	h.mu.Unlock()
	return undecodableAns
}

func (h *fakeHandler) HandleUnauthenticated(ctx context.Context, req *kmip.Item) *kmip.Item {
	return refusedAns
}

func (h *fakeHandler) counts() (requests, undecodable int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests), len(h.undecodable)
}

type testServer struct {
	srv  *Server
	url  string
	addr string
	h    *fakeHandler
	done chan error
}

func startServer(t *testing.T, mutate func(*Server)) *testServer {
	t.Helper()
	p := pki(t)
	cfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert})
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{}
	srv := &Server{Handler: h, TLSConfig: cfg, Auth: kmiptls.Authenticator{RequireClientAuthEKU: true}}
	if mutate != nil {
		mutate(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, addr: l.Addr().String(), url: "https://" + l.Addr().String() + Path, h: h, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

func tlsClient(t *testing.T, withCert bool) *tls.Config {
	t.Helper()
	p := pki(t)
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if withCert {
		c, err := tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

// client is an HTTP client with the admin certificate; h2 selects HTTP/2.
func client(t *testing.T, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: tlsClient(t, true), ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

type codec struct {
	ctype  string
	encode func(*kmip.Item) ([]byte, error)
	decode func([]byte) (*kmip.Item, error)
}

var codecs = []codec{
	{"application/octet-stream", ttlv.Encode, func(b []byte) (*kmip.Item, error) { return ttlv.Decode(b, ttlv.Limits{}) }},
	{"application/json", func(it *kmip.Item) ([]byte, error) { return kmipjson.Append(nil, it) },
		func(b []byte) (*kmip.Item, error) { return kmipjson.Decode(b, ttlv.Limits{}) }},
	{"text/xml", encodeXML, func(b []byte) (*kmip.Item, error) { return kmipxml.Decode(bytes.NewReader(b)) }},
	{"application/xml", encodeXML, func(b []byte) (*kmip.Item, error) { return kmipxml.Decode(bytes.NewReader(b)) }},
}

func post(t *testing.T, c *http.Client, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", ctype, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestEncodings: each Content-Type is decoded with its encoding, answered in
// the same encoding, over HTTP/1.1 and HTTP/2, with the client's identity.
func TestEncodings(t *testing.T) {
	ts := startServer(t, nil)
	for _, h2 := range []bool{false, true} {
		c := client(t, h2)
		for _, cd := range codecs {
			body, err := cd.encode(testRequest)
			if err != nil {
				t.Fatal(err)
			}
			resp, out := post(t, c, ts.url, cd.ctype, body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d: %s", cd.ctype, resp.StatusCode, out)
			}
			if h2 != (resp.ProtoMajor == 2) {
				t.Errorf("%s: protocol %s, want HTTP/2 %v", cd.ctype, resp.Proto, h2)
			}
			if got := resp.Header.Get("Content-Type"); got != cd.ctype {
				t.Errorf("response Content-Type %q, want %q", got, cd.ctype)
			}
			it, err := cd.decode(out)
			if err != nil {
				t.Fatalf("%s: response does not decode: %v\n%s", cd.ctype, err, out)
			}
			if !it.Equal(cannedResponse) {
				t.Errorf("%s: response %s", cd.ctype, it)
			}
		}
	}
	ts.h.mu.Lock()
	defer ts.h.mu.Unlock()
	if len(ts.h.requests) != 2*len(codecs) {
		t.Fatalf("handler saw %d requests", len(ts.h.requests))
	}
	for i, r := range ts.h.requests {
		if !r.Equal(testRequest) || ts.h.peers[i].Name != kmiptls.DevClientName {
			t.Errorf("request %d: %s from %+v", i, r, ts.h.peers[i])
		}
	}
}

// TestHTTPErrors: wrong path 404, wrong method 405, unknown type 415, a
// body over MaxMessageSize 413 whether announced or streamed; none reaches
// the handler.
func TestHTTPErrors(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.MaxMessageSize = 1024 })
	c := client(t, false)
	do := func(method, url, ctype string, body io.Reader) *http.Response {
		req, _ := http.NewRequest(method, url, body)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	big := bytes.Repeat([]byte("x"), 4096)
	for _, c := range []struct {
		method, path, ctype string
		body                io.Reader
		want                int
	}{
		{"POST", "/other", "application/json", strings.NewReader("{}"), 404},
		{"GET", Path, "", nil, 405},
		{"PUT", Path, "application/json", strings.NewReader("{}"), 405},
		{"POST", Path, "text/plain", strings.NewReader("{}"), 415},
		{"POST", Path, "", strings.NewReader("{}"), 415},
		{"POST", Path, "application/json", bytes.NewReader(big), 413},
		{"POST", Path, "application/json", io.MultiReader(bytes.NewReader(big)), 413}, // chunked: no Content-Length
	} {
		resp := do(c.method, "https://"+ts.addr+c.path, c.ctype, c.body)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %q: status %d, want %d", c.method, c.path, c.ctype, resp.StatusCode, c.want)
		}
		if c.want == 405 && resp.Header.Get("Allow") != "POST" {
			t.Errorf("405 without Allow: POST")
		}
	}
	if r, u := ts.h.counts(); r+u != 0 {
		t.Fatalf("handler was called %d+%d times", r, u)
	}
}

// TestMalformedBody: a body that does not decode in its encoding, or breaks
// the decoder's limits, is answered with the Handler's Invalid Message
// response in that encoding.
func TestMalformedBody(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.Limits = ttlv.Limits{MaxDepth: 8, MaxItems: 20} })
	c := client(t, false)
	deepJSON := strings.Repeat(`{"tag":"Attribute","value":[`, 9) + strings.Repeat(`]}`, 9)
	deepXML := strings.Repeat(`<Attribute>`, 9) + strings.Repeat(`</Attribute>`, 9)
	manyXML := "<RequestMessage>" + strings.Repeat(`<BatchCount type="Integer" value="1"/>`, 25) + "</RequestMessage>"
	deepTTLV := testRequest
	for range 9 {
		deepTTLV = kmip.Struct(kmip.TagAttribute, deepTTLV)
	}
	deepTTLVBytes, _ := ttlv.Encode(deepTTLV)
	for _, c2 := range []struct {
		cd   codec
		body []byte
	}{
		{codecs[0], []byte{0x42, 0, 0x78, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0}},
		{codecs[0], deepTTLVBytes},
		{codecs[1], []byte(`{"tag":"RequestMessage","value":[`)},
		{codecs[1], []byte(deepJSON)},
		{codecs[2], []byte(`<RequestMessage><Nope/></RequestMessage>`)},
		{codecs[2], []byte(deepXML)},
		{codecs[3], []byte(manyXML)},
	} {
		resp, out := post(t, c, ts.url, c2.cd.ctype, c2.body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %q: status %d", c2.cd.ctype, c2.body, resp.StatusCode)
		}
		it, err := c2.cd.decode(out)
		if err != nil || !it.Equal(undecodableAns) {
			t.Errorf("%s %.40q: answer %v, %v; want the Invalid Message answer", c2.cd.ctype, c2.body, it, err)
		}
	}
	if r, u := ts.h.counts(); r != 0 || u != 7 {
		t.Fatalf("handler: %d requests, %d undecodable; want 0 and 7", r, u)
	}
}

// TestSharedAuthentication: the Authenticator's third-party step decides
// the principal, and a refusal gets the Handler's unauthenticated answer and
// a closed connection, as on the TTLV port.
func TestSharedAuthentication(t *testing.T) {
	var refuse atomic.Bool
	ts := startServer(t, func(s *Server) {
		s.Auth.ThirdParty = func(ctx context.Context, who domain.Principal, _ *kmip.Item) (domain.Principal, error) {
			if refuse.Load() {
				return domain.Principal{}, errors.New("no such user")
			}
			return domain.Principal{Name: who.Name, Groups: []string{"ops"}, HasGroupInfo: true}, nil
		}
	})
	c := client(t, false)
	body, _ := kmipjson.Append(nil, testRequest)
	resp, _ := post(t, c, ts.url, "application/json", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ts.h.mu.Lock()
	p := ts.h.peers[0]
	ts.h.mu.Unlock()
	if p.Name != kmiptls.DevClientName || len(p.Groups) != 1 || p.Groups[0] != "ops" {
		t.Fatalf("handler saw %+v, want admin in group ops", p)
	}
	refuse.Store(true)
	resp, out := post(t, c, ts.url, "application/json", body)
	it, err := kmipjson.Decode(out, ttlv.Limits{})
	if resp.StatusCode != 200 || err != nil || !it.Equal(refusedAns) {
		t.Fatalf("refused request: status %d, answer %v, %v", resp.StatusCode, it, err)
	}
	if !resp.Close {
		t.Errorf("the connection of a refused client is kept open")
	}
	if r, _ := ts.h.counts(); r != 1 {
		t.Fatalf("the refused request reached the handler")
	}
}

// TestClientCertificateRequired: no certificate, no HTTP.
func TestClientCertificateRequired(t *testing.T) {
	ts := startServer(t, nil)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsClient(t, false)}, Timeout: 10 * time.Second}
	resp, err := c.Post(ts.url, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a client without a certificate got status %d", resp.StatusCode)
	}
}

// TestKeepAlive: HTTP/1.1 requests reuse one connection.
func TestKeepAlive(t *testing.T) {
	ts := startServer(t, nil)
	c := client(t, false)
	body, _ := ttlv.Encode(testRequest)
	reused := 0
	for range 3 {
		req, _ := http.NewRequest("POST", ts.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) {
				if i.Reused {
					reused++
				}
			},
		}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if reused != 2 {
		t.Fatalf("%d of 2 later requests reused the connection", reused)
	}
}

// TestConnectionCap: beyond MaxConnections a connection is closed at once.
func TestConnectionCap(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.MaxConnections = 1 })
	first, err := tls.Dial("tcp", ts.addr, tlsClient(t, true))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection: read %v, want it closed by the server", err)
	}
	first.Close()
	// The slot is given back: a new client is served.
	c := client(t, false)
	body, _ := ttlv.Encode(testRequest)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.Post(ts.url, "application/octet-stream", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection after the first closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestShutdownDrains: Shutdown waits for the request in flight, whose
// response is delivered, and Serve then returns ErrServerClosed.
func TestShutdownDrains(t *testing.T) {
	ts := startServer(t, nil)
	ts.h.started = make(chan struct{}, 1)
	ts.h.release = make(chan struct{})
	c := client(t, false)
	body, _ := ttlv.Encode(testRequest)
	got := make(chan int, 1)
	go func() {
		resp, err := c.Post(ts.url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			got <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-ts.h.started
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.srv.Shutdown(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(ts.h.release)
	if code := <-got; code != 200 {
		t.Fatalf("in-flight request: status %d", code)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}

// TestCertificateRulesShared: the TTLV port's certificate rules apply, here
// a certificate without the clientAuth usage when it is required.
func TestCertificateRulesShared(t *testing.T) {
	ts := startServer(t, nil)
	cert, key, err := kmiptls.IssueClientCert(pki(t), t.TempDir(), "noeku", false)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsClient(t, false)
	cfg.Certificates = []tls.Certificate{pair}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	resp, err := c.Post(ts.url, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a certificate without clientAuth got status %d", resp.StatusCode)
	}
	if r, u := ts.h.counts(); r+u != 0 {
		t.Fatal("the handler was reached")
	}
}

// closedWithin fails unless the server closes c (a read ends without a
// deadline error) within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // a response (408, 400) before the close
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: connection still open after %v", what, d)
		}
		return
	}
}

// TestTimeouts: the TTLV port's handshake, read and idle timeouts close
// slow or idle HTTPS clients too.
func TestTimeouts(t *testing.T) {
	const short = 300 * time.Millisecond
	ts := startServer(t, func(s *Server) {
		s.HandshakeTimeout, s.ReadTimeout, s.IdleTimeout = short, 2*short, short
	})
	t.Run("handshake", func(t *testing.T) {
		raw, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		closedWithin(t, raw, 10*short, "silent TCP client")
	})
	dialTLS := func(t *testing.T) *tls.Conn {
		cfg := tlsClient(t, true)
		cfg.NextProtos = []string{"http/1.1"}
		c, err := tls.Dial("tcp", ts.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("header", func(t *testing.T) {
		c := dialTLS(t)
		c.Write([]byte("POST /kmip HTTP/1.1\r\nHost: x\r\n"))
		closedWithin(t, c, 10*short, "client stalling in its header")
	})
	t.Run("body", func(t *testing.T) {
		c := dialTLS(t)
		c.Write([]byte("POST /kmip HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tag\""))
		closedWithin(t, c, 10*short, "client stalling in its body")
	})
	t.Run("idle", func(t *testing.T) {
		c := dialTLS(t)
		body, _ := kmipjson.Append(nil, testRequest)
		req, _ := http.NewRequest("POST", ts.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := req.Write(c); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		closedWithin(t, c, 10*short, "idle keep-alive connection")
	})
	if r, _ := ts.h.counts(); r != 1 {
		t.Fatalf("handler saw %d requests, want 1", r)
	}
}

// TestRevokedOnOpenConnection: a client revoked while its keep-alive
// connection is open is refused (403) at its next request, and the
// connection is closed, as on the TTLV port.
func TestRevokedOnOpenConnection(t *testing.T) {
	p := pki(t)
	dir := t.TempDir()
	crlPath := filepath.Join(dir, "crl.pem")
	if err := kmiptls.WriteCRL(p, crlPath, time.Time{}); err != nil {
		t.Fatal(err)
	}
	crl, err := kmiptls.OpenCRL(crlPath, kmiptls.CRLOptions{CAFile: p.CACert})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(s *Server) { s.Auth.CRL = crl })
	c := client(t, false)
	body, _ := ttlv.Encode(testRequest)
	if resp, _ := post(t, c, ts.url, "application/octet-stream", body); resp.StatusCode != 200 {
		t.Fatalf("before revocation: status %d", resp.StatusCode)
	}
	if err := kmiptls.WriteCRL(p, crlPath, time.Time{}, p.ClientCert); err != nil {
		t.Fatal(err)
	}
	crl.Reload()
	resp, _ := post(t, c, ts.url, "application/octet-stream", body)
	if resp.StatusCode != http.StatusForbidden || !resp.Close {
		t.Fatalf("after revocation: status %d, close %v; want 403 and the connection closed", resp.StatusCode, resp.Close)
	}
	if r, _ := ts.h.counts(); r != 1 {
		t.Fatalf("handler saw %d requests, want 1", r)
	}
}

// TestMemoryBudgetShared: request bodies are reserved from the TTLV
// server's memory budget before they are read. While another holder has
// the whole budget a request waits, then is answered 503 unread; once the
// budget is free it is answered, and what it held is given back.
func TestMemoryBudgetShared(t *testing.T) {
	tt := &kmiptls.Server{Settings: kmiptls.Settings{MaxMessageSize: 4096}, MemoryBudget: 4096, ClientMemoryBudget: 4096}
	ts := startServer(t, func(s *Server) {
		s.MaxMessageSize = 4096
		s.ReadTimeout = 300 * time.Millisecond
		s.Memory = tt
	})
	c := client(t, false)
	body, err := ttlv.Encode(testRequest)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.AcquireMemory(context.Background(), "someone else", 4096); err != nil {
		t.Fatal(err)
	}
	resp, out := post(t, c, ts.url, "application/octet-stream", body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("with the budget taken: status %d %q, want 503 with Retry-After", resp.StatusCode, out)
	}
	if n, _ := ts.h.counts(); n != 0 {
		t.Fatalf("the handler saw %d requests while the budget was taken", n)
	}
	tt.ReleaseMemory("someone else", 4096)
	resp, out = post(t, client(t, false), ts.url, "application/octet-stream", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with the budget free: status %d %q", resp.StatusCode, out)
	}
	// Everything the request and its answer held was given back.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := tt.AcquireMemory(ctx, "someone else", 4096); err != nil {
		t.Fatalf("the budget was not given back after the request: %v", err)
	}
}

// TestHTTP2StreamsBounded: one HTTP/2 connection has at most MaxStreams
// requests in flight (the client opens another connection or waits for the
// rest), and each request's handler sees its client's address.
func TestHTTP2StreamsBounded(t *testing.T) {
	h := &addrHandler{release: make(chan struct{}), inFlight: map[string]int{}}
	ts := startServer(t, func(s *Server) { s.Handler = h })
	c := client(t, true)
	var wg sync.WaitGroup
	for range 2*MaxStreams + 8 {
		wg.Go(func() {
			resp, err := c.Post(ts.url, "application/octet-stream", bytes.NewReader(mustEncode(t)))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.total() < 2*MaxStreams && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let any stream over the limit arrive
	h.mu.Lock()
	for addr, n := range h.inFlight {
		if n > MaxStreams {
			t.Errorf("%d requests in flight on the HTTP/2 connection from %s, want at most %d", n, addr, MaxStreams)
		}
		if addr == "" {
			t.Error("a request's context has no remote address")
		}
	}
	h.mu.Unlock()
	if h.total() == 0 {
		t.Fatal("no request reached the handler")
	}
	close(h.release)
	wg.Wait()
}

// addrHandler counts the requests in flight by remote address and holds
// them until release is closed.
type addrHandler struct {
	fakeHandler
	release  chan struct{}
	mu       sync.Mutex
	inFlight map[string]int
}

func (h *addrHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	addr := ports.RemoteAddrFrom(ctx)
	h.mu.Lock()
	h.inFlight[addr]++
	h.mu.Unlock()
	<-h.release
	return cannedResponse
}

func (h *addrHandler) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, v := range h.inFlight {
		n += v
	}
	return n
}

func mustEncode(t *testing.T) []byte {
	b, err := ttlv.Encode(testRequest)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
