package cryptotest

import (
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// pairSpecs are the key pairs the suite asks for; an engine may lack some.
var pairSpecs = []struct {
	name string
	spec ports.KeyPairSpec
}{
	{"RSA-2048", ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 2048}},
	{"EC-P256", ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Curve: uint32(kmip.RecommendedCurveP_256), Length: 256}},
	{"ECDSA-P384", ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmECDSA), Length: 384}},
	{"Ed25519", ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmEd25519)}},
}

// newPair generates a key pair and returns handles on both halves, or
// false (logged) when the engine does not support it.
func newPair(t *testing.T, g ports.KeyPairGenerator, name string, spec ports.KeyPairSpec) (priv, pub ports.KeyHandle, ok bool) {
	t.Helper()
	spec.PrivateID, spec.PublicID = "cryptotest-priv", "cryptotest-pub"
	kp, err := g.GenerateKeyPair(context.Background(), spec)
	if unsupported(t, err, "%s key pair", name) {
		return priv, pub, false
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	handle := func(id string, ot kmip.ObjectType, k ports.Key) ports.KeyHandle {
		return ports.KeyHandle{ID: id, ObjectType: uint32(ot), Algorithm: spec.Algorithm, Length: spec.Length,
			Format: k.Format, Material: k.Material, Ref: k.Ref}
	}
	return handle(spec.PrivateID, kmip.ObjectTypePrivateKey, kp.Private), handle(spec.PublicID, kmip.ObjectTypePublicKey, kp.Public), true
}

func exerciseKeyPairs(t *testing.T, g ports.KeyPairGenerator) {
	ctx := context.Background()
	t.Run("Generate", func(t *testing.T) {
		for _, c := range pairSpecs {
			priv, pub, ok := newPair(t, g, c.name, c.spec)
			if !ok {
				continue
			}
			for _, h := range []ports.KeyHandle{priv, pub} {
				if h.Ref == "" && (len(h.Material) == 0 || h.Format == 0) {
					t.Errorf("%s %s: %d bytes of material in format %d", c.name, kmip.ObjectType(h.ObjectType), len(h.Material), h.Format)
				}
			}
			if priv.Ref == "" && string(priv.Material) == string(pub.Material) {
				t.Errorf("%s: private and public material are equal", c.name)
			}
		}
	})
	t.Run("InvalidLength", func(t *testing.T) {
		for _, spec := range []ports.KeyPairSpec{
			{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 1000 + 3},
			{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 100},
			{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Length: 255},
		} {
			_, err := g.GenerateKeyPair(ctx, spec)
			if unsupported(t, err, "%s", kmip.CryptographicAlgorithm(spec.Algorithm)) {
				continue
			}
			if !errors.Is(err, ports.ErrInvalidLength) {
				t.Errorf("%s-%d: %v, want ErrInvalidLength", kmip.CryptographicAlgorithm(spec.Algorithm), spec.Length, err)
			}
		}
	})
	t.Run("UnsupportedAlgorithm", func(t *testing.T) {
		_, err := g.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256})
		if !errors.Is(err, ports.ErrUnsupported) {
			t.Errorf("AES key pair: %v, want ErrUnsupported", err)
		}
	})
}
