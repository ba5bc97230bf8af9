package main

import (
	"context"
	"crypto/x509"
	"testing"
	"time"
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
