//go:build cgo

package certify

import (
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// On a SoftHSM2 token the CA key registered in kmipd is kept by the token,
// and Certify signs with it there (through the PKCS#11 engine).
func TestCertifyWithCAKeyInHSM(t *testing.T) {
	tok := softhsm.Setup(t, "kmipd-certify", "31415926")
	srv, keyID := certifyWithCAObjects(t, harness.HSMOptions(tok, ""))
	// The token keeps the CA key: not even its owner can read it out.
	if _, err := srv.Dial(t, "", 1, 4).Call(kmip.OperationGet, uid(keyID)); err == nil {
		t.Error("the CA key left the token")
	}
}
