package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// isHelp reports whether args ask for help (-h, -help, --help) anywhere.
func isHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// helpOrUsage is the exit status after printing a subcommand's usage: 0
// when it was asked for, 64 when the command line was wrong.
func helpOrUsage(args []string) int {
	if isHelp(args) {
		return exitOK
	}
	return exitUsage
}

// configCheck validates the configuration file at path as serve would
// before listening, without opening the store or binding a port.
func configCheck(path string, stdout, stderr io.Writer) int {
	var f serveFlags
	fs := newServeFlagSet(&f, io.Discard)
	f.config = path
	cfg, err := loadConfig(fs, &f)
	if err == nil {
		err = cfg.checkFiles()
	}
	if err == nil {
		s := cfg.Server
		_, _, err = kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: s.CertificatePath, KeyFile: s.KeyPath,
			CAFile: s.CAPath, CipherSuites: s.TLSCipherSuites, AuthSuite: s.AuthSuite})
		if err != nil {
			err = fmt.Errorf("server TLS: %w", err)
		}
	}
	if err == nil {
		err = checkCryptoEngine(cfg)
	}
	if err == nil {
		var k *keks
		if k, err = cfg.Seal.openKEKs(); k != nil { // a key file or token and PIN are tried
			k.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return exitConfig
	}
	fmt.Fprintf(stdout, "%s: OK\n", path)
	return exitOK
}

// checkCryptoEngine opens and closes the configured crypto engine, so that
// a PKCS#11 module, token and PIN are tried.
func checkCryptoEngine(cfg Config) error {
	engine, err := cryptoEngines[cfg.Crypto.Type](cfg.Crypto)
	if err != nil {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			err = &ConfigError{Key: "crypto.type", Value: cfg.Crypto.Type, Err: err}
		}
		return err
	}
	if c, ok := engine.(io.Closer); ok {
		c.Close()
	}
	return nil
}

// usage prints kmipd -h: what kmipd is, how to run it, its commands, flags,
// environment and exit statuses.
func usage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprint(out, `kmipd is a KMIP key-management server: KMIP 1.0-2.1 over mutual TLS, objects kept in
SQLite or bbolt, keys used by a software engine or held in a PKCS#11 HSM.

Usage:
  kmipd -config FILE [flags]        serve KMIP over TLS
  kmipd -dev [-dev-dir DIR]         serve in development mode (a dev PKI and database in DIR)
  kmipd COMMAND ...                 run a command; kmipd COMMAND -h describes it

Commands:
`)
	for _, name := range sortedKeys(subcommands) {
		// A summary is "SYNOPSIS: what it does".
		synopsis, what, _ := strings.Cut(subcommands[name].summary, ": ")
		fmt.Fprintf(out, "  kmipd %s\n      %s\n", synopsis, what)
	}
	fmt.Fprint(out, `
Environment:
  KMIPD_PKCS11_PIN   the user PIN of [crypto.pkcs11] when pin_file is not set
  KMIPD_SEAL_PIN     the user PIN of [seal.pkcs11] when pin_file is not set
  GOMEMLIMIT         a soft memory limit for the Go runtime

Exit status:
  0   clean shutdown after SIGTERM/SIGINT, or -h, -version
  1   serving failed at run time
  2   a Go runtime fatal error (out of memory): never used by kmipd itself
  64  a bad command line
  78  a configuration error, named on one line of stderr

Flags (each -KEY overrides the configuration key it names):
`)
	fs.PrintDefaults()
}
