package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RFC 6070 (PBKDF2-HMAC-SHA1).
func TestPBKDF2(t *testing.T) {
	e := New()
	for _, c := range []struct {
		iter int
		want string
	}{
		{1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{4096, "4b007901b765489abead49d926f721d065a429c1"},
	} {
		k, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodPBKDF2),
			Base: ports.KeyHandle{ObjectType: uint32(kmip.ObjectTypeSecretData), Material: []byte("password")},
			Salt: []byte("salt"), Iterations: c.iter, Length: 160})
		if err != nil {
			t.Fatal(err)
		}
		mustEqualHex(t, "PBKDF2", k.Material, c.want)
	}
	// The password may come as Derivation Data; the hash from the parameters.
	k, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodPBKDF2), Data: []byte("password"),
		Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_1)}, Salt: []byte("salt"), Iterations: 2, Length: 160})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "PBKDF2 from data", k.Material, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
	for name, s := range map[string]ports.DeriveSpec{
		"no salt":       {Method: uint32(kmip.DerivationMethodPBKDF2), Data: []byte("p"), Iterations: 1, Length: 128},
		"no iterations": {Method: uint32(kmip.DerivationMethodPBKDF2), Data: []byte("p"), Salt: []byte("s"), Length: 128},
	} {
		if _, err := e.DeriveKey(ctx, s); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// RFC 5869 test case 1 (HKDF-SHA-256).
func TestHKDF(t *testing.T) {
	k, err := New().DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHKDF),
		Base:   ports.KeyHandle{Material: bytes.Repeat([]byte{0x0b}, 22)},
		Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)},
		Salt:   unhex("000102030405060708090a0b0c"), Data: unhex("f0f1f2f3f4f5f6f7f8f9"), Length: 42 * 8})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "HKDF OKM", k.Material, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
}

// SP 800-108 counter mode with HMAC-SHA-256 and a 32-bit counter before
// the fixed data, cross-checked with pyca/cryptography's KBKDFHMAC.
func TestKBKDFCounter(t *testing.T) {
	k, err := New().DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodNIST800_108_C),
		Base:   ports.KeyHandle{Material: unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")},
		Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)},
		Data:   unhex("6c6162656c00636f6e7465787400000100"), Length: 384})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "KBKDF", k.Material, pyKBKDFCounterSHA256)
}

func TestDeriveHashHMACEncrypt(t *testing.T) {
	e := New()
	sha256 := ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	aes := symKey(kmip.CryptographicAlgorithmAES, unhex("00112233445566778899aabbccddeeff"))
	// HASH over the base key (TC-DERIVEKEY-1-10), truncated to 128 bits.
	k, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Base: aes, Params: sha256, Length: 128})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := e.Hash(ctx, uint32(kmip.HashingAlgorithmSHA_256), aes.Material)
	if !bytes.Equal(k.Material, full[:16]) || k.Format != uint32(kmip.KeyFormatTypeRaw) {
		t.Errorf("HASH derivation %x, want %x", k.Material, full[:16])
	}
	// HASH over derivation data (no base material).
	k, _ = e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Data: []byte("abc"), Params: sha256, Length: 256})
	mustEqualHex(t, "HASH of data", k.Material, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	// Longer than the hash, both inputs, no input: errors.
	if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Base: aes, Params: sha256, Length: 264}); !errors.Is(err, ports.ErrInvalidLength) {
		t.Errorf("HASH beyond its output: %v", err)
	}
	if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Base: aes, Data: []byte("x"), Params: sha256, Length: 128}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("HASH of key and data: %v", err)
	}
	if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Params: sha256, Length: 128}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("HASH of nothing: %v", err)
	}
	if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Base: aes, Length: 128}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("HASH without a hashing algorithm: %v", err)
	}
	// HMAC: RFC 4231 test case 1 through the HMAC method, the hash from the key's algorithm.
	k, err = e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHMAC),
		Base: symKey(kmip.CryptographicAlgorithmHMAC_SHA256, bytes.Repeat([]byte{0x0b}, 20)), Data: []byte("Hi There"), Length: 256})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "HMAC derivation", k.Material, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
	// ENCRYPT: SP 800-38A F.2.1 first block (AES-128-CBC).
	k, err = e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodENCRYPT),
		Base:   symKey(kmip.CryptographicAlgorithmAES, unhex("2b7e151628aed2a6abf7158809cf4f3c")),
		Params: params(kmip.BlockCipherModeCBC, 0), IV: unhex("000102030405060708090a0b0c0d0e0f"),
		Data: unhex("6bc1bee22e409f96e93d7e117393172a"), Length: 128})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "ENCRYPT derivation", k.Material, "7649abac8119b246cee98e9b12e9197d")
	for _, l := range []int{0, -8, 12} {
		if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodHASH), Base: aes, Params: sha256, Length: l}); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("length %d: %v", l, err)
		}
	}
	if _, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodNIST800_108_DPI), Base: aes, Params: sha256, Length: 128}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("NIST800-108-DPI: %v", err)
	}
}
