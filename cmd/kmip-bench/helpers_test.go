package main

import (
	"crypto/tls"
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/test/harness"
)

// kmipdFixture is what a test needs to start kmipd targets: the kmipd binary
// built by the harness, a fresh working directory, a dev PKI under dir/pki
// and a client TLS configuration trusting it; it fails the test when any of
// them cannot be made.
func kmipdFixture(t *testing.T) (kmipd, dir string, pki kmiptls.DevPKI, cfg *tls.Config) {
	t.Helper()
	kmipd = harness.Binary(t)
	dir = t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = clientTLS(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return kmipd, dir, pki, cfg
}
