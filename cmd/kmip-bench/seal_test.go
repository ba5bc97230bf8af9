package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The sealing table has, for each cell and store, the plain row then the
// sealed and sealed+audit rows with their throughput and CPU ratios and the
// CPU they add; failures and unmeasured cells are said.
func TestSealSectionMarkdown(t *testing.T) {
	cell := func(op string, conns int, ops int64) result {
		return result{Op: op, Conns: conns, Ops: ops, Elapsed: time.Second, P50: time.Millisecond, P99: 4 * time.Millisecond}
	}
	c32 := cellKey{"create", 32}
	sec := &sealSection{
		cells: map[sealKey]result{
			{"sqlite", "plain", c32}:        cell("create", 32, 4000),
			{"sqlite", "sealed", c32}:       cell("create", 32, 3000),
			{"sqlite", "sealed+audit", c32}: {Op: "create", Conns: 32, Ops: 1000, Elapsed: time.Second, P99: 40 * time.Millisecond, FailedItems: 2, FirstFailure: "General Failure"},
		},
		cpu: map[sealKey]time.Duration{
			{"sqlite", "plain", c32}:        200 * time.Microsecond,
			{"sqlite", "sealed", c32}:       220 * time.Microsecond,
			{"sqlite", "sealed+audit", c32}: 400 * time.Microsecond,
		},
		notes: []string{"kmipd-bbolt-sealed did not start: exit status 78"},
	}
	md := sec.markdown()
	for _, want := range []string{
		"## Sealing at rest and the audit log",
		"| create (32) | sqlite | plain | 4000 | 4.0 ms | 200 µs |  |  |",
		"| create (32) | sqlite | sealed | 3000 | 4.0 ms | 220 µs | 0.75× | 1.10× (+20 µs) |",
		"| create (32) | sqlite | sealed+audit | 1000 | 40.0 ms | 400 µs | 0.25× | 2.00× (+200 µs) |",
		"| create (32) | bbolt | sealed | not measured |",
		"| get (8) | sqlite | plain | not measured |",
		"- create ×32 on sqlite, sealed+audit: 2 failed items, 0 connection errors; first: General Failure",
		"- kmipd-bbolt-sealed did not start: exit status 78",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	i, j, k := strings.Index(md, "| sqlite | plain |"), strings.Index(md, "| sqlite | sealed |"), strings.Index(md, "| sqlite | sealed+audit |")
	if i < 0 || j < i || k < j {
		t.Error("rows are not plain, sealed, sealed+audit")
	}
	full := (&report{seal: sec, cells: map[string]map[cellKey]result{}, newConns: map[newConnKey]result{}}).markdown()
	if !strings.Contains(full, "## Sealing at rest and the audit log") {
		t.Error("the suite's report lacks the sealing section")
	}
}

// A short real run of the section: every cell of every mode measured
// without failures, the sealed servers configured with a KEK file and the
// audited ones writing their audit file. Skipped with -short.
func TestSealSectionRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kmipd six times")
	}
	kmipd, dir, pki, cfg := kmipdFixture(t)
	o := suiteOptions{kmipd: kmipd, cell: 200 * time.Millisecond, proto: protocol{1, 2}}
	sec := runSeal(context.Background(), o, dir, pki, cfg, nil, "", io.Discard)
	if len(sec.notes) > 0 {
		t.Fatalf("notes: %v", sec.notes)
	}
	for _, st := range sealStores {
		for _, m := range sealModes {
			for _, c := range sealCells {
				k := sealKey{st, m.name, c}
				if r := sec.cells[k]; r.Ops == 0 || r.FailedItems != 0 || r.ConnErrors != 0 || sec.cpu[k] <= 0 {
					t.Errorf("%s ×%d on %s, %s: %s, server CPU/op %v", c.op, c.conns, st, m.name, r, sec.cpu[k])
				}
			}
			sd := filepath.Join(dir, "seal-"+st+"-"+strings.ReplaceAll(m.name, "+", "-"))
			conf, err := os.ReadFile(filepath.Join(sd, "kmipd.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(conf, []byte("\n[seal]\ntype = \"file\"")); got != m.seal {
				t.Errorf("%s on %s: [seal] in the configuration: %v, want %v", m.name, st, got, m.seal)
			}
			audit, err := os.ReadFile(filepath.Join(sd, "audit.log"))
			if m.audit && (err != nil || bytes.Count(audit, []byte(`"event":"result"`)) < 10) {
				t.Errorf("%s on %s: audit file: %d bytes, %v", m.name, st, len(audit), err)
			}
			if !m.audit && !os.IsNotExist(err) {
				t.Errorf("%s on %s: an audit file without [audit]: %v", m.name, st, err)
			}
		}
	}
}
