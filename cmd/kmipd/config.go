package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

// Default values of the configuration; the [server] ones are PyKMIP's except
// database_path, which follows the FHS instead of PyKMIP's /tmp/pykmip.database.
const (
	defaultHostname     = "127.0.0.1"
	defaultPort         = 5696
	defaultAuthSuite    = "Basic"
	defaultLoggingLevel = "INFO"
	defaultDatabasePath = "/var/lib/kmipd/kmipd.db"
	// The transport's own defaults, so that config and server agree.
	defaultMaxMessageSize  = kmiptls.DefaultMaxMessageSize
	defaultReadTimeout     = kmiptls.DefaultReadTimeout
	defaultWriteTimeout    = kmiptls.DefaultWriteTimeout
	defaultIdleTimeout     = kmiptls.DefaultIdleTimeout
	defaultHandshakeTimout = kmiptls.DefaultHandshakeTimeout
	defaultMaxConnections  = kmiptls.DefaultMaxConnections
	defaultShutdownTimeout = 30 * time.Second
	defaultRequestTimeout  = kmiptls.DefaultRequestTimeout
	defaultMaxBatchItems   = 1000
	defaultStorageType     = "sqlite"
	defaultCryptoType      = "software"
	defaultLeaseTime       = time.Hour
	defaultRNG             = software.RNGOS
)

// Config is kmipd's configuration file: PyKMIP's [server] table with kmipd's
// additions, and one typed table per adapter kind ([storage], [crypto]).
type Config struct {
	Server  ServerConfig  `toml:"server"`
	Storage StorageConfig `toml:"storage"`
	Crypto  CryptoConfig  `toml:"crypto"`
	// Auth and Policy configure access control (config_auth.go).
	Auth   AuthConfig   `toml:"auth"`
	Policy PolicyConfig `toml:"policy"`
	// Admin is the operator listener (config_admin.go).
	Admin AdminConfig `toml:"admin"`
	// Seal seals key material at rest (config_seal.go).
	Seal SealConfig `toml:"seal"`
	// HTTPS configures KMIP over HTTPS (config_https.go).
	HTTPS HTTPSConfig `toml:"https"`
	// Audit is the audit trail (config_audit.go).
	Audit AuditConfig `toml:"audit"`
	// CA issues certificates for Certify and Re-certify (config_ca.go).
	CA CAConfig `toml:"ca"`
}

// ServerConfig is the [server] table. The first keys are PyKMIP's, with
// PyKMIP's meanings and defaults (see PyKMIP's server documentation,
// "Configuration"); the zero value of each field means "the default" only
// through defaultConfig, so always start from it.
type ServerConfig struct {
	// Hostname is the address to listen on (default 127.0.0.1).
	Hostname string `toml:"hostname"`
	// Port is the TCP port to listen on (default 5696, the IANA KMIP port).
	Port int `toml:"port"`
	// CertificatePath, KeyPath and CAPath are PEM files: the server
	// certificate (chain), its private key, and the CA that issues client
	// certificates. All three are required.
	CertificatePath string `toml:"certificate_path"`
	KeyPath         string `toml:"key_path"`
	CAPath          string `toml:"ca_path"`
	// CRLPath is a file of certificate revocation lists (PEM or DER) signed
	// by a CA of ca_path; a client certificate it lists is refused. It is
	// reloaded when it changes. Empty means no revocation checking.
	CRLPath string `toml:"crl_path"`
	// AuthSuite is "Basic" (default) or "TLS1.2" (KMIP Profiles v1.4 §3.1).
	AuthSuite string `toml:"auth_suite"`
	// PolicyPath is a directory of operation policy files; empty means only
	// the reserved policies exist.
	PolicyPath string `toml:"policy_path"`
	// EnableTLSClientAuth requires the client certificate to carry the
	// clientAuth extended key usage (default true).
	EnableTLSClientAuth flexBool `toml:"enable_tls_client_auth"`
	// TLSCipherSuites restricts the TLS 1.2 cipher suites; empty means
	// kmiptls.DefaultCipherSuites (ECDHE with AES-GCM or ChaCha20-Poly1305).
	TLSCipherSuites stringList `toml:"tls_cipher_suites"`
	// LoggingLevel is DEBUG, INFO (default), WARNING, ERROR or CRITICAL.
	LoggingLevel string `toml:"logging_level"`
	// DatabasePath is where managed objects are stored when [storage] path
	// is not set (default /var/lib/kmipd/kmipd.db).
	DatabasePath string `toml:"database_path"`
	// LogPath is a file the log is appended to; empty means standard error.
	LogPath string `toml:"log_path"`

	// MaxMessageSize caps one request message in bytes (default 1 MiB).
	MaxMessageSize int `toml:"max_message_size"`
	// ReadTimeout bounds reading one request once it has started (default 30s).
	ReadTimeout duration `toml:"read_timeout"`
	// WriteTimeout bounds writing one response (default 30s).
	WriteTimeout duration `toml:"write_timeout"`
	// IdleTimeout closes a connection idle between requests (default 2m).
	IdleTimeout duration `toml:"idle_timeout"`
	// HandshakeTimeout bounds the TLS handshake (default 10s).
	HandshakeTimeout duration `toml:"handshake_timeout"`
	// MaxConnections caps concurrent client connections (default 1024).
	MaxConnections int `toml:"max_connections"`
	// MemoryBudget bounds the bytes of requests being read and handled and
	// of responses being written; a request that does not fit waits unread
	// (default 0: max_connections × max_message_size, at most half of the
	// cgroup memory limit when one is set; see memoryBudget).
	MemoryBudget int64 `toml:"memory_budget"`
	// MemoryBudgetPerClient bounds the part of the budget one client
	// identity may hold (default 0: half of the budget).
	MemoryBudgetPerClient int64 `toml:"memory_budget_per_client"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM (default 30s).
	ShutdownTimeout duration `toml:"shutdown_timeout"`
	// RequestTimeout bounds handling one request message; it is the
	// deadline storage and crypto see (default 30s).
	RequestTimeout duration `toml:"request_timeout"`
	// MaxBatchItems caps the Batch Count of one request (default 1000).
	MaxBatchItems int `toml:"max_batch_items"`
	// MaxNestingDepth caps Structure nesting in a request, the message
	// itself being depth 1 (default 64, at most 4096).
	MaxNestingDepth int `toml:"max_nesting_depth"`
	// MaxMessageItems caps the TTLV items of one request (default 100000).
	MaxMessageItems int `toml:"max_message_items"`
	// PprofAddress serves Go's pprof profiles over HTTP on this loopback
	// host:port; empty (the default) serves nothing.
	PprofAddress string `toml:"pprof_address"`
	// StrictNames makes every new object's Name Value unique on the server
	// (app.Config.StrictNames); false (the default) lets Create, Register
	// and the like repeat a name, as the reference server and client expect.
	StrictNames bool `toml:"strict_names"`
	// LeaseTime is the Lease Time set on new cryptographic objects and
	// granted by Obtain Lease (default 1h; 0s: no lease limit).
	LeaseTime duration `toml:"lease_time"`
	// ResourceLimits bound what one client makes the server keep
	// (config_limits.go).
	ResourceLimits
	// SessionTickets configure TLS session resumption (config_tickets.go).
	SessionTickets
	// AsyncConfig configures asynchronous operations (config_async.go).
	AsyncConfig
}

// StorageConfig is the [storage] table.
type StorageConfig struct {
	// Type names the storage adapter: "sqlite" (default), "bbolt" or
	// "postgres" (shared by several nodes, config_postgres.go).
	Type string `toml:"type"`
	// Path is the database file; empty means server.database_path.
	Path string `toml:"path"`
	// Create is "auto" (default: create a missing store at start) or
	// "never" (a missing store is a configuration error; kmipd store init
	// creates it).
	Create string `toml:"create"`
	// URL is the PostgreSQL connection string (type postgres): a libpq URL
	// or key=value list. It may hold the password, so it is never shown.
	URL string `toml:"url"`
	// MaxConns caps the connections to PostgreSQL; 0 means 16.
	MaxConns int `toml:"max_conns"`
	// PasswordFile holds the PostgreSQL password (its first line) when
	// neither URL nor PGPASSWORD gives one.
	PasswordFile string `toml:"password_file"`
	// SSLMode and SSLRootCert override URL's sslmode and sslrootcert (the
	// CA file that verifies the server with verify-ca or verify-full).
	SSLMode     string `toml:"sslmode"`
	SSLRootCert string `toml:"sslrootcert"`
	// onCommit receives each commit's time and size (metrics); not configuration.
	onCommit func(d time.Duration, writes int) `toml:"-"`
}

// Values of storage.create.
const (
	storageCreateAuto  = "auto"
	storageCreateNever = "never"
)

// CryptoConfig is the [crypto] table.
type CryptoConfig struct {
	// Type names the crypto engine: "software" (default) or "pkcs11".
	Type string `toml:"type"`
	// RNG is the software engine's generator: "os" (crypto/rand, default)
	// or "x9.31-aes256" (ANSI X9.31 A.2.4 with AES-256, keyed from crypto/rand).
	RNG string `toml:"rng"`
	// PKCS11 is the [crypto.pkcs11] table (config_hsm.go).
	PKCS11 PKCS11Config `toml:"pkcs11"`
}

// defaultConfig returns the configuration kmipd runs with when no file and
// no flag says otherwise.
func defaultConfig() Config {
	return Config{
		Server: ServerConfig{
			Hostname:            defaultHostname,
			Port:                defaultPort,
			AuthSuite:           defaultAuthSuite,
			EnableTLSClientAuth: true,
			LoggingLevel:        defaultLoggingLevel,
			DatabasePath:        defaultDatabasePath,
			MaxMessageSize:      defaultMaxMessageSize,
			ReadTimeout:         duration(defaultReadTimeout),
			WriteTimeout:        duration(defaultWriteTimeout),
			IdleTimeout:         duration(defaultIdleTimeout),
			HandshakeTimeout:    duration(defaultHandshakeTimout),
			MaxConnections:      defaultMaxConnections,
			ShutdownTimeout:     duration(defaultShutdownTimeout),
			RequestTimeout:      duration(defaultRequestTimeout),
			MaxBatchItems:       defaultMaxBatchItems,
			MaxNestingDepth:     ttlv.DefaultLimits.MaxDepth,
			MaxMessageItems:     ttlv.DefaultLimits.MaxItems,
			LeaseTime:           duration(defaultLeaseTime),
			ResourceLimits:      defaultResourceLimits(),
			SessionTickets:      defaultSessionTickets(),
			AsyncConfig:         defaultAsyncConfig(),
		},
		Storage: StorageConfig{Type: defaultStorageType, Create: storageCreateAuto},
		Crypto:  CryptoConfig{Type: defaultCryptoType, RNG: defaultRNG},
		Audit:   AuditConfig{FailClosed: true},
	}
}

// ConfigError is a configuration problem, reported as one line naming the
// key (and, for a file the key points to, the path).
type ConfigError struct {
	// Key is the dotted TOML key, e.g. "server.port".
	Key string
	// Value is set when the problem is the file, directory or adapter the
	// key names; the message then quotes it.
	Value string
	Err   error
}

func (e *ConfigError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("%s %q: %v", e.Key, e.Value, e.Err)
	}
	return fmt.Sprintf("config: %s: %v", e.Key, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func keyErr(key, format string, args ...any) error {
	return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
}

// decodeFile reads the TOML file at path over c; keys the file does not set
// keep their current values. Unknown keys are errors.
func decodeFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// A list in the file replaces the default list rather than extending it.
	c.Server.TLSCipherSuites = nil
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return tomlError(path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return fmt.Errorf("config: %s: unknown key in %s", keys[0], path)
	}
	c.Auth.recordOrder(md)
	return nil
}

// tomlTypeError matches the TOML library's decoding errors, which are not
// ParseErrors: `toml: line 2 (last key "server.port"): incompatible types:
// TOML value has type string; destination has type integer`.
var tomlTypeError = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]+)"\): (.*)$`)

// tomlKind rewords the library's type names for people.
var tomlKind = strings.NewReplacer("type string", "a string", "type integer", "an integer", "type int64", "an integer",
	"type bool", "true or false", "type float64", "a number", "type slice", "a list", "type []interface {}", "a list", "type []any", "a list", "type map[string]any", "a table",
	"type map[string]interface {}", "a table", "type map", "a table", "type struct", "a table")

// tomlError is a configuration error from the TOML library, reworded to
// name the key first: "config: server.port: want an integer, not a string
// (FILE line 2)".
func tomlError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.LastKey != "" {
		return fmt.Errorf("config: %s: %s (%s line %d)", pe.LastKey, oneLine(pe.Message), path, pe.Position.Line)
	}
	if errors.As(err, &pe) {
		return fmt.Errorf("config: %s line %d: %s", path, pe.Position.Line, oneLine(pe.Message))
	}
	m := tomlTypeError.FindStringSubmatch(oneLine(err.Error()))
	if m == nil {
		return fmt.Errorf("config: %s: %s", path, oneLine(err.Error()))
	}
	msg := m[3]
	if have, want, ok := strings.Cut(strings.TrimPrefix(msg, "incompatible types: TOML value has "), "; destination has "); ok {
		msg = "want " + tomlKind.Replace(want) + ", not " + tomlKind.Replace(have)
	}
	where := path
	if m[1] != "" {
		where += " line " + m[1]
	}
	return fmt.Errorf("config: %s: %s (%s)", m[2], msg, where)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// loggingLevels maps PyKMIP's (Python logging's) level names to zerolog
// levels. kmipd never logs above error, so CRITICAL keeps only errors, like ERROR.
var loggingLevels = map[string]zerolog.Level{
	"DEBUG":    zerolog.DebugLevel,
	"INFO":     zerolog.InfoLevel,
	"WARNING":  zerolog.WarnLevel,
	"WARN":     zerolog.WarnLevel,
	"ERROR":    zerolog.ErrorLevel,
	"CRITICAL": zerolog.ErrorLevel,
}

// authSuites are PyKMIP's auth_suite values, keyed by their upper-case form.
var authSuites = map[string]string{"BASIC": "Basic", "TLS1.2": "TLS1.2"}

// normalize validates the values that need no file system access, fills in
// derived defaults (storage.path) and canonicalises spellings
// (logging_level, auth_suite, adapter types).
func (c *Config) normalize() error {
	s := &c.Server
	for _, step := range []func() error{
		s.normalizeIdentity, s.checkSizes, c.Admin.check, c.CA.check, s.checkTimes,
		func() error { return s.ResourceLimits.validate() }, func() error { return s.SessionTickets.validate() },
		func() error { return s.AsyncConfig.validate() }, s.checkCipherSuites, c.normalizeStorage, c.normalizeCrypto,
		c.Seal.normalize, c.normalizeHTTPS, c.normalizeAccess,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// normalizeIdentity checks the server's host name and port and
// canonicalises the spellings of auth_suite and logging_level.
func (s *ServerConfig) normalizeIdentity() error {
	if strings.TrimSpace(s.Hostname) == "" {
		return keyErr("server.hostname", "must not be empty")
	}
	if s.Port < 1 || s.Port > 65535 {
		return keyErr("server.port", "%d is not a port number", s.Port)
	}
	suite, ok := authSuites[strings.ToUpper(s.AuthSuite)]
	if !ok {
		return keyErr("server.auth_suite", "%q is not Basic or TLS1.2", s.AuthSuite)
	}
	s.AuthSuite = suite
	lvl := strings.ToUpper(s.LoggingLevel)
	if _, ok := loggingLevels[lvl]; !ok {
		return keyErr("server.logging_level", "%q is not DEBUG, INFO, WARNING, ERROR or CRITICAL", s.LoggingLevel)
	}
	s.LoggingLevel = lvl
	return nil
}

// checkSizes checks the message, batch, connection and memory bounds
// against each other, the nesting depth, and that pprof stays on loopback.
func (s *ServerConfig) checkSizes() error {
	if s.MaxMessageSize < 1024 {
		return keyErr("server.max_message_size", "%d is below the minimum of 1024 bytes", s.MaxMessageSize)
	}
	for _, n := range []struct {
		key string
		v   int
	}{
		{"server.max_connections", s.MaxConnections},
		{"server.max_batch_items", s.MaxBatchItems},
		{"server.max_message_items", s.MaxMessageItems},
	} {
		if n.v < 1 {
			return keyErr(n.key, "%d is not a positive number", n.v)
		}
	}
	for _, n := range []struct {
		key string
		v   int64
	}{
		{"server.memory_budget", s.MemoryBudget},
		{"server.memory_budget_per_client", s.MemoryBudgetPerClient},
	} {
		if n.v != 0 && n.v < int64(s.MaxMessageSize) {
			return keyErr(n.key, "%d is below server.max_message_size (%d): a largest message could never be read", n.v, s.MaxMessageSize)
		}
	}
	if s.MemoryBudget != 0 && s.MemoryBudgetPerClient > s.MemoryBudget {
		return keyErr("server.memory_budget_per_client", "%d is above server.memory_budget (%d)", s.MemoryBudgetPerClient, s.MemoryBudget)
	}
	// A request message is at least three levels deep (message, batch
	// item, payload) and its attributes a few more.
	if s.MaxNestingDepth < 8 || s.MaxNestingDepth > 4096 {
		return keyErr("server.max_nesting_depth", "%d is not between 8 and 4096", s.MaxNestingDepth)
	}
	if s.PprofAddress != "" {
		if err := loopbackAddr(s.PprofAddress); err != nil {
			return keyErr("server.pprof_address", "%v", err)
		}
	}
	return nil
}

// checkTimes checks that every timeout is positive and that lease_time
// fits the Lease Time interval of the protocol.
func (s *ServerConfig) checkTimes() error {
	for _, d := range []struct {
		key string
		v   duration
	}{
		{"server.read_timeout", s.ReadTimeout},
		{"server.write_timeout", s.WriteTimeout},
		{"server.idle_timeout", s.IdleTimeout},
		{"server.handshake_timeout", s.HandshakeTimeout},
		{"server.shutdown_timeout", s.ShutdownTimeout},
		{"server.request_timeout", s.RequestTimeout},
	} {
		if d.v <= 0 {
			return keyErr(d.key, "%s is not a positive duration", time.Duration(d.v))
		}
	}
	if s.LeaseTime < 0 || time.Duration(s.LeaseTime) > math.MaxUint32*time.Second {
		return keyErr("server.lease_time", "%s is not between 0s and %ds", time.Duration(s.LeaseTime), uint32(math.MaxUint32))
	}
	return nil
}

// checkCipherSuites refuses an empty cipher suite name.
func (s *ServerConfig) checkCipherSuites() error {
	for _, cs := range s.TLSCipherSuites {
		if cs == "" {
			return keyErr("server.tls_cipher_suites", "empty cipher suite name")
		}
	}
	return nil
}

// normalizeStorage canonicalises storage.type and storage.create, checks
// them and the PostgreSQL settings, and takes storage.path from
// server.database_path when it is not set.
func (c *Config) normalizeStorage() error {
	s := &c.Server
	c.Storage.Type = strings.ToLower(c.Storage.Type)
	if _, ok := storageOpeners[c.Storage.Type]; !ok {
		return keyErr("storage.type", "%q is not one of %s", c.Storage.Type, strings.Join(sortedKeys(storageOpeners), ", "))
	}
	if err := c.Storage.normalizePostgres(); err != nil {
		return err
	}
	c.Storage.Create = strings.ToLower(c.Storage.Create)
	if c.Storage.Create != storageCreateAuto && c.Storage.Create != storageCreateNever {
		return keyErr("storage.create", "%q is not %s or %s", c.Storage.Create, storageCreateAuto, storageCreateNever)
	}
	if c.Storage.Path == "" {
		if s.DatabasePath == "" {
			return keyErr("server.database_path", "must not be empty when storage.path is not set")
		}
		c.Storage.Path = s.DatabasePath
	}
	return nil
}

// normalizeCrypto canonicalises and checks crypto.type and crypto.rng
// (the operating system's generator by default) and the PKCS#11 settings.
func (c *Config) normalizeCrypto() error {
	c.Crypto.Type = strings.ToLower(c.Crypto.Type)
	if _, ok := cryptoEngines[c.Crypto.Type]; !ok {
		return keyErr("crypto.type", "%q is not one of %s", c.Crypto.Type, strings.Join(sortedKeys(cryptoEngines), ", "))
	}
	c.Crypto.RNG = strings.ToLower(c.Crypto.RNG)
	if c.Crypto.RNG == "" {
		c.Crypto.RNG = software.RNGOS
	}
	switch {
	case c.Crypto.RNG != software.RNGOS && c.Crypto.RNG != software.RNGX931AES256:
		return keyErr("crypto.rng", "%q is not %s or %s", c.Crypto.RNG, software.RNGOS, software.RNGX931AES256)
	case c.Crypto.RNG != software.RNGOS && c.Crypto.Type != "software":
		return keyErr("crypto.rng", "%q applies only to crypto.type software", c.Crypto.RNG)
	}
	return c.Crypto.normalizePKCS11()
}

// configFile is a file a configuration key names.
type configFile struct{ key, path string }

// checkReadable verifies that each named file can be opened for reading;
// an empty path is skipped. The error names the key.
func checkReadable(files ...configFile) error {
	for _, f := range files {
		if f.path == "" {
			continue
		}
		fh, err := os.Open(f.path)
		if err != nil {
			return &ConfigError{Key: f.key, Value: f.path, Err: err}
		}
		fh.Close()
	}
	return nil
}

// checkFiles verifies the files and directories the configuration names,
// without creating anything: certificates readable, directories present.
func (c *Config) checkFiles() error {
	s := &c.Server
	pems := []configFile{
		{"server.certificate_path", s.CertificatePath},
		{"server.key_path", s.KeyPath},
		{"server.ca_path", s.CAPath},
	}
	for _, f := range pems {
		if f.path == "" {
			return keyErr(f.key, "required (a PEM file)")
		}
	}
	if err := checkReadable(append(pems, configFile{"server.crl_path", s.CRLPath})...); err != nil {
		return err
	}
	if s.PolicyPath != "" {
		if err := isDir(s.PolicyPath); err != nil {
			return &ConfigError{Key: "server.policy_path", Value: s.PolicyPath, Err: err}
		}
	}
	if s.LogPath != "" {
		if err := isDir(filepath.Dir(s.LogPath)); err != nil {
			return &ConfigError{Key: "server.log_path", Value: s.LogPath, Err: err}
		}
	}
	if c.Storage.Type == storageTypePostgres {
		if err := c.Storage.checkPostgresFiles(); err != nil {
			return err
		}
	} else if c.Storage.Create == storageCreateAuto {
		// With storage.create = "never", a missing directory is a missing
		// store, which opening the store reports.
		if err := isDir(filepath.Dir(c.Storage.Path)); err != nil {
			return &ConfigError{Key: c.storageKey(), Value: c.Storage.Path, Err: err}
		}
	}
	if err := c.Audit.checkFiles(); err != nil {
		return err
	}
	if err := c.Auth.checkPasswordFile(); err != nil {
		return err
	}
	if err := c.Crypto.checkPKCS11Files(); err != nil {
		return err
	}
	return c.Seal.checkFiles()
}

// storageKey names the key that set the storage path.
func (c *Config) storageKey() string {
	if c.Storage.Path == c.Server.DatabasePath {
		return "server.database_path"
	}
	return "storage.path"
}

// isDir returns nil if path is an existing directory.
func isDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// loopbackAddr returns nil if addr is a host:port whose host is a loopback
// IP address or "localhost", so that profiles are never served off the host.
func loopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q has no valid port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// Addr returns the host:port kmipd listens on.
func (s *ServerConfig) Addr() string {
	return net.JoinHostPort(s.Hostname, strconv.Itoa(s.Port))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// duration is a TOML duration written as a Go duration string ("30s", "5m").
type duration time.Duration

// UnmarshalTOML accepts only strings, so that a bare 30 is not read as 30ns.
func (d *duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want a duration string such as \"30s\", not %v", v)
	}
	p, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\"", s)
	}
	*d = duration(p)
	return nil
}

// stringList is a TOML array of strings, or one string of names separated by
// white space or commas, as PyKMIP's configuration files write tls_cipher_suites.
type stringList []string

// UnmarshalTOML accepts an array of strings or one separated string.
func (l *stringList) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*l = splitList(x)
		return nil
	case []any:
		out := make(stringList, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want strings, found %v", e)
			}
			out = append(out, strings.TrimSpace(s))
		}
		*l = out
		return nil
	}
	return fmt.Errorf("want an array of strings or one string, not %v", v)
}

// splitList splits s at white space and commas, dropping empty names.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// flexBool is a TOML boolean that also accepts the strings PyKMIP's INI
// files use ("True", "false", "yes", "0", ...).
type flexBool bool

// UnmarshalTOML accepts a boolean or a boolean-looking string.
func (b *flexBool) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case bool:
		*b = flexBool(x)
		return nil
	case string:
		p, err := parseBool(x)
		if err != nil {
			return err
		}
		*b = flexBool(p)
		return nil
	}
	return fmt.Errorf("want true or false, not %v", v)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}
