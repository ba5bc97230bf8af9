package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/app"
)

func TestCAConfigDefaultsAndKeys(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if ca, err := c.CA.load(); ca != nil || err != nil {
		t.Errorf("no [ca] table: CA %v, err %v", ca, err)
	}
	c, err = load(t, "[ca]\ncertificate_id = \"c1\"\nkey_id = \"k1\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.CA.Validity) != app.DefaultCAValidity {
		t.Errorf("validity %v", time.Duration(c.CA.Validity))
	}
	for toml, key := range map[string]string{
		"validity = \"24h\"":     "ca.validity",
		"key_id = \"k\"":         "ca.certificate_path",
		"certificate_id = \"c\"": "ca.key_path",
		"certificate_id = \"c\"\ncertificate_path = \"/x\"\nkey_id = \"k\"": "ca.certificate_id",
		"certificate_id = \"c\"\nkey_path = \"/x\"\nkey_id = \"k\"":         "ca.key_id",
		"certificate_id = \"c\"\nkey_id = \"k\"\nvalidity = \"-1h\"":        "ca.validity",
	} {
		_, err := load(t, "[ca]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}

// The CA's files load, and a key that is not the certificate's is a
// ca.key_path error; a key file is never quoted.
func TestCAFiles(t *testing.T) {
	a, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "a"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "b"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := CAConfig{CertificatePath: a.CACert, KeyPath: a.CAKey}
	ca, err := good.load()
	if err != nil || ca.Certificate == nil || ca.Signer == nil {
		t.Fatalf("load: %v", err)
	}
	if err := checkCA(context.Background(), &good, app.New(app.Config{CA: ca})); err != nil {
		t.Errorf("checkCA of the dev CA: %v", err)
	}
	mixed := CAConfig{CertificatePath: a.CACert, KeyPath: b.CAKey}
	ca, err = mixed.load()
	if err != nil {
		t.Fatal(err)
	}
	var ce *ConfigError
	if err := checkCA(context.Background(), &mixed, app.New(app.Config{CA: ca})); !errors.As(err, &ce) || ce.Key != "ca.key_path" {
		t.Errorf("a key that is not the certificate's: %v", err)
	}
	leaf := CAConfig{CertificatePath: a.ServerCert, KeyPath: a.ServerKey}
	ca, _ = leaf.load()
	if err := checkCA(context.Background(), &leaf, app.New(app.Config{CA: ca})); !errors.As(err, &ce) || ce.Key != "ca.certificate_path" {
		t.Errorf("a server certificate as the CA: %v", err)
	}
	swapped := CAConfig{CertificatePath: a.CAKey, KeyPath: a.CACert}
	if _, err := swapped.load(); !errors.As(err, &ce) || ce.Key != "ca.certificate_path" || strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("a key file as the certificate: %v", err)
	}
}
