package keyformat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestRecognise: each DER encoding of an asymmetric key is named for what
// it is; symmetric secrets and garbage are not recognised.
func TestRecognise(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(rk)
	spki, _ := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	cases := []struct {
		name string
		b    []byte
		f    kmip.KeyFormatType
		kind Kind
	}{
		{"PKCS#1 private", x509.MarshalPKCS1PrivateKey(rk), kmip.KeyFormatTypePKCS_1, RSAPrivate},
		{"PKCS#1 public", x509.MarshalPKCS1PublicKey(&rk.PublicKey), kmip.KeyFormatTypePKCS_1, RSAPublic},
		{"PKCS#8", p8, kmip.KeyFormatTypePKCS_8, RSAPrivate},
		{"SPKI", spki, kmip.KeyFormatTypeX_509, ECPublic},
		{"SEC 1", sec1, kmip.KeyFormatTypeECPrivateKey, ECPrivate},
	}
	for _, c := range cases {
		k, f, ok := Recognise(c.b)
		if !ok || f != c.f || k.Kind != c.kind {
			t.Errorf("%s: recognised %v as %s kind %d, want %s kind %d", c.name, ok, f, k.Kind, c.f, c.kind)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 32), {0x30, 0x00}} {
		if _, _, ok := Recognise(b); ok {
			t.Errorf("%x recognised as a key", b)
		}
	}
}

// TestPKCS8AdmitsRSAPrivateKeySyntax: KMIP 1.4 §2.1.3 says PKCS8 supports
// "both the RSAPrivateKey syntax and EncryptedPrivateKey".
func TestPKCS8AdmitsRSAPrivateKeySyntax(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Decode(kmip.KeyFormatTypePKCS_8, kmip.Bytes(kmip.TagKeyMaterial, x509.MarshalPKCS1PrivateKey(rk)))
	if err != nil || k.Kind != RSAPrivate || !k.RSAPrivate.Equal(rk) {
		t.Fatalf("PKCS8 holding an RSAPrivateKey: %v", err)
	}
	// Converting it to PKCS_1 gives the same bytes; to PKCS_8 a PrivateKeyInfo
	// only on request of another format than the stored one.
	kb := kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_8)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, x509.MarshalPKCS1PrivateKey(rk))))
	out, err := Convert(kb, kmip.KeyFormatTypeTransparentRSAPrivateKey, Uncompressed)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := out.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagModulus).AsBig(); n == nil || n.Cmp(rk.N) != 0 {
		t.Errorf("Transparent RSA Private Key has the wrong Modulus")
	}
}
