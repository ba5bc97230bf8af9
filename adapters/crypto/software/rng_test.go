package software

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/cryptotest"
)

func x931Engine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewWithOptions(Options{RNG: RNGX931AES256})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The whole engine contract holds when keys come from X9.31.
func TestContractX931(t *testing.T) { cryptotest.Exercise(t, x931Engine(t)) }

func TestRNGOptions(t *testing.T) {
	for _, name := range []string{"", "os"} {
		e, err := NewWithOptions(Options{RNG: name})
		if err != nil || e.x931 != nil {
			t.Fatalf("%q: %v %v", name, e, err)
		}
		if got := e.RNG().Algorithm; got != uint32(kmip.RNGAlgorithmUnspecified) {
			t.Fatalf("%q described as %d", name, got)
		}
	}
	if got := New().RNG().Algorithm; got != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Fatalf("New() described as %d", got)
	}
	if _, err := NewWithOptions(Options{RNG: "x9.17"}); err == nil {
		t.Fatal("unknown rng accepted")
	}
	want := ports.RNGInfo{Algorithm: uint32(kmip.RNGAlgorithmANSIX9_31), CryptoAlgorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256}
	if got := x931Engine(t).RNG(); got != want {
		t.Fatalf("x9.31 described as %+v", got)
	}
}

func TestX931KeysAndRandom(t *testing.T) {
	ctx := context.Background()
	e := x931Engine(t)
	k1, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256})
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256})
	if len(k1.Material) != 32 || string(k1.Material) == string(k2.Material) {
		t.Fatalf("keys %x %x", k1.Material, k2.Material)
	}
	r, err := e.RandomBytes(ctx, 100)
	if err != nil || len(r) != 100 {
		t.Fatalf("random: %d %v", len(r), err)
	}
	for _, spec := range []ports.KeyPairSpec{
		{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 2048},
		{Algorithm: uint32(kmip.CryptographicAlgorithmECDSA), Length: 256},
		{Algorithm: uint32(kmip.CryptographicAlgorithmECDSA), Length: 521},
		{Algorithm: uint32(kmip.CryptographicAlgorithmEd25519), Length: 256},
	} {
		kp, err := e.GenerateKeyPair(ctx, spec)
		if err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
		switch kmip.CryptographicAlgorithm(spec.Algorithm) {
		case kmip.CryptographicAlgorithmRSA:
			k, err := x509.ParsePKCS1PrivateKey(kp.Private.Material)
			if err != nil || k.N.BitLen() != spec.Length {
				t.Fatalf("RSA: %v", err)
			}
		case kmip.CryptographicAlgorithmECDSA:
			k, err := x509.ParsePKCS8PrivateKey(kp.Private.Material)
			if err != nil || k.(*ecdsa.PrivateKey).Curve.Params().BitSize != spec.Length {
				t.Fatalf("EC: %v", err)
			}
		default:
			k, err := x509.ParsePKCS8PrivateKey(kp.Private.Material)
			if _, ok := k.(ed25519.PrivateKey); err != nil || !ok {
				t.Fatalf("Ed25519: %v", err)
			}
		}
	}
}

func TestRNGsList(t *testing.T) {
	if rs := New().RNGs(); len(rs) != 1 || rs[0].Algorithm != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Fatalf("os engine lists %+v", rs)
	}
	e := x931Engine(t)
	rs := e.RNGs()
	if len(rs) != 2 || rs[0] != e.RNG() || rs[1].Algorithm != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Fatalf("x9.31 engine lists %+v", rs)
	}
}
