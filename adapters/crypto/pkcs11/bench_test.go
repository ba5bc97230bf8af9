//go:build cgo

package pkcs11

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// BenchmarkEncryptAESCBC64 encrypts 64 bytes with AES-256-CBC on a key
// kept in the token: the cost of an HSM round trip.
func BenchmarkEncryptAESCBC64(b *testing.B) {
	e := newEngine(b, nil)
	k, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: "bench-aes", Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256})
	if err != nil {
		b.Fatal(err)
	}
	h := ports.KeyHandle{ID: "bench-aes", Algorithm: uint32(kmip.CryptographicAlgorithmAES), Ref: k.Ref}
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCBC), PaddingMethod: uint32(kmip.PaddingMethodNone)}
	in := ports.CipherInput{Data: make([]byte, 64), IV: make([]byte, 16)}
	b.SetBytes(64)
	for b.Loop() {
		if _, err := e.Encrypt(ctx, h, p, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignECDSAP256 signs with an ECDSA P-256 key kept in the token.
func BenchmarkSignECDSAP256(b *testing.B) {
	e := newEngine(b, nil)
	kp, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{PrivateID: "bench-ec", PublicID: "bench-ec-pub", Algorithm: uint32(kmip.CryptographicAlgorithmEC), Length: 256})
	if err != nil {
		b.Fatal(err)
	}
	h := ports.KeyHandle{ID: "bench-ec", Ref: kp.Private.Ref}
	p := ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	msg := []byte("benchmark message")
	for b.Loop() {
		if _, err := e.Sign(ctx, h, p, msg, false); err != nil {
			b.Fatal(err)
		}
	}
}
