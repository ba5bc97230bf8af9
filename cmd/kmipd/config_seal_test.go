package main

import (
	"strings"
	"testing"
)

func TestSealConfigErrors(t *testing.T) {
	t.Setenv(sealPINEnv, "")
	for _, tc := range []struct{ toml, want string }{
		{"[seal]\ntype = \"vault\"\n", "seal.type"},
		{"[seal]\ntype = \"file\"\n", "seal.key_file: required"},
		{"[seal]\ntype = \"pkcs11\"\n", "seal.pkcs11.module: required"},
		{"[seal]\ntype = \"pkcs11\"\n[seal.pkcs11]\nmodule = \"/m.so\"\n", "seal.pkcs11.token_label: required"},
		{"[seal]\ntype = \"pkcs11\"\n[seal.pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\nslot = 1\n", "seal.pkcs11.slot: set token_label or slot"},
		{"[seal]\ntype = \"pkcs11\"\n[seal.pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\n", "seal.pkcs11.pin_file: required"},
		{"[seal]\ntype = \"file\"\nkey_file = \"/k\"\nkey_label = \"x\"\n", "seal.key_label: unknown key"},
	} {
		_, err := load(t, tc.toml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.toml, err, tc.want)
		}
	}
}

func TestSealConfigDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seal.sealed() {
		t.Errorf("sealed by default without [seal]: %+v", c.Seal)
	}
	t.Setenv(sealPINEnv, "1234")
	c, err = load(t, "[seal]\ntype = \"PKCS11\"\n[seal.pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\nprevious_key_labels = [\"old\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seal.Type != "pkcs11" || c.Seal.PKCS11.KeyLabel != defaultSealKeyLabel || len(c.Seal.PKCS11.PreviousKeyLabels) != 1 {
		t.Errorf("pkcs11 seal defaults: %+v", c.Seal)
	}
}
