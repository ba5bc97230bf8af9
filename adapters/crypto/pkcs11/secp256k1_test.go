//go:build cgo

package pkcs11

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// secp256k1 keys (OASIS TC-ECDSA-SIGN-1-14's pair) are refused as
// unsupported, not as malformed: the material is valid, the engine lacks
// the curve.
func TestSecp256k1Unsupported(t *testing.T) {
	for name, h := range map[string]string{
		"ECPrivateKey": "30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000aa14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366",
		"X.509":        "3056301006072a8648ce3d020106052b8104000a03420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366",
	} {
		m, _ := hex.DecodeString(h)
		if _, _, err := parseAsym("k", m); !errors.Is(err, ports.ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
	if _, _, err := parseAsym("k", []byte("not a key")); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("garbage: err = %v, want ErrInvalidInput", err)
	}
}
