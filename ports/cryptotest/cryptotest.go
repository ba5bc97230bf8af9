// Package cryptotest is the contract suite every crypto engine must pass:
// software always, PKCS#11 on a SoftHSM2 token. It lives in a non-test file
// so each engine's test calls it in one line.
package cryptotest

import (
	"bytes"
	"context"
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
		}{
			{kmip.CryptographicAlgorithmAES, 128}, {kmip.CryptographicAlgorithmAES, 192}, {kmip.CryptographicAlgorithmAES, 256},
			{kmip.CryptographicAlgorithmDES3, 192}, {kmip.CryptographicAlgorithmDES3, 128},
		}
		for _, c := range cases {
			k, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: "k", Algorithm: uint32(c.alg), Length: c.length, UsageMask: 12})
			if errors.Is(err, ports.ErrUnsupported) {
				t.Logf("%s-%d not supported by %s", c.alg, c.length, e.Name())
				continue
			}
			if err != nil {
				t.Errorf("%s-%d: %v", c.alg, c.length, err)
				continue
			}
			if k.Ref == "" && len(k.Material) != c.length/8 {
				t.Errorf("%s-%d: %d bytes of material", c.alg, c.length, len(k.Material))
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
		for _, l := range []int{0, 100, 129, 512} {
			_, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: l})
			if !errors.Is(err, ports.ErrInvalidLength) {
				t.Errorf("AES-%d: got %v, want ErrInvalidLength", l, err)
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
}
