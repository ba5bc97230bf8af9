package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// With Resume, every connection after the first resumes a TLS session from a
// ticket the server sent (kmiptls accepts resumption and still knows the
// client from its certificate), and the caller's configuration is left alone.
func TestNewConnResume(t *testing.T) {
	addr, cfg := startNull(t, nullHandler{})
	r, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "query", Conns: 1, Duration: time.Minute,
		MaxOps: 20, NewConn: true, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ops < 20 || r.ConnErrors != 0 || r.FailedItems != 0 {
		t.Fatalf("resume: %s", r)
	}
	if r.Resumed < r.Ops-1 {
		t.Errorf("resume: %d of %d connections resumed, want all but the first", r.Resumed, r.Ops)
	}
	if cfg.ClientSessionCache != nil {
		t.Error("runLoad set a session cache on the caller's TLS configuration")
	}
	full, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "query", Conns: 1, Duration: time.Minute,
		MaxOps: 5, NewConn: true})
	if err != nil || full.Resumed != 0 {
		t.Errorf("full handshakes: %v, %d resumed, want 0", err, full.Resumed)
	}
	if _, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "query", Conns: 1, Duration: time.Second, Resume: true}); err == nil {
		t.Error("Resume without NewConn was accepted")
	}
}

// NoVerify skips only the generator's check of the server's certificate: a
// server it does not trust is refused without it and measured with it.
func TestNoVerify(t *testing.T) {
	addr, cfg := startNull(t, nullHandler{})
	untrusting := cfg.Clone()
	untrusting.RootCAs = x509.NewCertPool()
	spec := func(noVerify bool) *loadSpec {
		return &loadSpec{Addr: addr, TLS: untrusting, Op: "query", Conns: 1, Duration: time.Minute, MaxOps: 5, NewConn: true, NoVerify: noVerify}
	}
	if r, err := runLoad(context.Background(), spec(true)); err != nil || r.Ops < 5 || r.ConnErrors != 0 {
		t.Fatalf("NoVerify: %v %s", err, r)
	}
	if r, _ := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: untrusting, Op: "query", Conns: 1, Duration: 300 * time.Millisecond, NewConn: true}); r.Ops != 0 || r.ConnErrors == 0 {
		t.Fatalf("an untrusted server was measured without NoVerify: %s", r)
	}
	if untrusting.InsecureSkipVerify {
		t.Error("runLoad changed the caller's TLS configuration")
	}
}

// With Alternate, each worker's connections go to the two servers in turn
// and each resumption offers the ticket the other server sent: all resume
// when the servers share their ticket keys, none when they do not.
func TestNewConnResumeAlternates(t *testing.T) {
	for _, shared := range []bool{true, false} {
		a, b, cfg := startNullPairTickets(t, shared)
		r, err := runLoad(context.Background(), &loadSpec{Addrs: []string{a, b}, TLS: cfg, Op: "query", Conns: 2,
			Duration: time.Minute, MaxOps: 20, NewConn: true, Resume: true, Alternate: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops < 20 || r.ConnErrors != 0 || r.FailedItems != 0 {
			t.Fatalf("alternate, shared keys %v: %s", shared, r)
		}
		if shared && r.Resumed < r.Ops-2 {
			t.Errorf("shared keys: %d of %d connections resumed, want all but each worker's first", r.Resumed, r.Ops)
		}
		if !shared && r.Resumed != 0 {
			t.Errorf("own keys: %d connections resumed on the other server, want 0", r.Resumed)
		}
	}
}

// startNullPairTickets is startNullPair whose two servers share one
// session ticket key when shared is set, and keep their own otherwise.
func startNullPairTickets(t *testing.T, shared bool) (string, string, *tls.Config) {
	t.Helper()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CACert})
	if err != nil {
		t.Fatal(err)
	}
	if shared {
		var k [32]byte
		if _, err := rand.Read(k[:]); err != nil {
			t.Fatal(err)
		}
		scfg.SetSessionTicketKeys([][32]byte{k})
	}
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &kmiptls.Server{Handler: nullHandler{}, TLSConfig: scfg}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Shutdown(context.Background()) })
		addrs = append(addrs, ln.Addr().String())
	}
	cfg, err := clientTLS(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return addrs[0], addrs[1], cfg
}

// The PostgreSQL section reports the two-node resumed row.
func TestPostgresSectionResumedRow(t *testing.T) {
	sec := &pgSection{cpus: 2, maxConns: 16, cells: map[pgKey]result{},
		resumed: &result{Op: "query", Conns: 8, NewConn: true, Resume: true, Ops: 3000, Resumed: 2992, Elapsed: time.Second}}
	md := sec.markdown()
	if !strings.Contains(md, "resumed across the two nodes") || !strings.Contains(md, "2992 of 3000 resumed") {
		t.Fatalf("no resumed row:\n%s", md)
	}
}
