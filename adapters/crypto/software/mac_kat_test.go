package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RFC 4231 test case 1 (HMAC-SHA-2), RFC 2202 test case 1 (HMAC-MD5,
// HMAC-SHA-1) and the MAC of the OASIS conformance case CS-AC-M-4-14.
func TestHMAC(t *testing.T) {
	e := New()
	hiThere := []byte("Hi There")
	for _, c := range []struct {
		alg  kmip.CryptographicAlgorithm
		key  []byte
		want string
	}{
		{kmip.CryptographicAlgorithmHMAC_MD5, bytes.Repeat([]byte{0x0b}, 16), "9294727a3638bb1c13f48ef8158bfc9d"},
		{kmip.CryptographicAlgorithmHMAC_SHA1, bytes.Repeat([]byte{0x0b}, 20), "b617318655057264e28bc0b6fb378c8ef146be00"},
		{kmip.CryptographicAlgorithmHMAC_SHA224, bytes.Repeat([]byte{0x0b}, 20), "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
		{kmip.CryptographicAlgorithmHMAC_SHA256, bytes.Repeat([]byte{0x0b}, 20), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{kmip.CryptographicAlgorithmHMAC_SHA384, bytes.Repeat([]byte{0x0b}, 20), "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{kmip.CryptographicAlgorithmHMAC_SHA512, bytes.Repeat([]byte{0x0b}, 20), "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
	} {
		key := symKey(c.alg, c.key)
		mac, err := e.MAC(ctx, key, ports.CryptoParams{}, hiThere)
		if err != nil {
			t.Fatal(err)
		}
		mustEqualHex(t, c.alg.String(), mac, c.want)
		if ok, err := e.VerifyMAC(ctx, key, ports.CryptoParams{}, hiThere, unhex(c.want)); !ok || err != nil {
			t.Errorf("%s verify: %v %v", c.alg, ok, err)
		}
		if ok, _ := e.VerifyMAC(ctx, key, ports.CryptoParams{}, []byte("Hi there"), unhex(c.want)); ok {
			t.Errorf("%s verifies other data", c.alg)
		}
		if ok, _ := e.VerifyMAC(ctx, key, ports.CryptoParams{}, hiThere, unhex(c.want)[:8]); ok {
			t.Errorf("%s: a truncated MAC verifies", c.alg)
		}
	}
	// CS-AC-M-4-14: an AES-labelled key whose Cryptographic Parameters say HMAC_SHA256.
	key := symKey(kmip.CryptographicAlgorithmAES, unhex("0123456789abcdef0123456789abcdef"))
	mac, err := e.MAC(ctx, key, ports.CryptoParams{CryptographicAlgorithm: uint32(kmip.CryptographicAlgorithmHMAC_SHA256)}, unhex("01020304050607080910111213141516"))
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "CS-AC-M-4", mac, "c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9")
	// By Hashing Algorithm alone.
	mac, _ = e.MAC(ctx, symKey(kmip.CryptographicAlgorithmAES, bytes.Repeat([]byte{0x0b}, 20)), ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, hiThere)
	mustEqualHex(t, "HMAC by Hashing Algorithm", mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
}

// CMAC: SP 800-38B D.1 (AES-128, 64-byte message) and D.4 (three-key
// TDEA); Camellia, Blowfish and CAST5 CMACs cross-checked with OpenSSL.
func TestCMAC(t *testing.T) {
	e := New()
	m64 := unhex(sp80038aPlain)
	for _, c := range []struct {
		alg  kmip.CryptographicAlgorithm
		key  string
		n    int
		want string
	}{
		{kmip.CryptographicAlgorithmAES, "2b7e151628aed2a6abf7158809cf4f3c", 64, "51f0bebf7e3b9d92fc49741779363cfe"},
		{kmip.CryptographicAlgorithmAES, "2b7e151628aed2a6abf7158809cf4f3c", 0, "bb1d6929e95937287fa37d129b756746"},
		{kmip.CryptographicAlgorithmDES3, "8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5", 20, "743ddbe0ce2dc2ed"},
		{kmip.CryptographicAlgorithmCamellia, "2b7e151628aed2a6abf7158809cf4f3c", 32, "42bbccf6e759c625e72bd485c4d943f1"},
		{kmip.CryptographicAlgorithmBlowfish, "0123456789abcdeff0e1d2c3b4a59687", 32, "253c79b17bb91ea1"},
		{kmip.CryptographicAlgorithmCAST5, "0123456712345678234567893456789a", 32, "accdaa619fc34d16"},
	} {
		key := symKey(c.alg, unhex(c.key))
		mac, err := e.MAC(ctx, key, ports.CryptoParams{}, m64[:c.n])
		if err != nil {
			t.Fatalf("%s: %v", c.alg, err)
		}
		mustEqualHex(t, "CMAC-"+c.alg.String(), mac, c.want)
		if ok, err := e.VerifyMAC(ctx, key, ports.CryptoParams{}, m64[:c.n], mac); !ok || err != nil {
			t.Errorf("CMAC-%s verify: %v %v", c.alg, ok, err)
		}
	}
	// IDEA (64-bit block) CMAC runs; its parts are tested by the IDEA and TDEA vectors.
	if _, err := e.MAC(ctx, symKey(kmip.CryptographicAlgorithmIDEA, make([]byte, 16)), ports.CryptoParams{}, m64); err != nil {
		t.Errorf("CMAC-IDEA: %v", err)
	}
	if _, err := e.MAC(ctx, symKey(kmip.CryptographicAlgorithmRC4, make([]byte, 16)), ports.CryptoParams{}, m64); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("CMAC-RC4: %v, want ErrUnsupported", err)
	}
	if _, err := e.MAC(ctx, symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16)), ports.CryptoParams{CryptographicAlgorithm: uint32(kmip.CryptographicAlgorithmCamellia)}, m64); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("CMAC-Camellia with an AES key: %v", err)
	}
}
