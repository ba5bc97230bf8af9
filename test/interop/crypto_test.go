package interop

import (
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPCrypto runs crypto_client.py (Debian's PyKMIP ProxyKmipClient:
// create_key_pair, sign, signature_verify, encrypt, decrypt, mac,
// derive_key, get with a key wrapping specification) against the real
// binary with the software engine.
func TestPyKMIPCrypto(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "crypto_client.py")
	for _, version := range []string{"1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			args := clientArgs(srv, version, "crypto")
			args.BobCert, args.BobKey = issueBob(t, srv)
			runScenario(t, py, args)
		})
	}
}
