package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// load writes toml to a file and loads it with the given extra flags.
func load(t *testing.T, toml string, flags ...string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kmipd.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	var f serveFlags
	var out bytes.Buffer
	fs := newServeFlagSet(&f, &out)
	if err := fs.Parse(append([]string{"-config", path}, flags...)); err != nil {
		t.Fatalf("flags %q: %v (%s)", flags, err, out.String())
	}
	return loadConfig(fs, &f)
}

func TestDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if s.Addr() != "127.0.0.1:5696" || s.AuthSuite != "Basic" || !bool(s.EnableTLSClientAuth) ||
		s.LoggingLevel != "INFO" || s.MaxMessageSize != 1<<20 || time.Duration(s.ShutdownTimeout) != 30*time.Second {
		t.Errorf("server defaults = %+v", s)
	}
	if c.Storage.Type != "sqlite" || c.Storage.Path != defaultDatabasePath || c.Crypto.Type != "software" {
		t.Errorf("adapter defaults = %+v %+v", c.Storage, c.Crypto)
	}
}

func TestGoodConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		check      func(c Config) bool
	}{
		{"pykmip keys", `[server]
hostname = "0.0.0.0"
port = 5697
certificate_path = "/c.pem"
key_path = "/k.pem"
ca_path = "/ca.pem"
auth_suite = "TLS1.2"
enable_tls_client_auth = false
logging_level = "debug"
database_path = "/tmp/x.db"
`, func(c Config) bool {
			s := c.Server
			return s.Addr() == "0.0.0.0:5697" && s.CertificatePath == "/c.pem" && s.KeyPath == "/k.pem" &&
				s.CAPath == "/ca.pem" && s.AuthSuite == "TLS1.2" && !bool(s.EnableTLSClientAuth) &&
				s.LoggingLevel == "DEBUG" && c.Storage.Path == "/tmp/x.db"
		}},
		{"auth suite and booleans spelled as PyKMIP's INI does", `[server]
auth_suite = "basic"
enable_tls_client_auth = "False"
logging_level = "Warning"
`, func(c Config) bool {
			return c.Server.AuthSuite == "Basic" && !bool(c.Server.EnableTLSClientAuth) && c.Server.LoggingLevel == "WARNING"
		}},
		{"kmipd additions", `[server]
max_message_size = 65536
read_timeout = "2s"
write_timeout = "5s"
idle_timeout = "1m"
handshake_timeout = "3s"
max_connections = 7
shutdown_timeout = "4s"
`, func(c Config) bool {
			s := c.Server
			return s.MaxMessageSize == 65536 && time.Duration(s.ReadTimeout) == 2*time.Second && time.Duration(s.WriteTimeout) == 5*time.Second &&
				time.Duration(s.IdleTimeout) == time.Minute && time.Duration(s.HandshakeTimeout) == 3*time.Second &&
				s.MaxConnections == 7 && time.Duration(s.ShutdownTimeout) == 4*time.Second
		}},
		{"storage path wins over database_path", `[server]
database_path = "/a.db"
[storage]
type = "BBOLT"
path = "/b.db"
[crypto]
type = "software"
`, func(c Config) bool {
			return c.Storage.Type == "bbolt" && c.Storage.Path == "/b.db"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.toml)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		flags      []string
		want       string
	}{
		{"unknown key", "[server]\nfoo = 1\n", nil, "config: server.foo: unknown key"},
		{"unknown table", "[srever]\nport = 1\n", nil, "config: srever"},
		{"port out of range", "[server]\nport = 70000\n", nil, "config: server.port: 70000 is not a port number"},
		{"port zero", "[server]\nport = 0\n", nil, "server.port: 0 is not a port number"},
		{"port as string", "[server]\nport = \"x\"\n", nil, "server.port"},
		{"port flag", "", []string{"-port", "https"}, `config: server.port: "https" is not a port number`},
		{"auth suite", "[server]\nauth_suite = \"TLS1.3\"\n", nil, "config: server.auth_suite:"},
		{"logging level", "[server]\nlogging_level = \"LOUD\"\n", nil, "config: server.logging_level:"},
		{"duration", "[server]\nread_timeout = \"soon\"\n", nil, "config: server.read_timeout:"},
		{"bare integer duration", "[server]\nidle_timeout = 30\n", nil, "config: server.idle_timeout:"},
		{"negative duration", "[server]\nshutdown_timeout = \"-1s\"\n", nil, "config: server.shutdown_timeout:"},
		{"message size", "[server]\nmax_message_size = 10\n", nil, "config: server.max_message_size:"},
		{"max connections", "[server]\nmax_connections = 0\n", nil, "config: server.max_connections:"},
		{"cipher suite type", "[server]\ntls_cipher_suites = 5\n", nil, "config: server.tls_cipher_suites:"},
		{"storage type", "[storage]\ntype = \"mysql\"\n", nil, `config: storage.type: "mysql" is not one of bbolt, postgres, sqlite`},
		{"storage type flag", "", []string{"-storage-type", "redis"}, "config: storage.type:"},
		{"crypto type", "[crypto]\ntype = \"tpm\"\n", nil, "config: crypto.type:"},
		{"unknown storage key", "[storage]\ntype = \"sqlite\"\nbusy = 3\n", nil, "config: storage.busy: unknown key"},
		{"syntax", "[server\n", nil, "config: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.toml, tc.flags...)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if strings.Contains(oneLine(msg), "\n") {
				t.Errorf("error %q spans lines", msg)
			}
		})
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	c, err := load(t, `[server]
hostname = "10.0.0.1"
port = 1000
certificate_path = "/file/c.pem"
logging_level = "ERROR"
log_path = "/file/log"
[storage]
type = "sqlite"
path = "/file/db"
[https]
address = "10.0.0.1:1001"
`, "-hostname", "::1", "-port", "2000", "-certificate-path", "/flag/c.pem", "-key-path", "/flag/k.pem",
		"-ca-path", "/flag/ca.pem", "-policy-path", "/flag/pol", "-logging-level", "debug", "-log-path", "/flag/log",
		"-storage-type", "bbolt", "-storage-path", "/flag/db", "-pprof", "127.0.0.1:6060", "-https-address", "[::1]:2001")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	got := []string{s.Addr(), s.CertificatePath, s.KeyPath, s.CAPath, s.PolicyPath, s.LoggingLevel, s.LogPath, c.Storage.Type, c.Storage.Path, s.PprofAddress, c.HTTPS.Address}
	want := []string{"[::1]:2000", "/flag/c.pem", "/flag/k.pem", "/flag/ca.pem", "/flag/pol", "DEBUG", "/flag/log", "bbolt", "/flag/db", "127.0.0.1:6060", "[::1]:2001"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Every override flag is exercised above; a new one must be added here.
	if len(overrideFlags) != 12 {
		t.Errorf("%d override flags, the test covers 12", len(overrideFlags))
	}
}

func TestCipherSuites(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []string
	}{
		{"array", `["TLS_A", "TLS_B"]`, []string{"TLS_A", "TLS_B"}},
		{"pykmip multi-line string", "\"\"\"\n    TLS_RSA_WITH_AES_128_CBC_SHA256\n    TLS_RSA_WITH_AES_256_CBC_SHA256\n    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384\n\"\"\"",
			[]string{"TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"}},
		{"commas", `"TLS_A, TLS_B,TLS_C"`, []string{"TLS_A", "TLS_B", "TLS_C"}},
		{"empty string", `""`, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, "[server]\ntls_cipher_suites = "+tc.value+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if got := []string(c.Server.TLSCipherSuites); len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() Config {
		c := defaultConfig()
		c.Server.CertificatePath, c.Server.KeyPath, c.Server.CAPath = pem, pem, pem
		c.Server.DatabasePath = filepath.Join(dir, "kmipd.db")
		if err := c.normalize(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := base(); c.checkFiles() != nil {
		t.Fatalf("good files rejected: %v", c.checkFiles())
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		edit func(c *Config)
		want string
	}{
		{func(c *Config) { c.Server.CertificatePath = missing }, `server.certificate_path "` + missing + `": open ` + missing},
		{func(c *Config) { c.Server.KeyPath = missing }, `server.key_path "` + missing},
		{func(c *Config) { c.Server.CAPath = "" }, `config: server.ca_path: required`},
		{func(c *Config) { c.Server.PolicyPath = pem }, `server.policy_path "` + pem + `": not a directory`},
		{func(c *Config) { c.Server.LogPath = filepath.Join(missing, "log") }, `server.log_path`},
		{func(c *Config) { c.Storage.Path = filepath.Join(missing, "db") }, `storage.path`},
	} {
		c := base()
		tc.edit(&c)
		err := c.checkFiles()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkFiles = %v, want %q", err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kmipd.db")); !os.IsNotExist(err) {
		t.Errorf("checkFiles created the database (stat: %v)", err)
	}
}

func TestLoggingLevels(t *testing.T) {
	for _, name := range []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} {
		if _, ok := loggingLevels[name]; !ok {
			t.Errorf("PyKMIP level %s is not mapped", name)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"-no-such-flag"}, {"-dev", "extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", args, code, exitUsage, stderr.String())
		}
		if !strings.Contains(stderr.String(), "Usage") && !strings.Contains(stderr.String(), "unexpected argument") {
			t.Errorf("run(%q) printed no usage: %q", args, stderr.String())
		}
	}
}

func TestRunConfigErrorStartsNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "kmipd.db")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-storage-path", db, "-certificate-path", filepath.Join(dir, "nope.pem"),
		"-key-path", "k", "-ca-path", "ca"}, &stdout, &stderr)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d", code, exitConfig)
	}
	want := `kmipd: server.certificate_path "` + filepath.Join(dir, "nope.pem") + `": open `
	if got := stderr.String(); !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", got, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a configuration error created the database (stat: %v)", err)
	}
}

func TestDevDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, filepath.Join(dir, "kmipd.db")},
		{[]string{"-storage-type", "bbolt"}, filepath.Join(dir, "kmipd-bbolt.db")},
		{[]string{"-storage-type", "bbolt", "-storage-path", "/x.db"}, "/x.db"},
	} {
		var f serveFlags
		fs := newServeFlagSet(&f, &bytes.Buffer{})
		if err := fs.Parse(append([]string{"-dev", "-dev-dir", dir}, tc.flags...)); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(fs, &f)
		if err != nil {
			t.Fatal(err)
		}
		if c.Storage.Path != tc.want || c.Server.Addr() != "127.0.0.1:5696" {
			t.Errorf("%q: storage path %q, addr %s; want %q on 127.0.0.1:5696", tc.flags, c.Storage.Path, c.Server.Addr(), tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("loading the configuration wrote %d files", len(entries))
	}
}
