package interop

import (
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPCryptoMatrix runs crypto_matrix.py: every algorithm, key length,
// block cipher mode, padding, hash, signature scheme, MAC, derivation method
// and key wrapping Debian's PyKMIP 0.10 client can express, against the real
// binary with the software engine, each checked against a known answer
// computed in Python (python3-cryptography, hashlib, hmac) or, for IDEA,
// which OpenSSL 3 lacks, the IDEA paper's test vector.
//
// What PyKMIP 0.10 cannot express is listed at the top of crypto_matrix.py:
// OAEP/PSS mask generator, MGF hash, label and salt length; AAD and tag
// through ProxyKmipClient (GCM goes through PyKMIP's request payloads
// instead); MAC Verify; Recommended Curve in Create Key Pair; streaming.
func TestPyKMIPCryptoMatrix(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "crypto_matrix.py")
	for _, version := range []string{"1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			t.Parallel()
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			steps := runScenario(t, py, clientArgs(srv, version, "matrix"))
			// The matrix must actually have run: a script that stopped
			// early with "done" would otherwise pass.
			if len(steps) < 240 {
				t.Errorf("the matrix reported %d steps, want at least 240", len(steps))
			}
		})
	}
}
