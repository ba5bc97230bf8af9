package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchHTTPSAgainstKmipd: the suite's kmipd target serves its [https]
// listener, and benchHTTPS measures get with 8 connections over HTTPS-TTLV
// and HTTPS-JSON against it without a failure, so that `make bench`
// reports both rows. Skipped with -short.
func TestBenchHTTPSAgainstKmipd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kmipd")
	}
	kmipd, dir, pki, cfg := kmipdFixture(t)
	ctx := context.Background()
	tg := target{name: "kmipd-sqlite", kind: "kmipd", storage: "sqlite"}
	srv, err := startTarget(ctx, tg, filepath.Join(dir, "kmipd"), pki, nil, "", kmipd, "", "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	got := benchHTTPS(ctx, srv, cfg, suiteOptions{cell: 300 * time.Millisecond, proto: protocol{1, 4}}, io.Discard)
	for _, mode := range []string{"ttlv", "json"} {
		r := got[mode]
		if r.FirstFailure != "" || r.Ops == 0 || r.FailedItems != 0 || r.ConnErrors != 0 || r.Conns != 8 {
			t.Errorf("get ×8 over HTTPS-%s: %s (%s)", mode, r, r.FirstFailure)
		}
	}
	rep := &report{targets: []target{tg}, cells: map[string]map[cellKey]result{}, https: map[string]map[string]result{tg.name: got}}
	var b strings.Builder
	rep.httpsMarkdown(&b)
	if !strings.Contains(b.String(), "| kmipd-sqlite |") || strings.Contains(b.String(), "failed") {
		t.Errorf("report:\n%s", b.String())
	}
}
