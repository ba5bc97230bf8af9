package main

import (
	"strings"
	"testing"
	"time"
)

// The report prints the generator's ceiling first and marks each target met
// or not with its throughput ratio and the server-CPU ratio beside it.
func TestReportMarksTargets(t *testing.T) {
	cell := func(op string, conns int, ops int64, gen time.Duration) result {
		return result{Op: op, Conns: conns, Ops: ops, Elapsed: time.Second, GenCPU: gen}
	}
	r := &report{
		targets: []target{{name: "kmipd-bbolt", kind: "kmipd", storage: "bbolt"}, {name: "pykmip", kind: "pykmip"}, {name: "null", kind: "null"}},
		cells: map[string]map[cellKey]result{
			"kmipd-bbolt": {{"get", 8}: cell("get", 8, 50000, 0), {"create", 32}: cell("create", 32, 3000, 0)},
			"pykmip":      {{"get", 8}: cell("get", 8, 400, 0), {"create", 32}: cell("create", 32, 200, 0)},
			"null":        {{"get", 8}: cell("get", 8, 80000, 720*time.Millisecond)},
		},
		cpuPerOp: map[string]map[cellKey]time.Duration{
			"kmipd-bbolt": {{"get", 8}: 20 * time.Microsecond, {"create", 32}: 250 * time.Microsecond},
			"pykmip":      {{"get", 8}: 2 * time.Millisecond, {"create", 32}: 3 * time.Millisecond},
			"null":        {{"get", 8}: 10 * time.Microsecond},
		},
		newConns: map[newConnKey]result{}, cpuPerNew: map[newConnKey]time.Duration{},
		rssIdle: map[string]mem{}, rssLoaded: map[string]mem{}, scale: map[string]scaleResult{},
	}
	md := r.markdown()
	for _, want := range []string{
		"Generator ceiling: 80000 get/s against the null responder (8 connections",
		"CPU per get: generator 9 µs", "null responder 10 µs", "the server saturates first",
		"| kmipd-bbolt: get, 8 conns ≥ 100× pykmip | 125× (50000 vs 400 ops/s); server CPU 20 µs vs 2.0 ms per op: 100× | yes |",
		"| kmipd-bbolt: get, 8 conns ≥ 70 % of null | 0.62× (50000 vs 80000 ops/s); server CPU 20 µs vs 10 µs per op: 0.50× | **no** |",
		"| kmipd-bbolt: create, 32 conns ≥ 40× pykmip | 15× (3000 vs 200 ops/s)",
		"| kmipd-bbolt: server CPU per create (32 conns) ≤ 200 µs | 250 µs | **no** |",
		"| kmipd-bbolt: encrypt AES-CBC 64 B, 8 conns ≥ 100× pykmip | not measured",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if i, j := strings.Index(md, "Generator ceiling"), strings.Index(md, "## Throughput"); i < 0 || i > j {
		t.Error("the generator's ceiling does not come before the throughput table")
	}
}
