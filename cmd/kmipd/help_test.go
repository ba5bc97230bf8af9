package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// TestHelpEverywhere: kmipd -h says what kmipd is and lists every command,
// the environment and the exit statuses; -h works on every command and
// exits 0.
func TestHelpEverywhere(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != exitOK {
		t.Fatalf("kmipd -h: exit %d", code)
	}
	help := errb.String()
	for _, want := range []string{"KMIP key-management server", "KMIPD_PKCS11_PIN", "78", "64", "-config"} {
		if !strings.Contains(help, want) {
			t.Errorf("kmipd -h lacks %q:\n%s", want, help)
		}
	}
	for name, cmd := range subcommands {
		synopsis, _, _ := strings.Cut(cmd.summary, ": ")
		if !strings.Contains(help, "kmipd "+synopsis) {
			t.Errorf("kmipd -h does not list %s (%q)", name, synopsis)
		}
		cases := [][]string{{name, "-h"}}
		if verb := strings.Fields(synopsis)[1]; !strings.HasPrefix(verb, "-") {
			cases = append(cases, []string{name, verb, "-h"})
		}
		for _, args := range cases {
			var o, e bytes.Buffer
			if code := run(context.Background(), args, &o, &e); code != exitOK || !strings.Contains(e.String(), "Usage") {
				t.Errorf("kmipd %s: exit %d, stderr %q; want 0 and a usage", strings.Join(args, " "), code, e.String())
			}
		}
	}
}

// TestConfigCheck: a good file prints OK and exits 0; a bad one exits 78
// with one line naming the key; neither creates the database.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "k.db")
	good := "[server]\ncertificate_path = \"" + pki.ServerCert + "\"\nkey_path = \"" + pki.ServerKey + "\"\nca_path = \"" +
		pki.CACert + "\"\n[storage]\ntype = \"sqlite\"\npath = \"" + db + "\"\n"
	for _, tc := range []struct {
		name, text string
		code       int
		want       string
	}{
		{"good", good, exitOK, ": OK"},
		{"type error", strings.Replace(good, "[server]\n", "[server]\nport = \"5696\"\n", 1), exitConfig,
			"kmipd: config: server.port: want an integer, not a string ("},
		{"list for a string", strings.Replace(good, "[server]\n", "[server]\nhostname = [\"a\"]\n", 1), exitConfig,
			"server.hostname: want a string, not a list"},
		{"unknown key", good + "colour = \"blue\"\n", exitConfig, "storage.colour: unknown key"},
		{"bad value", strings.Replace(good, "[server]\n", "[server]\nmax_message_size = 5\n", 1), exitConfig, "server.max_message_size"},
		{"key that is not a key", strings.Replace(good, pki.ServerKey, pki.CACert, 1), exitConfig, "server TLS"},
		{"missing storage directory", strings.Replace(good, db, filepath.Join(dir, "none", "k.db"), 1), exitConfig, "storage.path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kmipd.toml")
			os.WriteFile(path, []byte(tc.text), 0o600)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"config", "check", path}, &out, &errb)
			got := out.String() + errb.String()
			if code != tc.code || !strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("exit %d, output %q; want %d and one line containing %q", code, got, tc.code, tc.want)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("config check created the database (stat: %v)", err)
			}
		})
	}
}

// TestDevClient: kmipd dev client NAME issues a certificate with CN NAME
// from the development CA and writes a PyKMIP configuration naming it.
func TestDevClient(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"dev", "client", "bob", "-dev-dir", dir, "-port", "5697"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	conf, err := os.ReadFile(filepath.Join(dir, "pykmip-bob.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"port=5697", "certfile=" + filepath.Join(dir, "client-bob.pem"), "ca_certs=" + filepath.Join(dir, "ca.pem")} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("pykmip-bob.conf lacks %q:\n%s", want, conf)
		}
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "client-bob.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("client-bob.pem holds no PEM block")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "bob" {
		t.Errorf("certificate CN %q, want bob", cert.Subject.CommonName)
	}
	for _, bad := range []string{"admin", "../x", ""} {
		if code := run(context.Background(), []string{"dev", "client", bad, "-dev-dir", dir}, &out, &errb); code != exitUsage {
			t.Errorf("dev client %q: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// TestUnusableStorePathIsAConfigError: a store path the operating system
// refuses (here a directory where the database file should be) is a
// configuration error: one line naming the key, exit 78, nothing logged
// besides it.
func TestUnusableStorePathIsAConfigError(t *testing.T) {
	for _, typ := range []string{"sqlite", "bbolt"} {
		dir := t.TempDir()
		db := filepath.Join(dir, "k.db")
		if err := os.Mkdir(db, 0o700); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-dev", "-dev-dir", filepath.Join(dir, "dev"), "-port", "1",
			"-storage-type", typ, "-storage-path", db}, &out, &errb)
		if code != exitConfig || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "storage.path") {
			t.Errorf("%s: exit %d, stderr %q; want 78 and one line naming storage.path", typ, code, errb.String())
		}
	}
}
