package keyformat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// The key pair OASIS TC-ECDSA-SIGN-1-14 registers: SEC 1 ECPrivateKey and
// X.509 SubjectPublicKeyInfo DER, as the case file carries them.
const (
	oasisK1Private = "30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000aa14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
	oasisK1Public  = "3056301006072a8648ce3d020106052b8104000a03420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bigHex(s string) *big.Int {
	v, _ := new(big.Int).SetString(s, 16)
	return v
}

// Multiples of the generator, from SEC 2 and the published secp256k1 test
// points (kG for k = 2, 3, n-1).
func TestSecp256k1Arithmetic(t *testing.T) {
	c := Secp256k1()
	p := c.Params()
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	if !c.IsOnCurve(p.Gx, p.Gy) {
		t.Fatal("G is not on the curve")
	}
	twoX := bigHex("C6047F9441ED7D6D3045406E95C07CD85C778E4B8CEF3CA7ABAC09B95C709EE5")
	twoY := bigHex("1AE168FEA63DC339A3C58419466CEAEEF7F632653266D0E1236431A950CFE52A")
	threeX := bigHex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9")
	threeY := bigHex("388F7B0F632DE8140FE337E62A37F3566500A99934C2231B6CB9FD7584B8E672")
	check := func(name string, x, y, wx, wy *big.Int) {
		t.Helper()
		if x.Cmp(wx) != 0 || y.Cmp(wy) != 0 {
			t.Errorf("%s = (%X, %X), want (%X, %X)", name, x, y, wx, wy)
		}
	}
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y := c.Double(p.Gx, p.Gy)
	check("2G by doubling", x, y, twoX, twoY)
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y = c.ScalarBaseMult([]byte{2})
	check("2G by scalar", x, y, twoX, twoY)
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y = c.Add(twoX, twoY, p.Gx, p.Gy)
	check("2G+G", x, y, threeX, threeY)
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y = c.ScalarMult(p.Gx, p.Gy, []byte{0, 0, 3})
	check("3G by scalar", x, y, threeX, threeY)
	nm1 := new(big.Int).Sub(p.N, big.NewInt(1))
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y = c.ScalarBaseMult(nm1.Bytes())
	check("(n-1)G", x, y, p.Gx, new(big.Int).Sub(p.P, p.Gy))
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	x, y = c.ScalarBaseMult(p.N.Bytes())
	if x.Sign() != 0 || y.Sign() != 0 {
		t.Errorf("nG = (%X, %X), want the point at infinity", x, y)
	}
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	if c.IsOnCurve(p.Gx, new(big.Int).Add(p.Gy, big.NewInt(1))) {
		t.Error("(Gx, Gy+1) is on the curve")
	}
	//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
	if c.IsOnCurve(new(big.Int), new(big.Int)) {
		t.Error("the point at infinity is on the curve")
	}
}

func TestSecp256k1OASISKey(t *testing.T) {
	privDER, pubDER := unhex(t, oasisK1Private), unhex(t, oasisK1Public)
	priv, err := Decode(kmip.KeyFormatTypeECPrivateKey, kmip.Bytes(kmip.TagKeyMaterial, privDER))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := Decode(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, pubDER))
	if err != nil {
		t.Fatal(err)
	}
	if !IsSecp256k1(priv.ECPrivate.Curve) || !IsSecp256k1(pub.ECPublic.Curve) {
		t.Fatal("keys are not on secp256k1")
	}
	if !pub.ECPublic.Equal(&priv.ECPrivate.PublicKey) {
		t.Fatal("the public key is not the private key's")
	}
	if alg, n, ok := priv.Describe(); !ok || alg != kmip.CryptographicAlgorithmEC || n != 256 {
		t.Errorf("Describe = %s %d %v, want EC 256", alg, n, ok)
	}
	// Re-encoding reproduces the case's DER byte for byte.
	for _, tc := range []struct {
		k      Key
		format kmip.KeyFormatType
		want   []byte
	}{
		{priv, kmip.KeyFormatTypeECPrivateKey, privDER},
		{pub, kmip.KeyFormatTypeX_509, pubDER},
	} {
		it, err := Encode(tc.k, tc.format, Uncompressed)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := it.AsBytes(); !bytes.Equal(got, tc.want) {
			t.Errorf("%s = %x, want %x", tc.format, got, tc.want)
		}
	}
	// The private key through PKCS#8 and the transparent structure, and the
	// public key through the transparent structure, compressed or not.
	kb := block(kmip.KeyFormatTypeECPrivateKey, kmip.Bytes(kmip.TagKeyMaterial, privDER), kmip.CryptographicAlgorithmEC, 256)
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeTransparentECPrivateKey, kmip.KeyFormatTypeTransparentECDSAPrivateKey} {
		nkb, err := Convert(kb, f, Uncompressed)
		if err != nil {
			t.Fatalf("to %s: %v", f, err)
		}
		back, err := Convert(nkb, kmip.KeyFormatTypeECPrivateKey, Uncompressed)
		if err != nil {
			t.Fatalf("from %s: %v", f, err)
		}
		if got, _ := back.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(got, privDER) {
			t.Errorf("ECPrivateKey → %s → ECPrivateKey = %x", f, got)
		}
		if f != kmip.KeyFormatTypePKCS_8 {
			if c, _ := nkb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagRecommendedCurve).AsEnum(); c != uint32(kmip.RecommendedCurveSECP256K1) {
				t.Errorf("%s names curve %s", f, kmip.RecommendedCurve(c))
			}
		}
	}
	pkb := block(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, pubDER), kmip.CryptographicAlgorithmEC, 256)
	for _, comp := range []Compression{Uncompressed, CompressedPrime} {
		nkb, err := Convert(pkb, kmip.KeyFormatTypeTransparentECPublicKey, comp)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := nkb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes()
		want := "04dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
		if comp == CompressedPrime {
			want = "02dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda48" // y ends in …66: even
		}
		if hex.EncodeToString(q) != want {
			t.Errorf("Q String (compression %d) = %x, want %s", comp, q, want)
		}
		back, err := Convert(nkb, kmip.KeyFormatTypeX_509, Uncompressed)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := back.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(got, pubDER) {
			t.Errorf("X.509 → transparent (compression %d) → X.509 = %x", comp, got)
		}
	}
}

// Compressed points of both parities decompress to the right point.
func TestSecp256k1Decompress(t *testing.T) {
	c := Secp256k1()
	parities := map[uint]bool{}
	for k := byte(1); k <= 12; k++ {
		//lint:ignore SA1019 tests the secp256k1 elliptic.Curve implementation through the elliptic.Curve methods it exists to provide
		x, y := c.ScalarBaseMult([]byte{k})
		//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
		pub := Key{Kind: ECPublic, ECPublic: &ecdsa.PublicKey{Curve: c, X: x, Y: y}}
		it, err := Encode(pub, kmip.KeyFormatTypeTransparentECPublicKey, CompressedPrime)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(kmip.KeyFormatTypeTransparentECPublicKey, it)
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
		if back.ECPublic.X.Cmp(x) != 0 || back.ECPublic.Y.Cmp(y) != 0 {
			t.Errorf("%dG: decompressed to another point", k)
		}
		parities[y.Bit(0)] = true
	}
	if len(parities) != 2 {
		t.Error("the points tried do not cover both parities of y")
	}
}

func TestSecp256k1Malformed(t *testing.T) {
	privDER, pubDER := unhex(t, oasisK1Private), unhex(t, oasisK1Public)
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	bad := []struct {
		name   string
		format kmip.KeyFormatType
		der    []byte
	}{
		{"public point off the curve", kmip.KeyFormatTypeX_509, flip(pubDER, len(pubDER)-1)},
		{"embedded public key not the private key's", kmip.KeyFormatTypeECPrivateKey, flip(privDER, len(privDER)-1)},
		{"private scalar changed under its public key", kmip.KeyFormatTypeECPrivateKey, flip(privDER, 8)},
		{"trailing data", kmip.KeyFormatTypeX_509, append(bytes.Clone(pubDER), 0)},
	}
	for _, tc := range bad {
		_, err := Decode(tc.format, kmip.Bytes(kmip.TagKeyMaterial, tc.der))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
	// An x whose x³ + 7 is not a square mod p has no point (x = 5 is one).
	q := append([]byte{2}, make([]byte, 32)...)
	q[32] = 5
	m := kmip.Struct(kmip.TagKeyMaterial, kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveSECP256K1)), kmip.Bytes(kmip.TagQString, q))
	if _, err := Decode(kmip.KeyFormatTypeTransparentECPublicKey, m); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "secp256k1") {
		t.Errorf("compressed x = 5: err = %v, want ErrMalformed", err)
	}
}

// Secp256k1Private reads the scalar and embedded point of both private
// forms, and nothing else.
func TestSecp256k1Private(t *testing.T) {
	privDER := unhex(t, oasisK1Private)
	priv, err := Decode(kmip.KeyFormatTypeECPrivateKey, kmip.Bytes(kmip.TagKeyMaterial, privDER))
	if err != nil {
		t.Fatal(err)
	}
	p8, err := Encode(priv, kmip.KeyFormatTypePKCS_8, Uncompressed)
	if err != nil {
		t.Fatal(err)
	}
	p8DER, _ := p8.AsBytes()
	for f, der := range map[kmip.KeyFormatType][]byte{kmip.KeyFormatTypeECPrivateKey: privDER, kmip.KeyFormatTypePKCS_8: p8DER} {
		d, q, err := Secp256k1Private(f, der)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if hex.EncodeToString(d) != "db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68" || !bytes.Equal(q, marshalK1(&priv.ECPrivate.PublicKey)) {
			t.Errorf("%s: d = %x, q = %x", f, d, q)
		}
	}
	// A SEC 1 key without its public point: q is nil.
	//lint:ignore SA1019 secp256k1 test vectors: the curve has no crypto/ecdh form, so its points are raw coordinates
	bare, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: priv.ECPrivate.D.Bytes(), NamedCurveOID: oidSecp256k1})
	if err != nil {
		t.Fatal(err)
	}
	if _, q, err := Secp256k1Private(kmip.KeyFormatTypeECPrivateKey, bare); err != nil || q != nil {
		t.Errorf("no public point: q = %x, err = %v", q, err)
	}
	if k, err := Decode(kmip.KeyFormatTypeECPrivateKey, kmip.Bytes(kmip.TagKeyMaterial, bare)); err != nil || !k.ECPrivate.PublicKey.Equal(&priv.ECPrivate.PublicKey) {
		t.Errorf("no public point: Decode derives another key (%v)", err)
	}
	// A P-256 key, an X.509 key, or a PKCS#8 ECPrivateKey naming another curve are not secp256k1 keys.
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := x509.MarshalECPrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f   kmip.KeyFormatType
		der []byte
	}{
		{kmip.KeyFormatTypeECPrivateKey, p256},
		{kmip.KeyFormatTypeX_509, unhex(t, oasisK1Public)},
		{kmip.KeyFormatTypePKCS_8, privDER},
	} {
		if _, _, err := Secp256k1Private(tc.f, tc.der); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s %.20x…: err = %v, want ErrMalformed", tc.f, tc.der, err)
		}
	}
}
