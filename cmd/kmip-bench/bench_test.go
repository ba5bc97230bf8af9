package main

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// startNull serves h behind kmiptls on an ephemeral port and returns its
// address and a client configuration.
func startNull(t *testing.T, h ports.MessageHandler) (string, *tls.Config) {
	t.Helper()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CACert})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &kmiptls.Server{Handler: h, TLSConfig: cfg}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	ccfg, err := clientTLS(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), ccfg
}

func TestLoadAgainstNullResponder(t *testing.T) {
	addr, cfg := startNull(t, nullHandler{})
	for _, op := range ops {
		for _, p := range []protocol{{1, 2}, {1, 4}, {2, 0}} {
			r, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: op, Conns: 2, Batch: 3,
				Duration: time.Minute, MaxOps: 30, Proto: p, LocateNames: 2})
			if err != nil {
				t.Fatalf("%s %v: %v", op, p, err)
			}
			if r.Ops < 30 || r.FailedItems != 0 || r.ConnErrors != 0 || r.P99 <= 0 || r.Max < r.P99 || r.P50 > r.P90 {
				t.Errorf("%s %v: %s", op, p, r)
			}
		}
	}
	r, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "query", Conns: 2, Duration: time.Minute, MaxOps: 10, NewConn: true})
	if err != nil || r.Ops < 10 || r.ConnErrors != 0 {
		t.Fatalf("new-conn: %v %s", err, r)
	}
}

// failingHandler fails every other batch item.
type failingHandler struct{ nullHandler }

func (h failingHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	resp := h.nullHandler.HandleMessage(ctx, req)
	for i, bi := range resp.ChildrenOf(kmip.TagBatchItem) {
		if i%2 == 1 {
			bi.Child(kmip.TagResultStatus).Value = uint32(kmip.ResultStatusOperationFailed)
			bi.Add(kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonOperationNotSupported)))
		}
	}
	return resp
}

// Failed batch items are counted apart and never as operations; a
// create-get-destroy counts only when its three items all succeed.
func TestFailedItemsAreNotOps(t *testing.T) {
	addr, cfg := startNull(t, failingHandler{})
	r, err := runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "query", Conns: 1, Batch: 4, Duration: time.Minute, MaxOps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ops != r.FailedItems || r.Ops != 2*r.Messages || !strings.Contains(r.FirstFailure, "OperationNotSupported") {
		t.Errorf("query with half the items failing: %s (messages %d)", r, r.Messages)
	}
	// Items 1, 3 and 5 of each message fail: each triple has a failure.
	r, err = runLoad(context.Background(), &loadSpec{Addr: addr, TLS: cfg, Op: "create-get-destroy", Conns: 1, Batch: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Messages == 0 || r.Ops != 0 || r.FailedItems != 3*r.Messages {
		t.Errorf("create-get-destroy with failing items: %s (messages %d)", r, r.Messages)
	}
}

func TestPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	p50, p90, p99, mx := percentiles(lat)
	if p50 != 50*time.Millisecond || p90 != 90*time.Millisecond || p99 != 99*time.Millisecond || mx != 100*time.Millisecond {
		t.Errorf("percentiles = %v %v %v %v", p50, p90, p99, mx)
	}
	if a, b, c, d := percentiles(nil); a+b+c+d != 0 {
		t.Error("percentiles of nothing are not zero")
	}
}
