// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in a
// temporary directory, the server listening only on a Unix socket inside it
// (and on a free loopback TCP port when asked), fsync on so that crash tests
// mean something, run as a non-root user as PostgreSQL requires (Debian's
// postgres user when the test runs as root). It is a non-test package so that
// the adapter's tests and the test/ packages share it.
//
// A test package starts one cluster in TestMain with Main and gives each test
// its own database with NewDatabase. Child processes a test starts (a crash
// test's child, say) inherit the cluster through the KMIPD_PGTEST_DSN
// environment variable, which also points the tests at an existing server.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the key=value connection
// string of the cluster's maintenance database; Main sets it for child
// processes, and uses the server it names instead of starting one when it is
// set already.
const EnvDSN = "KMIPD_PGTEST_DSN"

// Superuser is the role initdb creates in a cluster started here.
const Superuser = "kmipd"

// Cluster is a running PostgreSQL server.
type Cluster struct {
	// DSN is the key=value connection string of the maintenance database
	// "postgres" (host is the socket directory).
	DSN string
	// SocketDir is the directory of the server's Unix socket, Port its port
	// number (the socket is SocketDir/.s.PGSQL.Port; TCP on 127.0.0.1 too when
	// started with TCP).
	SocketDir string
	Port      int
	// DataDir is the cluster's data directory; empty for a server not started here.
	DataDir string

	root     string // temporary directory removed by Stop
	bin      string
	cred     *syscall.Credential
	tcp      bool
	tls      bool
	password string
	stopMu   sync.Mutex
}

// Options for Start.
type Options struct {
	// TCP makes the server listen on a free 127.0.0.1 port as well.
	TCP bool
	// TLSCertPEM and TLSKeyPEM, when set, turn on TLS (ssl = on) with this
	// server certificate chain and key.
	TLSCertPEM, TLSKeyPEM []byte
	// Password, when set, is the superuser's password, and every
	// connection must give it (scram-sha-256); DSN includes it.
	Password string
}

// ErrNotInstalled is returned by Start when no initdb is found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL (initdb, pg_ctl) is not installed; apt-get install postgresql")

// binDir returns the directory holding initdb and pg_ctl: PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initializes and starts a new cluster; Stop stops it and removes its files.
func Start(opt Options) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(tempParent(), "kmipd-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, root: root, SocketDir: root, DataDir: filepath.Join(root, "data"), Port: 5432, tcp: opt.TCP,
		tls: len(opt.TLSCertPEM) > 0}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as the postgres user and
		// give it the directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(root)
			return nil, fmt.Errorf("pgtest: running as root and there is no postgres user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(root, uid, gid); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	initdb := []string{"-D", c.DataDir, "-U", Superuser, "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}
	if opt.Password != "" {
		pwfile := filepath.Join(root, "pwfile")
		if err := os.WriteFile(pwfile, []byte(opt.Password+"\n"), 0o600); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
		if c.cred != nil {
			os.Chown(pwfile, int(c.cred.Uid), int(c.cred.Gid))
		}
		initdb = append(initdb, "--auth=scram-sha-256", "--pwfile="+pwfile)
		c.password = opt.Password
	} else {
		initdb = append(initdb, "--auth=trust")
	}
	if err := c.run("initdb", initdb...); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if c.tls {
		if err := c.writeTLSFiles(opt.TLSCertPEM, opt.TLSKeyPEM); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	if err := c.startServer(true); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	c.DSN = c.dsn("postgres")
	return c, nil
}

// startServer starts the server on the existing data directory; with TCP
// and pickPort it tries a few free ports (another process may take one first).
func (c *Cluster) startServer(pickPort bool) error {
	var err error
	for range 5 {
		listen := "''"
		if c.tcp {
			if pickPort {
				if c.Port, err = freePort(); err != nil {
					return err
				}
			}
			listen = "127.0.0.1"
		}
		opts := strings.Join([]string{
			"-c listen_addresses=" + listen,
			"-c port=" + strconv.Itoa(c.Port),
			"-c unix_socket_directories=" + c.SocketDir,
			"-c fsync=on -c synchronous_commit=on -c full_page_writes=on",
			"-c max_connections=300 -c shared_buffers=32MB",
			"-c log_min_messages=warning",
		}, " ")
		if c.tls {
			opts += " -c ssl=on -c ssl_cert_file=" + filepath.Join(c.root, "server.crt") +
				" -c ssl_key_file=" + filepath.Join(c.root, "server.key")
		}
		err = c.run("pg_ctl", "-D", c.DataDir, "-l", filepath.Join(c.root, "server.log"), "-w", "-t", "60", "-o", opts, "start")
		if err == nil || !c.tcp || !pickPort {
			return err
		}
	}
	return err
}

// StartStandby starts a streaming-replication standby of c (a hot standby
// cloned with pg_basebackup) listening on a free 127.0.0.1 port and a
// socket of its own; Stop it like any cluster, Promote makes it a primary.
func (c *Cluster) StartStandby() (*Cluster, error) {
	if c.DataDir == "" {
		return nil, errors.New("pgtest: cannot clone a server not started here")
	}
	root, err := os.MkdirTemp(tempParent(), "kmipd-pg-")
	if err != nil {
		return nil, err
	}
	sb := &Cluster{bin: c.bin, root: root, SocketDir: root, DataDir: filepath.Join(root, "data"), cred: c.cred, tcp: true}
	if c.cred != nil {
		if err := os.Chown(root, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	if err := sb.run("pg_basebackup", "-h", c.SocketDir, "-p", strconv.Itoa(c.Port), "-U", Superuser,
		"-D", sb.DataDir, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if err := sb.startServer(true); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	sb.DSN = sb.dsn("postgres")
	return sb, nil
}

// Promote ends a standby's recovery and makes it a primary, waiting until
// it accepts writes.
func (c *Cluster) Promote() error {
	return c.run("pg_ctl", "-D", c.DataDir, "-w", "promote")
}

// writeTLSFiles writes the server's certificate and key where the server
// reads them, owned by the server's user (PostgreSQL refuses a key file
// others can read).
func (c *Cluster) writeTLSFiles(certPEM, keyPEM []byte) error {
	for name, b := range map[string][]byte{"server.crt": certPEM, "server.key": keyPEM} {
		path := filepath.Join(c.root, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		if c.cred != nil {
			if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Restart stops the server (fast mode: clients are disconnected, their
// transactions rolled back) and starts it again on the same port.
func (c *Cluster) Restart() error {
	if err := c.StopServer(); err != nil {
		return err
	}
	return c.StartServer()
}

// StopServer stops the server (fast mode), keeping its files.
func (c *Cluster) StopServer() error { return c.stop("fast") }

// CrashServer stops the server as a crash would (immediate mode: no
// checkpoint, the next start replays the WAL), keeping its files.
func (c *Cluster) CrashServer() error { return c.stop("immediate") }

func (c *Cluster) stop(mode string) error {
	if c.DataDir == "" {
		return errors.New("pgtest: cannot stop a server not started here")
	}
	return c.run("pg_ctl", "-D", c.DataDir, "-m", mode, "-w", "stop")
}

// StartServer starts a server stopped by StopServer, on the same port.
func (c *Cluster) StartServer() error {
	if c.DataDir == "" {
		return errors.New("pgtest: cannot start a server not started here")
	}
	return c.startServer(false)
}

// Stop stops the server and removes its files; a server not started here is left alone.
func (c *Cluster) Stop() error {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.root == "" {
		return nil
	}
	err := c.run("pg_ctl", "-D", c.DataDir, "-m", "immediate", "-w", "stop")
	if rerr := os.RemoveAll(c.root); err == nil {
		err = rerr
	}
	c.root = ""
	return err
}

// run runs one PostgreSQL program as the cluster's user.
func (c *Cluster) run(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.root, "server.log"))
		return fmt.Errorf("pgtest: %s %s: %w\n%s\n%s", prog, strings.Join(args, " "), err, out.String(), log)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dsn(db string) string {
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", c.SocketDir, c.Port, Superuser, db)
	if c.password != "" {
		dsn += " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(c.password) + "'"
	}
	return dsn
}

// DSNWithoutPassword returns the connection string of database db without
// the password, for tests that give it another way.
func (c *Cluster) DSNWithoutPassword(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", c.SocketDir, c.Port, Superuser, db)
}

// URL returns a postgres:// URL of database db over TCP, for a cluster
// started with TCP.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDatabase creates database name (quoted as an identifier) and returns
// its key=value connection string; it is not an error if it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
			var again bool
			if qerr := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&again); qerr != nil || !again {
				return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
			}
		}
	}
	return c.dsnFor(name), nil
}

// dsnFor returns the connection string of database db on the server of c.DSN.
func (c *Cluster) dsnFor(db string) string {
	fields := strings.Fields(c.DSN)
	for i, f := range fields {
		if strings.HasPrefix(f, "dbname=") {
			fields[i] = "dbname=" + db
		}
	}
	return strings.Join(fields, " ")
}

var (
	shared    *Cluster
	sharedErr error
)

// Main runs a test package's tests with a cluster shared by them: the one
// named by KMIPD_PGTEST_DSN if set, else a new one (set in KMIPD_PGTEST_DSN
// for child processes, and stopped when the tests end). Use it as
// `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, pgtest.Options{})) }`.
// When PostgreSQL is missing the tests run and Shared skips them (fails them
// when CI is set).
func Main(m *testing.M, opt Options) int {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		shared = &Cluster{DSN: dsn}
		return m.Run()
	}
	shared, sharedErr = Start(opt)
	if sharedErr == nil {
		os.Setenv(EnvDSN, shared.DSN)
		defer shared.Stop()
	}
	return m.Run()
}

// StartT starts a cluster of the test's own, stopped when the test ends. It
// skips t when PostgreSQL is missing, or fails it when CI is set.
func StartT(t testing.TB, opt Options) *Cluster {
	t.Helper()
	c, err := Start(opt)
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
			t.Skipf("skipping, no PostgreSQL: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// Shared returns the cluster Main started. Without one it skips t, or fails
// it when the CI environment variable is set: CI must run these tests.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	if shared != nil && sharedErr == nil {
		return shared
	}
	err := sharedErr
	if err == nil {
		err = errors.New("pgtest: the test package's TestMain does not call pgtest.Main")
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is needed in CI: %v", err)
	}
	t.Skipf("skipping, no PostgreSQL: %v", err)
	return nil
}

// NewDatabase creates a database named after the test (plus a counter) on the
// shared cluster and returns its connection string. Databases are left to
// the cluster's removal at the end.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, err := c.CreateDatabase(ctx, DatabaseName(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

var dbSeq struct {
	sync.Mutex
	n int
}

// DatabaseName returns a fresh database name derived from s.
func DatabaseName(s string) string {
	dbSeq.Lock()
	dbSeq.n++
	n := dbSeq.n
	dbSeq.Unlock()
	return fmt.Sprintf("%s_%d_%d", Sanitize(s, 40), os.Getpid(), n)
}

// Sanitize returns s as a lower-case identifier of at most max letters, digits and underscores.
func Sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return "t" + out
}

// DSNFor returns the connection string of database db on the shared cluster's server.
func (c *Cluster) DSNFor(db string) string { return c.dsnFor(db) }

// tempParent is where clusters get their directory: /tmp when it exists,
// since the server's user must be able to pass through every parent
// directory (a root test's TMPDIR may be private) and a Unix socket's path
// must be short (about 100 bytes); else the system's temporary directory.
func tempParent() string {
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}
