// Command kmipd is a KMIP server. It reads a PyKMIP-compatible TOML
// configuration, picks the storage and crypto adapters it names, and serves
// KMIP over TLS until SIGTERM or SIGINT.
//
// Exit status: 0 after a clean shutdown, 1 when the server fails while
// running (store, listener, serve or shutdown errors), 2 for usage and
// configuration errors, which are reported before anything is started.
//
// The binary lifts Go's 1024-bit RSA minimum (rsa1024min=0) so that the
// software crypto engine can serve the legacy RSA-512 keys KMIP 1.x clients
// ask for; kmipd's TLS enforces its own, higher minimums on peer
// certificates instead (kmiptls.CheckPeerKeys: RSA 2048, EC 256 bits), for
// KMIP clients and SLUGS services alike.
//
//go:debug rsa1024min=0
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/admin"
	"github.com/kmipd/kmipd/adapters/audit"
	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/adapters/telemetry"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/ports"
)

// Exit statuses. A configuration error has a status of its own, 78
// (EX_CONFIG in sysexits.h), distinct from Go's runtime exit status 2 on a
// fatal error such as running out of memory, so that a supervisor told not
// to restart a misconfigured server still restarts a crashed one.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 64 // EX_USAGE: a bad command line
	exitConfig = 78 // EX_CONFIG: a bad configuration file, flag value or file it names
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// it comes from the module's build information.
var version = ""

func kmipdVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// subcommand is one "kmipd <name> args..." command: a line for kmipd -h,
// and what runs it, returning the exit status.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// subcommands is the one table of kmipd's commands besides serving; each
// file that implements one adds it in its init.
var subcommands = map[string]subcommand{}

// storageOpeners is the one place that maps storage.type to an adapter.
var storageOpeners = map[string]func(StorageConfig, ports.Creation) (ports.Store, error){
	"sqlite": func(c StorageConfig, create ports.Creation) (ports.Store, error) {
		s, err := sqlite.Open(c.Path, sqlite.Options{Create: create, OnCommit: c.onCommit})
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	"bbolt": func(c StorageConfig, create ports.Creation) (ports.Store, error) {
		s, err := bolt.Open(c.Path, bolt.Options{Create: create, OnCommit: c.onCommit})
		if err != nil {
			return nil, err
		}
		return s, nil
	},
	storageTypePostgres: openPostgres, // config_postgres.go
}

// cryptoEngines is the one place that maps crypto.type to an engine.
var cryptoEngines = map[string]func(CryptoConfig) (ports.CryptoEngine, error){
	"software": func(c CryptoConfig) (ports.CryptoEngine, error) {
		return software.NewWithOptions(software.Options{RNG: c.RNG})
	},
	"pkcs11": openPKCS11, // config_hsm.go
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand or serves, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] != "" && !strings.HasPrefix(args[0], "-") {
		cmd, ok := subcommands[args[0]]
		if !ok {
			fmt.Fprintf(stderr, "kmipd: unknown command %q\n", args[0])
			usage(newServeFlagSet(&serveFlags{}, stderr))
			return exitUsage
		}
		return cmd.run(ctx, args[1:], stdout, stderr)
	}
	return serve(ctx, args, stdout, stderr)
}

// serve runs the server until ctx ends or SIGTERM/SIGINT arrives, then
// stops accepting, lets in-flight requests finish (up to
// server.shutdown_timeout), closes the store and returns.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, fs, code, ok := parseServeArgs(args, stdout, stderr)
	if !ok {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return code
	}
	r := &serverRun{f: &f, flags: fs}
	defer r.undo()
	if err := r.configure(stderr); err != nil {
		return fail(exitConfig, err)
	}
	// From here on, failures are runtime failures (exit 1), except a store
	// that is missing when it may not be created or is not a kmipd store.
	for _, step := range []func(context.Context) (int, error){r.openStorage, r.buildService} {
		if code, err := step(ctx); err != nil {
			return fail(code, err)
		}
	}
	if err := r.listen(stdout, stderr); err != nil {
		return fail(exitFailed, err)
	}
	if err := r.startBackground(ctx); err != nil {
		return fail(exitFailed, err)
	}
	serveErr, servers := r.startServing()
	select {
	case err := <-serveErr:
		r.log.Error().Err(err).Msg("serving failed")
		return fail(exitFailed, err)
	case <-r.sigCtx.Done():
	}
	return r.shutdown(serveErr, servers)
}

// parseServeArgs reads the serve flags; ok false means serve is done
// (help, -version or a usage error) and code is its exit status.
func parseServeArgs(args []string, stdout, stderr io.Writer) (f serveFlags, fs *flag.FlagSet, code int, ok bool) {
	fs = newServeFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, fs, exitOK, false
		}
		return f, fs, exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kmipd: unexpected argument %q\n", fs.Arg(0))
		return f, fs, exitUsage, false
	}
	if f.version {
		fmt.Fprintf(stdout, "kmipd %s\n", kmipdVersion())
		return f, fs, exitOK, false
	}
	return f, fs, exitOK, true
}

// serverRun is what serve opens, step by step; undo closes it in the
// reverse order, so each step may stop serve early and leave nothing open.
type serverRun struct {
	f           *serveFlags
	flags       *flag.FlagSet
	cfg         Config
	dev         *kmiptls.DevPKI
	tlsConfig   *tls.Config
	tlsWarnings []string
	engine      ports.CryptoEngine
	kek         *keks
	log         zerolog.Logger
	logOut      *logFile
	crl         *kmiptls.CRL
	ca          *app.CA
	metrics     *telemetry.Metrics
	store       ports.Store
	closeStore  func() error
	appStore    ports.Store
	resealer    func(context.Context)
	acc         access
	auditor     *audit.Writer
	svc         *app.Service
	budget      int64
	ln          net.Listener
	srv         *kmiptls.Server
	https       *httpsListener
	adminSrv    *admin.Server
	sigCtx      context.Context
	stopSignals func()
	stopWatch   func()
	// kmipTLS is tlsConfig prepared with the store's session ticket keys
	// for the KMIP listeners (TTLV and HTTPS); prepareTLS applies them to
	// a renewed configuration and stopTickets ends their refresh.
	kmipTLS     *tls.Config
	prepareTLS  func(*tls.Config)
	stopTickets func()
	undos       []func()
}

// onUndo registers fn to run when serve returns, before everything
// registered earlier.
func (r *serverRun) onUndo(fn func()) { r.undos = append(r.undos, fn) }

// undo runs the registered functions, the last registered first.
func (r *serverRun) undo() {
	for i := len(r.undos) - 1; i >= 0; i-- {
		r.undos[i]()
	}
}

// configure reads the configuration and opens what it names before any
// store: the development PKI, the TLS configuration, the crypto engine,
// the key encryption keys, the log, the CRL and the CA. Every error is a
// configuration error.
func (r *serverRun) configure(stderr io.Writer) error {
	cfg, err := loadConfig(r.flags, r.f)
	if err != nil {
		return err
	}
	if r.f.dev {
		if r.dev, err = ensureDevPKI(r.f.devDir, &cfg); err != nil {
			return err
		}
		if err := devSeal(r.f.devDir, &cfg.Seal); err != nil {
			return err
		}
	}
	if err := cfg.checkFiles(); err != nil {
		return err
	}
	r.cfg = cfg
	s := cfg.Server
	r.tlsConfig, r.tlsWarnings, err = kmiptls.NewTLSConfig(kmiptls.TLSOptions{
		CertFile:     s.CertificatePath,
		KeyFile:      s.KeyPath,
		CAFile:       s.CAPath,
		CipherSuites: s.TLSCipherSuites,
		AuthSuite:    s.AuthSuite,
	})
	if err != nil {
		return fmt.Errorf("server TLS: %w", err)
	}
	if err := r.openCrypto(); err != nil {
		return err
	}
	return r.openLog(stderr)
}

// openCrypto opens the crypto engine, then the key encryption keys (which
// may share its PKCS#11 module); both close when serve returns.
func (r *serverRun) openCrypto() error {
	engine, err := cryptoEngines[r.cfg.Crypto.Type](r.cfg.Crypto)
	if err != nil {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			err = &ConfigError{Key: "crypto.type", Value: r.cfg.Crypto.Type, Err: err}
		}
		return err
	}
	r.engine = engine
	if c, ok := engine.(io.Closer); ok {
		r.onUndo(func() { c.Close() })
	}
	kek, err := r.cfg.Seal.openKEKs() // after the engine: it may share the PKCS#11 module
	if err != nil {
		return err
	}
	if kek != nil {
		r.kek = kek
		r.onUndo(func() { kek.Close() })
	}
	return nil
}

// openLog opens the process log (closed when serve returns) and reports
// the TLS warnings in it, then loads the CRL and the CA.
func (r *serverRun) openLog(stderr io.Writer) error {
	s := r.cfg.Server
	log, logOut, err := newLogger(s, stderr)
	if err != nil {
		return &ConfigError{Key: "server.log_path", Value: s.LogPath, Err: err}
	}
	r.log, r.logOut = log, logOut
	if logOut != nil {
		r.onUndo(func() { logOut.Close() })
	}
	for _, w := range r.tlsWarnings {
		log.Warn().Str("component", "tls").Msg(w)
	}
	if r.crl, err = openCRL(s, log); err != nil {
		return err
	}
	r.ca, err = r.cfg.CA.load()
	return err
}

// openStorage opens the store (closed when serve returns, or earlier by
// shutdown) and its seal; a store that may not be created or is not a
// kmipd store is a configuration error, any other failure a runtime one.
func (r *serverRun) openStorage(ctx context.Context) (int, error) {
	cfg := &r.cfg
	r.metrics = telemetry.New()
	cfg.Storage.onCommit = r.metrics.StoreCommitted
	cfg.Policy.onLoad = r.metrics.PolicyLoaded
	if st, ok := r.engine.(interface{ Stats() (int, int, uint64) }); ok {
		r.metrics.HSMPool(st.Stats)
	}
	store, err := openStore(*cfg, r.f.config)
	if err != nil {
		if errors.As(err, new(*ConfigError)) {
			return exitConfig, err
		}
		r.log.Error().Err(err).Str("storage", cfg.Storage.Type).Str("path", cfg.Storage.Path).Msg("opening the store failed")
		return exitFailed, fmt.Errorf("storage %s %q: %w", cfg.Storage.Type, cfg.Storage.Path, err)
	}
	if err := logStoreOpened(ctx, store, cfg.Storage, r.log); err != nil {
		store.Close()
		return exitFailed, fmt.Errorf("storage %s %q: %w", cfg.Storage.Type, cfg.Storage.Path, err)
	}
	r.store = store
	storeOpen := true
	r.closeStore = func() error {
		if !storeOpen {
			return nil
		}
		storeOpen = false
		err := store.Close()
		if err != nil {
			r.log.Error().Err(err).Msg("closing the store failed")
		}
		return err
	}
	r.onUndo(func() { r.closeStore() })
	r.appStore, r.resealer, err = openSealed(*cfg, r.kek, store, r.f.dev, r.log) // closing store closes it
	if err != nil {
		if errors.As(err, new(*ConfigError)) {
			return exitConfig, err
		}
		r.log.Error().Err(err).Msg("checking the store's seal failed")
		return exitFailed, err
	}
	return exitOK, nil
}

// buildService sets up access control and the audit trail (closed when
// serve returns) and builds the KMIP service over the store, checking
// the CA against it when one is configured.
func (r *serverRun) buildService(ctx context.Context) (int, error) {
	cfg, s := &r.cfg, r.cfg.Server
	acc, err := buildAccess(*cfg, r.log, r.metrics.Authenticator)
	if err != nil {
		r.log.Error().Err(err).Msg("access control configuration failed")
		if errors.As(err, new(*ConfigError)) {
			return exitConfig, err
		}
		return exitFailed, err
	}
	r.acc = acc
	auditor, err := openAudit(cfg.Audit, r.kek, r.metrics.AuditWriteFailed)
	if err != nil {
		return exitConfig, err
	}
	var appAuditor ports.Auditor
	if auditor != nil {
		r.auditor = auditor
		r.onUndo(func() { auditor.Close() })
		appAuditor = auditor
	}
	r.svc = app.New(app.Config{
		Store:         r.appStore,
		Crypto:        r.engine,
		Log:           r.log.With().Str("component", "app").Logger(),
		Policies:      acc.policies,
		ServerName:    "kmipd",
		ServerVersion: kmipdVersion(),
		MaxBatchItems: s.MaxBatchItems,
		LeaseTime:     time.Duration(s.LeaseTime),
		StrictNames:   s.StrictNames,
		NameLocks:     nameLocksOf(r.store),
		Limits:        s.ResourceLimits.app(),
		SealedAtRest:  cfg.Seal.sealed(),
		Auditor:       appAuditor,
		AuditFailOpen: !bool(cfg.Audit.FailClosed),
		CA:            r.ca,
		ServesHTTPS:   cfg.HTTPS.Address != "",
		Async:         s.AsyncConfig.app(),
	})
	if r.ca != nil {
		if err := checkCA(ctx, &cfg.CA, r.svc); err != nil {
			return exitConfig, err
		}
		r.log.Info().Str("validity", time.Duration(cfg.CA.Validity).String()).Msg("certificate authority configured: Certify and Re-certify are offered")
	}
	return r.shareSessionTickets()
}

// shareSessionTickets prepares the KMIP listeners' TLS configuration with
// the session ticket keys every node on the store shares
// (config_tickets.go); the admin listener keeps its own.
func (r *serverRun) shareSessionTickets() (int, error) {
	prepare, stop, err := sessionTickets(r.cfg.Server.SessionTickets, r.appStore, r.log.With().Str("component", "tls").Logger())
	if err != nil {
		return exitConfig, err
	}
	r.prepareTLS, r.stopTickets = prepare, stop
	r.onUndo(stop) // idempotent; shutdown also calls it before the store closes
	r.kmipTLS = r.tlsConfig.Clone()
	prepare(r.kmipTLS)
	return exitOK, nil
}

// listen applies the memory limits, opens the KMIP and HTTPS listeners,
// logs "kmipd started", writes the development banners and prints the
// listening lines, in that order, so whoever waits for a listening line
// finds the development client configuration in place.
func (r *serverRun) listen(stdout, stderr io.Writer) error {
	s := r.cfg.Server
	cgroupLimit := cgroupMemoryLimit()
	applyMemoryLimit(cgroupLimit, r.log)
	r.budget = memoryBudget(s, cgroupLimit)
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		r.log.Error().Err(err).Str("addr", s.Addr()).Msg("listening failed")
		return err
	}
	r.ln = ln
	r.metrics.CountFunc("kmipd_key_material_unavailable_total",
		"Requests refused because the HSM no longer holds the object's key material.", r.svc.KeyMaterialUnavailable)
	r.srv = r.kmipServer()
	if r.https, err = listenHTTPS(r.cfg.HTTPS, r.srv, r.log); err != nil {
		ln.Close()
		r.log.Error().Err(err).Msg("listening failed")
		return err
	}
	r.logStarted()
	// The development client configuration is written before the listening
	// line, so whoever waits for that line finds pykmip.conf in place.
	if r.dev != nil {
		if err := writeDevBanner(stdout, r.f.devDir, *r.dev, ln.Addr().(*net.TCPAddr)); err != nil {
			r.log.Warn().Err(err).Msg("writing the development client configuration failed")
		}
		if r.https != nil {
			_ = writeDevHTTPSBanner(stdout, *r.dev, r.https.Addr())
		}
	}
	if r.https != nil {
		fmt.Fprintf(stderr, "kmipd: HTTPS listening on %s\n", r.https.Addr())
	}
	fmt.Fprintf(stderr, "kmipd: listening on %s\n", ln.Addr())
	return nil
}

// kmipServer is the KMIP-over-TLS server the server section configures.
func (r *serverRun) kmipServer() *kmiptls.Server {
	s, m := r.cfg.Server, r.metrics
	return &kmiptls.Server{
		Handler:              m.MessageHandler(r.svc),
		TLSConfig:            r.kmipTLS,
		RequireClientAuthEKU: bool(s.EnableTLSClientAuth),
		CRL:                  r.crl,
		Settings:             listenerSettings(s),
		MemoryBudget:         r.budget,
		ClientMemoryBudget:   s.MemoryBudgetPerClient,
		Authenticate:         r.acc.authenticate,
		Log:                  r.log.With().Str("component", "tls").Logger(),
		Events:               kmiptls.ConnEvents{Opened: m.ConnOpened, Closed: m.ConnClosed, HandshakeFailed: m.HandshakeFailed},
	}
}

// logStarted logs the "kmipd started" line with what the server runs on.
func (r *serverRun) logStarted() {
	cfg, s := r.cfg, r.cfg.Server
	r.log.Info().
		Str("version", kmipdVersion()).
		Str("addr", r.ln.Addr().String()).
		Str("https_addr", r.https.Addr()).
		Str("storage", cfg.Storage.Type).
		Str("storage_path", cfg.Storage.Path).
		Str("crypto", cfg.Crypto.Type).
		Str("seal", orNone(cfg.Seal.Type)).
		Str("auth_suite", s.AuthSuite).
		Bool("client_auth_eku", bool(s.EnableTLSClientAuth)).
		Str("logging_level", s.LoggingLevel).
		Int64("memory_budget", r.budget).
		Msg("kmipd started")
}

// startBackground starts the admin and pprof listeners, the signal
// watch, the store, policy and CRL watchers, the SIGHUP reloads and the
// resealer; each stops when serve returns, the last started first.
func (r *serverRun) startBackground(ctx context.Context) error {
	cfg, s := r.cfg, r.cfg.Server
	snapshot, _ := r.store.(ports.Snapshotter)
	adminSrv, stopAdmin, err := startAdmin(cfg.Admin, r.tlsConfig, r.metrics, readinessChecks(r.store, r.engine),
		snapshot, filepath.Dir(cfg.Storage.Path), r.log)
	if err != nil {
		r.log.Error().Err(err).Str("addr", cfg.Admin.Address).Msg("admin listener failed")
		return err
	}
	r.adminSrv = adminSrv
	r.onUndo(stopAdmin)
	if s.PprofAddress != "" {
		stopPprof, err := startPprof(s.PprofAddress, r.log)
		if err != nil {
			r.log.Error().Err(err).Str("addr", s.PprofAddress).Msg("pprof listener failed")
			return err
		}
		r.onUndo(stopPprof)
	}
	r.sigCtx, r.stopSignals = signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	r.onUndo(r.stopSignals)
	// The watcher ends before the store and the log are closed.
	r.stopWatch = watchStore(r.store, r.log.With().Str("component", "storage").Logger())
	r.onUndo(r.stopWatch)
	if r.acc.watch != nil {
		r.onUndo(runPoller(r.acc.watch)) // ends before the store and the log are closed
	}
	if r.crl != nil {
		r.onUndo(runPoller(r.crl.Run))
	}
	r.onUndo(handleSIGHUP(context.Background(), r.log, r.reloaders()))
	if r.resealer != nil {
		r.onUndo(runPoller(r.resealer)) // ends before the store is closed
	}
	return nil
}

// reloaders are what SIGHUP renews: the log file reopened (logrotate), the
// TLS certificate, key and CA bundle, the CRL, the policy directory, the
// audit trail and the password file read again; open connections are kept.
func (r *serverRun) reloaders() []reloader {
	listeners := []tlsListener{r.srv}
	if r.https != nil {
		listeners = append(listeners, r.https.srv)
	}
	reloaders := []reloader{tlsReloader(r.cfg.Server, r.prepareTLS, listeners...)}
	if r.logOut != nil {
		reloaders = append([]reloader{{"log", r.logOut.Reopen}}, reloaders...)
	}
	if r.crl != nil {
		reloaders = append(reloaders, reloader{"crl", func() error { r.crl.Reload(); return nil }})
	}
	if r.acc.rescan != nil {
		reloaders = append(reloaders, reloader{"policies", func() error { r.acc.rescan(); return nil }})
	}
	if r.auditor != nil {
		// Until it can be reopened, records fail (and requests with them
		// when fail_closed).
		reloaders = append(reloaders, reloader{"audit", r.auditor.Reopen})
	}
	if r.acc.reloadPasswords != nil {
		reloaders = append(reloaders, reloader{"password_file", r.acc.reloadPasswords})
	}
	return reloaders
}

// startServing serves the KMIP listener and, when configured, the HTTPS
// one; each reports on serveErr when it stops, and servers counts them.
func (r *serverRun) startServing() (serveErr chan error, servers int) {
	serveErr = make(chan error, 2)
	go func() { serveErr <- r.srv.Serve(r.ln) }()
	r.https.serve(serveErr)
	servers = 1
	if r.https != nil {
		servers++
	}
	return serveErr, servers
}

// shutdown drains both listeners within the one server.shutdown_timeout,
// waits for the servers to stop, stops the store watcher, closes the store
// and returns the exit status: exitFailed when any of that failed.
func (r *serverRun) shutdown(serveErr chan error, servers int) int {
	r.stopSignals() // A second signal now ends the process at once.
	if r.adminSrv != nil {
		r.adminSrv.SetDraining()
	}
	timeout := time.Duration(r.cfg.Server.ShutdownTimeout)
	r.log.Info().Stringer("timeout", timeout).Msg("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	code := exitOK
	// Both listeners drain at once, within the one shutdown_timeout.
	httpsDone := make(chan error, 1)
	go func() { httpsDone <- r.https.shutdown(shutCtx) }()
	// Then operations answered Operation Pending finish, or are cancelled
	// (their writes reversed) when the period ends.
	for _, err := range []error{r.srv.Shutdown(shutCtx), <-httpsDone, r.svc.DrainAsync(shutCtx)} {
		if err != nil {
			r.log.Error().Err(err).Msg("shutdown did not finish in-flight requests in time")
			code = exitFailed
		}
	}
	for range servers {
		if err := <-serveErr; !closedNormally(err) {
			r.log.Error().Err(err).Msg("serving failed")
			code = exitFailed
		}
	}
	r.stopTickets()
	r.stopWatch()
	if r.closeStore() != nil {
		code = exitFailed
	}
	r.log.Info().Int("exit_status", code).Msg("kmipd stopped")
	return code
}

// newLogger returns the process logger: JSON lines appended to
// server.log_path (created 0600) whole or not at all (see logFile), or to
// stderr, human-readable when stderr is a terminal.
func newLogger(s ServerConfig, stderr io.Writer) (zerolog.Logger, *logFile, error) {
	var out io.Writer = stderr
	var lf *logFile
	if s.LogPath != "" {
		f, err := os.OpenFile(s.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return zerolog.Nop(), nil, err
		}
		lf = newLogFile(f, s.LogPath, stderr)
		out = lf
	} else if isTerminal(stderr) {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.RFC3339}
	}
	return zerolog.New(out).Level(loggingLevels[s.LoggingLevel]).With().Timestamp().Logger(), lf, nil
}
