package cryptoops

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/domain/kmip"
)

// A CA key held by kmipd signs through the software engine whatever its
// kind (RSA PKCS#1 v1.5, ECDSA, Ed25519), and the certificates it issues
// verify with Go's x509.
func TestCertifyWithEngineCAKey(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	for name, key := range map[string]crypto.Signer{"rsa": rk, "ecdsa": ek, "ed25519": edk} {
		t.Run(name, func(t *testing.T) {
			st, err := sqlite.Open(filepath.Join(t.TempDir(), "k.sqlite"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			caX, _ := x509.ParseCertificate(der)
			pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
			e0 := &env{t: t, s: app.New(app.Config{Store: st, Crypto: software.New()}), major: 1, min: 4}
			keyID := text(t, e0.do(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypePrivateKey)),
				e0.attrs(kmip.TagTemplateAttribute, active()),
				kmip.Struct(kmip.TagPrivateKey, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_8)),
					kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, pkcs8))))), kmip.TagUniqueIdentifier)
			certID := text(t, e0.do(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeCertificate)),
				kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
					kmip.Bytes(kmip.TagCertificateValue, der))), kmip.TagUniqueIdentifier)

			s := app.New(app.Config{Store: st, Crypto: software.New(), CA: &app.CA{KeyID: keyID, CertificateID: certID}})
			if err := s.CheckCA(context.Background()); err != nil {
				t.Fatalf("CheckCA: %v", err)
			}
			e := &env{t: t, s: s, major: 2, min: 1}
			sub, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, sub)
			id := text(t, e.do(kmip.OperationCertify, kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
				kmip.Bytes(kmip.TagCertificateRequestValue, csr)), kmip.TagUniqueIdentifier)
			got, _ := e.do(kmip.OperationGet, uid(id)).Path(kmip.TagCertificate, kmip.TagCertificateValue).AsBytes()
			cert, err := x509.ParseCertificate(got)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(caX)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("the certificate does not verify: %v", err)
			}
			if err := cert.CheckSignatureFrom(caX); err != nil || cert.Subject.CommonName != "alice" {
				t.Errorf("signature %v, subject %v", err, cert.Subject)
			}
		})
	}
}
