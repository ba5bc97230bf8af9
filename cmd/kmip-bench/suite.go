package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// suiteOptions configure `kmip-bench suite` (make bench).
type suiteOptions struct {
	kmipd    string        // kmipd binary
	pykmip   string        // pykmip-server executable; "" skips it
	out      string        // results directory (docs/bench)
	cell     time.Duration // duration of one load cell
	pyMaxOps int64         // cap on PyKMIP's operations per cell
	conns    []int
	proto    protocol
	scale    int  // objects loaded through the protocol for Locate at scale; 0 skips
	goBench  bool // run the Go storage Locate benchmarks
	pin      bool // pin servers to core 1 and the load generator to core 0
	tls      uint16
	profile  bool // keep CPU profiles of the profiled cells in out/profiles
	postgres bool // run the PostgreSQL section (one node, two nodes)
	seal     bool // run the sealing and audit section
	only     string
}

// target is one server under test.
type target struct {
	name    string // column name
	kind    string // kmipd, pykmip, null
	storage string // kmipd's storage.type
	seal    bool   // kmipd with [seal] (a new KEK file)
	audit   bool   // kmipd with [audit]
}

// server is a running target process.
type server struct {
	t      target
	cmd    *exec.Cmd
	addr   string
	https  string // kmipd's HTTPS listener
	dir    string
	exited chan struct{}
	logf   string
	pprof  string // the server's pprof listener, if any
}

func cmdSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kmip-bench suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o suiteOptions
	fs.StringVar(&o.kmipd, "kmipd", "bin/kmipd", "kmipd `binary` to benchmark")
	fs.StringVar(&o.pykmip, "pykmip", "/usr/bin/pykmip-server", "pykmip-server `executable` (empty: skip PyKMIP)")
	fs.StringVar(&o.out, "out", "docs/bench", "results `directory` (<date>-<commit>.md and latest.md)")
	fs.DurationVar(&o.cell, "cell", 2*time.Second, "duration of each load cell")
	fs.Int64Var(&o.pyMaxOps, "pykmip-max-ops", 400, "cap on PyKMIP's successful operations per cell")
	connList := fs.String("conns", "1,8,32", "connection counts")
	ver := fs.String("kmip", "1.2", "KMIP protocol version (issue 18 measures 1.2)")
	tlsVer := fs.String("tls", "1.2", "highest TLS version the load generator offers: 1.2 or 1.3")
	fs.BoolVar(&o.profile, "profile", true, "keep a CPU profile (pprof) of the server in the create, get, encrypt and locate cells, in <out>/profiles")
	fs.IntVar(&o.scale, "scale", 100000, "objects to load through the protocol for Locate at scale (0: skip)")
	fs.BoolVar(&o.goBench, "go-bench", true, "run the Go storage Locate benchmarks (go test -bench LocateByName)")
	fs.BoolVar(&o.pin, "pin", true, "pin servers to CPU 1 and the load generator to CPU 0 with taskset when there are two CPUs")
	fs.BoolVar(&o.postgres, "postgres", true, "run the PostgreSQL section (create ×32 and get ×8 through one and two kmipd nodes on one database; skipped when PostgreSQL is not installed)")
	fs.BoolVar(&o.seal, "seal", true, "run the sealing and audit section (create ×32, get ×8 and encrypt ×8 on SQLite and bbolt: plain, sealed, sealed with the audit log)")
	fs.StringVar(&o.only, "only", "", "run only this `section`: postgres or seal (writes <out>/<date>-<commit>-SECTION.md, leaves latest.md alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch o.only {
	case "", "postgres", "seal":
	default:
		return fmt.Errorf("-only %q: the sections are postgres and seal", o.only)
	}
	var err error
	if o.proto, err = parseProtocol(*ver); err != nil {
		return err
	}
	switch *tlsVer {
	case "1.2":
		o.tls = tls.VersionTLS12
	case "1.3":
		o.tls = tls.VersionTLS13
	default:
		return fmt.Errorf("-tls %q: want 1.2 or 1.3", *tlsVer)
	}
	for _, s := range strings.Split(*connList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-conns: %q is not a positive number", s)
		}
		o.conns = append(o.conns, n)
	}
	if o.kmipd, err = filepath.Abs(o.kmipd); err != nil {
		return err
	}
	return runSuite(ctx, o, stdout, stderr)
}

// report collects the suite's measurements.
type report struct {
	started   time.Time
	commit    string
	cpus      int
	cpuModel  string
	pinned    bool
	proto     protocol
	cell      time.Duration
	targets   []target
	cells     map[string]map[cellKey]result // target name → cell → result
	newConns  map[newConnKey]result
	tls       uint16
	cpuPerOp  map[string]map[cellKey]time.Duration // server CPU time per successful op
	profiles  map[string]map[cellKey]profileSummary
	cpuPerNew map[newConnKey]time.Duration
	rssIdle   map[string]mem
	rssLoaded map[string]mem
	scale     map[string]scaleResult
	https     map[string]map[string]result // kmipd target → HTTPS encoding → get, 8 conns
	goBench   string
	pg        *pgSection   // the PostgreSQL section; nil when not run
	seal      *sealSection // the sealing and audit section; nil when not run
	notes     []string
}

// newConnKey names a new-connection cell: a target, full handshakes or
// resumed sessions.
type newConnKey struct {
	target string
	resume bool
}

type cellKey struct {
	op    string
	conns int
}

type scaleResult struct {
	objects   int
	loadRate  float64
	locate    result
	rssLoaded mem
}

func runSuite(ctx context.Context, o suiteOptions, stdout, stderr io.Writer) error {
	work, err := os.MkdirTemp("", "kmip-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(work, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		return err
	}
	cfg, err := clientTLS(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		return err
	}
	cfg.MaxVersion = o.tls
	rep := &report{started: time.Now().UTC(), commit: gitCommit(), cpus: onlineCPUs(), cpuModel: cpuModel(), tls: o.tls,
		profiles: map[string]map[cellKey]profileSummary{},
		proto:    o.proto, cell: o.cell, cells: map[string]map[cellKey]result{}, newConns: map[newConnKey]result{},
		rssIdle: map[string]mem{}, cpuPerOp: map[string]map[cellKey]time.Duration{}, cpuPerNew: map[newConnKey]time.Duration{}, rssLoaded: map[string]mem{}, scale: map[string]scaleResult{}, https: map[string]map[string]result{}}
	var pin []string
	if o.pin && rep.cpus >= 2 {
		if _, err := exec.LookPath("taskset"); err == nil {
			pin = []string{"taskset", "-c", "1"}
			// Pin every thread of this process (the load generator) to CPU 0;
			// threads created later inherit it.
			if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
				rep.notes = append(rep.notes, fmt.Sprintf("pinning the load generator failed: %v %s", err, bytes.TrimSpace(out)))
			} else {
				rep.pinned = true
			}
		}
	}
	if !rep.pinned {
		rep.notes = append(rep.notes, "server and load generator share the CPUs (no pinning)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	if o.only == "postgres" {
		return runPostgresOnly(ctx, o, rep, work, pki, cfg, pin, self, stdout, stderr)
	}
	if o.only == "seal" {
		return runSealOnly(ctx, o, rep, work, pki, cfg, pin, self, stdout, stderr)
	}
	rep.targets = []target{{name: "kmipd-sqlite", kind: "kmipd", storage: "sqlite"}, {name: "kmipd-bbolt", kind: "kmipd", storage: "bbolt"}}
	if o.pykmip != "" {
		if _, err := os.Stat(o.pykmip); err == nil {
			rep.targets = append(rep.targets, target{name: "pykmip", kind: "pykmip"})
		} else {
			rep.notes = append(rep.notes, fmt.Sprintf("PyKMIP skipped: %v", err))
		}
	}
	rep.targets = append(rep.targets, target{name: "null", kind: "null"})

	// The null responder runs first: its cells are the load generator's
	// ceiling, printed before anything else is measured.
	order := make([]int, 0, len(rep.targets))
	for i, t := range rep.targets {
		if t.kind == "null" {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	if o.profile {
		if err := os.MkdirAll(filepath.Join(o.out, "profiles"), 0o755); err != nil {
			return err
		}
	}
	for _, i := range order {
		t := rep.targets[i]
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(stderr, "== %s\n", t.name)
		srv, err := startTarget(ctx, t, filepath.Join(work, fmt.Sprint(i)), pki, pin, self, o.kmipd, o.pykmip, "", cfg)
		if err != nil {
			rep.notes = append(rep.notes, fmt.Sprintf("%s did not start: %v", t.name, err))
			fmt.Fprintf(stderr, "   %s did not start: %v\n", t.name, err)
			continue
		}
		rep.rssIdle[t.name] = memOf(srv.cmd.Process.Pid)
		rep.cells[t.name] = map[cellKey]result{}
		rep.cpuPerOp[t.name] = map[cellKey]time.Duration{}
		pid := srv.cmd.Process.Pid
		for _, op := range ops {
			for _, n := range o.conns {
				spec := loadSpec{Addr: srv.addr, TLS: cfg, Op: op, Conns: n, Duration: o.cell, Proto: o.proto, LocateNames: 100}
				if t.kind == "pykmip" {
					spec.MaxOps = o.pyMaxOps
				}
				key := cellKey{op, n}
				var cpu0 time.Duration
				var prof chan error
				profFile := filepath.Join(o.out, "profiles", fmt.Sprintf("%s-%s-%d.pb.gz", t.name, op, n))
				spec.OnMeasure = func() {
					cpu0 = cpuTime(pid)
					if o.profile && srv.pprof != "" && slices.Contains(profiledCells, key) {
						prof = make(chan error, 1)
						go func() { prof <- fetchProfile(ctx, srv.pprof, max(1, int(o.cell/time.Second)), profFile) }()
					}
				}
				r, err := runLoad(ctx, &spec)
				cpu1 := cpuTime(pid)
				if err != nil {
					r = result{Op: op, Conns: n, FirstFailure: err.Error()}
				}
				rep.cells[t.name][key] = r
				if r.Ops > 0 && cpu0 >= 0 && cpu1 >= 0 {
					rep.cpuPerOp[t.name][key] = (cpu1 - cpu0) / time.Duration(r.Ops)
				}
				fmt.Fprintf(stderr, "   %s  server_cpu/op=%v\n", strings.ReplaceAll(r.String(), "\n", "\n   "), rep.cpuPerOp[t.name][key])
				if prof != nil {
					if err := <-prof; err != nil {
						rep.notes = append(rep.notes, fmt.Sprintf("%s %s ×%d: no profile: %v", t.name, op, n, err))
					} else {
						if rep.profiles[t.name] == nil {
							rep.profiles[t.name] = map[cellKey]profileSummary{}
						}
						rep.profiles[t.name][key] = summarizeProfile(ctx, profFile)
					}
				}
			}
		}
		if t.kind == "kmipd" {
			rep.https[t.name] = benchHTTPS(ctx, srv, cfg, o, stderr)
		}
		if t.kind == "null" {
			fmt.Fprintf(stderr, "   %s\n", rep.ceilingLine())
		}
		// New connections: full handshakes, then resumed sessions.
		for _, resume := range []bool{false, true} {
			spec := loadSpec{Addr: srv.addr, TLS: cfg, Op: "query", Conns: 8, Duration: o.cell, Proto: o.proto, NewConn: true, Resume: resume, NoVerify: true}
			if t.kind == "pykmip" {
				spec.MaxOps = o.pyMaxOps / 4
			}
			cpu0 := cpuTime(pid)
			r, err := runLoad(ctx, &spec)
			if err != nil {
				r = result{Op: "query", Conns: 8, NewConn: true, Resume: resume, FirstFailure: err.Error()}
			}
			key := newConnKey{t.name, resume}
			rep.newConns[key] = r
			if r.Ops > 0 && cpu0 >= 0 {
				rep.cpuPerNew[key] = (cpuTime(pid) - cpu0) / time.Duration(r.Ops)
			}
			fmt.Fprintf(stderr, "   %s\n", r)
		}
		rep.rssLoaded[t.name] = memOf(srv.cmd.Process.Pid)
		if t.kind == "kmipd" && o.scale > 0 {
			sr, err := scaleLocate(ctx, srv, cfg, o, stderr)
			if err != nil {
				rep.notes = append(rep.notes, fmt.Sprintf("%s: Locate at scale failed: %v", t.name, err))
			} else {
				rep.scale[t.name] = sr
			}
		}
		if err := srv.stop(); err != nil {
			rep.notes = append(rep.notes, fmt.Sprintf("%s: stop: %v", t.name, err))
		}
	}
	if o.seal && ctx.Err() == nil {
		rep.seal = runSeal(ctx, o, work, pki, cfg, pin, self, stderr)
	}
	if o.postgres && ctx.Err() == nil {
		rep.pg = runPostgres(ctx, o, work, pki, cfg, pin, self, stderr)
	}
	if o.goBench {
		rep.goBench = runGoBench(ctx, stderr)
	}

	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	name := filepath.Join(o.out, rep.started.Format("2006-01-02")+"-"+rep.commit+".md")
	if err := os.WriteFile(name, []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "latest.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "results written to %s and %s\n", name, filepath.Join(o.out, "latest.md"))
	return nil
}

// scaleLocate loads o.scale named keys through the protocol (batches of 100
// Creates on 32 connections), then measures Locate by Name on one connection.
func scaleLocate(ctx context.Context, srv *server, cfg *tls.Config, o suiteOptions, stderr io.Writer) (scaleResult, error) {
	fmt.Fprintf(stderr, "   loading %d named objects for Locate at scale ...\n", o.scale)
	prefix := fmt.Sprintf("scale-%d-", time.Now().UnixNano())
	spec := loadSpec{Addr: srv.addr, TLS: cfg, Op: "create-named", Conns: 32, Batch: 100, Duration: 10 * time.Minute,
		MaxOps: int64(o.scale), Proto: o.proto, NamePrefix: prefix, Progress: stderr, ProgressEvery: 10 * time.Second}
	lr, err := runLoad(ctx, &spec)
	if err != nil {
		return scaleResult{}, err
	}
	if lr.Ops < int64(o.scale) {
		return scaleResult{}, fmt.Errorf("loaded %d of %d objects: %s", lr.Ops, o.scale, lr.FirstFailure)
	}
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, (i*7919)%int(lr.Ops))
	}
	loc, err := runLoad(ctx, &loadSpec{Addr: srv.addr, TLS: cfg, Op: "locate", Conns: 1, Duration: o.cell, Proto: o.proto, Names: names})
	if err != nil {
		return scaleResult{}, err
	}
	fmt.Fprintf(stderr, "   locate at %d objects: %s\n", lr.Ops, loc)
	return scaleResult{objects: int(lr.Ops), loadRate: lr.OpsPerSec(), locate: loc, rssLoaded: memOf(srv.cmd.Process.Pid)}, nil
}

// runGoBench runs the storage adapters' Locate benchmarks (including the
// 1M-object one once it exists) and returns their result lines.
func runGoBench(ctx context.Context, stderr io.Writer) string {
	fmt.Fprintln(stderr, "== go test -bench LocateByName ./adapters/storage/...")
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "LocateByName", "-benchmem", "-timeout", "60m", "./adapters/storage/...")
	out, err := cmd.CombinedOutput()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg:") || strings.HasPrefix(l, "FAIL") {
			lines = append(lines, l)
		}
	}
	if err != nil {
		lines = append(lines, "go test failed: "+err.Error())
	}
	return strings.Join(lines, "\n")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startTarget starts t in dir and waits until it completes a TLS handshake.
// storageURL is the database of a kmipd target on PostgreSQL.
func startTarget(ctx context.Context, t target, dir string, pki kmiptls.DevPKI, pin []string, self, kmipd, pykmip, storageURL string, cfg *tls.Config) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	s := &server{t: t, addr: addr, dir: dir, exited: make(chan struct{}), logf: filepath.Join(dir, "server.log")}
	if t.kind != "pykmip" {
		if s.pprof, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	var argv []string
	switch t.kind {
	case "kmipd":
		if s.https, err = freeAddr(); err != nil {
			return nil, err
		}
		conf := fmt.Sprintf(`[server]
hostname = %q
port = %s
certificate_path = %q
key_path = %q
ca_path = %q
logging_level = "ERROR"
log_path = %q
database_path = %q
pprof_address = %q

[storage]
type = %q
%s

[https]
address = %q
`, host, port, pki.ServerCert, pki.ServerKey, pki.CACert, s.logf, filepath.Join(dir, "kmipd.db"), s.pprof, t.storage, storageLocation(t.storage, dir, storageURL), s.https)
		extra, err := sealConfig(t, dir, kmipd)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "kmipd.toml"), []byte(conf+extra), 0o600); err != nil {
			return nil, err
		}
		argv = []string{kmipd, "-config", filepath.Join(dir, "kmipd.toml")}
	case "pykmip":
		pol := filepath.Join(dir, "policies")
		if err := os.MkdirAll(pol, 0o700); err != nil {
			return nil, err
		}
		conf := fmt.Sprintf(`[server]
hostname=%s
port=%s
certificate_path=%s
key_path=%s
ca_path=%s
auth_suite=TLS1.2
policy_path=%s
enable_tls_client_auth=True
logging_level=ERROR
database_path=%s
`, host, port, pki.ServerCert, pki.ServerKey, pki.CACert, pol, filepath.Join(dir, "pykmip.db"))
		if err := os.WriteFile(filepath.Join(dir, "server.conf"), []byte(conf), 0o600); err != nil {
			return nil, err
		}
		argv = []string{pykmip, "-f", filepath.Join(dir, "server.conf"), "-l", s.logf}
	case "null":
		argv = []string{self, "null", "-addr", addr, "-pprof", s.pprof, "-ca", pki.CACert, "-cert", pki.ServerCert, "-key", pki.ServerKey}
	}
	argv = append(append([]string{}, pin...), argv...)
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = dir
	outf, err := os.Create(filepath.Join(dir, "stdout.txt"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = outf, outf
	if err := s.cmd.Start(); err != nil {
		outf.Close()
		return nil, err
	}
	go func() { s.cmd.Wait(); outf.Close(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 2 * time.Second}}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			out, _ := os.ReadFile(filepath.Join(dir, "stdout.txt"))
			return nil, fmt.Errorf("exited during start-up: %s", bytes.TrimSpace(out))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("no TLS handshake within 60s: %v", err)
		}
	}
}

// storageLocation is the [storage] key naming kmipd's store: url for
// postgres, else a file in dir.
func storageLocation(storage, dir, url string) string {
	if storage == "postgres" {
		return fmt.Sprintf("url = %q", url)
	}
	return fmt.Sprintf("path = %q", filepath.Join(dir, "kmipd-"+storage+".db"))
}

// stop ends the server with SIGTERM, or SIGKILL after 15 seconds.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("did not exit within 15s of SIGTERM; killed")
	}
}

// mem is a process's resident memory in kB: VmRSS, and RssAnon, its part
// not backed by files (bbolt's memory-mapped database counts in VmRSS only).
type mem struct{ rss, anon int64 }

// memOf reads pid's memory from /proc/PID/status; unknown fields are -1.
func memOf(pid int) mem {
	m := mem{-1, -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.rss = n
		case "RssAnon":
			m.anon = n
		}
	}
	return m
}

// procStatFields returns the fields of /proc/PID/stat after the command
// name (field 3 on, so field n is at index n-3), or nil.
func procStatFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name (field 2) may hold spaces; fields follow its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// cpuTime returns the user plus system CPU time pid has used (fields 14
// and 15 of /proc/PID/stat, in clock ticks of 1/100 s), or -1.
func cpuTime(pid int) time.Duration {
	f := procStatFields(pid)
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+s) * 10 * time.Millisecond
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "-dirty"
	}
	return c
}

// onlineCPUs counts the machine's CPUs (not this process's affinity mask,
// which pinning narrows).
func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		z := a
		if found {
			z, _ = strconv.Atoi(hi)
		}
		n += z - a + 1
	}
	return n
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
