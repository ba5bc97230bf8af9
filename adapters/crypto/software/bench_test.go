package software

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func BenchmarkAESCBCEncrypt64B(b *testing.B) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 32))
	p := params(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5)
	in := ports.CipherInput{Data: make([]byte, 64), IV: make([]byte, 16)}
	b.SetBytes(64)
	for b.Loop() {
		if _, err := e.Encrypt(ctx, key, p, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAESGCMEncrypt1KiB(b *testing.B) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 32))
	p := params(kmip.BlockCipherModeGCM, 0)
	in := ports.CipherInput{Data: make([]byte, 1024), IV: make([]byte, 12), AAD: []byte("aad")}
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := e.Encrypt(ctx, key, p, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHMACSHA256_1KiB(b *testing.B) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmHMAC_SHA256, make([]byte, 32))
	data := make([]byte, 1024)
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := e.MAC(ctx, key, ports.CryptoParams{}, data); err != nil {
			b.Fatal(err)
		}
	}
}

// The key is decoded from DER on every call, as the engine keeps no state.
func BenchmarkRSA2048SignPKCS1(b *testing.B) {
	e := New()
	priv, _ := pyRSA()
	p := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	for b.Loop() {
		if _, err := e.Sign(ctx, priv, p, []byte("message"), false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkECDSAP256Sign(b *testing.B) {
	e := New()
	priv := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeECPrivateKey, unhex(pyECPrivSEC1))
	p := ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	for b.Loop() {
		if _, err := e.Sign(ctx, priv, p, []byte("message"), false); err != nil {
			b.Fatal(err)
		}
	}
}
