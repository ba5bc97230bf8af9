package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
)

// SyncBuffer is a bytes.Buffer a process writes while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int { return freePort(t) }

// Dial connects a KMIP client with identity cn to s, speaking KMIP
// major.minor; the connection closes when the test ends.
func (s *Server) Dial(t testing.TB, cn string, major, minor int32) *kmipclient.Client {
	t.Helper()
	c, err := kmipclient.Dial(context.Background(), s.Addr, s.ClientTLSConfig(t, cn))
	if err != nil {
		t.Fatal(err)
	}
	c.Major, c.Minor = major, minor
	t.Cleanup(func() { c.Close() })
	return c
}

// Call performs op and fails the test unless it succeeds; it returns the
// response payload.
func Call(t testing.TB, c *kmipclient.Client, op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	t.Helper()
	p, err := c.Call(op, payload...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return p
}

// Field returns the Byte String child tag of p, failing the test without it.
func Field(t testing.TB, p *kmip.Item, tag kmip.Tag) []byte {
	t.Helper()
	b, ok := p.Child(tag).AsBytes()
	if !ok {
		t.Fatalf("no %s in %v", tag.SpecName(), p)
	}
	return b
}

// DialDevPKI connects to 127.0.0.1:port at KMIP 1.4 as the admin client of
// the development PKI in dir (what make run, run-hsm and run-pg write).
func DialDevPKI(t testing.TB, dir string, port int) *kmipclient.Client {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client-admin.pem"), filepath.Join(dir, "client-admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c, err := kmipclient.Dial(context.Background(), "127.0.0.1:"+strconv.Itoa(port),
		&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c.Major, c.Minor = 1, 4
	return c
}
