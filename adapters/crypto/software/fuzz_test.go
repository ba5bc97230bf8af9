package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Client-controlled choices the fuzz targets pick from by index.
var (
	fuzzAlgs = []kmip.CryptographicAlgorithm{
		kmip.CryptographicAlgorithmAES, kmip.CryptographicAlgorithmDES3, kmip.CryptographicAlgorithmDES,
		kmip.CryptographicAlgorithmBlowfish, kmip.CryptographicAlgorithmCamellia, kmip.CryptographicAlgorithmCAST5,
		kmip.CryptographicAlgorithmIDEA, kmip.CryptographicAlgorithmRC4, kmip.CryptographicAlgorithmChaCha20,
		kmip.CryptographicAlgorithmChaCha20Poly1305, kmip.CryptographicAlgorithmRSA, kmip.CryptographicAlgorithmHMAC_SHA256, 0,
	}
	fuzzModes = []kmip.BlockCipherMode{0, kmip.BlockCipherModeECB, kmip.BlockCipherModeCBC, kmip.BlockCipherModeCFB,
		kmip.BlockCipherModeOFB, kmip.BlockCipherModeCTR, kmip.BlockCipherModeGCM, kmip.BlockCipherModeAEAD,
		kmip.BlockCipherModeNISTKeyWrap, kmip.BlockCipherModeAESKeyWrapPadding, kmip.BlockCipherModeCCM}
	fuzzPads = []kmip.PaddingMethod{0, kmip.PaddingMethodNone, kmip.PaddingMethodPKCS5, kmip.PaddingMethodANSIX9_23,
		kmip.PaddingMethodISO10126, kmip.PaddingMethodOAEP, kmip.PaddingMethodPKCS1V1_5, kmip.PaddingMethodPSS}
)

func pick[T any](s []T, i uint8) T { return s[int(i)%len(s)] }

// portError reports whether err is nil or one of the port's sentinels, as
// the application needs to map it to a Result Reason.
func portError(err error) bool {
	return err == nil || errors.Is(err, ports.ErrUnsupported) || errors.Is(err, ports.ErrInvalidLength) ||
		errors.Is(err, ports.ErrInvalidInput) || errors.Is(err, ports.ErrCryptoFailure)
}

// fuzzKey is a key handle on client-chosen material; selector 0xff uses the
// test RSA key instead so the asymmetric paths are reached too.
func fuzzKey(alg kmip.CryptographicAlgorithm, keySel uint8, material []byte) ports.KeyHandle {
	k := symKey(alg, material)
	if keySel == 0xff {
		k = ports.KeyHandle{ID: "k", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(alg),
			Format: uint32(kmip.KeyFormatTypePKCS_1), Material: unhex(pyRSAPrivPKCS1)}
	}
	return k
}

// FuzzCipher feeds Encrypt and Decrypt arbitrary parameters, keys, IVs,
// tags and streaming states: no panic, only port errors, and whatever
// encrypts in one part decrypts back.
func FuzzCipher(f *testing.F) {
	f.Add(uint8(0), uint8(2), uint8(2), uint8(0), uint8(0), 0, 0, int64(0), unhex("2b7e151628aed2a6abf7158809cf4f3c"), unhex("000102030405060708090a0b0c0d0e0f"), []byte("hello"), []byte(nil), []byte(nil))
	f.Add(uint8(0), uint8(6), uint8(0), uint8(0), uint8(0), 12, 96, int64(0), unhex("2b7e151628aed2a6abf7158809cf4f3c"), []byte(nil), []byte("gcm"), []byte(nil), []byte(nil))
	f.Add(uint8(8), uint8(0), uint8(0), uint8(1), uint8(0), 0, 0, int64(0xffffffff), bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{0xff}, 16), make([]byte, 130), []byte(nil), []byte(nil))
	f.Add(uint8(10), uint8(0), uint8(5), uint8(0), uint8(0xff), 0, 0, int64(0), []byte(nil), []byte(nil), []byte("rsa"), []byte(nil), []byte(nil))
	f.Add(uint8(1), uint8(2), uint8(2), uint8(3), uint8(0), 0, 0, int64(0), bytes.Repeat([]byte{3}, 24), make([]byte, 8), make([]byte, 20), []byte(nil), []byte{'k', 1, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, algSel, modeSel, padSel, flags, keySel uint8, tagLen, ivLen int, icv int64, material, iv, data, tag, state []byte) {
		alg := pick(fuzzAlgs, algSel)
		key := fuzzKey(alg, keySel, material)
		p := ports.CryptoParams{BlockCipherMode: uint32(pick(fuzzModes, modeSel)), PaddingMethod: uint32(pick(fuzzPads, padSel)),
			TagLength: tagLen, IVLength: ivLen, InitialCounterValue: icv, InitialCounterSet: flags&4 != 0,
			HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
		in := ports.CipherInput{Data: data, IV: iv, Tag: tag, AAD: material, Partial: flags&2 != 0, State: state}
		if flags&8 != 0 {
			in.IV = nil
		}
		if len(state) == 0 {
			in.State = nil
		}
		e := New()
		op := e.Decrypt
		if flags&1 == 0 {
			op = e.Encrypt
		}
		out, err := op(ctx, key, p, in)
		if !portError(err) {
			t.Fatalf("error outside the port's sentinels: %v", err)
		}
		if err != nil || flags&1 != 0 || in.Partial || in.State != nil {
			return
		}
		if in.IV == nil {
			in.IV = out.IV
		}
		back, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: out.Data, IV: in.IV, Tag: out.Tag, AAD: in.AAD})
		if err != nil {
			t.Fatalf("decrypting what encrypted: %v", err)
		}
		if !bytes.Equal(back.Data, data) {
			t.Fatalf("round trip gave %x, want %x", back.Data, data)
		}
	})
}

// FuzzUnwrap feeds UnwrapKey arbitrary wrapping keys, modes and data: no
// panic, only port errors.
func FuzzUnwrap(f *testing.F) {
	f.Add(uint8(0), uint8(8), uint8(0), uint8(0), unhex("000102030405060708090a0b0c0d0e0f"), unhex("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"))
	f.Add(uint8(0), uint8(9), uint8(0), uint8(0), unhex("000102030405060708090a0b0c0d0e0f"), make([]byte, 16))
	f.Add(uint8(10), uint8(0), uint8(5), uint8(0xff), []byte(nil), make([]byte, 256))
	f.Fuzz(func(t *testing.T, algSel, modeSel, padSel, keySel uint8, material, wrapped []byte) {
		alg := pick(fuzzAlgs, algSel)
		key := fuzzKey(alg, keySel, material)
		p := ports.CryptoParams{BlockCipherMode: uint32(pick(fuzzModes, modeSel)), PaddingMethod: uint32(pick(fuzzPads, padSel))}
		_, err := New().UnwrapKey(ctx, key, p, wrapped)
		if !portError(err) {
			t.Fatalf("error outside the port's sentinels: %v", err)
		}
	})
}

// FuzzSignVerify feeds Sign and Verify arbitrary key material in every
// declared format with arbitrary parameters: no panic, only port errors.
func FuzzSignVerify(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(4), uint8(6), uint8(0), unhex(pyRSAPrivPKCS1), []byte("abc"), []byte(nil))
	f.Add(uint8(1), uint8(0), uint8(0), uint8(0), uint8(1), unhex(pyECPrivSEC1), []byte("abc"), unhex(pyECDSASigSHA256))
	f.Add(uint8(3), uint8(0), uint8(0), uint8(0), uint8(0), unhex(pyECPubSPKI), make([]byte, 32), []byte{1})
	f.Add(uint8(4), uint8(0), uint8(0), uint8(0), uint8(0), bytes.Repeat([]byte{1}, 64), make([]byte, 64), make([]byte, 64))
	formats := []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_1, kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey, kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeRaw}
	algs := []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmRSA, kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmEd25519, kmip.CryptographicAlgorithmEC, 0}
	f.Fuzz(func(t *testing.T, formatSel, algSel, dsaSel, hashSel, flags uint8, material, data, sig []byte) {
		key := ports.KeyHandle{ID: "k", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(pick(algs, algSel)),
			Format: uint32(pick(formats, formatSel)), Material: material}
		if flags&4 != 0 {
			key.ObjectType = uint32(kmip.ObjectTypePublicKey)
		}
		p := ports.CryptoParams{DigitalSignatureAlgorithm: uint32(dsaSel % 20), HashingAlgorithm: uint32(hashSel % 14),
			PaddingMethod: uint32(pick(fuzzPads, flags>>4)), SaltLength: int(int8(dsaSel)), SaltLengthSet: flags&8 != 0}
		e := New()
		_, err := e.Sign(ctx, key, p, data, flags&1 != 0)
		if !portError(err) {
			t.Fatalf("Sign: error outside the port's sentinels: %v", err)
		}
		_, err = e.Verify(ctx, key, p, data, flags&1 != 0, sig)
		if !portError(err) {
			t.Fatalf("Verify: error outside the port's sentinels: %v", err)
		}
	})
}

// FuzzDeriveKey feeds DeriveKey arbitrary methods, lengths and inputs (with
// small iteration counts, so that the fuzzer stays fast): no panic, only
// port errors, and never more or fewer bytes than asked for.
func FuzzDeriveKey(f *testing.F) {
	f.Add(uint8(1), uint8(2), uint8(0), uint16(2), 160, []byte("password"), []byte("salt"), []byte(nil))
	f.Add(uint8(9), uint8(4), uint8(11), uint16(0), 384, bytes.Repeat([]byte{1}, 32), []byte(nil), []byte("label"))
	f.Add(uint8(4), uint8(0), uint8(0), uint16(0), 128, unhex("2b7e151628aed2a6abf7158809cf4f3c"), []byte(nil), make([]byte, 16))
	f.Fuzz(func(t *testing.T, method, hashSel, algSel uint8, iterations uint16, length int, base, salt, data []byte) {
		spec := ports.DeriveSpec{Method: uint32(method % 12), Base: symKey(pick(fuzzAlgs, algSel), base),
			Params: ports.CryptoParams{HashingAlgorithm: uint32(hashSel % 14), BlockCipherMode: uint32(kmip.BlockCipherModeCBC)},
			Data:   data, Salt: salt, IV: salt, Iterations: int(iterations % 1000), Length: length % (1 << 16)}
		k, err := New().DeriveKey(ctx, spec)
		if !portError(err) {
			t.Fatalf("error outside the port's sentinels: %v", err)
		}
		if err == nil && len(k.Material)*8 != spec.Length {
			t.Fatalf("%d bytes for %d bits", len(k.Material), spec.Length)
		}
	})
}
