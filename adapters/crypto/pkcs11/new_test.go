//go:build cgo

package pkcs11

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewErrors: a wrong module, token, slot or PIN is one clear line
// naming the problem, without the PIN.
func TestNewErrors(t *testing.T) {
	needToken(t)
	junk := filepath.Join(t.TempDir(), "not-a-module.so")
	if err := os.WriteFile(junk, []byte("not a shared library"), 0o600); err != nil {
		t.Fatal(err)
	}
	const wrongPIN = "wrong-pin-0815"
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"missing module", func(c *Config) { c.Module = "/nonexistent/libpkcs11.so" }, `cannot load module "/nonexistent/libpkcs11.so"`},
		{"not a module", func(c *Config) { c.Module = junk }, "not a PKCS#11 library"},
		{"wrong label", func(c *Config) { c.TokenLabel = "no-such-token" }, `no token labelled "no-such-token"`},
		{"wrong slot", func(c *Config) { c.TokenLabel, c.Slot, c.SlotSet = "", 4242, true }, "no token in slot 4242"},
		{"wrong PIN", func(c *Config) { c.PIN = wrongPIN }, "PIN incorrect"},
	} {
		cfg := testConfig()
		c.edit(&cfg)
		e, err := New(ctx, cfg)
		if err == nil {
			e.Close()
			t.Errorf("%s: New succeeded", c.name)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", c.name, msg)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: %q does not say %q", c.name, msg, c.want)
		}
		if strings.Contains(msg, cfg.PIN) || strings.Contains(msg, testPIN) || strings.Contains(msg, wrongPIN) {
			t.Errorf("%s: the error contains the PIN: %q", c.name, msg)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: the error is more than one line: %q", c.name, msg)
		}
	}
	// The right configuration still works after the failures.
	e := newEngine(t, nil)
	if _, err := e.RandomBytes(ctx, 8); err != nil {
		t.Error(err)
	}
}
