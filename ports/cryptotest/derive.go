package cryptotest

import (
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func exerciseDeriver(t *testing.T, d ports.Deriver) {
	ctx := context.Background()
	sha256 := ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	t.Run("KnownAnswers", func(t *testing.T) {
		for _, c := range []struct {
			name string
			spec ports.DeriveSpec
			want string
		}{
			// RFC 6070, c = 2.
			{"PBKDF2-HMAC-SHA1", ports.DeriveSpec{Method: uint32(kmip.DerivationMethodPBKDF2),
				Base:   ports.KeyHandle{ObjectType: uint32(kmip.ObjectTypeSecretData), Material: []byte("password")},
				Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_1)}, Salt: []byte("salt"), Iterations: 2, Length: 160},
				"ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
			// FIPS 180-4 SHA-256("abc"), truncated to 128 bits.
			{"HASH", ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Params: sha256, Data: []byte("abc"), Length: 128},
				"ba7816bf8f01cfea414140de5dae2223"},
			// RFC 4231 test case 1.
			{"HMAC", ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHMAC), Params: sha256,
				Base: knownKey(kmip.CryptographicAlgorithmHMAC_SHA256, []byte{11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11}),
				Data: []byte("Hi There"), Length: 256},
				"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		} {
			k, err := d.DeriveKey(ctx, c.spec)
			if unsupported(t, err, "%s derivation", c.name) {
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if k.Ref == "" {
				checkHex(t, c.name, k.Material, c.want)
			}
		}
	})
	t.Run("LengthBeyondOutput", func(t *testing.T) {
		_, err := d.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Params: sha256, Data: []byte("abc"), Length: 512})
		if unsupported(t, err, "HASH derivation") {
			return
		}
		if !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("512 bits from SHA-256: %v, want ErrInvalidLength", err)
		}
	})
	t.Run("UnknownMethod", func(t *testing.T) {
		_, err := d.DeriveKey(ctx, ports.DeriveSpec{Method: 0x7fff, Data: []byte("abc"), Length: 128})
		if !errors.Is(err, ports.ErrUnsupported) {
			t.Errorf("unknown derivation method: %v, want ErrUnsupported", err)
		}
	})
}
