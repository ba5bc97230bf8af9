// Package cryptotest is the contract suite every crypto engine must pass:
// software always, PKCS#11 on a SoftHSM2 token. It lives in a non-test file
// so each engine's test calls it in one line.
//
// Exercise checks the core CryptoEngine and then every optional capability
// the engine implements (Cipher, Signer, MACer, KeyPairGenerator, Deriver,
// Hasher, RandomSeeder, KeyWrapper), engine-agnostically: round trips,
// own signatures and MACs verifying, wrap/unwrap round trips, known answers
// from the standards computed through KeyHandle.Material, and the port's
// error sentinels for bad input. A capability the engine lacks, or an
// algorithm it answers ErrUnsupported for, is logged and skipped.
package cryptotest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Exercise runs the contract suite against e.
func Exercise(t *testing.T, e ports.CryptoEngine) {
	t.Helper()
	ctx := context.Background()
	if e.Name() == "" {
		t.Error("engine has no name")
	}
	t.Run("SymmetricKeyLengths", func(t *testing.T) {
		cases := []struct {
			alg    kmip.CryptographicAlgorithm
			length int
			bytes  int
		}{
			{kmip.CryptographicAlgorithmAES, 128, 16}, {kmip.CryptographicAlgorithmAES, 192, 24}, {kmip.CryptographicAlgorithmAES, 256, 32},
			{kmip.CryptographicAlgorithmDES3, 192, 24}, {kmip.CryptographicAlgorithmDES3, 128, 16},
			{kmip.CryptographicAlgorithmDES3, 168, 24}, {kmip.CryptographicAlgorithmDES3, 112, 16},
			{kmip.CryptographicAlgorithmCamellia, 128, 16}, {kmip.CryptographicAlgorithmCamellia, 256, 32},
			{kmip.CryptographicAlgorithmBlowfish, 32, 4}, {kmip.CryptographicAlgorithmBlowfish, 448, 56},
			{kmip.CryptographicAlgorithmCAST5, 40, 5}, {kmip.CryptographicAlgorithmCAST5, 128, 16},
			{kmip.CryptographicAlgorithmIDEA, 128, 16},
			{kmip.CryptographicAlgorithmRC4, 40, 5}, {kmip.CryptographicAlgorithmRC4, 2048, 256},
			{kmip.CryptographicAlgorithmHMAC_SHA256, 8, 1}, {kmip.CryptographicAlgorithmHMAC_SHA512, 1024, 128},
			{kmip.CryptographicAlgorithmHMAC_MD5, 128, 16}, {kmip.CryptographicAlgorithmHMAC_SHA1, 160, 20},
			{kmip.CryptographicAlgorithmChaCha20, 256, 32},
		}
		for _, c := range cases {
			k, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: "k", Algorithm: uint32(c.alg), Length: c.length, UsageMask: 12})
			if unsupported(t, err, "%s-%d", c.alg, c.length) {
				continue
			}
			if err != nil {
				t.Errorf("%s-%d: %v", c.alg, c.length, err)
				continue
			}
			if k.Ref == "" && len(k.Material) != c.bytes {
				t.Errorf("%s-%d: %d bytes of material, want %d", c.alg, c.length, len(k.Material), c.bytes)
			}
		}
	})
	t.Run("DistinctKeys", func(t *testing.T) {
		spec := ports.SymmetricKeySpec{ID: "k", Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256, UsageMask: 12}
		a, err1 := e.GenerateSymmetricKey(ctx, spec)
		b, err2 := e.GenerateSymmetricKey(ctx, spec)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.Ref == "" && bytes.Equal(a.Material, b.Material) {
			t.Error("two generated keys are equal")
		}
	})
	t.Run("InvalidLength", func(t *testing.T) {
		for _, c := range []struct {
			alg    kmip.CryptographicAlgorithm
			length int
		}{
			{kmip.CryptographicAlgorithmAES, 0}, {kmip.CryptographicAlgorithmAES, 100}, {kmip.CryptographicAlgorithmAES, 129},
			{kmip.CryptographicAlgorithmAES, 512}, {kmip.CryptographicAlgorithmDES3, 100}, {kmip.CryptographicAlgorithmIDEA, 64},
			{kmip.CryptographicAlgorithmBlowfish, 456}, {kmip.CryptographicAlgorithmCAST5, 136}, {kmip.CryptographicAlgorithmRC4, 33},
			{kmip.CryptographicAlgorithmHMAC_SHA256, 7}, {kmip.CryptographicAlgorithmChaCha20, 128},
		} {
			_, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(c.alg), Length: c.length})
			if c.alg != kmip.CryptographicAlgorithmAES && unsupported(t, err, "%s", c.alg) {
				continue
			}
			if !errors.Is(err, ports.ErrInvalidLength) {
				t.Errorf("%s-%d: got %v, want ErrInvalidLength", c.alg, c.length, err)
			}
		}
	})
	t.Run("UnsupportedAlgorithm", func(t *testing.T) {
		_, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 2048})
		if !errors.Is(err, ports.ErrUnsupported) {
			t.Errorf("RSA as a symmetric key: got %v, want ErrUnsupported", err)
		}
	})
	t.Run("RandomBytes", func(t *testing.T) {
		a, err := e.RandomBytes(ctx, 32)
		if err != nil || len(a) != 32 {
			t.Fatalf("RandomBytes: %d bytes, %v", len(a), err)
		}
		b, _ := e.RandomBytes(ctx, 32)
		if bytes.Equal(a, b) {
			t.Error("two random draws are equal")
		}
	})
	t.Run("CanceledContext", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := e.GenerateSymmetricKey(cctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 128}); !errors.Is(err, context.Canceled) {
			t.Errorf("canceled context: got %v", err)
		}
	})

	capability(t, e, "Cipher", func(c ports.Cipher) func(*testing.T) { return func(t *testing.T) { exerciseCipher(t, e, c) } })
	capability(t, e, "CipherHostileInput", func(c ports.Cipher) func(*testing.T) {
		return func(t *testing.T) { exerciseHostileCipher(t, e, c) }
	})
	capability(t, e, "Signer", func(s ports.Signer) func(*testing.T) { return func(t *testing.T) { exerciseSigner(t, e, s) } })
	capability(t, e, "MACer", func(m ports.MACer) func(*testing.T) { return func(t *testing.T) { exerciseMACer(t, e, m) } })
	capability(t, e, "KeyPairGenerator", func(g ports.KeyPairGenerator) func(*testing.T) {
		return func(t *testing.T) { exerciseKeyPairs(t, g) }
	})
	capability(t, e, "Deriver", func(d ports.Deriver) func(*testing.T) { return func(t *testing.T) { exerciseDeriver(t, d) } })
	capability(t, e, "Hasher", func(h ports.Hasher) func(*testing.T) { return func(t *testing.T) { exerciseHasher(t, h) } })
	capability(t, e, "RandomSeeder", func(s ports.RandomSeeder) func(*testing.T) { return func(t *testing.T) { exerciseSeeder(t, s) } })
	capability(t, e, "KeyWrapper", func(w ports.KeyWrapper) func(*testing.T) { return func(t *testing.T) { exerciseWrapper(t, e, w) } })
}

// capability runs the sub-suite for capability C when e implements it and
// logs its absence otherwise.
func capability[C any](t *testing.T, e ports.CryptoEngine, name string, suite func(C) func(*testing.T)) {
	t.Helper()
	c, ok := e.(C)
	if !ok {
		t.Logf("%s engine has no %s capability: skipped", e.Name(), name)
		return
	}
	t.Run(name, suite(c))
}

// unsupported logs and reports an ErrUnsupported answer, which the suite
// skips rather than fails.
func unsupported(t *testing.T, err error, format string, args ...any) bool {
	t.Helper()
	if errors.Is(err, ports.ErrUnsupported) {
		t.Logf("not supported, skipped: "+format+": %v", append(args, err)...)
		return true
	}
	return false
}

// newSymmetric generates a key with the engine and returns its handle, or
// false (logged) when the engine does not support it.
func newSymmetric(t *testing.T, e ports.CryptoEngine, alg kmip.CryptographicAlgorithm, length int) (ports.KeyHandle, bool) {
	t.Helper()
	k, err := e.GenerateSymmetricKey(context.Background(), ports.SymmetricKeySpec{ID: "cryptotest", Algorithm: uint32(alg), Length: length, UsageMask: 0x7fffffff})
	if unsupported(t, err, "%s-%d key", alg, length) {
		return ports.KeyHandle{}, false
	}
	if err != nil {
		t.Fatalf("generating %s-%d: %v", alg, length, err)
	}
	return ports.KeyHandle{ID: "cryptotest", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(alg), Length: length,
		Format: k.Format, Material: k.Material, Ref: k.Ref}, true
}

// knownKey is a handle on key material given by a test vector.
func knownKey(alg kmip.CryptographicAlgorithm, material []byte) ports.KeyHandle {
	return ports.KeyHandle{ID: "cryptotest-kat", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(alg),
		Length: 8 * len(material), Format: uint32(kmip.KeyFormatTypeRaw), Material: material}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func checkHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != want {
		t.Errorf("%s = %x, want %s", what, got, want)
	}
}
