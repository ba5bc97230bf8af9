package main

import (
	"flag"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// serveFlags are the command-line flags of the server (kmipd without a
// subcommand); the override flags live in overrideFlags.
type serveFlags struct {
	config  string
	version bool
	dev     bool
	devDir  string
}

// overrideFlag is a flag that overrides one configuration key; flags win
// over the configuration file.
type overrideFlag struct {
	name, key string
	set       func(c *Config, v string) error
}

func setString(field func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// overrideFlags lists every flag that overrides a configuration key.
var overrideFlags = []overrideFlag{
	{"hostname", "server.hostname", setString(func(c *Config) *string { return &c.Server.Hostname })},
	{"port", "server.port", func(c *Config, v string) error {
		p, err := strconv.Atoi(v)
		if err != nil {
			return keyErr("server.port", "%q is not a port number", v)
		}
		c.Server.Port = p
		return nil
	}},
	{"certificate-path", "server.certificate_path", setString(func(c *Config) *string { return &c.Server.CertificatePath })},
	{"key-path", "server.key_path", setString(func(c *Config) *string { return &c.Server.KeyPath })},
	{"ca-path", "server.ca_path", setString(func(c *Config) *string { return &c.Server.CAPath })},
	{"policy-path", "server.policy_path", setString(func(c *Config) *string { return &c.Server.PolicyPath })},
	{"logging-level", "server.logging_level", setString(func(c *Config) *string { return &c.Server.LoggingLevel })},
	{"log-path", "server.log_path", setString(func(c *Config) *string { return &c.Server.LogPath })},
	{"storage-type", "storage.type", setString(func(c *Config) *string { return &c.Storage.Type })},
	{"pprof", "server.pprof_address", setString(func(c *Config) *string { return &c.Server.PprofAddress })},
	{"storage-path", "storage.path", setString(func(c *Config) *string { return &c.Storage.Path })},
	{"https-address", "https.address", setString(func(c *Config) *string { return &c.HTTPS.Address })},
}

// newServeFlagSet returns the server's flag set writing its messages to out.
func newServeFlagSet(f *serveFlags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kmipd", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.config, "config", "", "TOML configuration `file` (default: built-in defaults)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.dev, "dev", false, "development mode: dev PKI and SQLite in -dev-dir, on 127.0.0.1:5696 (HTTPS on 5697), software crypto unless -config names another engine")
	fs.StringVar(&f.devDir, "dev-dir", ".kmipd-dev", "`directory` of development mode's PKI and database")
	for _, o := range overrideFlags {
		fs.String(o.name, "", "override "+o.key)
	}
	fs.Usage = func() { usage(fs) }
	return fs
}

// loadConfig builds the configuration from, in increasing precedence: the
// built-in defaults, development mode's defaults, the -config file and the
// override flags set on the command line. It validates values but touches
// no file except the configuration file.
func loadConfig(fs *flag.FlagSet, f *serveFlags) (Config, error) {
	cfg := defaultConfig()
	if f.dev {
		dir, err := filepath.Abs(f.devDir)
		if err != nil {
			return cfg, err
		}
		f.devDir = dir
		cfg.Server.DatabasePath = filepath.Join(dir, "kmipd.db")
		cfg.HTTPS.Address = httpsAuto
	}
	if f.config != "" {
		if err := decodeFile(f.config, &cfg); err != nil {
			return cfg, err
		}
	}
	byName := make(map[string]overrideFlag, len(overrideFlags))
	for _, o := range overrideFlags {
		byName[o.name] = o
	}
	var err error
	fs.Visit(func(fl *flag.Flag) {
		if o, ok := byName[fl.Name]; ok && err == nil {
			err = o.set(&cfg, fl.Value.String())
		}
	})
	if err != nil {
		return cfg, err
	}
	// Development mode keeps each storage engine's data in its own file, so
	// that switching -storage-type does not open the other engine's file.
	if f.dev && cfg.Storage.Path == "" && strings.EqualFold(cfg.Storage.Type, "bbolt") &&
		cfg.Server.DatabasePath == filepath.Join(f.devDir, "kmipd.db") {
		cfg.Storage.Path = filepath.Join(f.devDir, "kmipd-bbolt.db")
	}
	return cfg, cfg.normalize()
}
