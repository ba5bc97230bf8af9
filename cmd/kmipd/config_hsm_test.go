package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPKCS11Config: the [crypto.pkcs11] keys parse, default, and each
// mistake is one line naming its key.
func TestPKCS11Config(t *testing.T) {
	t.Setenv(pinEnv, "")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte("123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"/lib/x.so\"\ntoken_label = \"kmipd\"\npin_file = " + `"` + pinFile + `"` + "\n"
	c, err := load(t, good)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Crypto.PKCS11
	if p.Module != "/lib/x.so" || p.TokenLabel != "kmipd" || p.Sessions != defaultPKCS11Sessions || p.Extractable {
		t.Fatalf("parsed %+v", p)
	}
	if pin, err := p.pin(); err != nil || pin != "123456" {
		t.Fatalf("pin() = %q, %v", pin, err)
	}
	c, err = load(t, "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\nslot = 3\nsessions = 2\nextractable = true\npin_file = \"f\"\n")
	if err != nil || *c.Crypto.PKCS11.Slot != 3 || c.Crypto.PKCS11.Sessions != 2 || !c.Crypto.PKCS11.Extractable {
		t.Fatalf("slot config: %+v %v", c.Crypto.PKCS11, err)
	}
	// A software server ignores the table, so a file can keep it while switching.
	if _, err := load(t, "[crypto]\ntype = \"software\"\n[crypto.pkcs11]\nmodule = \"\"\n"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, toml, want string }{
		{"no module", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\ntoken_label = \"t\"\npin_file = \"f\"\n", "crypto.pkcs11.module: required"},
		{"no token", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\npin_file = \"f\"\n", "crypto.pkcs11.token_label: required"},
		{"both", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\ntoken_label = \"t\"\nslot = 1\npin_file = \"f\"\n", "crypto.pkcs11.slot: set token_label or slot"},
		{"no pin", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\ntoken_label = \"t\"\n", "crypto.pkcs11.pin_file: required"},
		{"sessions", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\ntoken_label = \"t\"\npin_file = \"f\"\nsessions = -1\n", "crypto.pkcs11.sessions"},
		{"negative slot", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\nslot = -1\npin_file = \"f\"\n", "crypto.pkcs11.slot"},
		{"unknown key", "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\npin = \"1234\"\n", "crypto.pkcs11.pin: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.toml)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(oneLine(err.Error()), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, tc.want)
			}
		})
	}

	// The PIN may come from the environment instead of a file.
	t.Setenv(pinEnv, "from-env")
	c, err = load(t, "[crypto]\ntype = \"pkcs11\"\n[crypto.pkcs11]\nmodule = \"m\"\ntoken_label = \"t\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if pin, err := c.Crypto.PKCS11.pin(); err != nil || pin != "from-env" {
		t.Fatalf("pin() = %q, %v", pin, err)
	}
	// A PIN file that is not one line is refused without echoing it.
	bad := filepath.Join(dir, "badpin")
	if err := os.WriteFile(bad, []byte("secret-1\nsecret-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = PKCS11Config{PINFile: bad}.pin()
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "crypto.pkcs11.pin_file") {
		t.Fatalf("bad PIN file: %v", err)
	}
}
