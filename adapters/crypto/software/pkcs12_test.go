package software

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// A PFX holds the key and its certificate under the password; a public key
// or a chain that is not X.509 is refused with ErrInvalidInput.
func TestEncodePKCS12(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "k"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(priv)
	key := ports.KeyHandle{ID: "k", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmEC),
		Format: uint32(kmip.KeyFormatTypePKCS_8), Material: p8}
	e := New()
	pfx, err := e.EncodePKCS12(context.Background(), key, [][]byte{der}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	got, cert, err := pkcs12.Decode(pfx, "pw")
	if err != nil || !got.(*ecdsa.PrivateKey).Equal(priv) || cert.SerialNumber.Int64() != 1 {
		t.Fatalf("PFX does not hold the key and certificate: %v", err)
	}
	if _, _, err := pkcs12.Decode(pfx, "wrong"); err == nil {
		t.Error("the PFX opens with the wrong password")
	}
	if _, err := e.EncodePKCS12(context.Background(), key, [][]byte{[]byte("junk")}, "pw"); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("a junk certificate: %v", err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubKey := ports.KeyHandle{ID: "p", ObjectType: uint32(kmip.ObjectTypePublicKey), Format: uint32(kmip.KeyFormatTypeX_509), Material: pub}
	if _, err := e.EncodePKCS12(context.Background(), pubKey, [][]byte{der}, "pw"); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("a public key: %v", err)
	}
}
