package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// sealCells are the loads of the sealing and audit section (issue 18.5).
var sealCells = []cellKey{{"create", 32}, {"get", 8}, {"encrypt", 8}}

// sealStores are the stores the section runs kmipd on.
var sealStores = []string{"sqlite", "bbolt"}

// sealMode is one configuration of the section: kmipd with or without
// [seal] (a KEK file, as `make run` seals) and [audit].
type sealMode struct {
	name        string
	seal, audit bool
}

// sealModes are measured in this order on each store; the first is the
// baseline the others are compared with.
var sealModes = []sealMode{{"plain", false, false}, {"sealed", true, false}, {"sealed+audit", true, true}}

// sealKey names one cell of the section.
type sealKey struct {
	storage string
	mode    string
	cellKey
}

// sealSection is what the sealing and audit section measured.
type sealSection struct {
	cells map[sealKey]result
	cpu   map[sealKey]time.Duration // server CPU per successful operation
	notes []string
}

// runSeal measures sealCells on kmipd with each of sealModes, one store
// after the other. The three servers of a store (each with a store of its
// own) run side by side, and each cell runs on them back to back, so that
// a busy machine disturbs the three rows of a cell alike. It never fails: a
// server that does not start is recorded in notes.
func runSeal(ctx context.Context, o suiteOptions, work string, pki kmiptls.DevPKI, cfg *tls.Config, pin []string, self string, stderr io.Writer) *sealSection {
	sec := &sealSection{cells: map[sealKey]result{}, cpu: map[sealKey]time.Duration{}}
	for _, st := range sealStores {
		if ctx.Err() != nil {
			return sec
		}
		fmt.Fprintf(stderr, "== kmipd-%s: plain, sealed, sealed+audit\n", st)
		srvs := map[string]*server{}
		for _, m := range sealModes {
			t := target{name: "kmipd-" + st + "-" + m.name, kind: "kmipd", storage: st, seal: m.seal, audit: m.audit}
			srv, err := startTarget(ctx, t, filepath.Join(work, "seal-"+st+"-"+strings.ReplaceAll(m.name, "+", "-")), pki, pin, self, o.kmipd, "", "", cfg)
			if err != nil {
				sec.note("%s did not start: %v", t.name, oneLine(err.Error()))
				fmt.Fprintf(stderr, "   %s did not start: %v\n", t.name, err)
				continue
			}
			srvs[m.name] = srv
		}
		for _, c := range sealCells {
			for _, m := range sealModes {
				if srv := srvs[m.name]; srv != nil && ctx.Err() == nil {
					sec.measure(ctx, o, cfg, srv, sealKey{st, m.name, c}, stderr)
				}
			}
		}
		for _, m := range sealModes {
			if srv := srvs[m.name]; srv != nil {
				if err := srv.stop(); err != nil {
					sec.note("%s: stop: %v", srv.t.name, err)
				}
			}
		}
	}
	return sec
}

// measure runs one cell of the section on srv.
func (sec *sealSection) measure(ctx context.Context, o suiteOptions, cfg *tls.Config, srv *server, key sealKey, stderr io.Writer) {
	pid := srv.cmd.Process.Pid
	spec := loadSpec{Addr: srv.addr, TLS: cfg, Op: key.op, Conns: key.conns, Duration: o.cell, Proto: o.proto}
	var cpu0 time.Duration
	spec.OnMeasure = func() { cpu0 = cpuTime(pid) }
	r, err := runLoad(ctx, &spec)
	cpu1 := cpuTime(pid)
	if err != nil {
		r = result{Op: key.op, Conns: key.conns, FirstFailure: err.Error()}
	}
	sec.cells[key] = r
	if r.Ops > 0 && cpu0 >= 0 && cpu1 >= 0 {
		sec.cpu[key] = (cpu1 - cpu0) / time.Duration(r.Ops)
	}
	fmt.Fprintf(stderr, "   %-12s %s  server_cpu/op=%v\n", key.mode, strings.ReplaceAll(r.String(), "\n", "\n   "), sec.cpu[key])
}

func (sec *sealSection) note(format string, args ...any) {
	sec.notes = append(sec.notes, fmt.Sprintf(format, args...))
}

// sealConfig is the [seal] and [audit] part of the configuration of t,
// which runs in dir: a new KEK file made by `kmipd seal keygen` and an audit
// file in dir.
func sealConfig(t target, dir, kmipd string) (string, error) {
	var b strings.Builder
	if t.seal {
		kek := filepath.Join(dir, "seal.key")
		if out, err := exec.Command(kmipd, "seal", "keygen", kek).CombinedOutput(); err != nil {
			return "", fmt.Errorf("kmipd seal keygen: %v: %s", err, oneLine(string(out)))
		}
		fmt.Fprintf(&b, "\n[seal]\ntype = \"file\"\nkey_file = %q\n", kek)
	}
	if t.audit {
		fmt.Fprintf(&b, "\n[audit]\npath = %q\n", filepath.Join(dir, "audit.log"))
	}
	return b.String(), nil
}

// markdown renders the section: for each cell and store, the plain row
// then the sealed and sealed+audit rows with their throughput and server
// CPU per operation against the plain row's.
func (sec *sealSection) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Sealing at rest and the audit log\n\n")
	p("kmipd on each store three times, side by side, each with a store of its own, each cell run on the three back to back: **plain** (no `[seal]`, no `[audit]`), ")
	p("**sealed** (`[seal] type = \"file\"`, a KEK file from `kmipd seal keygen`, as `make run` seals: each key's material is encrypted ")
	p("under a data key of its own that the KEK wraps, and opened again for every Get and Encrypt), and **sealed+audit** (also `[audit] path`: ")
	p("an intent and a result record a batch item; the intent is on disk, fsynced, before the item's first store write, the result with it before the answer, ")
	p("so an item that writes nothing costs one fsync; concurrent records share an fsync). ")
	p("The ratios compare each row with the plain row of the same store and cell: throughput, then server CPU per operation and the CPU it adds.\n\n")
	p("| op (conns) | store | mode | ops/s | p99 | server CPU/op | ops/s vs plain | CPU/op vs plain |\n")
	p("|---|---|---|---:|---:|---:|---:|---:|\n")
	var fails []string
	for _, c := range sealCells {
		for _, st := range sealStores {
			base := sealKey{st, sealModes[0].name, c}
			for _, m := range sealModes {
				k := sealKey{st, m.name, c}
				r, ok := sec.cells[k]
				if !ok || r.Ops == 0 {
					p("| %s (%d) | %s | %s | not measured | | | | |\n", c.op, c.conns, st, m.name)
				} else {
					p("| %s (%d) | %s | %s | %s | %s | %s | %s | %s |\n", c.op, c.conns, st, m.name, rate(r.OpsPerSec()), dur(r.P99),
						dur(sec.cpu[k]), sec.rateRatio(k, base), sec.cpuRatio(k, base))
				}
				if ok && (r.FailedItems+r.ConnErrors > 0 || r.FirstFailure != "") {
					fails = append(fails, fmt.Sprintf("- %s ×%d on %s, %s: %d failed items, %d connection errors; first: %s",
						c.op, c.conns, st, m.name, r.FailedItems, r.ConnErrors, oneLine(r.FirstFailure)))
				}
			}
		}
	}
	p("\n")
	for _, f := range fails {
		p("%s\n", f)
	}
	for _, n := range sec.notes {
		p("- %s\n", n)
	}
	return b.String()
}

// rateRatio is k's throughput over base's, empty for the baseline itself.
func (sec *sealSection) rateRatio(k, base sealKey) string {
	x, y := sec.cells[k], sec.cells[base]
	if k == base || x.Ops == 0 || y.Ops == 0 {
		return ""
	}
	return times(x.OpsPerSec() / y.OpsPerSec())
}

// cpuRatio is k's server CPU per operation over base's, with the
// difference; empty for the baseline itself.
func (sec *sealSection) cpuRatio(k, base sealKey) string {
	x, y := sec.cpu[k], sec.cpu[base]
	if k == base || x <= 0 || y <= 0 {
		return ""
	}
	sign, d := "+", x-y
	switch {
	case d < 0 && -d >= time.Microsecond/2:
		sign, d = "−", -d
	case d < time.Microsecond/2:
		return fmt.Sprintf("%s (±0 µs)", times(float64(x)/float64(y)))
	}
	return fmt.Sprintf("%s (%s%s)", times(float64(x)/float64(y)), sign, dur(d))
}

// runSealOnly runs the sealing and audit section alone (`suite -only seal`)
// and writes its report to <out>/<date>-<commit>-seal.md.
func runSealOnly(ctx context.Context, o suiteOptions, rep *report, work string, pki kmiptls.DevPKI, cfg *tls.Config, pin []string,
	self string, stdout, stderr io.Writer) error {
	load0 := loadAverage()
	sec := runSeal(ctx, o, work, pki, cfg, pin, self, stderr)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	sec.note("load average (1 min) %s at the start, %s at the end, on %d CPU(s): above that, other work shared the CPUs, and the throughputs say less than the CPU figures",
		load0, loadAverage(), rep.cpus)
	var b strings.Builder
	fmt.Fprintf(&b, "# kmipd benchmark, sealing and audit section only, %s (%s)\n\n", rep.started.Format("2006-01-02 15:04 UTC"), rep.commit)
	fmt.Fprintf(&b, "Machine: %d CPU(s), %s; %s. KMIP %d.%d over TLS %s (at most) with the development PKI, client `kmip-bench suite -only seal`. ",
		rep.cpus, rep.cpuModel, runtime.Version(), rep.proto.major, rep.proto.minor, tlsName(rep.tls))
	if rep.pinned {
		b.WriteString("Pinning: every server on CPU 1 (`taskset -c 1`), the load generator on CPU 0. ")
	}
	fmt.Fprintf(&b, "Each cell runs %v; one operation per request message; ops/s counts operations whose every batch item succeeded; p99 is per request message; "+
		"server CPU/op is the server's user+system time (/proc/PID/stat) over the cell divided by its operations.\n", rep.cell)
	b.WriteString(sec.markdown())
	for _, n := range rep.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	md := b.String()
	fmt.Fprint(stdout, md)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	name := filepath.Join(o.out, rep.started.Format("2006-01-02")+"-"+rep.commit+"-seal.md")
	if err := os.WriteFile(name, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "results written to %s\n", name)
	return nil
}

// loadAverage is the one-minute load average of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
