package main

import (
	"crypto/tls"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// markdown renders the report: method, the side-by-side table, new
// connections, Locate at scale, memory, the targets, failures.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# kmipd benchmark %s (%s)\n\n", r.started.Format("2006-01-02 15:04 UTC"), r.commit)
	p("Machine: %d CPU(s), %s; %s. KMIP %d.%d over TLS %s (at most) with the development PKI (ECDSA P-256 server and client certificates), client `kmip-bench`.\n",
		r.cpus, r.cpuModel, runtime.Version(), r.proto.major, r.proto.minor, tlsName(r.tls))
	if r.pinned {
		p("Pinning: every server on CPU 1 (`taskset -c 1`), the load generator on CPU 0.\n")
	}
	p("Each cell runs %v (PyKMIP: until its operation cap, if sooner); one operation per request message; ", r.cell)
	p("ops/s counts operations whose every batch item succeeded; p99 is per request message.\n")
	p("Servers: kmipd on SQLite and on bbolt (durable: each acknowledged write is fsynced), Debian's pykmip-server 0.10 (its own SQLite), ")
	p("and the null responder (kmipd's TLS server, framing and codec with a handler that answers success and does nothing).\n\n")

	names := func(kind string) []string {
		var out []string
		for _, t := range r.targets {
			if t.kind == kind {
				out = append(out, t.name)
			}
		}
		return out
	}
	kmipds := names("kmipd")
	p("## Load generator ceiling\n\n%s\n\n", r.ceilingLine())
	p("## Throughput (ops/s) and p99 latency\n\n")
	p("| op | conns |")
	for _, t := range r.targets {
		p(" %s ops/s | p99 |", t.name)
	}
	for _, k := range kmipds {
		p(" %s/pykmip | %s/null |", short(k), short(k))
	}
	p("\n|---|---:|")
	for range r.targets {
		p("---:|---:|")
	}
	for range kmipds {
		p("---:|---:|")
	}
	p("\n")
	var conns []int
	seen := map[int]bool{}
	for _, m := range r.cells {
		for k := range m {
			if !seen[k.conns] {
				seen[k.conns] = true
				conns = append(conns, k.conns)
			}
		}
	}
	slices.Sort(conns)
	for _, op := range ops {
		for _, n := range conns {
			k := cellKey{op, n}
			p("| %s | %d |", op, n)
			for _, t := range r.targets {
				c, ok := r.cells[t.name][k]
				switch {
				case !ok:
					p(" – | – |")
				case c.Ops == 0:
					p(" fail | – |")
				default:
					p(" %s | %s |", rate(c.OpsPerSec()), dur(c.P99))
				}
			}
			for _, name := range kmipds {
				p(" %s | %s |", r.ratio(name, "pykmip", k), r.ratio(name, "null", k))
			}
			p("\n")
		}
	}

	p("\n## New TLS connections per second\n\n")
	p("8 concurrent clients, each opening a connection, sending one Query and closing it: with a full handshake each time, ")
	p("then resuming the TLS session from the ticket the server sent on an earlier connection (no certificate signature or verification; ")
	p("the key exchange, ECDHE X25519 under TLS 1.2 or X25519MLKEM768 under TLS 1.3 with Go clients, is still done).\n\n")
	p("The load generator does not verify the server's certificate chain in these cells (the server still verifies the client's), so that its own CPU bounds the rate less; ")
	p("it still signs with its ECDSA key and does the key exchange, about as much work per handshake as the server, on its one core. ")
	p("Server CPU per connection is the server's user+system CPU time (/proc/PID/stat) over the cell divided by the connections served; ")
	p("its inverse is what one server core could accept if the load generator (which does the same handshake work) kept up.\n\n")
	p("| server | handshake | connections/s | resumed | p99 | failed | server CPU per connection | connections/s per server core |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.targets {
		for _, resume := range []bool{false, true} {
			key := newConnKey{t.name, resume}
			c, ok := r.newConns[key]
			if !ok {
				continue
			}
			cpu, per := "–", "–"
			if d := r.cpuPerNew[key]; d > 0 {
				cpu, per = dur(d), rate(float64(time.Second)/float64(d))
			}
			mode := "full"
			if resume {
				mode = "resumed"
			}
			p("| %s | %s | %s | %d | %s | %d | %s | %s |\n", t.name, mode, rate(c.OpsPerSec()), c.Resumed, dur(c.P99), c.FailedItems+c.ConnErrors, cpu, per)
		}
	}

	p("\n## Server CPU time per operation\n\n")
	p("The server's user+system CPU time (/proc/PID/stat, 10 ms ticks) over the cell divided by the operations it completed: ")
	p("the figure that stays stable on a busy machine, independent of how fast the load generator is. ")
	p("The last column is the load generator's own CPU time per operation in the null responder's cells.\n\n| op | conns |")
	for _, t := range r.targets {
		p(" %s |", t.name)
	}
	p(" generator |\n|---|---:|")
	for range r.targets {
		p("---:|")
	}
	p("---:|\n")
	for _, op := range ops {
		for _, n := range conns {
			p("| %s | %d |", op, n)
			for _, t := range r.targets {
				if d := r.cpuPerOp[t.name][cellKey{op, n}]; d > 0 {
					p(" %s |", dur(d))
				} else {
					p(" – |")
				}
			}
			p(" %s |\n", dur(r.cells["null"][cellKey{op, n}].GenCPUPerOp()))
		}
	}
	r.profileSection(&b)

	p("\n## Locate by Name at scale\n\n")
	if len(r.scale) > 0 {
		p("Objects loaded through the protocol (Create batches of 100 on 32 connections), then Locate by one Name on one connection.\n\n")
		p("| server | objects | load rate (creates/s) | locate ops/s | p50 | p99 | max | RSS after (anonymous) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, name := range kmipds {
			if s, ok := r.scale[name]; ok {
				p("| %s | %d | %s | %s | %s | %s | %s | %s |\n", name, s.objects, rate(s.loadRate), rate(s.locate.OpsPerSec()),
					dur(s.locate.P50), dur(s.locate.P99), dur(s.locate.Max), s.rssLoaded)
			}
		}
	}
	if r.goBench != "" {
		p("\nGo storage benchmarks (`go test -run '^$' -bench LocateByName ./adapters/storage/...`):\n\n```\n%s\n```\n", r.goBench)
	}

	r.httpsMarkdown(&b)

	p("\n## Memory (VmRSS, and RssAnon in parentheses, from /proc/PID/status)\n\n")
	p("RssAnon leaves out file-backed pages such as bbolt's memory-mapped database, which the kernel can drop.\n\n")
	p("| server | idle after start | after the load cells |\n|---|---:|---:|\n")
	for _, t := range r.targets {
		if _, ok := r.rssIdle[t.name]; ok {
			p("| %s | %s | %s |\n", t.name, r.rssIdle[t.name], r.rssLoaded[t.name])
		}
	}

	p("\n## Targets (issue 18)\n\n| target | measured | met |\n|---|---|---|\n")
	for _, name := range kmipds {
		r.target(&b, name+": create, 32 conns ≥ 40× pykmip", name, "pykmip", cellKey{"create", 32}, 40)
		r.cpuTarget(&b, name+": server CPU per create (32 conns) ≤ 200 µs", name, cellKey{"create", 32}, 200*time.Microsecond)
		r.target(&b, name+": get, 8 conns ≥ 100× pykmip", name, "pykmip", cellKey{"get", 8}, 100)
		r.target(&b, name+": get, 8 conns ≥ 70 % of null", name, "null", cellKey{"get", 8}, 0.7)
		r.target(&b, name+": encrypt AES-CBC 64 B, 8 conns ≥ 100× pykmip", name, "pykmip", cellKey{"encrypt", 8}, 100)
		r.target(&b, name+": encrypt AES-CBC 64 B, 8 conns ≥ 70 % of null", name, "null", cellKey{"encrypt", 8}, 0.7)
		for _, resume := range []bool{false, true} {
			key := newConnKey{name, resume}
			c, ok := r.newConns[key]
			if !ok {
				continue
			}
			mode, core, want := "full handshakes", "", 1500.0
			if resume {
				mode, want = "resumed sessions", 2000
			}
			if d := r.cpuPerNew[key]; d > 0 {
				core = fmt.Sprintf(" (%s per server core)", rate(float64(time.Second)/float64(d)))
			}
			p("| %s: ≥ %s new TLS connections/s, %s | %s/s%s | %s |\n", name, rate(want), mode, rate(c.OpsPerSec()), core, yes(c.OpsPerSec() >= want))
		}
		if v, ok := r.rssIdle[name]; ok && v.rss >= 0 {
			p("| %s: RSS idle ≤ 40 MB | %s | %s |\n", name, mb(v.rss), yes(v.rss <= 40*1024))
		}
		if s, ok := r.scale[name]; ok {
			met := yes(s.locate.P99 <= 2*time.Millisecond)
			memMet := yes(s.rssLoaded.anon >= 0 && s.rssLoaded.anon <= 300*1024)
			if s.objects < 1000000 {
				met = "not measured at 1M (" + met + " at this size)"
				memMet = "not measured at 1M (" + memMet + " at this size)"
			}
			p("| %s: Locate by Name p99 ≤ 2 ms at 1M | %s at %d objects (protocol) | %s |\n", name, dur(s.locate.P99), s.objects, met)
			p("| %s: anonymous memory ≤ 300 MB at 1M | %s anonymous, %s resident with file mappings, at %d objects | %s |\n", name, mb(s.rssLoaded.anon), mb(s.rssLoaded.rss), s.objects, memMet)
		}
	}
	p("\nThroughput ratios are from one run on a machine that may be shared; the server-CPU ratios beside them ")
	p("(the other server's CPU per operation over this one's) do not depend on the load generator or on other load.\n")

	var fails []string
	for _, t := range r.targets {
		for _, op := range ops {
			for _, n := range conns {
				if c, ok := r.cells[t.name][cellKey{op, n}]; ok && c.FirstFailure != "" {
					fails = append(fails, fmt.Sprintf("- %s %s ×%d: %d failed items, %d connection errors; first: %s",
						t.name, op, n, c.FailedItems, c.ConnErrors, oneLine(c.FirstFailure)))
				}
			}
		}
		for _, resume := range []bool{false, true} {
			if c, ok := r.newConns[newConnKey{t.name, resume}]; ok && c.FirstFailure != "" {
				mode := "full"
				if resume {
					mode = "resumed"
				}
				fails = append(fails, fmt.Sprintf("- %s new connections (%s): %d failed; first: %s", t.name, mode, c.FailedItems+c.ConnErrors, oneLine(c.FirstFailure)))
			}
		}
	}
	if r.seal != nil {
		b.WriteString(r.seal.markdown())
	}
	if r.pg != nil {
		b.WriteString(r.pg.markdown())
	}
	if len(fails) > 0 || len(r.notes) > 0 {
		p("\n## Failures and notes\n\nFailed items are never counted as operations.\n\n")
		for _, f := range fails {
			p("%s\n", f)
		}
		for _, n := range r.notes {
			p("- %s\n", n)
		}
	}
	return b.String()
}

func (r *report) ratio(a, b string, k cellKey) string {
	x, ok1 := r.cells[a][k]
	y, ok2 := r.cells[b][k]
	if !ok1 || !ok2 || x.Ops == 0 || y.Ops == 0 {
		return "–"
	}
	v := x.OpsPerSec() / y.OpsPerSec()
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func (r *report) target(b *strings.Builder, label, a, base string, k cellKey, want float64) {
	x, ok1 := r.cells[a][k]
	y, ok2 := r.cells[base][k]
	if !ok1 || !ok2 || x.Ops == 0 || y.Ops == 0 {
		fmt.Fprintf(b, "| %s | not measured (%s) | – |\n", label, oneLine(firstNonEmpty(x.FirstFailure, y.FirstFailure, "no data")))
		return
	}
	v := x.OpsPerSec() / y.OpsPerSec()
	cpu := ""
	if ca, cb := r.cpuPerOp[a][k], r.cpuPerOp[base][k]; ca > 0 && cb > 0 {
		cpu = fmt.Sprintf("; server CPU %s vs %s per op: %s", dur(ca), dur(cb), times(float64(cb)/float64(ca)))
	}
	fmt.Fprintf(b, "| %s | %s (%s vs %s ops/s)%s | %s |\n", label, times(v), rate(x.OpsPerSec()), rate(y.OpsPerSec()), cpu, yes(v >= want))
}

// cpuTarget marks whether a's server CPU per operation in cell k is at most want.
func (r *report) cpuTarget(b *strings.Builder, label, a string, k cellKey, want time.Duration) {
	d := r.cpuPerOp[a][k]
	if d <= 0 {
		fmt.Fprintf(b, "| %s | not measured | – |\n", label)
		return
	}
	fmt.Fprintf(b, "| %s | %s | %s |\n", label, dur(d), yes(d <= want))
}

// times formats a ratio.
func times(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// ceilingLine describes the load generator's ceiling: the null responder's
// best get rate, and which side's CPU per operation limits it.
func (r *report) ceilingLine() string {
	null, ok := r.cells["null"]
	if !ok {
		return "Not measured: the null responder did not run."
	}
	best := cellKey{}
	for _, n := range []int{1, 8, 32} {
		if c, ok := null[cellKey{"get", n}]; ok && c.OpsPerSec() > null[best].OpsPerSec() {
			best = cellKey{"get", n}
		}
	}
	c := null[best]
	if c.Ops == 0 {
		return "Not measured: the null responder answered no get."
	}
	s := fmt.Sprintf("Generator ceiling: %s get/s against the null responder (%d connections, p99 %s).", rate(c.OpsPerSec()), best.conns, dur(c.P99))
	g, sv := c.GenCPUPerOp(), r.cpuPerOp["null"][best]
	if g > 0 && sv > 0 {
		s += fmt.Sprintf(" CPU per get: generator %s (its core alone could drive %s/s), null responder %s (%s/s on its core).",
			dur(g), rate(float64(time.Second)/float64(g)), dur(sv), rate(float64(time.Second)/float64(sv)))
		if g >= sv {
			s += " The generator costs more per request than the server it measures: it is the bottleneck, and the fraction-of-null figures understate kmipd."
		} else {
			s += " The generator costs less per request than the null responder, so with each on its own core the server saturates first."
		}
	}
	return s
}

// profileSection renders the top costs of each kept CPU profile, each as
// its share of the samples and as CPU time per operation.
func (r *report) profileSection(b *strings.Builder) {
	if len(r.profiles) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n## Where the server's CPU goes (pprof)\n\n")
	p("A CPU profile of the server over each cell below, kept in `profiles/` (`go tool pprof -top profiles/FILE`). ")
	p("Each cost is its share of the profile's samples times the server CPU per operation. ")
	p("Top 3 are functions by their own time; layers count every sample that passes through them (they overlap: socket I/O runs under TLS and is counted with fsync under system calls).\n\n")
	p("| server | cell | CPU/op | samples | top 3 functions (own time per op) | layers (per op) |\n|---|---|---:|---:|---|---|\n")
	for _, t := range r.targets {
		for _, k := range profiledCells {
			ps, ok := r.profiles[t.name][k]
			if !ok {
				continue
			}
			per := r.cpuPerOp[t.name][k]
			if ps.err != nil {
				p("| %s | %s ×%d | %s | – | %s | |\n", t.name, k.op, k.conns, dur(per), oneLine(ps.err.Error()))
				continue
			}
			var top, lay []string
			for _, c := range ps.top {
				top = append(top, fmt.Sprintf("`%s` %s (%.0f %%)", shortFunc(c.name), dur(time.Duration(c.frac*float64(per))), 100*c.frac))
			}
			for _, c := range ps.layers {
				if c.frac >= 0.01 {
					lay = append(lay, fmt.Sprintf("%s %s (%.0f %%)", c.name, dur(time.Duration(c.frac*float64(per))), 100*c.frac))
				}
			}
			p("| %s | %s ×%d | %s | %s | %s | %s |\n", t.name, k.op, k.conns, dur(per), dur(ps.total),
				strings.Join(top, "; "), strings.Join(lay, "; "))
		}
	}
}

// shortFunc drops the module path from a function name.
func shortFunc(f string) string {
	return strings.TrimPrefix(f, "github.com/kmipd/kmipd/")
}

func tlsName(v uint16) string {
	if v == tls.VersionTLS13 {
		return "1.3"
	}
	return "1.2"
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func short(name string) string { return strings.TrimPrefix(name, "kmipd-") }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func rate(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func mb(kb int64) string {
	if kb < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", float64(kb)/1024)
}

func (m mem) String() string {
	if m.anon < 0 {
		return mb(m.rss)
	}
	return fmt.Sprintf("%s (%s)", mb(m.rss), mb(m.anon))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
