// Package harness builds the real kmipd binary and runs it for integration,
// interoperability and conformance tests: each Server gets its own directory,
// development PKI, free port and configuration file, and is stopped (and
// required to exit 0) when the test ends.
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// Bounds on waiting for the binary. They are safety nets that turn a hung
// server into a clear failure, not assertions about speed.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns the path of a kmipd binary built from this work tree; it
// is built once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		removeStaleBuilds()
		dir, err := os.MkdirTemp("", buildDirPrefix)
		if err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(dir, "kmipd")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/kmipd")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/kmipd: %v\n%s", err, b)
			return
		}
		buildPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// buildDirPrefix names the temporary directories binaries are built into.
const buildDirPrefix = "kmipd-harness-bin-"

// removeStaleBuilds deletes binaries earlier test processes built more than
// a day ago; a test process has no hook to remove its own at exit.
func removeStaleBuilds() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			os.RemoveAll(m)
		}
	}
}

// RepoRoot returns the directory holding go.mod, found by walking up from
// the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no go.mod above the working directory")
		}
		dir = parent
	}
}

// PKI is a development PKI (kmiptls.DevPKI) with the file names tests use.
type PKI struct {
	kmiptls.DevPKI
	// CAFile is the CA certificate the server trusts for client
	// certificates and clients trust for the server's.
	CAFile string
	// ServerCertFile and ServerKeyFile are the server's certificate and key.
	ServerCertFile, ServerKeyFile string
	// ClientCertFile and ClientKeyFile are the admin client's certificate
	// (CN kmiptls.DevClientName, clientAuth extended key usage) and key.
	ClientCertFile, ClientKeyFile string
}

// NewPKI creates a development PKI in dir (or loads the one already there).
func NewPKI(dir string) (PKI, error) {
	p, err := kmiptls.GenerateDevPKI(dir, kmiptls.DevPKIOptions{})
	if err != nil {
		return PKI{}, err
	}
	return PKI{DevPKI: p, CAFile: p.CACert, ServerCertFile: p.ServerCert, ServerKeyFile: p.ServerKey,
		ClientCertFile: p.ClientCert, ClientKeyFile: p.ClientKey}, nil
}

// IssueClientCert issues a certificate for common name cn, with the
// clientAuth extended key usage, into dir and returns its files.
func (p PKI) IssueClientCert(dir, cn string) (certFile, keyFile string, err error) {
	return kmiptls.IssueClientCert(p.DevPKI, dir, cn, true)
}

// Options configure a Server; the zero value runs SQLite and software crypto.
type Options struct {
	// Storage is the storage.type: "sqlite" (default) or "bbolt"; a store
	// that is not a file (PostgreSQL) is set with StorageTOML instead.
	Storage string
	// ExtraServerTOML is appended to the [server] table (one key per line),
	// e.g. "enable_tls_client_auth = false" or "max_message_size = 4096". It
	// must not repeat a key the harness writes: hostname, port,
	// certificate_path, key_path, ca_path, logging_level, log_path, database_path.
	ExtraServerTOML string
	// Crypto is the crypto.type: "software" (default) or "pkcs11" (whose
	// [crypto.pkcs11] table goes in ExtraTOML).
	Crypto string
	// ExtraCryptoTOML is appended to the [crypto] table (one key per line),
	// e.g. `rng = "x9.31-aes256"`; it must not repeat type.
	ExtraCryptoTOML string
	// Env holds extra environment entries ("KEY=value") for the kmipd
	// process, beside the test process's own environment.
	Env []string
	// ExtraTOML is appended at the end of the file, after the [crypto] and
	// [storage] tables: lines before its first table header land in [storage].
	ExtraTOML string
	// Args are extra command-line arguments after -config.
	Args []string
	// DBPath is the storage file; empty means one in the server's directory.
	DBPath string
	// HTTPS serves KMIP over HTTPS too, on a free port (Server.HTTPSAddr).
	HTTPS bool
	// PKIDir is the development PKI's directory; empty means one in the
	// server's own directory. Servers given the same one serve the same
	// certificate and trust the same CA, as nodes behind one load balancer.
	PKIDir string
	// StorageTOML, when set, is the [storage] table's body in place of the
	// type and path the harness writes: a store that is not a file, such as
	// PostgreSQL (PostgresStorage).
	StorageTOML string
}

// Server is a running kmipd process and the files it uses.
type Server struct {
	// Addr is Host:Port.
	Addr string
	Host string
	Port int
	// HTTPSAddr is the HTTPS listener's host:port (Options.HTTPS), or "".
	HTTPSAddr string
	// Dir is the server's private directory; everything below lives in it.
	Dir string
	// PKI is the development PKI the server trusts; its client certificate
	// is the admin client's.
	PKI PKI
	// ConfigPath is the TOML configuration, LogPath the server's log (JSON
	// lines, DEBUG level), DBPath the storage file.
	ConfigPath, LogPath, DBPath string

	bin        string
	args       []string
	env        []string
	stderrPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	clients map[string]*tls.Config
}

// Start runs kmipd with a fresh directory, PKI, port and configuration, and
// returns once a TLS handshake with the admin client certificate succeeds.
// The server is stopped with SIGTERM when the test ends, and the test fails
// if it does not then exit with status 0.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	pkiDir := o.PKIDir
	if pkiDir == "" {
		pkiDir = filepath.Join(dir, "pki")
	}
	pki, err := NewPKI(pkiDir)
	if err != nil {
		t.Fatalf("harness: development PKI: %v", err)
	}
	storage := o.Storage
	if storage == "" {
		storage = "sqlite"
	}
	s := &Server{
		Host:       "127.0.0.1",
		Dir:        dir,
		PKI:        pki,
		ConfigPath: filepath.Join(dir, "kmipd.toml"),
		LogPath:    filepath.Join(dir, "kmipd.log"),
		DBPath:     filepath.Join(dir, "kmipd-"+storage+".db"),
		bin:        bin,
		args:       append([]string{"-config", filepath.Join(dir, "kmipd.toml")}, o.Args...),
		env:        o.Env,
		stderrPath: filepath.Join(dir, "stderr.txt"),
		clients:    map[string]*tls.Config{},
	}
	if o.DBPath != "" {
		s.DBPath = o.DBPath
	}
	// Another process may take the free port before kmipd binds it; try again
	// with a new port when that happens.
	for attempt := 1; ; attempt++ {
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		if o.HTTPS {
			s.HTTPSAddr = net.JoinHostPort(s.Host, strconv.Itoa(freePort(t)))
		}
		if err := os.WriteFile(s.ConfigPath, []byte(s.config(storage, o)), 0o600); err != nil {
			t.Fatal(err)
		}
		err := s.start(t)
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(s.stderr(), "address already in use") {
			continue
		}
		t.Fatalf("harness: kmipd did not start: %v\n%s", err, s.diagnostics())
	}
	t.Cleanup(func() {
		if s.running() {
			s.Stop(t)
		}
	})
	return s
}

func (s *Server) config(storage string, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[server]\nhostname = %q\nport = %d\n", s.Host, s.Port)
	fmt.Fprintf(&b, "certificate_path = %q\nkey_path = %q\nca_path = %q\n", s.PKI.ServerCertFile, s.PKI.ServerKeyFile, s.PKI.CAFile)
	fmt.Fprintf(&b, "logging_level = \"DEBUG\"\nlog_path = %q\ndatabase_path = %q\n", s.LogPath, s.DBPath)
	if o.ExtraServerTOML != "" {
		b.WriteString(strings.TrimRight(o.ExtraServerTOML, "\n") + "\n")
	}
	crypto := o.Crypto
	if crypto == "" {
		crypto = "software"
	}
	fmt.Fprintf(&b, "\n[crypto]\ntype = %q\n", crypto)
	if o.ExtraCryptoTOML != "" {
		b.WriteString(strings.TrimRight(o.ExtraCryptoTOML, "\n") + "\n")
	}
	if o.StorageTOML != "" {
		fmt.Fprintf(&b, "\n[storage]\n%s\n", strings.TrimRight(o.StorageTOML, "\n"))
	} else {
		fmt.Fprintf(&b, "\n[storage]\ntype = %q\npath = %q\n", storage, s.DBPath)
	}
	if o.ExtraTOML != "" {
		b.WriteString(strings.TrimRight(o.ExtraTOML, "\n") + "\n")
	}
	if s.HTTPSAddr != "" {
		fmt.Fprintf(&b, "\n[https]\naddress = %q\n", s.HTTPSAddr)
	}
	return b.String()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start launches the process and waits for a successful handshake.
func (s *Server) start(t testing.TB) error {
	t.Helper()
	stderr, err := os.OpenFile(s.stderrPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		stderr.Close()
		return err
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.waitErr = cmd, exited, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		stderr.Close()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(exited)
	}()

	cfg := s.ClientTLSConfig(t, "")
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for delay := 10 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 200*time.Millisecond) {
		select {
		case <-exited:
			return fmt.Errorf("kmipd exited during start-up: %v", s.exitErr())
		default:
		}
		lastErr = handshake(s.Addr, cfg)
		if lastErr == nil {
			return nil
		}
		time.Sleep(delay)
	}
	s.signal(syscall.SIGKILL)
	<-exited
	return fmt.Errorf("no TLS handshake within %v: %v", startTimeout, lastErr)
}

// handshake dials addr and completes a TLS handshake.
func handshake(addr string, cfg *tls.Config) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *Server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waitErr
}

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM and fails the test unless kmipd exits with status 0
// within 15 seconds (it is killed if it does not exit at all).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("harness: Stop: kmipd is not running (%v)\n%s", s.exitErr(), s.diagnostics())
	}
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.signal(syscall.SIGKILL)
		<-s.exited
		t.Errorf("harness: kmipd did not exit within %v of SIGTERM; killed\n%s", stopTimeout, s.diagnostics())
		return
	}
	if err := s.exitErr(); err != nil {
		t.Errorf("harness: kmipd did not exit 0 after SIGTERM: %v\n%s", err, s.diagnostics())
	}
}

// Terminate sends SIGTERM and returns kmipd's exit error (nil for status
// 0), for tests that expect a failing shutdown; it kills kmipd if it does
// not exit within 15 seconds.
func (s *Server) Terminate(t testing.TB) error {
	t.Helper()
	if !s.running() {
		t.Fatalf("harness: Terminate: kmipd is not running (%v)\n%s", s.exitErr(), s.diagnostics())
	}
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.signal(syscall.SIGKILL)
		<-s.exited
		t.Errorf("harness: kmipd did not exit within %v of SIGTERM; killed\n%s", stopTimeout, s.diagnostics())
	}
	return s.exitErr()
}

// Kill ends kmipd with SIGKILL, as a crash or power loss would, and waits
// for the process to be gone.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("harness: Kill: kmipd is not running (%v)\n%s", s.exitErr(), s.diagnostics())
	}
	s.signal(syscall.SIGKILL)
	<-s.exited
}

// Signal sends sig to kmipd if it runs (SIGHUP: reopen the files it appends to).
func (s *Server) Signal(sig os.Signal) { s.signal(sig) }

// Restart stops kmipd if it runs (requiring a clean exit) and starts it
// again with the same configuration, port and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.running() {
		s.Stop(t)
	}
	if err := s.start(t); err != nil {
		t.Fatalf("harness: kmipd did not restart: %v\n%s", err, s.diagnostics())
	}
}

// ClientTLSConfig returns a TLS client configuration trusting the server's
// CA and presenting a certificate for common name cn with the clientAuth
// extended key usage, issued on first use and cached; cn "" means the
// development PKI's admin client certificate.
func (s *Server) ClientTLSConfig(t testing.TB, cn string) *tls.Config {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[cn]; ok {
		return c.Clone()
	}
	certFile, keyFile := s.PKI.ClientCertFile, s.PKI.ClientKeyFile
	if cn != "" {
		var err error
		certFile, keyFile, err = s.PKI.IssueClientCert(filepath.Join(s.Dir, "clients", safeName(cn)), cn)
		if err != nil {
			t.Fatalf("harness: issuing a client certificate for %q: %v", cn, err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("harness: client certificate %q: %v", cn, err)
	}
	roots, err := loadRoots(s.PKI.CAFile)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		ServerName:   s.Host,
		MinVersion:   tls.VersionTLS12,
	}
	s.clients[cn] = c
	return c.Clone()
}

// loadRoots returns a pool of the certificates in the PEM file caFile.
func loadRoots(caFile string) (*x509.CertPool, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return roots, nil
}

// safeName maps a common name to a directory name.
func safeName(cn string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == 0 {
			return '_'
		}
		return r
	}, cn)
}

// LogContents returns the server's log file as it is now.
func (s *Server) LogContents(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(s.LogPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func (s *Server) stderr() string {
	b, _ := os.ReadFile(s.stderrPath)
	return string(b)
}

// diagnostics returns the process's output and the tail of its log, for
// failure messages.
func (s *Server) diagnostics() string {
	log, _ := os.ReadFile(s.LogPath)
	return fmt.Sprintf("--- kmipd stdout+stderr (%s):\n%s--- last lines of %s:\n%s", s.stderrPath, s.stderr(), s.LogPath, tail(log, 40))
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, nil))
}

// Result is the outcome of one run of the binary.
type Result struct {
	ExitCode       int
	Stdout, Stderr string
}

// Run runs the kmipd binary with args in dir to completion (for commands
// and configurations that exit by themselves) and returns what it printed;
// a run that has not ended after two minutes is killed and fails the test.
func Run(t testing.TB, dir string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("harness: kmipd %q did not exit by itself:\n%s%s", args, r.Stdout, r.Stderr)
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
	default:
		t.Fatalf("harness: running kmipd %q: %v", args, err)
	}
	return r
}
