package app

import (
	"crypto/rsa"
	"crypto/x509"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kmipd/kmipd/domain/kmip"
)

func link(lt kmip.LinkType, id string) *kmip.Item {
	return attribute1x("Link", kmip.Struct(0, kmip.Enum(kmip.TagLinkType, uint32(lt)), kmip.Text(kmip.TagLinkedObjectIdentifier, id)))
}

// Get in PKCS#12 format returns the key, its linked certificate, encrypted
// under the linked password (KMIP 1.4 Link Types; OASIS TC-PKCS12-1-14).
func TestGetPKCS12(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	s := newService(t)
	pwID := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData,
		kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)), keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("s3cret")))))))
	certID := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, k.certificate())))
	keyID := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_1, keyBytes(x509.MarshalPKCS1PrivateKey(k.rsa)))),
		link(kmip.LinkTypePKCS_12PasswordLink, pwID), link(kmip.LinkTypePKCS_12CertificateLink, certID))))

	get := func(id string) result {
		return sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_12))))
	}
	kb := mustOK(t, get(keyID)).Path(kmip.TagPrivateKey, kmip.TagKeyBlock)
	pfx, ok := kb.Child(kmip.TagKeyValue).AsBytes()
	if !ok {
		t.Fatalf("Key Value is not the PFX: %v", kb)
	}
	key, cert, _, err := pkcs12.DecodeChain(pfx, "s3cret")
	if err != nil {
		t.Fatalf("PFX does not decode with the linked password: %v", err)
	}
	if rk, ok := key.(*rsa.PrivateKey); !ok || !rk.Equal(k.rsa) {
		t.Error("the PFX holds another key")
	}
	if string(cert.Raw) != string(k.cert) {
		t.Error("the PFX holds another certificate")
	}
	if _, _, _, err := pkcs12.DecodeChain(pfx, "wrong"); err == nil {
		t.Error("the PFX opens with a wrong password")
	}
	// Without a certificate link there is no PKCS#12; nor for a public key.
	bare := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_1, keyBytes(x509.MarshalPKCS1PrivateKey(k.rsa)))))))
	mustFail(t, get(bare), kmip.ResultReasonKeyFormatTypeNotSupported)
	mustFail(t, get(certID), kmip.ResultReasonKeyFormatTypeNotSupported)
	// Another owner cannot read the linked password, so cannot export.
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationGet, uidItem(keyID), kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_12)))),
		kmip.ResultReasonPermissionDenied)
}
