package app

import (
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Re-certify (KMIP 1.4 §4.8, 2.1 §6.1.45) renews a certificate for the
// same key: the new one takes the Names, links Replaced to the old (which
// links Replacement to it), the key's Certificate Link moves, and the
// Offset sets the dates as in Re-key.
func TestReCertify(t *testing.T) {
	t.Parallel()
	withCAPubEachVersion(t, func(t *testing.T, ca testCA, s *Service, v version, k *ecdsa.PrivateKey, pub string) {
		old := createdID(t, sendOne(t, s, alice, v, certify(v, uidItem(pub), attrsFor(v, nameItem("alice-cert")))))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReCertify, uidItem(old), kmip.Interval(kmip.TagOffset, 60),
			attrsFor(v, kmip.DateTime(kmip.TagActivationDate, testNow)))), kmip.ResultReasonInvalidMessage)
		id := createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReCertify, uidItem(old), kmip.Interval(kmip.TagOffset, 60))))
		oldCert, cert := issued(t, s, v, old, ca), issued(t, s, v, id, ca)
		if !sameKey(cert.PublicKey, &k.PublicKey) || cert.SerialNumber.Cmp(oldCert.SerialNumber) == 0 {
			t.Error("the new certificate is not a new certificate for the same key")
		}
		o, n := stored(t, s, old), stored(t, s, id)
		if linkedID(o, kmip.LinkTypeReplacementObjectLink) != id || linkedID(n, kmip.LinkTypeReplacedObjectLink) != old {
			t.Error("no Replacement/Replaced links")
		}
		if linkedID(n, kmip.LinkTypePublicKeyLink) != pub || linkedID(stored(t, s, pub), kmip.LinkTypeCertificateLink) != id {
			t.Error("the public key and the new certificate do not link to each other")
		}
		if len(o.AttrValuesOf(kmip.TagName)) != 0 || len(n.AttrValuesOf(kmip.TagName)) != 1 {
			t.Error("the new certificate did not take over the Name")
		}
		if a, _ := n.AttrOf(kmip.TagActivationDate).AsTime(); !a.Equal(testNow.Add(time.Minute)) {
			t.Errorf("Activation Date %v, want Initial Date + Offset", a)
		}
		if len(n.AttrValuesOf(kmip.TagX_509CertificateIdentifier)) != 1 || len(n.AttrValuesOf(kmip.TagDigitalSignatureAlgorithm)) != 1 {
			t.Error("derived certificate attributes copied instead of derived")
		}
		if sn, _ := n.AttrOf(kmip.TagX_509CertificateIdentifier).Child(kmip.TagCertificateSerialNumber).AsBytes(); new(big.Int).SetBytes(sn).Cmp(cert.SerialNumber) != 0 {
			t.Error("X.509 Certificate Identifier is the old certificate's")
		}
		// Re-certify renews certificates only.
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReCertify, uidItem(pub))), map[bool]kmip.ResultReason{
			false: kmip.ResultReasonPermissionDenied, true: kmip.ResultReasonInvalidObjectType}[v.major >= 2])
	})
}
