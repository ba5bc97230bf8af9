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
	var f serveFlags
	fs := newServeFlagSet(&f, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kmipd: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if f.version {
		fmt.Fprintf(stdout, "kmipd %s\n", kmipdVersion())
		return exitOK
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return code
	}

	cfg, err := loadConfig(fs, &f)
	if err != nil {
		return fail(exitConfig, err)
	}
	var dev *kmiptls.DevPKI
	if f.dev {
		if dev, err = ensureDevPKI(f.devDir, &cfg); err != nil {
			return fail(exitConfig, err)
		}
		if err := devSeal(f.devDir, &cfg.Seal); err != nil {
			return fail(exitConfig, err)
		}
	}
	if err := cfg.checkFiles(); err != nil {
		return fail(exitConfig, err)
	}
	s := cfg.Server
	tlsConfig, tlsWarnings, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{
		CertFile:     s.CertificatePath,
		KeyFile:      s.KeyPath,
		CAFile:       s.CAPath,
		CipherSuites: s.TLSCipherSuites,
		AuthSuite:    s.AuthSuite,
	})
	if err != nil {
		return fail(exitConfig, fmt.Errorf("server TLS: %w", err))
	}
	engine, err := cryptoEngines[cfg.Crypto.Type](cfg.Crypto)
	if err != nil {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			err = &ConfigError{Key: "crypto.type", Value: cfg.Crypto.Type, Err: err}
		}
		return fail(exitConfig, err)
	}
	if c, ok := engine.(io.Closer); ok {
		defer c.Close()
	}
	kek, err := cfg.Seal.openKEKs() // after the engine: it may share the PKCS#11 module
	if err != nil {
		return fail(exitConfig, err)
	}
	if kek != nil {
		defer kek.Close()
	}
	log, logOut, err := newLogger(s, stderr)
	if err != nil {
		return fail(exitConfig, &ConfigError{Key: "server.log_path", Value: s.LogPath, Err: err})
	}
	if logOut != nil {
		defer logOut.Close()
	}
	for _, w := range tlsWarnings {
		log.Warn().Str("component", "tls").Msg(w)
	}
	crl, err := openCRL(s, log)
	if err != nil {
		return fail(exitConfig, err)
	}
	ca, err := cfg.CA.load()
	if err != nil {
		return fail(exitConfig, err)
	}

	// From here on, failures are runtime failures (exit 1), except a store
	// that is missing when it may not be created or is not a kmipd store.
	metrics := telemetry.New()
	cfg.Storage.onCommit = metrics.StoreCommitted
	cfg.Policy.onLoad = metrics.PolicyLoaded
	if st, ok := engine.(interface{ Stats() (int, int, uint64) }); ok {
		metrics.HSMPool(st.Stats)
	}
	store, err := openStore(cfg, f.config)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return fail(exitConfig, err)
		}
		log.Error().Err(err).Str("storage", cfg.Storage.Type).Str("path", cfg.Storage.Path).Msg("opening the store failed")
		return fail(exitFailed, fmt.Errorf("storage %s %q: %w", cfg.Storage.Type, cfg.Storage.Path, err))
	}
	if err := logStoreOpened(ctx, store, cfg.Storage, log); err != nil {
		store.Close()
		return fail(exitFailed, fmt.Errorf("storage %s %q: %w", cfg.Storage.Type, cfg.Storage.Path, err))
	}
	storeOpen := true
	closeStore := func() error {
		if !storeOpen {
			return nil
		}
		storeOpen = false
		err := store.Close()
		if err != nil {
			log.Error().Err(err).Msg("closing the store failed")
		}
		return err
	}
	defer closeStore()
	appStore, resealer, err := openSealed(cfg, kek, store, f.dev, log) // closing store closes it
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return fail(exitConfig, err)
		}
		log.Error().Err(err).Msg("checking the store's seal failed")
		return fail(exitFailed, err)
	}
	acc, err := buildAccess(cfg, log, metrics.Authenticator)
	if err != nil {
		log.Error().Err(err).Msg("access control configuration failed")
		if errors.As(err, new(*ConfigError)) {
			return fail(exitConfig, err)
		}
		return fail(exitFailed, err)
	}
	auditor, err := openAudit(cfg.Audit, kek, metrics.AuditWriteFailed)
	if err != nil {
		return fail(exitConfig, err)
	}
	var appAuditor ports.Auditor
	if auditor != nil {
		defer auditor.Close()
		appAuditor = auditor
	}
	svc := app.New(app.Config{
		Store:         appStore,
		Crypto:        engine,
		Log:           log.With().Str("component", "app").Logger(),
		Policies:      acc.policies,
		ServerName:    "kmipd",
		ServerVersion: kmipdVersion(),
		MaxBatchItems: s.MaxBatchItems,
		LeaseTime:     time.Duration(s.LeaseTime),
		StrictNames:   s.StrictNames,
		NameLocks:     nameLocksOf(store),
		Limits:        s.ResourceLimits.app(),
		SealedAtRest:  cfg.Seal.sealed(),
		Auditor:       appAuditor,
		AuditFailOpen: !bool(cfg.Audit.FailClosed),
		CA:            ca,
		ServesHTTPS:   cfg.HTTPS.Address != "",
		Async:         s.AsyncConfig.app(),
	})
	if ca != nil {
		if err := checkCA(ctx, &cfg.CA, svc); err != nil {
			return fail(exitConfig, err)
		}
		log.Info().Str("validity", time.Duration(cfg.CA.Validity).String()).Msg("certificate authority configured: Certify and Re-certify are offered")
	}
	// Session tickets: keys shared by the store's nodes (config_tickets.go).
	prepareTLS, stopTickets, err := sessionTickets(s.SessionTickets, appStore, log.With().Str("component", "tls").Logger())
	if err != nil {
		return fail(exitConfig, err)
	}
	defer stopTickets() // idempotent; also called before the store is closed
	// The KMIP listeners (TTLV and HTTPS, which takes srv's) share the
	// store's ticket keys; the admin listener keeps its own.
	kmipTLS := tlsConfig.Clone()
	prepareTLS(kmipTLS)
	cgroupLimit := cgroupMemoryLimit()
	applyMemoryLimit(cgroupLimit, log)
	budget := memoryBudget(s, cgroupLimit)
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		log.Error().Err(err).Str("addr", s.Addr()).Msg("listening failed")
		return fail(exitFailed, err)
	}
	metrics.CountFunc("kmipd_key_material_unavailable_total",
		"Requests refused because the HSM no longer holds the object's key material.", svc.KeyMaterialUnavailable)
	srv := &kmiptls.Server{
		Handler:              metrics.MessageHandler(svc),
		TLSConfig:            kmipTLS,
		RequireClientAuthEKU: bool(s.EnableTLSClientAuth),
		CRL:                  crl,
		Settings:             listenerSettings(s),
		MemoryBudget:         budget,
		ClientMemoryBudget:   s.MemoryBudgetPerClient,
		Authenticate:         acc.authenticate,
		Log:                  log.With().Str("component", "tls").Logger(),
		Events:               kmiptls.ConnEvents{Opened: metrics.ConnOpened, Closed: metrics.ConnClosed, HandshakeFailed: metrics.HandshakeFailed},
	}
	https, err := listenHTTPS(cfg.HTTPS, srv, log)
	if err != nil {
		ln.Close()
		log.Error().Err(err).Msg("listening failed")
		return fail(exitFailed, err)
	}
	log.Info().
		Str("version", kmipdVersion()).
		Str("addr", ln.Addr().String()).
		Str("https_addr", https.Addr()).
		Str("storage", cfg.Storage.Type).
		Str("storage_path", cfg.Storage.Path).
		Str("crypto", cfg.Crypto.Type).
		Str("seal", orNone(cfg.Seal.Type)).
		Str("auth_suite", s.AuthSuite).
		Bool("client_auth_eku", bool(s.EnableTLSClientAuth)).
		Str("logging_level", s.LoggingLevel).
		Int64("memory_budget", budget).
		Msg("kmipd started")
	// The development client configuration is written before the listening
	// line, so whoever waits for that line finds pykmip.conf in place.
	if dev != nil {
		if err := writeDevBanner(stdout, f.devDir, *dev, ln.Addr().(*net.TCPAddr)); err != nil {
			log.Warn().Err(err).Msg("writing the development client configuration failed")
		}
		if https != nil {
			_ = writeDevHTTPSBanner(stdout, *dev, https.Addr())
		}
	}
	if https != nil {
		fmt.Fprintf(stderr, "kmipd: HTTPS listening on %s\n", https.Addr())
	}
	fmt.Fprintf(stderr, "kmipd: listening on %s\n", ln.Addr())

	snapshot, _ := store.(ports.Snapshotter)
	adminSrv, stopAdmin, err := startAdmin(cfg.Admin, tlsConfig, metrics, readinessChecks(store, engine),
		snapshot, filepath.Dir(cfg.Storage.Path), log)
	if err != nil {
		log.Error().Err(err).Str("addr", cfg.Admin.Address).Msg("admin listener failed")
		return fail(exitFailed, err)
	}
	defer stopAdmin()

	if s.PprofAddress != "" {
		stopPprof, err := startPprof(s.PprofAddress, log)
		if err != nil {
			log.Error().Err(err).Str("addr", s.PprofAddress).Msg("pprof listener failed")
			return fail(exitFailed, err)
		}
		defer stopPprof()
	}

	sigCtx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The watcher ends before the store and the log are closed.
	stopStoreWatch := watchStore(store, log.With().Str("component", "storage").Logger())
	defer stopStoreWatch()
	if acc.watch != nil {
		watchCtx, stopWatch := context.WithCancel(context.Background())
		watchDone := make(chan struct{})
		go func() {
			defer close(watchDone)
			acc.watch(watchCtx)
		}()
		// The poller ends before the store and the log are closed.
		defer func() {
			stopWatch()
			<-watchDone
		}()
	}
	if crl != nil {
		defer runPoller(crl.Run)()
	}
	// SIGHUP: the log file reopened (logrotate), the TLS certificate, key
	// and CA bundle, the CRL and the policy directory read again; open
	// connections are kept.
	listeners := []tlsListener{srv}
	if https != nil {
		listeners = append(listeners, https.srv)
	}
	reloaders := []reloader{tlsReloader(s, prepareTLS, listeners...)}
	if logOut != nil {
		reloaders = append([]reloader{{"log", logOut.Reopen}}, reloaders...)
	}
	if crl != nil {
		reloaders = append(reloaders, reloader{"crl", func() error { crl.Reload(); return nil }})
	}
	if acc.rescan != nil {
		reloaders = append(reloaders, reloader{"policies", func() error { acc.rescan(); return nil }})
	}
	if auditor != nil {
		// Until it can be reopened, records fail (and requests with them
		// when fail_closed).
		reloaders = append(reloaders, reloader{"audit", auditor.Reopen})
	}
	if acc.reloadPasswords != nil {
		reloaders = append(reloaders, reloader{"password_file", acc.reloadPasswords})
	}
	defer handleSIGHUP(context.Background(), log, reloaders)()
	if resealer != nil {
		defer runPoller(resealer)() // ends before the store is closed
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	https.serve(serveErr)
	servers := 1
	if https != nil {
		servers++
	}
	select {
	case err := <-serveErr:
		log.Error().Err(err).Msg("serving failed")
		return fail(exitFailed, err)
	case <-sigCtx.Done():
	}
	stop() // A second signal now ends the process at once.
	if adminSrv != nil {
		adminSrv.SetDraining()
	}
	log.Info().Stringer("timeout", time.Duration(s.ShutdownTimeout)).Msg("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Duration(s.ShutdownTimeout))
	defer cancel()
	code := exitOK
	// Both listeners drain at once, within the one shutdown_timeout.
	httpsDone := make(chan error, 1)
	go func() { httpsDone <- https.shutdown(shutCtx) }()
	// Then operations answered Operation Pending finish, or are cancelled
	// (their writes reversed) when the period ends.
	for _, err := range []error{srv.Shutdown(shutCtx), <-httpsDone, svc.DrainAsync(shutCtx)} {
		if err != nil {
			log.Error().Err(err).Msg("shutdown did not finish in-flight requests in time")
			code = exitFailed
		}
	}
	for range servers {
		if err := <-serveErr; !closedNormally(err) {
			log.Error().Err(err).Msg("serving failed")
			code = exitFailed
		}
	}
	stopTickets()
	stopStoreWatch()
	if closeStore() != nil {
		code = exitFailed
	}
	log.Info().Int("exit_status", code).Msg("kmipd stopped")
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
