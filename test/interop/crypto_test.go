package interop

import (
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPCrypto runs crypto_client.py (Debian's PyKMIP ProxyKmipClient:
// create_key_pair, sign, signature_verify, encrypt, decrypt, mac,
// derive_key, get with a key wrapping specification) against the real
// binary with the software engine.
func TestPyKMIPCrypto(t *testing.T) {
	requirePyKMIP(t)
	script, err := filepath.Abs("crypto_client.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			bobCert, bobKey := issueBob(t, srv)
			runScenario(t, script, scenarioArgs{
				Host: srv.Host, Port: srv.Port, CA: srv.PKI.CAFile,
				Cert: srv.PKI.ClientCertFile, Key: srv.PKI.ClientKeyFile,
				BobCert: bobCert, BobKey: bobKey,
				KMIPVersion: version, Scenario: "crypto",
			})
		})
	}
}
