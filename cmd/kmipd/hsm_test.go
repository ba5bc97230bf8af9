//go:build cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/ports"
)

// TestPKCS11StartErrors: a wrong module, token or PIN stops kmipd before it
// listens, with one line naming crypto.pkcs11 and exit status 78, and the
// PIN appears nowhere in what it prints. The right ones open the engine.
func TestPKCS11StartErrors(t *testing.T) {
	const pin = "55119922"
	tok := softhsm.Setup(t, "kmipd-cmd", pin)
	t.Setenv(pinEnv, "")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	wrongPIN := filepath.Join(dir, "wrong-pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongPIN, []byte("99887766\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notModule := filepath.Join(dir, "not-a-module.so")
	if err := os.WriteFile(notModule, []byte("not ELF"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := func(module, label, pinPath string) string {
		return fmt.Sprintf("[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = %q\ntoken_label = %q\npin_file = %q\n", module, label, pinPath)
	}
	for _, tc := range []struct{ name, toml, want string }{
		{"missing module", conf(filepath.Join(dir, "absent.so"), tok.Label, pinFile), "crypto.pkcs11.module"},
		{"not a module", conf(notModule, tok.Label, pinFile), "crypto.pkcs11: "},
		{"unknown token", conf(tok.Module, "no-such-token", pinFile), "no-such-token"},
		{"wrong PIN", conf(tok.Module, tok.Label, wrongPIN), "crypto.pkcs11: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "kmipd.toml")
			if err := os.WriteFile(cfg, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"-dev", "-dev-dir", filepath.Join(t.TempDir(), "dev"), "-port", "1", "-config", cfg}, &stdout, &stderr)
			out := stderr.String()
			if code != exitConfig || strings.Count(out, "\n") != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, stderr %q: want exit %d and one line containing %q", code, out, exitConfig, tc.want)
			}
			if strings.Contains(out+stdout.String(), pin) || strings.Contains(out, "99887766") {
				t.Fatalf("a PIN was printed: %q", out)
			}
			t.Logf("%s", strings.TrimSpace(out))
		})
	}

	c, err := load(t, conf(tok.Module, tok.Label, pinFile))
	if err != nil {
		t.Fatal(err)
	}
	e, err := cryptoEngines[c.Crypto.Type](c.Crypto)
	if err != nil {
		t.Fatalf("opening the token: %v", err)
	}
	defer e.(interface{ Close() error }).Close()
	if _, ok := e.(ports.KeyKeeper); !ok || e.Name() != "pkcs11" {
		t.Fatalf("engine %s does not keep keys", e.Name())
	}
}
