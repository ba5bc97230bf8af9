package keyformat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// block builds a key block holding material in format f.
func block(f kmip.KeyFormatType, material *kmip.Item, alg kmip.CryptographicAlgorithm, length int32) *kmip.Item {
	return kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(f)),
		kmip.Struct(kmip.TagKeyValue, material),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(alg)),
		kmip.Int(kmip.TagCryptographicLength, length))
}

func mustBytes(t *testing.T) func([]byte, error) *kmip.Item {
	return func(b []byte, err error) *kmip.Item {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return kmip.Bytes(kmip.TagKeyMaterial, b)
	}
}

// sameKey reports whether two decoded keys hold the same material.
func sameKey(a, b Key) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Symmetric:
		return bytes.Equal(a.Secret, b.Secret)
	case RSAPublic:
		return a.RSAPublic.Equal(b.RSAPublic)
	case RSAPrivate:
		return a.RSAPrivate.N.Cmp(b.RSAPrivate.N) == 0 && a.RSAPrivate.D.Cmp(b.RSAPrivate.D) == 0
	case ECPublic:
		//lint:ignore SA1019 checks the Transparent EC key form (Q String, D as big.Int) against crypto/ecdsa's
		return a.ECPublic.X.Cmp(b.ECPublic.X) == 0 && a.ECPublic.Y.Cmp(b.ECPublic.Y) == 0
	case ECPrivate:
		//lint:ignore SA1019 checks the Transparent EC key form (Q String, D as big.Int) against crypto/ecdsa's
		return a.ECPrivate.D.Cmp(b.ECPrivate.D) == 0 && a.ECPrivate.X.Cmp(b.ECPrivate.X) == 0
	}
	return false
}

func TestConvert(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b := mustBytes(t)

	rsaPriv := map[kmip.KeyFormatType]*kmip.Item{
		kmip.KeyFormatTypePKCS_1:                   kmip.Bytes(kmip.TagKeyMaterial, x509.MarshalPKCS1PrivateKey(rsaKey)),
		kmip.KeyFormatTypePKCS_8:                   b(x509.MarshalPKCS8PrivateKey(rsaKey)),
		kmip.KeyFormatTypeTransparentRSAPrivateKey: transparentRSAPrivate(rsaKey),
	}
	rsaPub := map[kmip.KeyFormatType]*kmip.Item{
		kmip.KeyFormatTypePKCS_1:                  kmip.Bytes(kmip.TagKeyMaterial, x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)),
		kmip.KeyFormatTypeX_509:                   b(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)),
		kmip.KeyFormatTypeTransparentRSAPublicKey: kmip.Struct(kmip.TagKeyMaterial, kmip.Big(kmip.TagModulus, rsaKey.N), kmip.Big(kmip.TagPublicExponent, big.NewInt(65537))),
	}
	//lint:ignore SA1019 checks the Transparent EC key form (Q String, D as big.Int) against crypto/ecdsa's
	d := ecKey.D
	ecPriv := map[kmip.KeyFormatType]*kmip.Item{
		kmip.KeyFormatTypePKCS_8:                     b(x509.MarshalPKCS8PrivateKey(ecKey)),
		kmip.KeyFormatTypeECPrivateKey:               b(x509.MarshalECPrivateKey(ecKey)),
		kmip.KeyFormatTypeTransparentECPrivateKey:    kmip.Struct(kmip.TagKeyMaterial, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Big(kmip.TagD, d)),
		kmip.KeyFormatTypeTransparentECDSAPrivateKey: kmip.Struct(kmip.TagKeyMaterial, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Big(kmip.TagD, d)),
	}
	//lint:ignore SA1019 checks the Transparent EC key form (Q String, D as big.Int) against crypto/ecdsa's
	q := elliptic.Marshal(elliptic.P256(), ecKey.X, ecKey.Y)
	ecPub := map[kmip.KeyFormatType]*kmip.Item{
		kmip.KeyFormatTypeX_509:                    b(x509.MarshalPKIXPublicKey(&ecKey.PublicKey)),
		kmip.KeyFormatTypeTransparentECPublicKey:   kmip.Struct(kmip.TagKeyMaterial, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Bytes(kmip.TagQString, q)),
		kmip.KeyFormatTypeTransparentECDHPublicKey: kmip.Struct(kmip.TagKeyMaterial, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Bytes(kmip.TagQString, q)),
	}
	sym := map[kmip.KeyFormatType]*kmip.Item{
		kmip.KeyFormatTypeRaw:                     kmip.Bytes(kmip.TagKeyMaterial, secret),
		kmip.KeyFormatTypeTransparentSymmetricKey: kmip.Struct(kmip.TagKeyMaterial, kmip.Bytes(kmip.TagKey, secret)),
	}

	groups := []struct {
		name    string
		forms   map[kmip.KeyFormatType]*kmip.Item
		alg     kmip.CryptographicAlgorithm
		length  int32
		refused []kmip.KeyFormatType
	}{
		{"RSA private", rsaPriv, kmip.CryptographicAlgorithmRSA, 2048,
			[]kmip.KeyFormatType{kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeRaw, kmip.KeyFormatTypeECPrivateKey, kmip.KeyFormatTypeOpaque, kmip.KeyFormatTypeTransparentRSAPublicKey}},
		{"RSA public", rsaPub, kmip.CryptographicAlgorithmRSA, 2048,
			[]kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeRaw, kmip.KeyFormatTypeTransparentRSAPrivateKey}},
		{"EC private", ecPriv, kmip.CryptographicAlgorithmEC, 256,
			[]kmip.KeyFormatType{kmip.KeyFormatTypePKCS_1, kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeTransparentECPublicKey}},
		{"EC public", ecPub, kmip.CryptographicAlgorithmEC, 256,
			[]kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey, kmip.KeyFormatTypePKCS_1}},
		{"symmetric", sym, kmip.CryptographicAlgorithmAES, 256,
			[]kmip.KeyFormatType{kmip.KeyFormatTypePKCS_1, kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeOpaque}},
	}
	for _, g := range groups {
		var ref Key
		for from, m := range g.forms {
			k, err := Decode(from, m)
			if err != nil {
				t.Fatalf("%s: decode %s: %v", g.name, from, err)
			}
			if ref.Kind == 0 {
				ref = k
			} else if !sameKey(ref, k) {
				t.Fatalf("%s: %s decodes to another key", g.name, from)
			}
			if g.alg != kmip.CryptographicAlgorithmAES {
				alg, length, ok := k.Describe()
				if !ok || alg != g.alg || length != g.length {
					t.Errorf("%s: Describe from %s = %s %d, want %s %d", g.name, from, alg, length, g.alg, g.length)
				}
			}
			for to := range g.forms {
				out, err := Convert(block(from, m.Clone(), g.alg, g.length), to, Uncompressed)
				if err != nil {
					t.Errorf("%s: %s → %s: %v", g.name, from, to, err)
					continue
				}
				if f, _ := out.Child(kmip.TagKeyFormatType).AsEnum(); kmip.KeyFormatType(f) != to {
					t.Errorf("%s: %s → %s: block says %s", g.name, from, to, kmip.KeyFormatType(f))
				}
				if a, _ := out.Child(kmip.TagCryptographicAlgorithm).AsEnum(); kmip.CryptographicAlgorithm(a) != g.alg {
					t.Errorf("%s: %s → %s lost the Cryptographic Algorithm", g.name, from, to)
				}
				back, err := Decode(to, out.Path(kmip.TagKeyValue, kmip.TagKeyMaterial))
				if err != nil {
					t.Errorf("%s: %s → %s does not decode: %v", g.name, from, to, err)
				} else if !sameKey(ref, back) {
					t.Errorf("%s: %s → %s changed the key", g.name, from, to)
				}
			}
			for _, to := range g.refused {
				if _, err := Convert(block(from, m.Clone(), g.alg, g.length), to, Uncompressed); !errors.Is(err, ErrUnsupported) {
					t.Errorf("%s: %s → %s: got %v, want ErrUnsupported", g.name, from, to, err)
				}
			}
		}
	}
}

func TestCompressedPoint(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	kb := block(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, spki), kmip.CryptographicAlgorithmEC, 384)
	out, err := Convert(kb, kmip.KeyFormatTypeTransparentECPublicKey, CompressedPrime)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := out.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes()
	if len(q) != 1+48 || (q[0] != 2 && q[0] != 3) {
		t.Fatalf("Q String is not a compressed P-384 point: % x", q[:1])
	}
	back, err := Decode(kmip.KeyFormatTypeTransparentECPublicKey, out.Path(kmip.TagKeyValue, kmip.TagKeyMaterial))
	//lint:ignore SA1019 checks the Transparent EC key form (Q String, D as big.Int) against crypto/ecdsa's
	if err != nil || back.ECPublic.X.Cmp(ecKey.X) != 0 || back.ECPublic.Y.Cmp(ecKey.Y) != 0 {
		t.Fatalf("compressed point does not decode to the key: %v", err)
	}
	// A compressed block decompresses on request, and loses its Key
	// Compression Type.
	out.Add(kmip.Enum(kmip.TagKeyCompressionType, uint32(kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime)))
	plain, err := Convert(out, kmip.KeyFormatTypeTransparentECPublicKey, Uncompressed)
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := plain.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes(); len(q) != 1+2*48 || q[0] != 4 {
		t.Errorf("Q String is not an uncompressed P-384 point")
	}
	if plain.Child(kmip.TagKeyCompressionType) != nil {
		t.Errorf("decompressed block keeps a Key Compression Type")
	}
	// Compression applies to EC public points only.
	if _, err := Convert(kb, kmip.KeyFormatTypeX_509, CompressedPrime); !errors.Is(err, ErrUnsupported) {
		t.Errorf("compressed X.509: got %v, want ErrUnsupported", err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name   string
		format kmip.KeyFormatType
		m      *kmip.Item
	}{
		{"PKCS#1 garbage", kmip.KeyFormatTypePKCS_1, kmip.Bytes(kmip.TagKeyMaterial, []byte{1, 2, 3})},
		{"PKCS#8 garbage", kmip.KeyFormatTypePKCS_8, kmip.Bytes(kmip.TagKeyMaterial, []byte{0x30, 0})},
		{"X.509 as text", kmip.KeyFormatTypeX_509, kmip.Text(kmip.TagKeyMaterial, "key")},
		{"empty raw", kmip.KeyFormatTypeRaw, kmip.Bytes(kmip.TagKeyMaterial, nil)},
		{"RSA public without exponent", kmip.KeyFormatTypeTransparentRSAPublicKey, kmip.Struct(kmip.TagKeyMaterial, kmip.Big(kmip.TagModulus, big.NewInt(77)))},
		{"RSA private P×Q≠N", kmip.KeyFormatTypeTransparentRSAPrivateKey, kmip.Struct(kmip.TagKeyMaterial,
			kmip.Big(kmip.TagModulus, big.NewInt(77)), kmip.Big(kmip.TagPrivateExponent, big.NewInt(43)),
			kmip.Big(kmip.TagP, big.NewInt(5)), kmip.Big(kmip.TagQ, big.NewInt(11)))},
		{"EC point off curve", kmip.KeyFormatTypeTransparentECPublicKey, kmip.Struct(kmip.TagKeyMaterial,
			kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Bytes(kmip.TagQString, append([]byte{4}, make([]byte, 64)...)))},
		{"EC D zero", kmip.KeyFormatTypeTransparentECPrivateKey, kmip.Struct(kmip.TagKeyMaterial,
			kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)), kmip.Big(kmip.TagD, big.NewInt(0)))},
		{"symmetric without Key", kmip.KeyFormatTypeTransparentSymmetricKey, kmip.Struct(kmip.TagKeyMaterial)},
	}
	for _, c := range cases {
		if _, err := Decode(c.format, c.m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", c.name, err)
		}
	}
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypeOpaque, kmip.KeyFormatTypePKCS_12, kmip.KeyFormatTypeTransparentDSAPrivateKey} {
		if _, err := Decode(f, kmip.Bytes(kmip.TagKeyMaterial, []byte{1})); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", f, err)
		}
	}
}
