package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// pgCells are the PostgreSQL section's loads, each run through one node and
// through two nodes sharing the database.
var pgCells = []cellKey{{"create", 32}, {"get", 8}}

// pgKey names one PostgreSQL cell: a load through that many nodes.
type pgKey struct {
	cellKey
	nodes int
}

// pgSection is what the PostgreSQL section measured, or why it did not run.
type pgSection struct {
	skipped  string // why nothing was measured; empty when it ran
	cpus     int
	pinning  string // where the generator, PostgreSQL and the nodes ran
	cells    map[pgKey]result
	nodeCPU  map[pgKey]time.Duration // CPU per op of all the nodes together
	pgCPU    map[pgKey]time.Duration // CPU per op of PostgreSQL's processes
	maxConns int                     // each node's storage.max_conns
	notes    []string

	// resumed is the two-node row of new connections that resume, each on
	// the other node than the one that sent the ticket; nil if not run.
	resumed *result
}

// pgNodeMaxConns is each node's storage.max_conns (kmipd's default).
const pgNodeMaxConns = 16

// runPostgres starts a throwaway PostgreSQL cluster (as this process's
// child, so it inherits the generator's CPU), then measures pgCells through
// one kmipd node and through two nodes on one database. It never fails: a
// missing PostgreSQL or a node that does not start is recorded in skipped
// or notes.
func runPostgres(ctx context.Context, o suiteOptions, work string, pki kmiptls.DevPKI, cfg *tls.Config, pin []string, self string, stderr io.Writer) *pgSection {
	fmt.Fprintf(stderr, "== kmipd-postgres: one node, then two nodes on one database\n")
	sec := &pgSection{cpus: onlineCPUs(), cells: map[pgKey]result{}, nodeCPU: map[pgKey]time.Duration{}, pgCPU: map[pgKey]time.Duration{}, maxConns: pgNodeMaxConns}
	cl, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		if errors.Is(err, pgtest.ErrNotInstalled) {
			sec.skipped = "PostgreSQL section skipped: Debian's postgresql (initdb, pg_ctl) is not installed"
		} else {
			sec.skipped = "PostgreSQL section skipped: the cluster did not start: " + oneLine(err.Error())
		}
		fmt.Fprintf(stderr, "   %s\n", sec.skipped)
		return sec
	}
	defer cl.Stop()
	pm := postmasterPID(cl.DataDir)
	sec.pinning = describePinning(pin, pm)
	fmt.Fprintf(stderr, "   %s\n", sec.pinning)
	for _, nodes := range []int{1, 2} {
		if ctx.Err() != nil {
			break
		}
		sec.runNodes(ctx, o, cl, nodes, filepath.Join(work, fmt.Sprintf("pg-%d", nodes)), pki, cfg, pin, self, pm, stderr)
	}
	return sec
}

// runNodes starts nodes kmipd processes on a new database of cl and runs
// pgCells with the connections spread evenly over them.
func (sec *pgSection) runNodes(ctx context.Context, o suiteOptions, cl *pgtest.Cluster, nodes int, dir string, pki kmiptls.DevPKI,
	cfg *tls.Config, pin []string, self string, pm int, stderr io.Writer) {
	dsn, err := cl.CreateDatabase(ctx, fmt.Sprintf("kmip_bench_%d_nodes", nodes))
	if err != nil {
		sec.note("%d node(s): %v", nodes, err)
		return
	}
	var srvs []*server
	defer func() {
		for _, s := range srvs {
			if err := s.stop(); err != nil {
				sec.note("%s: stop: %v", s.t.name, err)
			}
		}
	}()
	var addrs []string
	for i := range nodes {
		t := target{name: fmt.Sprintf("kmipd-postgres-node%d", i+1), kind: "kmipd", storage: "postgres"}
		s, err := startTarget(ctx, t, filepath.Join(dir, fmt.Sprint(i)), pki, pin, self, o.kmipd, "", dsn, cfg)
		if err != nil {
			sec.note("%d node(s): %s did not start: %v", nodes, t.name, err)
			fmt.Fprintf(stderr, "   %s did not start: %v\n", t.name, err)
			return
		}
		srvs = append(srvs, s)
		addrs = append(addrs, s.addr)
	}
	for _, c := range pgCells {
		key := pgKey{c, nodes}
		spec := loadSpec{Addrs: addrs, TLS: cfg, Op: c.op, Conns: c.conns, Duration: o.cell, Proto: o.proto}
		var node0 time.Duration
		var pg0 map[int]time.Duration
		spec.OnMeasure = func() { node0, pg0 = nodesCPU(srvs), treeCPU(pm) }
		r, err := runLoad(ctx, &spec)
		node1, pg1 := nodesCPU(srvs), treeCPU(pm)
		if err != nil {
			r = result{Op: c.op, Conns: c.conns, FirstFailure: err.Error()}
		}
		sec.cells[key] = r
		if r.Ops > 0 && node0 >= 0 && node1 >= 0 {
			sec.nodeCPU[key] = (node1 - node0) / time.Duration(r.Ops)
		}
		if r.Ops > 0 && pg0 != nil && pg1 != nil {
			sec.pgCPU[key] = cpuDelta(pg0, pg1) / time.Duration(r.Ops)
		}
		fmt.Fprintf(stderr, "   nodes=%d %s  kmipd_cpu/op=%v postgres_cpu/op=%v\n", nodes, strings.ReplaceAll(r.String(), "\n", "\n   "),
			sec.nodeCPU[key], sec.pgCPU[key])
	}
	if nodes == 2 && ctx.Err() == nil {
		sec.runResumedAcross(ctx, o, addrs, cfg, stderr)
	}
}

// runResumedAcross measures new connections that resume TLS sessions, each
// on the other node than the one that sent its ticket: the nodes share
// their ticket keys through the database (tls_ticket_rotation).
func (sec *pgSection) runResumedAcross(ctx context.Context, o suiteOptions, addrs []string, cfg *tls.Config, stderr io.Writer) {
	spec := loadSpec{Addrs: addrs, TLS: cfg, Op: "query", Conns: 8, Duration: o.cell, Proto: o.proto,
		NewConn: true, Resume: true, Alternate: true, NoVerify: true}
	r, err := runLoad(ctx, &spec)
	if err != nil {
		r = result{Op: "query", Conns: 8, NewConn: true, Resume: true, FirstFailure: err.Error()}
	}
	sec.resumed = &r
	fmt.Fprintf(stderr, "   nodes=2 alternating %s\n", r)
}

func (sec *pgSection) note(format string, args ...any) {
	sec.notes = append(sec.notes, fmt.Sprintf(format, args...))
}

// nodesCPU is the CPU time of all the nodes together, or -1 if one is unknown.
func nodesCPU(srvs []*server) time.Duration {
	var sum time.Duration
	for _, s := range srvs {
		c := cpuTime(s.cmd.Process.Pid)
		if c < 0 {
			return -1
		}
		sum += c
	}
	return sum
}

// postmasterPID reads the server's process id from postmaster.pid in its
// data directory; 0 if unknown.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// treeCPU returns the CPU time of pid and of each of its children (a
// PostgreSQL server's backends and auxiliary processes), by process id; nil
// if pid is unknown.
func treeCPU(pid int) map[int]time.Duration {
	if pid <= 0 {
		return nil
	}
	own := cpuTime(pid)
	if own < 0 {
		return nil
	}
	out := map[int]time.Duration{pid: own}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || parentPID(child) != pid {
			continue
		}
		if c := cpuTime(child); c >= 0 {
			out[child] = c
		}
	}
	return out
}

// parentPID is field 4 of /proc/PID/stat, or -1.
func parentPID(pid int) int {
	f := procStatFields(pid)
	if len(f) < 2 {
		return -1
	}
	p, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return p
}

// cpuDelta is the CPU the processes of after used since before; a process
// absent from before started since, so all its CPU counts. (Processes that
// exited in between are missed: the nodes' pools keep their connections.)
func cpuDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range after {
		d += c - before[pid]
	}
	return d
}

// describePinning says where each process of the section runs.
func describePinning(pin []string, postmaster int) string {
	if len(pin) == 0 {
		return "No pinning: the load generator, PostgreSQL and the kmipd nodes share every CPU."
	}
	pg := "CPU 0 (started by the generator, whose affinity it inherits)"
	if postmaster > 0 {
		if cpus := allowedCPUs(postmaster); cpus != "" {
			pg = fmt.Sprintf("CPU %s (the postmaster's Cpus_allowed_list; its backends inherit it)", cpus)
		}
	}
	return fmt.Sprintf("Pinning: the load generator on CPU 0; PostgreSQL on %s; every kmipd node on CPU %s (`%s`), so both nodes of the two-node rows share that one core.",
		pg, pin[len(pin)-1], strings.Join(pin, " "))
}

// allowedCPUs is the Cpus_allowed_list of pid's /proc status, or "".
func allowedCPUs(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// markdown renders the section: one row per cell and node count, the
// scaling ratio on each two-node row, the pinning and the machine's bound.
func (sec *pgSection) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## PostgreSQL: one node and two nodes on one database\n\n")
	if sec.skipped != "" {
		p("%s.\n", sec.skipped)
		return b.String()
	}
	p("kmipd on `storage.type = \"postgres\"` (a throwaway cluster from `pgtest`: fsync and synchronous_commit on, one database per row group), ")
	p("each node with `max_conns = %d`. The two-node rows spread the generator's connections round-robin over both nodes (half each); ", sec.maxConns)
	p("kmipd CPU per op is both nodes' CPU together, PostgreSQL CPU per op that of the postmaster and its backends.\n\n")
	p("%s\n\n", sec.pinning)
	p("| op (conns) | nodes | ops/s | p50 | p99 | kmipd CPU/op | PostgreSQL CPU/op | two nodes / one |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	var fails []string
	for _, c := range pgCells {
		for _, nodes := range []int{1, 2} {
			k := pgKey{c, nodes}
			r, ok := sec.cells[k]
			if !ok {
				p("| %s (%d) | %d | not measured | | | | | |\n", c.op, c.conns, nodes)
				continue
			}
			scale := ""
			if one, ok := sec.cells[pgKey{c, 1}]; nodes == 2 && ok && one.OpsPerSec() > 0 {
				scale = fmt.Sprintf("%.2f×", r.OpsPerSec()/one.OpsPerSec())
			}
			p("| %s (%d) | %d | %s | %s | %s | %s | %s | %s |\n", c.op, c.conns, nodes, rate(r.OpsPerSec()), dur(r.P50), dur(r.P99),
				cpuCell(sec.nodeCPU, k), cpuCell(sec.pgCPU, k), scale)
			if r.FailedItems+r.ConnErrors > 0 || r.FirstFailure != "" {
				fails = append(fails, fmt.Sprintf("- %s ×%d through %d node(s): %d failed items, %d connection errors; first: %s",
					c.op, c.conns, nodes, r.FailedItems, r.ConnErrors, oneLine(r.FirstFailure)))
			}
		}
	}
	p("\n")
	if sec.cpus <= 2 {
		p("This machine has %d CPU(s): the two nodes together get no more CPU than the one node had, so the scaling ratio here is bounded by about 1× ", sec.cpus)
		p("and shows what a second node on the same database costs (connections, PostgreSQL's row locks and WAL flushes shared by more clients), ")
		p("not what it would add on machines of its own. Use the CPU-per-op columns to compare: they do not depend on how many cores there are.\n")
	} else {
		p("The scaling ratio is bounded by the cores the nodes and PostgreSQL were given (%d CPUs here).\n", sec.cpus)
	}
	for _, f := range fails {
		p("%s\n", f)
	}
	if r := sec.resumed; r != nil {
		p("\nNew TLS connections resumed across the two nodes (query, 8 connections, each connection on the other node than the last, ")
		p("so every resumption uses a ticket the other node sent): %s connections/s, %d of %d resumed, p99 %s", rate(r.OpsPerSec()), r.Resumed, r.Ops, dur(r.P99))
		if r.FailedItems+r.ConnErrors > 0 || r.FirstFailure != "" {
			p(", %d failed, first: %s", r.FailedItems+r.ConnErrors, oneLine(r.FirstFailure))
		}
		p(".\n")
	}
	for _, n := range sec.notes {
		p("- %s\n", n)
	}
	return b.String()
}

// cpuCell is a CPU-per-op figure, or "?" when it was not measured.
func cpuCell(m map[pgKey]time.Duration, k pgKey) string {
	d, ok := m[k]
	if !ok {
		return "?"
	}
	return dur(d)
}

// runPostgresOnly runs the PostgreSQL section alone (`suite -only postgres`)
// and writes its report to <out>/<date>-<commit>-postgres.md.
func runPostgresOnly(ctx context.Context, o suiteOptions, rep *report, work string, pki kmiptls.DevPKI, cfg *tls.Config, pin []string,
	self string, stdout, stderr io.Writer) error {
	sec := runPostgres(ctx, o, work, pki, cfg, pin, self, stderr)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	md := rep.postgresMarkdown(sec)
	fmt.Fprint(stdout, md)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	name := filepath.Join(o.out, rep.started.Format("2006-01-02")+"-"+rep.commit+"-postgres.md")
	if err := os.WriteFile(name, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "results written to %s\n", name)
	return nil
}

// postgresMarkdown is the report of a run of the PostgreSQL section alone.
func (r *report) postgresMarkdown(sec *pgSection) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# kmipd benchmark, PostgreSQL section only, %s (%s)\n\n", r.started.Format("2006-01-02 15:04 UTC"), r.commit)
	fmt.Fprintf(&b, "Machine: %d CPU(s), %s; %s. KMIP %d.%d over TLS %s (at most) with the development PKI, client `kmip-bench suite -only postgres`. ",
		r.cpus, r.cpuModel, runtime.Version(), r.proto.major, r.proto.minor, tlsName(r.tls))
	fmt.Fprintf(&b, "Each cell runs %v; one operation per request message; ops/s counts operations whose every batch item succeeded; p50 and p99 are per request message.\n", r.cell)
	b.WriteString(sec.markdown())
	for _, n := range r.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}
