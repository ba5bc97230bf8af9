package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiphttp"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// TestLoadOverHTTPS runs the get load in both HTTPS encodings against the
// null responder behind kmiphttp, and the report shows the HTTPS table.
func TestLoadOverHTTPS(t *testing.T) {
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CACert})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &kmiphttp.Server{Handler: nullHandler{}, TLSConfig: scfg}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	cfg, err := clientTLS(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	rep := &report{targets: []target{{name: "kmipd-sqlite", kind: "kmipd", storage: "sqlite"}}, cells: map[string]map[cellKey]result{},
		https: map[string]map[string]result{"kmipd-sqlite": {}}}
	for _, mode := range []string{"ttlv", "json"} {
		r, err := runLoad(context.Background(), &loadSpec{Addr: ln.Addr().String(), TLS: cfg, Op: "get", Conns: 2,
			Duration: time.Minute, MaxOps: 30, Proto: protocol{2, 0}, HTTPS: mode})
		if err != nil || r.Ops < 30 || r.FailedItems != 0 || r.ConnErrors != 0 {
			t.Fatalf("%s: %v %s", mode, err, r)
		}
		rep.https["kmipd-sqlite"][mode] = r
	}
	var b strings.Builder
	rep.httpsMarkdown(&b)
	if !strings.Contains(b.String(), "HTTPS-JSON ops/s") || !strings.Contains(b.String(), "| kmipd-sqlite |") {
		t.Fatalf("report:\n%s", b.String())
	}
	if _, err := runLoad(context.Background(), &loadSpec{Addr: ln.Addr().String(), TLS: cfg, Op: "get", HTTPS: "xml"}); err == nil {
		t.Fatal("an unknown -https encoding was accepted")
	}
}
