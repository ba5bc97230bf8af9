//go:build cgo

package pkcs11

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func material(alg kmip.CryptographicAlgorithm, ot kmip.ObjectType, f kmip.KeyFormatType, m []byte) ports.KeyHandle {
	return ports.KeyHandle{ID: "diff", ObjectType: uint32(ot), Algorithm: uint32(alg), Length: 8 * len(m), Format: uint32(f), Material: m}
}

func symKey(alg kmip.CryptographicAlgorithm, n int) ports.KeyHandle {
	m := make([]byte, n)
	rand.Read(m)
	return material(alg, kmip.ObjectTypeSymmetricKey, kmip.KeyFormatTypeRaw, m)
}

// TestMatchesSoftwareEngine runs the same deterministic operations on key
// material with this engine (in the token) and the software engine: the
// results must be equal, so the application behaves the same on both, and
// each engine must read the other's randomized output (RSA encryption,
// ECDSA signatures).
func TestMatchesSoftwareEngine(t *testing.T) {
	e := newEngine(t, nil)
	sw := software.New()
	msg := []byte("differential test: 45 bytes of message text..")
	block := msg[:32]
	iv16, iv8 := bytes.Repeat([]byte{0x5a}, 16), bytes.Repeat([]byte{0xa5}, 8)
	mode := func(m kmip.BlockCipherMode, pad kmip.PaddingMethod) ports.CryptoParams {
		return ports.CryptoParams{BlockCipherMode: uint32(m), PaddingMethod: uint32(pad)}
	}
	type cipherCase struct {
		key ports.KeyHandle
		p   ports.CryptoParams
		in  ports.CipherInput
	}
	var cases []cipherCase
	for _, n := range []int{16, 24, 32} {
		k := symKey(kmip.CryptographicAlgorithmAES, n)
		gcm12 := mode(kmip.BlockCipherModeGCM, 0)
		gcm12.TagLength = 12
		ctrICV := mode(kmip.BlockCipherModeCTR, 0)
		ctrICV.InitialCounterValue, ctrICV.InitialCounterSet = 0xfffffffe, true
		cases = append(cases,
			cipherCase{k, mode(kmip.BlockCipherModeECB, kmip.PaddingMethodNone), ports.CipherInput{Data: block}},
			cipherCase{k, mode(kmip.BlockCipherModeECB, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: msg}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: msg, IV: iv16}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: block, IV: iv16}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodANSIX9_23), ports.CipherInput{Data: msg, IV: iv16}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone), ports.CipherInput{Data: block, IV: iv16}},
			cipherCase{k, mode(kmip.BlockCipherModeCTR, 0), ports.CipherInput{Data: msg, IV: bytes.Repeat([]byte{0xff}, 16)}},
			cipherCase{k, mode(kmip.BlockCipherModeCTR, 0), ports.CipherInput{Data: msg, IV: append(bytes.Repeat([]byte{0xff}, 15), 0xfe)}},
			cipherCase{k, mode(kmip.BlockCipherModeCTR, 0), ports.CipherInput{Data: msg, IV: iv16}},
			cipherCase{k, ctrICV, ports.CipherInput{Data: msg, IV: iv16[:12]}},
			cipherCase{k, mode(kmip.BlockCipherModeGCM, 0), ports.CipherInput{Data: msg, IV: iv16[:12], AAD: []byte("aad")}},
			cipherCase{k, gcm12, ports.CipherInput{Data: msg, IV: iv16}},
		)
	}
	for _, n := range []int{8, 16, 24} {
		k := symKey(kmip.CryptographicAlgorithmDES3, n)
		cases = append(cases,
			cipherCase{k, mode(kmip.BlockCipherModeECB, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: msg}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: msg, IV: iv8}},
			cipherCase{k, mode(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone), ports.CipherInput{Data: block, IV: iv8}},
		)
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s-%d %s/%s", kmip.CryptographicAlgorithm(c.key.Algorithm), c.key.Length, kmip.BlockCipherMode(c.p.BlockCipherMode), kmip.PaddingMethod(c.p.PaddingMethod))
		got, err := e.Encrypt(ctx, c.key, c.p, c.in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, err := sw.Encrypt(ctx, c.key, c.p, c.in)
		if err != nil {
			t.Fatalf("%s (software): %v", name, err)
		}
		if !bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Tag, want.Tag) {
			t.Errorf("%s: token %x tag %x, software %x tag %x", name, got.Data, got.Tag, want.Data, want.Tag)
		}
		back, err := e.Decrypt(ctx, c.key, c.p, ports.CipherInput{Data: want.Data, IV: c.in.IV, AAD: c.in.AAD, Tag: want.Tag})
		if err != nil || !bytes.Equal(back.Data, c.in.Data) {
			t.Errorf("%s: the token decrypts the software's ciphertext to %q (%v)", name, back.Data, err)
		}
	}

	for _, c := range []struct {
		key ports.KeyHandle
		p   ports.CryptoParams
	}{
		{symKey(kmip.CryptographicAlgorithmHMAC_SHA1, 64), ports.CryptoParams{}},
		{symKey(kmip.CryptographicAlgorithmHMAC_SHA256, 64), ports.CryptoParams{}},
		{symKey(kmip.CryptographicAlgorithmHMAC_SHA384, 64), ports.CryptoParams{}},
		{symKey(kmip.CryptographicAlgorithmHMAC_SHA512, 64), ports.CryptoParams{}},
		{symKey(kmip.CryptographicAlgorithmAES, 32), ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}},
		{symKey(kmip.CryptographicAlgorithmAES, 16), ports.CryptoParams{}},
		{symKey(kmip.CryptographicAlgorithmDES3, 24), ports.CryptoParams{}},
	} {
		name := fmt.Sprintf("MAC %s %+v", kmip.CryptographicAlgorithm(c.key.Algorithm), c.p)
		got, err := e.MAC(ctx, c.key, c.p, msg)
		want, _ := sw.MAC(ctx, c.key, c.p, msg)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: token %x (%v), software %x", name, got, err, want)
		}
	}

	for _, h := range []kmip.HashingAlgorithm{kmip.HashingAlgorithmMD5, kmip.HashingAlgorithmSHA_1, kmip.HashingAlgorithmSHA_224,
		kmip.HashingAlgorithmSHA_256, kmip.HashingAlgorithmSHA_384, kmip.HashingAlgorithmSHA_512} {
		got, err := e.Hash(ctx, uint32(h), msg)
		want, _ := sw.Hash(ctx, uint32(h), msg)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("hash %s: token %x (%v), software %x", h, got, err, want)
		}
	}

	kek := symKey(kmip.CryptographicAlgorithmAES, 32)
	for _, target := range [][]byte{block, msg[:40]} {
		kw := mode(kmip.BlockCipherModeNISTKeyWrap, 0)
		got, err := e.WrapKey(ctx, kek, kw, ports.KeyHandle{ID: "t", Material: target})
		want, _ := sw.WrapKey(ctx, kek, kw, ports.KeyHandle{ID: "t", Material: target})
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("RFC 3394 wrap of %d bytes: token %x (%v), software %x", len(target), got, err, want)
		}
	}

	// RSA: PKCS#1 v1.5 signatures are deterministic; encryption and PSS
	// are checked across the engines.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rpriv := material(kmip.CryptographicAlgorithmRSA, kmip.ObjectTypePrivateKey, kmip.KeyFormatTypePKCS_1, x509.MarshalPKCS1PrivateKey(rk))
	rpub := material(kmip.CryptographicAlgorithmRSA, kmip.ObjectTypePublicKey, kmip.KeyFormatTypePKCS_1, x509.MarshalPKCS1PublicKey(&rk.PublicKey))
	sha := func(h kmip.HashingAlgorithm, pad kmip.PaddingMethod) ports.CryptoParams {
		return ports.CryptoParams{HashingAlgorithm: uint32(h), PaddingMethod: uint32(pad)}
	}
	for _, p := range []ports.CryptoParams{
		sha(kmip.HashingAlgorithmSHA_1, kmip.PaddingMethodPKCS1V1_5), sha(kmip.HashingAlgorithmSHA_256, kmip.PaddingMethodPKCS1V1_5),
		sha(kmip.HashingAlgorithmSHA_512, kmip.PaddingMethodPKCS1V1_5),
		{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_384WithRSAEncryption)},
	} {
		got, err := e.Sign(ctx, rpriv, p, msg, false)
		want, _ := sw.Sign(ctx, rpriv, p, msg, false)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("RSA signature %+v: token and software differ (%v)", p, err)
		}
	}
	for _, p := range []ports.CryptoParams{sha(kmip.HashingAlgorithmSHA_256, kmip.PaddingMethodPSS), sha(kmip.HashingAlgorithmSHA_512, kmip.PaddingMethodPSS)} {
		sig, err := e.Sign(ctx, rpriv, p, msg, false)
		if ok, verr := sw.Verify(ctx, rpub, p, msg, false, sig); err != nil || !ok {
			t.Errorf("RSA-PSS %+v: the software engine rejects the token's signature (%v %v)", p, err, verr)
		}
		sig, _ = sw.Sign(ctx, rpriv, p, msg, false)
		if ok, err := e.Verify(ctx, rpub, p, msg, false, sig); err != nil || !ok {
			t.Errorf("RSA-PSS %+v: the token rejects the software's signature (%v)", p, err)
		}
	}
	for _, p := range []ports.CryptoParams{{PaddingMethod: uint32(kmip.PaddingMethodOAEP)}, {PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5)}} {
		ct, err := e.Encrypt(ctx, rpub, p, ports.CipherInput{Data: msg})
		if err != nil {
			t.Errorf("RSA encryption %+v: %v", p, err)
			continue
		}
		if pt, err := sw.Decrypt(ctx, rpriv, p, ports.CipherInput{Data: ct.Data}); err != nil || !bytes.Equal(pt.Data, msg) {
			t.Errorf("RSA %+v: the software engine cannot decrypt the token's ciphertext (%v)", p, err)
		}
		ct, _ = sw.Encrypt(ctx, rpub, p, ports.CipherInput{Data: msg})
		if pt, err := e.Decrypt(ctx, rpriv, p, ports.CipherInput{Data: ct.Data}); err != nil || !bytes.Equal(pt.Data, msg) {
			t.Errorf("RSA %+v: the token cannot decrypt the software's ciphertext (%v)", p, err)
		}
	}

	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(ek)
	spki, _ := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	epriv := material(kmip.CryptographicAlgorithmEC, kmip.ObjectTypePrivateKey, kmip.KeyFormatTypePKCS_8, p8)
	epub := material(kmip.CryptographicAlgorithmEC, kmip.ObjectTypePublicKey, kmip.KeyFormatTypeX_509, spki)
	for _, p := range []ports.CryptoParams{
		{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_384)},
		{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256)},
	} {
		sig, err := e.Sign(ctx, epriv, p, msg, false)
		if ok, verr := sw.Verify(ctx, epub, p, msg, false, sig); err != nil || !ok {
			t.Errorf("ECDSA %+v: the software engine rejects the token's signature (%v %v)", p, err, verr)
		}
		sig, _ = sw.Sign(ctx, epriv, p, msg, false)
		if ok, err := e.Verify(ctx, epub, p, msg, false, sig); err != nil || !ok {
			t.Errorf("ECDSA %+v: the token rejects the software's signature (%v)", p, err)
		}
	}
}
