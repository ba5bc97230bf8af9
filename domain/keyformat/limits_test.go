package keyformat

import (
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// odd returns an odd number of exactly bits bits.
func odd(bits int) *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.SetBit(n, 0, 1)
}

// TestKeySizeBounds proves RSA keys over MaxRSABits and DER over MaxKeyDER
// are refused as ErrTooLarge (and ErrMalformed) in every format, before
// crypto/x509 validates them, while a MaxRSABits public key decodes.
func TestKeySizeBounds(t *testing.T) {
	type priv struct {
		Version                     int
		N, E, D, P, Q, Dp, Dq, Qinv *big.Int
	}
	const bits = 65536
	huge, err := asn1.Marshal(priv{0, odd(bits), big.NewInt(65537), odd(bits - 2), odd(bits / 2), odd(bits / 2), odd(100), odd(100), odd(100)})
	if err != nil {
		t.Fatal(err)
	}
	pub := func(bits int) []byte {
		b, err := asn1.Marshal(struct{ N, E *big.Int }{odd(bits), big.NewInt(65537)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	transparent := func(bits int) *kmip.Item {
		return kmip.Struct(kmip.TagKeyMaterial, kmip.Big(kmip.TagModulus, odd(bits)), kmip.Big(kmip.TagPublicExponent, big.NewInt(65537)))
	}
	transparentPriv := kmip.Struct(kmip.TagKeyMaterial, kmip.Big(kmip.TagModulus, odd(MaxRSABits+8)),
		kmip.Big(kmip.TagPrivateExponent, odd(MaxRSABits)), kmip.Big(kmip.TagP, odd(MaxRSABits/2)), kmip.Big(kmip.TagQ, odd(MaxRSABits/2)))
	for name, tc := range map[string]struct {
		format kmip.KeyFormatType
		m      *kmip.Item
	}{
		"PKCS#1 private 65536 bits": {kmip.KeyFormatTypePKCS_1, kmip.Bytes(kmip.TagKeyMaterial, huge)},
		"PKCS#8 over MaxKeyDER":     {kmip.KeyFormatTypePKCS_8, kmip.Bytes(kmip.TagKeyMaterial, huge)},
		"PKCS#1 public 16392 bits":  {kmip.KeyFormatTypePKCS_1, kmip.Bytes(kmip.TagKeyMaterial, pub(MaxRSABits+8))},
		"Transparent public 16392":  {kmip.KeyFormatTypeTransparentRSAPublicKey, transparent(MaxRSABits + 8)},
		"Transparent private 16392": {kmip.KeyFormatTypeTransparentRSAPrivateKey, transparentPriv},
	} {
		_, err := Decode(tc.format, tc.m)
		if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrTooLarge and ErrMalformed", name, err)
		}
	}
	for _, tc := range []struct {
		format kmip.KeyFormatType
		m      *kmip.Item
	}{
		{kmip.KeyFormatTypePKCS_1, kmip.Bytes(kmip.TagKeyMaterial, pub(MaxRSABits))},
		{kmip.KeyFormatTypeTransparentRSAPublicKey, transparent(MaxRSABits)},
	} {
		if k, err := Decode(tc.format, tc.m); err != nil || k.RSABits() != MaxRSABits {
			t.Errorf("%s of %d bits: %v", tc.format, MaxRSABits, err)
		}
	}
}
