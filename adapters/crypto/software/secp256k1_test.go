package software

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// The key pair, data and signatures of OASIS TC-ECDSA-SIGN-1-14: the
// recorded signature is good, the same with its last byte changed is not.
const (
	oasisK1Private = "30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000aa14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
	oasisK1Public  = "3056301006072a8648ce3d020106052b8104000a03420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
	oasisK1Point   = "04dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
	oasisK1Data    = "01020304050607080910111213141516"
	oasisK1Good    = "30440220078ac91570286b4b35f2bf1da113c6e25e8c45dfc7a7dc7db07f7ff34ffc08d702200135d58e21d091e60b81a0e63db3d914af9fe56de9b3cf747cd8ecc74a75ee71"
	oasisK1Bad     = "30440220078ac91570286b4b35f2bf1da113c6e25e8c45dfc7a7dc7db07f7ff34ffc08d702200135d58e21d091e60b81a0e63db3d914af9fe56de9b3cf747cd8ecc74a75eeff"
)

var ecdsaSHA256 = ports.CryptoParams{CryptographicAlgorithm: uint32(kmip.CryptographicAlgorithmECDSA), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}

func oasisK1() (priv, pub ports.KeyHandle) {
	return asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeECPrivateKey, unhex(oasisK1Private)),
		asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeX_509, unhex(oasisK1Public))
}

// decredVerify checks sig with the decred library directly, not through
// the engine.
func decredVerify(t *testing.T, point, digest, sig []byte) bool {
	t.Helper()
	pk, err := secp256k1.ParsePubKey(point)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k1ecdsa.ParseDERSignature(sig)
	if err != nil {
		return false
	}
	return s.Verify(digest, pk)
}

func TestSecp256k1OASISSignatures(t *testing.T) {
	e := New()
	priv, pub := oasisK1()
	data := unhex(oasisK1Data)
	for _, key := range []ports.KeyHandle{pub, priv} {
		for _, tc := range []struct {
			sig  string
			want bool
		}{{oasisK1Good, true}, {oasisK1Bad, false}, {"3006020101020101", false}, {"", false}} {
			ok, err := e.Verify(ctx, key, ecdsaSHA256, data, false, unhex(tc.sig))
			if err != nil || ok != tc.want {
				t.Errorf("Verify(%s key, %.16s…) = %v, %v; want %v", kmip.ObjectType(key.ObjectType), tc.sig, ok, err, tc.want)
			}
		}
	}
	// The engine's own signature verifies with decred directly, with Go's
	// generic ECDSA code over keyformat's curve, and through the engine.
	sig, err := e.Sign(ctx, priv, ecdsaSHA256, data, false)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(data)
	if !decredVerify(t, unhex(oasisK1Point), digest[:], sig) {
		t.Error("the engine's signature does not verify with decred")
	}
	k, err := keyformat.Decode(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, unhex(oasisK1Public)))
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(k.ECPublic, digest[:], sig) {
		t.Error("the engine's signature does not verify with crypto/ecdsa on keyformat's curve")
	}
	if ok, err := e.Verify(ctx, pub, ecdsaSHA256, data, false, sig); err != nil || !ok {
		t.Errorf("Verify(own signature) = %v, %v", ok, err)
	}
	// Over a given digest, with no hashing algorithm: the same signature
	// (RFC 6979 nonces are deterministic).
	dsig, err := e.Sign(ctx, priv, ports.CryptoParams{CryptographicAlgorithm: uint32(kmip.CryptographicAlgorithmECDSA)}, digest[:], true)
	if err != nil {
		t.Fatal(err)
	}
	if string(dsig) != string(sig) {
		t.Error("signing the digest gives another signature than signing the data")
	}
	// Digital Signature Algorithm ECDSA with SHA-256 names the same scheme.
	dsa := ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256)}
	if ok, err := e.Verify(ctx, pub, dsa, data, false, unhex(oasisK1Good)); err != nil || !ok {
		t.Errorf("Verify(ECDSA with SHA256) = %v, %v", ok, err)
	}
	// An RSA scheme on an EC key is refused.
	rsaPSS := ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmRSASSA_PSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	if _, err := e.Sign(ctx, priv, rsaPSS, data, false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("Sign(RSASSA-PSS) err = %v, want ErrInvalidInput", err)
	}
}

// RFC 6979 deterministic ECDSA on secp256k1 with SHA-256: private key 1,
// message "Satoshi Nakamoto" (the widely published vector, low-S form).
func TestSecp256k1RFC6979(t *testing.T) {
	//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
	priv := ecdsa.PrivateKey{D: new(big.Int).SetInt64(1)}
	//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
	priv.PublicKey = ecdsa.PublicKey{Curve: keyformat.Secp256k1(), X: keyformat.Secp256k1().Params().Gx, Y: keyformat.Secp256k1().Params().Gy}
	m, err := keyformat.Encode(keyformat.Key{Kind: keyformat.ECPrivate, ECPrivate: &priv}, kmip.KeyFormatTypePKCS_8, keyformat.Uncompressed)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := m.AsBytes()
	sig, err := New().Sign(ctx, asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypePKCS_8, der), ecdsaSHA256, []byte("Satoshi Nakamoto"), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "signature", sig, "3045022100934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d802202442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")
}

func TestSecp256k1GenerateKeyPair(t *testing.T) {
	for _, e := range []*Engine{New(), x931Engine(t)} {
		for _, alg := range []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA} {
			kp, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(alg), Curve: uint32(kmip.RecommendedCurveSECP256K1), Length: 256})
			if err != nil {
				t.Fatal(err)
			}
			if kp.Private.Format != uint32(kmip.KeyFormatTypePKCS_8) || kp.Public.Format != uint32(kmip.KeyFormatTypeX_509) {
				t.Fatalf("formats %s/%s", kmip.KeyFormatType(kp.Private.Format), kmip.KeyFormatType(kp.Public.Format))
			}
			priv, err := keyformat.Decode(kmip.KeyFormatTypePKCS_8, kmip.Bytes(kmip.TagKeyMaterial, kp.Private.Material))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := keyformat.Decode(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, kp.Public.Material))
			if err != nil {
				t.Fatal(err)
			}
			if !keyformat.IsSecp256k1(pub.ECPublic.Curve) || !pub.ECPublic.Equal(&priv.ECPrivate.PublicKey) {
				t.Fatal("the generated halves are not one secp256k1 key pair")
			}
			privH := asymKey(kmip.ObjectTypePrivateKey, alg, kmip.KeyFormatTypePKCS_8, kp.Private.Material)
			pubH := asymKey(kmip.ObjectTypePublicKey, alg, kmip.KeyFormatTypeX_509, kp.Public.Material)
			data := []byte("secp256k1 round trip")
			sig, err := e.Sign(ctx, privH, ecdsaSHA256, data, false)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256(data)
			//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
			point := append([]byte{4}, append(pub.ECPublic.X.FillBytes(make([]byte, 32)), pub.ECPublic.Y.FillBytes(make([]byte, 32))...)...)
			if !decredVerify(t, point, digest[:], sig) {
				t.Error("a fresh key's signature does not verify with decred")
			}
			if ok, err := e.Verify(ctx, pubH, ecdsaSHA256, data, false, sig); err != nil || !ok {
				t.Errorf("Verify = %v, %v", ok, err)
			}
			if ok, _ := e.Verify(ctx, pubH, ecdsaSHA256, []byte("other data"), false, sig); ok {
				t.Error("the signature verifies over other data")
			}
		}
	}
	for _, length := range []int{224, 384} {
		_, err := New().GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Curve: uint32(kmip.RecommendedCurveSECP256K1), Length: length})
		if !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("secp256k1 with %d bits: err = %v, want ErrInvalidLength", length, err)
		}
	}
}

// A private key whose embedded public point is not its own is refused.
func TestSecp256k1MismatchedPrivateKey(t *testing.T) {
	der := unhex(oasisK1Private)
	der[len(der)-1] ^= 1
	key := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeECPrivateKey, der)
	if _, err := New().Sign(ctx, key, ecdsaSHA256, []byte("x"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("err = %v, want ErrInvalidInput", err)
	}
}
