package cryptotest

import (
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func exerciseSigner(t *testing.T, e ports.CryptoEngine, s ports.Signer) {
	ctx := context.Background()
	g, ok := e.(ports.KeyPairGenerator)
	if !ok {
		t.Skipf("%s engine signs but cannot generate key pairs; nothing to sign with", e.Name())
	}
	msg := []byte("message to sign")
	sha256 := uint32(kmip.HashingAlgorithmSHA_256)
	for _, c := range []struct {
		name   string
		spec   ports.KeyPairSpec
		params []ports.CryptoParams
	}{
		{"RSA-2048", pairSpecs[0].spec, []ports.CryptoParams{
			{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: sha256},
			{PaddingMethod: uint32(kmip.PaddingMethodPSS), HashingAlgorithm: sha256},
			{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_384WithRSAEncryption)},
		}},
		{"EC-P256", pairSpecs[1].spec, []ports.CryptoParams{
			{HashingAlgorithm: sha256},
			{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256)},
		}},
		{"Ed25519", pairSpecs[3].spec, []ports.CryptoParams{{}}},
	} {
		priv, pub, ok := newPair(t, g, c.name, c.spec)
		if !ok {
			continue
		}
		for _, p := range c.params {
			sig, err := s.Sign(ctx, priv, p, msg, false)
			if unsupported(t, err, "%s signature %+v", c.name, p) {
				continue
			}
			if err != nil {
				t.Errorf("%s sign %+v: %v", c.name, p, err)
				continue
			}
			if ok, err := s.Verify(ctx, pub, p, msg, false, sig); !ok || err != nil {
				t.Errorf("%s %+v: own signature does not verify (%v)", c.name, p, err)
			}
			if ok, err := s.Verify(ctx, pub, p, []byte("another message"), false, sig); ok || err != nil {
				t.Errorf("%s %+v: signature verifies another message (%v %v)", c.name, p, ok, err)
			}
			bad := append([]byte{}, sig...)
			bad[len(bad)/2] ^= 0x10
			if ok, _ := s.Verify(ctx, pub, p, msg, false, bad); ok {
				t.Errorf("%s %+v: tampered signature verifies", c.name, p)
			}
		}
		// Digested data: a signature over SHA-256(msg) verifies against msg.
		if c.name == "Ed25519" {
			continue
		}
		h, ok := e.(ports.Hasher)
		if !ok {
			continue
		}
		d, err := h.Hash(ctx, sha256, msg)
		if err != nil {
			t.Fatal(err)
		}
		p := c.params[0]
		sig, err := s.Sign(ctx, priv, p, d, true)
		if unsupported(t, err, "%s over a digest", c.name) {
			continue
		}
		if err != nil {
			t.Fatalf("%s over a digest: %v", c.name, err)
		}
		if ok, err := s.Verify(ctx, pub, p, msg, false, sig); !ok || err != nil {
			t.Errorf("%s: signature over the digest does not verify the message (%v)", c.name, err)
		}
	}
}
