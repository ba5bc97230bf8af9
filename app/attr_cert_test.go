package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// selfSigned returns a DER certificate for subject CN "CN", O "acme".
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242),
		Subject:      pkix.Name{CommonName: "CN", Organization: []string{"acme"}},
		NotBefore:    time.Unix(0, 0), NotAfter: time.Unix(4e9, 0),
		DNSNames: []string{"kmip.example"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// A registered certificate gets its attributes from the certificate; they
// are read-only (KMIP 2.1 §4.6-4.8, §4.22, §4.61-4.63; OASIS BL-M-10-21).
func TestCertificateAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	der := selfSigned(t)
	x509Type := kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509))
	register := func(v version, attrs ...*kmip.Item) *kmip.Item {
		box := kmip.Struct(kmip.TagAttributes, attrs...)
		if v.major < 2 {
			box = kmip.Struct(kmip.TagTemplateAttribute)
			for _, a := range attrs {
				box.Add(attribute1x(a.Tag.SpecName(), a))
			}
		}
		return batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeCertificate)), box,
			kmip.Struct(kmip.TagCertificate, x509Type.Clone(), kmip.Bytes(kmip.TagCertificateValue, der)))
	}
	id := createdID(t, sendOne(t, s, alice, v21, register(v21, x509Type.Clone())))
	createdID(t, sendOne(t, s, alice, v14, register(v14, x509Type.Clone())))
	pgp := kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypePGP))
	mustFail(t, sendOne(t, s, alice, v21, register(v21, pgp)), kmip.ResultReasonInvalidAttributeValue)
	mustFail(t, sendOne(t, s, alice, v14, register(v14, pgp)), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v21, register(v21, kmip.Int(kmip.TagCertificateLength, 1))), kmip.ResultReasonAttributeReadOnly)

	a := attrs21(t, s, id)
	if n, _ := a[kmip.TagCertificateLength][0].AsInt(); int(n) != len(der) {
		t.Errorf("Certificate Length %d, want %d", n, len(der))
	}
	if cn, _ := a[kmip.TagCertificateSubjectCN][0].AsText(); cn != "CN" {
		t.Errorf("Certificate Subject CN %q", cn)
	}
	if o, _ := a[kmip.TagCertificateIssuerO][0].AsText(); o != "acme" {
		t.Errorf("Certificate Issuer O %q", o)
	}
	if alg, _ := a[kmip.TagDigitalSignatureAlgorithm][0].AsEnum(); kmip.DigitalSignatureAlgorithm(alg) != kmip.DigitalSignatureAlgorithmECDSAWithSHA256 {
		t.Errorf("Digital Signature Algorithm %s", kmip.DigitalSignatureAlgorithm(alg))
	}
	if sn, _ := a[kmip.TagX_509CertificateIdentifier][0].Child(kmip.TagCertificateSerialNumber).AsBytes(); new(big.Int).SetBytes(sn).Int64() != 4242 {
		t.Errorf("X.509 Certificate Identifier serial %x", sn)
	}
	if a[kmip.TagX_509CertificateSubject][0].Child(kmip.TagSubjectAlternativeName) == nil {
		t.Error("X.509 Certificate Subject lacks the Subject Alternative Name")
	}
	a14 := attrs14(t, s, id)
	if len(a14["X.509 Certificate Subject"]) != 1 || len(a14["Certificate Subject CN"]) != 0 {
		t.Error("KMIP 1.4 view: want X.509 Certificate Subject and no 2.x Certificate Subject CN")
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id),
		kmip.Struct(kmip.TagNewAttribute, kmip.Int(kmip.TagCertificateLength, 123)))), kmip.ResultReasonAttributeReadOnly)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id),
		attribute1x("Certificate Length", kmip.Int(0, 123)))), kmip.ResultReasonPermissionDenied)
}
