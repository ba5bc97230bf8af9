package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// countingHandler is the null responder counting the messages it answers.
type countingHandler struct {
	nullHandler
	n *atomic.Int64
}

func (h countingHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	h.n.Add(1)
	return h.nullHandler.HandleMessage(ctx, req)
}

// With Addrs, the workers' connections go round-robin over the addresses,
// and every server gets its share of the load.
func TestLoadSpreadsOverAddrs(t *testing.T) {
	s := &loadSpec{Addr: "ignored", Addrs: []string{"a", "b"}}
	for i, want := range []string{"a", "b", "a", "b", "a"} {
		if got := s.addrOf(i); got != want {
			t.Errorf("worker %d connects to %q, want %q", i, got, want)
		}
	}
	if got := (&loadSpec{Addr: "x"}).addrOf(3); got != "x" {
		t.Errorf("without Addrs worker 3 connects to %q, want Addr", got)
	}
	var na, nb atomic.Int64
	a, b, cfg := startNullPair(t, countingHandler{n: &na}, countingHandler{n: &nb})
	r, err := runLoad(context.Background(), &loadSpec{Addrs: []string{a, b}, TLS: cfg, Op: "get", Conns: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.ConnErrors != 0 || r.FailedItems != 0 || r.Ops == 0 {
		t.Fatalf("two addresses: %s", r)
	}
	// Each worker's setup (a Query and a Create) plus its measured Gets.
	if na.Load() < 4 || nb.Load() < 4 || na.Load()+nb.Load() != r.Messages+8 {
		t.Errorf("messages: %d to the first server, %d to the second, %d measured", na.Load(), nb.Load(), r.Messages)
	}
}

// startNullPair serves ha and hb behind kmiptls on two ephemeral ports with
// one PKI and returns their addresses and a client configuration.
func startNullPair(t *testing.T, ha, hb ports.MessageHandler) (string, string, *tls.Config) {
	t.Helper()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: pki.ServerCert, KeyFile: pki.ServerKey, CAFile: pki.CACert})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, h := range []ports.MessageHandler{ha, hb} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &kmiptls.Server{Handler: h, TLSConfig: scfg}
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

// The PostgreSQL table has one row per cell and node count, the p50 and
// p99, the CPU of all nodes and of PostgreSQL, the two-nodes/one-node
// ratio, the pinning and the bound a two-core machine sets.
func TestPostgresSectionMarkdown(t *testing.T) {
	cell := func(op string, conns int, ops int64, p99 time.Duration) result {
		return result{Op: op, Conns: conns, Ops: ops, Elapsed: time.Second, P50: p99 / 4, P99: p99}
	}
	sec := &pgSection{cpus: 2, maxConns: 16, pinning: "Pinning: the load generator on CPU 0; PostgreSQL on CPU 0.",
		cells: map[pgKey]result{
			{cellKey{"create", 32}, 1}: cell("create", 32, 2000, 40*time.Millisecond),
			{cellKey{"create", 32}, 2}: cell("create", 32, 3000, 60*time.Millisecond),
			{cellKey{"get", 8}, 1}:     cell("get", 8, 20000, 2*time.Millisecond),
			{cellKey{"get", 8}, 2}:     {Op: "get", Conns: 8, Ops: 19000, Elapsed: time.Second, P50: 300 * time.Microsecond, P99: 3 * time.Millisecond, ConnErrors: 1, FirstFailure: "round trip: EOF"},
		},
		nodeCPU: map[pgKey]time.Duration{{cellKey{"create", 32}, 1}: 200 * time.Microsecond, {cellKey{"create", 32}, 2}: 210 * time.Microsecond,
			{cellKey{"get", 8}, 1}: 44 * time.Microsecond},
		pgCPU: map[pgKey]time.Duration{{cellKey{"create", 32}, 1}: 250 * time.Microsecond},
	}
	md := sec.markdown()
	for _, want := range []string{
		"## PostgreSQL: one node and two nodes on one database",
		"Pinning: the load generator on CPU 0; PostgreSQL on CPU 0.",
		"| create (32) | 1 | 2000 | 10.0 ms | 40.0 ms | 200 µs | 250 µs |  |",
		"| create (32) | 2 | 3000 | 15.0 ms | 60.0 ms | 210 µs | ? | 1.50× |",
		"| get (8) | 1 | 20000 | 500 µs | 2.0 ms | 44 µs | ? |  |",
		"| get (8) | 2 | 19000 | 300 µs | 3.0 ms | ? | ? | 0.95× |",
		"This machine has 2 CPU(s)", "bounded by about 1×",
		"- get ×8 through 2 node(s): 0 failed items, 1 connection errors; first: round trip: EOF",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	if i, j := strings.Index(md, "| create (32) | 1 |"), strings.Index(md, "| create (32) | 2 |"); i < 0 || j < i {
		t.Error("the one-node row does not come before the two-node row")
	}
	skipped := (&pgSection{skipped: "PostgreSQL section skipped: Debian's postgresql (initdb, pg_ctl) is not installed"}).markdown()
	if !strings.Contains(skipped, "skipped: Debian's postgresql") || strings.Contains(skipped, "| op") {
		t.Errorf("skipped section:\n%s", skipped)
	}
	full := (&report{pg: sec, cells: map[string]map[cellKey]result{}, newConns: map[newConnKey]result{}}).markdown()
	if !strings.Contains(full, "## PostgreSQL: one node and two nodes") {
		t.Error("the suite's report lacks the PostgreSQL section")
	}
}

// A short real run of the section: a throwaway cluster, one node then two
// nodes on one database, every cell measured without failures. Skipped with
// -short, and when PostgreSQL is not installed (failed when CI is set).
func TestPostgresSectionRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and kmipd")
	}
	kmipd, dir, pki, cfg := kmipdFixture(t)
	o := suiteOptions{kmipd: kmipd, cell: 300 * time.Millisecond, proto: protocol{1, 2}}
	sec := runPostgres(context.Background(), o, dir, pki, cfg, nil, "", io.Discard)
	if sec.skipped != "" {
		if strings.Contains(sec.skipped, "not installed") && os.Getenv("CI") == "" {
			t.Skip(sec.skipped)
		}
		t.Fatal(sec.skipped)
	}
	if len(sec.notes) > 0 {
		t.Fatalf("notes: %v", sec.notes)
	}
	for _, c := range pgCells {
		for _, nodes := range []int{1, 2} {
			k := pgKey{c, nodes}
			r := sec.cells[k]
			if r.Ops == 0 || r.FailedItems != 0 || r.ConnErrors != 0 || r.P99 <= 0 || sec.nodeCPU[k] <= 0 {
				t.Errorf("%s ×%d through %d node(s): %s, kmipd CPU/op %v", c.op, c.conns, nodes, r, sec.nodeCPU[k])
			}
		}
	}
	if md := sec.markdown(); !strings.Contains(md, "No pinning") || !strings.Contains(md, "| create (32) | 2 |") {
		t.Errorf("section:\n%s", md)
	}
}
