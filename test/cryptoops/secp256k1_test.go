package cryptoops

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getKey returns the key block of a Get in the given format (0: as stored)
// and compression (0: none).
func (e *env) getKey(id string, format kmip.KeyFormatType, comp kmip.KeyCompressionType) *kmip.Item {
	e.t.Helper()
	req := []*kmip.Item{uid(id)}
	if format != 0 {
		req = append(req, kmip.Enum(kmip.TagKeyFormatType, uint32(format)))
	}
	if comp != 0 {
		req = append(req, kmip.Enum(kmip.TagKeyCompressionType, uint32(comp)))
	}
	for _, ch := range e.do(kmip.OperationGet, req...).Children() {
		if kb := ch.Child(kmip.TagKeyBlock); kb != nil {
			return kb
		}
	}
	e.t.Fatalf("no key block for %s", id)
	return nil
}

// A secp256k1 key pair made by CreateKeyPair signs; its signatures verify
// with the decred library and with crypto/ecdsa's generic code over
// keyformat's curve, and its halves convert to the transparent and
// compressed forms.
func TestSecp256k1KeyPair(t *testing.T) {
	each(t, func(e *env) {
		msg := []byte("signed on secp256k1")
		digest := sha256.Sum256(msg)
		curve := kmip.Struct(kmip.TagCryptographicDomainParameters, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveSECP256K1)))
		priv, pub := e.keyPair(kmip.CryptographicAlgorithmEC, 256, mask(kmip.CryptographicUsageMaskSign), mask(kmip.CryptographicUsageMaskVerify), curve)

		k, err := keyformat.Decode(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, e.material(pub)))
		if err != nil || k.Kind != keyformat.ECPublic || !keyformat.IsSecp256k1(k.ECPublic.Curve) {
			e.t.Fatalf("public key is not a secp256k1 X.509 key: %v", err)
		}
		//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
		point := append([]byte{4}, append(k.ECPublic.X.FillBytes(make([]byte, 32)), k.ECPublic.Y.FillBytes(make([]byte, 32))...)...)
		dpub, err := secp256k1.ParsePubKey(point)
		if err != nil {
			e.t.Fatal(err)
		}

		p := params(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmECDSA), kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))
		sig := e.sign(priv, p, msg)
		ds, err := k1ecdsa.ParseDERSignature(sig)
		if err != nil || !ds.Verify(digest[:], dpub) {
			e.t.Fatal("the signature does not verify with decred")
		}
		if !ecdsa.VerifyASN1(k.ECPublic, digest[:], sig) {
			e.t.Fatal("the signature does not verify with crypto/ecdsa")
		}
		if !e.verify(pub, p.Clone(), msg, sig) || e.verify(pub, p.Clone(), []byte("other"), sig) {
			e.t.Fatal("SignatureVerify")
		}

		// The public key as Transparent EC Public Key, uncompressed and
		// compressed, and the private key as ECPrivateKey and transparent.
		tq, _ := e.getKey(pub, kmip.KeyFormatTypeTransparentECPublicKey, 0).Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes()
		if !bytes.Equal(tq, point) {
			e.t.Errorf("Transparent EC Public Key Q = %x, want %x", tq, point)
		}
		cq, _ := e.getKey(pub, kmip.KeyFormatTypeTransparentECPublicKey, kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime).
			Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes()
		if !bytes.Equal(cq, dpub.SerializeCompressed()) {
			e.t.Errorf("compressed Q = %x, want %x", cq, dpub.SerializeCompressed())
		}
		sec1, _ := e.getKey(priv, kmip.KeyFormatTypeECPrivateKey, 0).Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		pk, err := keyformat.Decode(kmip.KeyFormatTypeECPrivateKey, kmip.Bytes(kmip.TagKeyMaterial, sec1))
		if err != nil || !pk.ECPrivate.PublicKey.Equal(k.ECPublic) {
			e.t.Fatalf("ECPrivateKey form: %v", err)
		}
		tkm := e.getKey(priv, kmip.KeyFormatTypeTransparentECPrivateKey, 0).Path(kmip.TagKeyValue, kmip.TagKeyMaterial)
		if c, _ := tkm.Child(kmip.TagRecommendedCurve).AsEnum(); c != uint32(kmip.RecommendedCurveSECP256K1) {
			e.t.Errorf("Transparent EC Private Key curve %s", kmip.RecommendedCurve(c))
		}
		//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
		if d, _ := tkm.Child(kmip.TagD).AsBig(); d == nil || d.Cmp(pk.ECPrivate.D) != 0 {
			e.t.Error("Transparent EC Private Key D is not the key's")
		}
	})
}
