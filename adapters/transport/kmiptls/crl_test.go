package kmiptls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// crlFixture is a dev PKI client pair and a CRL file.
type crlFixture struct {
	dir, path string
	log       *lockedBuffer
}

func newCRLFixture(t *testing.T) crlFixture {
	dir := t.TempDir()
	return crlFixture{dir: dir, path: filepath.Join(dir, "ca.crl"), log: &lockedBuffer{}}
}

func (f crlFixture) client(t *testing.T, cn string) (*tls.Config, string) {
	t.Helper()
	cert, key, err := IssueClientCert(pki(t), f.dir, cn, true)
	if err != nil {
		t.Fatal(err)
	}
	return clientConfig(t, cert, key), cert
}

func (f crlFixture) write(t *testing.T, nextUpdate time.Time, certFiles ...string) {
	t.Helper()
	if err := WriteCRL(pki(t), f.path, nextUpdate, certFiles...); err != nil {
		t.Fatal(err)
	}
}

func (f crlFixture) open(t *testing.T) *CRL {
	t.Helper()
	crl, err := OpenCRL(f.path, CRLOptions{CAFile: pki(t).CACert, Log: zerolog.New(f.log)})
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// A client whose certificate the CRL revokes is refused; others are served.
func TestCRLRefusesRevokedClient(t *testing.T) {
	f := newCRLFixture(t)
	mallory, malloryCert := f.client(t, "mallory")
	f.write(t, time.Time{}, malloryCert)
	crl := f.open(t)
	ts := startServer(t, nil, func(s *Server) { s.CRL = crl })
	assertRefused(t, ts, mallory)
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatalf("a client the CRL does not list: %v", err)
	}
}

// A new CRL takes effect on Reload: new connections are refused and an open
// one is closed at its next request. A bad new file keeps the lists in force.
func TestCRLReload(t *testing.T) {
	f := newCRLFixture(t)
	eve, eveCert := f.client(t, "eve")
	f.write(t, time.Time{})
	crl := f.open(t)
	h := &fakeHandler{}
	ts := startServer(t, h, func(s *Server) { s.CRL = crl })
	open, err := dial(t, ts.addr, eve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(open, testRequest); err != nil {
		t.Fatalf("eve before her revocation: %v", err)
	}

	f.write(t, time.Time{}, eveCert)
	crl.Reload()
	if _, err := roundTrip(open, testRequest); err == nil {
		t.Fatal("eve's open connection still served after her revocation")
	}
	if n := h.calls(); n != 1 {
		t.Fatalf("handler called %d times, want 1 (before the revocation only)", n)
	}
	h.mu.Lock()
	h.requests = nil
	h.mu.Unlock()
	assertRefused(t, ts, eve)

	for _, bad := range []string{"garbage\n", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", ""} {
		if err := os.WriteFile(f.path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		crl.Reload()
		assertRefused(t, ts, eve)
	}
	if !strings.Contains(f.log.String(), "CRL file refused; keeping the revocation lists in force") {
		t.Errorf("bad CRL not logged:\n%s", f.log)
	}
	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	crl.Reload()
	assertRefused(t, ts, eve)

	// Unrevoking works too: a valid empty list replaces the old one.
	f.write(t, time.Time{})
	crl.Reload()
	c, err := dial(t, ts.addr, eve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatalf("eve after the CRL no longer lists her: %v", err)
	}
}

// Run polls the file: a CRL written while serving takes effect by itself.
func TestCRLRunPolls(t *testing.T) {
	f := newCRLFixture(t)
	_, eveCert := f.client(t, "eve")
	f.write(t, time.Time{})
	crl, err := OpenCRL(f.path, CRLOptions{CAFile: pki(t).CACert, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); crl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	chain := loadChain(t, eveCert)
	if err := crl.Check(chain); err != nil {
		t.Fatal(err)
	}
	f.write(t, time.Time{}, eveCert)
	deadline := time.Now().Add(10 * time.Second)
	for crl.Check(chain) == nil {
		if time.Now().After(deadline) {
			t.Fatal("Run did not pick up the new CRL within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := crl.Check(chain); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Check = %v, want ErrRevoked", err)
	}
}

// A CRL past its Next Update is enforced, with a warning.
func TestCRLPastNextUpdateStillEnforced(t *testing.T) {
	f := newCRLFixture(t)
	mallory, malloryCert := f.client(t, "mallory")
	f.write(t, time.Now().Add(-time.Hour), malloryCert)
	crl := f.open(t)
	if !strings.Contains(f.log.String(), "past its Next Update") {
		t.Errorf("no warning for a stale CRL:\n%s", f.log)
	}
	ts := startServer(t, nil, func(s *Server) { s.CRL = crl })
	assertRefused(t, ts, mallory)
}

// OpenCRL refuses a missing file, an unparsable one, and a CRL another CA
// signed.
func TestOpenCRLErrors(t *testing.T) {
	f := newCRLFixture(t)
	ca := pki(t).CACert
	if _, err := OpenCRL(f.path, CRLOptions{CAFile: ca}); err == nil {
		t.Error("missing CRL file accepted")
	}
	if err := os.WriteFile(f.path, []byte("not a crl"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCRL(f.path, CRLOptions{CAFile: ca}); err == nil {
		t.Error("unparsable CRL accepted")
	}
	other, err := GenerateDevPKI(filepath.Join(f.dir, "other"), DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCRL(other, f.path, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCRL(f.path, CRLOptions{CAFile: ca}); err == nil || !strings.Contains(err.Error(), "not signed by a CA of ca_path") {
		t.Errorf("CRL of another CA: %v", err)
	}
	if _, err := OpenCRL(f.path, CRLOptions{CAFile: other.CACert}); err != nil {
		t.Errorf("CRL of its own CA: %v", err)
	}
}

func loadChain(t *testing.T, certFile string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := parsePEMCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(pki(t).CACert)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := parsePEMCerts(b)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf[0], ca[0]}
}
