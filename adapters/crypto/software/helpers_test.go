package software

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var ctx = context.Background()

// unhex decodes hex, ignoring spaces, and panics on a typo in a vector.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func symKey(alg kmip.CryptographicAlgorithm, material []byte) ports.KeyHandle {
	return ports.KeyHandle{ID: "k", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(alg),
		Length: 8 * len(material), Format: uint32(kmip.KeyFormatTypeRaw), Material: material}
}

func params(mode kmip.BlockCipherMode, pad kmip.PaddingMethod) ports.CryptoParams {
	return ports.CryptoParams{BlockCipherMode: uint32(mode), PaddingMethod: uint32(pad)}
}

func mustEqualHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != strings.ToLower(strings.ReplaceAll(want, " ", "")) {
		t.Errorf("%s = %x, want %s", what, got, want)
	}
}
