package app

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// testChain is a root CA, an intermediate CA it issued and a leaf the
// intermediate issued (valid from an hour before testNow; the leaf for 30
// days), plus an unrelated root and an impostor intermediate with the real
// one's name but its own key.
type testChain struct {
	root, inter, leaf, otherRoot, impostorLeaf []byte
}

func issue(t *testing.T, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) ([]byte, *x509.Certificate) {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, cert
}

func caTemplate(serial int64, name string) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.AddDate(1, 0, 0), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
}

func newTestChain(t *testing.T) testChain {
	t.Helper()
	rootKey, interKey, leafKey, otherKey, impKey := ecKey(t), ecKey(t), ecKey(t), ecKey(t), ecKey(t)
	var c testChain
	rootT := caTemplate(1, "validate root")
	var root, inter, imp *x509.Certificate
	c.root, root = issue(t, rootT, rootT, &rootKey.PublicKey, rootKey)
	c.inter, inter = issue(t, caTemplate(2, "validate intermediate"), root, &interKey.PublicKey, rootKey)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "validate leaf"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.AddDate(0, 0, 30)}
	c.leaf, _ = issue(t, leafT, inter, &leafKey.PublicKey, interKey)
	otherT := caTemplate(4, "other root")
	c.otherRoot, _ = issue(t, otherT, otherT, &otherKey.PublicKey, otherKey)
	impT := caTemplate(5, "validate intermediate")
	_, imp = issue(t, impT, impT, &impKey.PublicKey, impKey)
	c.impostorLeaf, _ = issue(t, leafT, imp, &leafKey.PublicKey, impKey)
	return c
}

func certItem(der []byte) *kmip.Item {
	return kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		kmip.Bytes(kmip.TagCertificateValue, der))
}

func validateReq(items ...*kmip.Item) *kmip.Item { return batchItem(kmip.OperationValidate, items...) }

func validityDate(d time.Time) *kmip.Item { return kmip.DateTime(kmip.TagValidityDate, d) }

// validity sends a Validate and returns its Validity Indicator.
func validity(t *testing.T, s *Service, who domain.Principal, v version, items ...*kmip.Item) kmip.ValidityIndicator {
	t.Helper()
	e, ok := mustOK(t, sendOne(t, s, who, v, validateReq(items...))).Child(kmip.TagValidityIndicator).AsEnum()
	if !ok {
		t.Fatal("no Validity Indicator")
	}
	return kmip.ValidityIndicator(e)
}

// TestValidateChain: at 1.0, 1.4 and 2.1 a chain ending in a self-signed
// root is Valid, given as certificates, as identifiers of registered
// certificates or both; it is Invalid outside a certificate's validity
// period, when a certificate is not issued by the next (another root, or
// an impostor with the issuer's name but another key) and when it does not
// end in a self-signed certificate.
func TestValidateChain(t *testing.T) {
	t.Parallel()
	c := newTestChain(t)
	valid, invalid := kmip.ValidityIndicatorValid, kmip.ValidityIndicatorInvalid
	for _, v := range []version{{1, 0}, v14, v21} {
		s := newService(t)
		leafID := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypeCertificate, certItem(c.leaf))))
		interID := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypeCertificate, certItem(c.inter))))
		cases := []struct {
			name  string
			items []*kmip.Item
			want  kmip.ValidityIndicator
		}{
			{"certificates", []*kmip.Item{certItem(c.leaf), certItem(c.inter), certItem(c.root)}, valid},
			{"identifiers and a certificate", []*kmip.Item{uidItem(leafID), uidItem(interID), certItem(c.root)}, valid},
			{"a self-signed root alone", []*kmip.Item{certItem(c.root)}, valid},
			{"within the leaf's period", []*kmip.Item{uidItem(leafID), certItem(c.inter), certItem(c.root), validityDate(testNow.AddDate(0, 0, 29))}, valid},
			{"leaf expired", []*kmip.Item{uidItem(leafID), certItem(c.inter), certItem(c.root), validityDate(testNow.AddDate(0, 0, 31))}, invalid},
			{"not yet valid", []*kmip.Item{certItem(c.leaf), certItem(c.inter), certItem(c.root), validityDate(testNow.Add(-2 * time.Hour))}, invalid},
			{"wrong root", []*kmip.Item{certItem(c.leaf), certItem(c.inter), certItem(c.otherRoot)}, invalid},
			{"leaf of an impostor", []*kmip.Item{certItem(c.impostorLeaf), certItem(c.inter), certItem(c.root)}, invalid},
			{"out of order", []*kmip.Item{certItem(c.inter), certItem(c.leaf), certItem(c.root)}, invalid},
			{"no self-signed end", []*kmip.Item{certItem(c.leaf), certItem(c.inter)}, invalid},
		}
		for _, tc := range cases {
			if got := validity(t, s, alice, v, tc.items...); got != tc.want {
				t.Errorf("%s %s: %s, want %s", v, tc.name, got, tc.want)
			}
		}
	}
}

// TestValidateRefusals: an unknown identifier is Item Not Found (1.x) /
// Object Not Found (2.x); an object that is not a certificate makes no
// certificate list, Invalid Message (1.4 §11.25), Invalid Object Type at
// 2.1 (§6.1.57.1); a request with no certificate, no identifier and no ID
// Placeholder is Invalid Message; an archived certificate is Object
// Archived; a Certificate that is not X.509 DER is Invalid Field.
func TestValidateRefusals(t *testing.T) {
	t.Parallel()
	c := newTestChain(t)
	for _, tc := range []struct {
		v                 version
		notFound, notCert kmip.ResultReason
	}{
		{version{1, 0}, kmip.ResultReasonItemNotFound, kmip.ResultReasonInvalidMessage},
		{v14, kmip.ResultReasonItemNotFound, kmip.ResultReasonInvalidMessage},
		{v21, kmip.ResultReasonObjectNotFound, kmip.ResultReasonInvalidObjectType},
	} {
		s := newService(t)
		key := createdID(t, sendOne(t, s, alice, tc.v, registerAt(tc.v, kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData,
			kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)), keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("pw")))))))
		mustFail(t, sendOne(t, s, alice, tc.v, validateReq(uidItem("no-such-object"), certItem(c.root))), tc.notFound)
		mustFail(t, sendOne(t, s, alice, tc.v, validateReq(uidItem(key))), tc.notCert)
		mustFail(t, sendOne(t, s, alice, tc.v, validateReq()), kmip.ResultReasonInvalidMessage)
		mustFail(t, sendOne(t, s, alice, tc.v, validateReq(kmip.Struct(kmip.TagCertificate,
			kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)), kmip.Bytes(kmip.TagCertificateValue, []byte("not DER"))))), kmip.ResultReasonInvalidField)
		if tc.v.major > 1 || tc.v.minor > 0 {
			root := createdID(t, sendOne(t, s, alice, tc.v, registerAt(tc.v, kmip.ObjectTypeCertificate, certItem(c.root))))
			mustOK(t, sendOne(t, s, alice, tc.v, batchItem(kmip.OperationArchive, uidItem(root))))
			mustFail(t, sendOne(t, s, alice, tc.v, validateReq(uidItem(root))), kmip.ResultReasonObjectArchived)
		}
	}
}

// TestValidateUnknown: a chain kmipd cannot check is Unknown (a PGP
// certificate, a brainpool self-signed certificate whose signature Go
// cannot verify), unless something it can check is wrong (the brainpool
// certificate outside its validity period is Invalid).
func TestValidateUnknown(t *testing.T) {
	t.Parallel()
	s := newService(t)
	c := newTestChain(t)
	pgp := kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypePGP)),
		kmip.Bytes(kmip.TagCertificateValue, []byte("pgp")))
	bp := certItem(fromHex(t, brainpoolCertHex))
	inPeriod := validityDate(time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name  string
		items []*kmip.Item
		want  kmip.ValidityIndicator
	}{
		{"pgp root", []*kmip.Item{certItem(c.leaf), certItem(c.inter), pgp}, kmip.ValidityIndicatorUnknown},
		{"pgp root, wrong issuer", []*kmip.Item{certItem(c.leaf), certItem(c.otherRoot), pgp}, kmip.ValidityIndicatorInvalid},
		{"brainpool", []*kmip.Item{bp, inPeriod}, kmip.ValidityIndicatorUnknown},
		{"brainpool expired", []*kmip.Item{bp, validityDate(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))}, kmip.ValidityIndicatorInvalid},
	} {
		if got := validity(t, s, alice, v21, tc.items...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestValidateAnchorsAtConfiguredCA: with a [ca], a chain ending in a
// certificate that CA issued is Valid; without it, Invalid.
func TestValidateAnchorsAtConfiguredCA(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.AddDate(1, 0, 0))
	k := ecKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "issued by kmipd's CA"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.AddDate(0, 1, 0)}
	der, _ := issue(t, tmpl, ca.cert, &k.PublicKey, ca.key)
	if got := validity(t, newCAService(t, ca), alice, v14, certItem(der)); got != kmip.ValidityIndicatorValid {
		t.Errorf("with the issuing CA configured: %s, want Valid", got)
	}
	if got := validity(t, newCAService(t, ca), alice, v14, certItem(der), validityDate(testNow.AddDate(2, 0, 0))); got != kmip.ValidityIndicatorInvalid {
		t.Errorf("after the CA expired: %s, want Invalid", got)
	}
	if got := validity(t, newService(t), alice, v14, certItem(der)); got != kmip.ValidityIndicatorInvalid {
		t.Errorf("without a CA: %s, want Invalid", got)
	}
}

// TestValidateUsesThePlaceholder: a Validate naming no certificate after a
// Register in the same batch validates the registered certificate (1.4 §4
// ID Placeholder); at 2.1 the ID Placeholder enumeration names it.
func TestValidateUsesThePlaceholder(t *testing.T) {
	t.Parallel()
	c := newTestChain(t)
	for _, v := range []version{v14, v21} {
		s := newService(t)
		last := validateReq()
		if v.major > 1 {
			last = validateReq(kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder)))
		}
		_, rs := send(t, s, alice, msg(v, registerAt(v, kmip.ObjectTypeCertificate, certItem(c.root)), last))
		if e, _ := mustOK(t, rs[1]).Child(kmip.TagValidityIndicator).AsEnum(); kmip.ValidityIndicator(e) != kmip.ValidityIndicatorValid {
			t.Errorf("%s: the placeholder's root is %s", v, kmip.ValidityIndicator(e))
		}
	}
}

// TestValidateNeedsGet: Validate reads each named certificate under the
// Get rule of its policy when the policy has no Validate rule: a client
// the policy lets Get it may validate it, any other is Permission Denied.
func TestValidateNeedsGet(t *testing.T) {
	t.Parallel()
	c := newTestChain(t)
	certType, get := uint32(kmip.ObjectTypeCertificate), uint32(kmip.OperationGet)
	private := &domain.Policy{Name: "private", Preset: domain.Rules{certType: {get: domain.AllowOwner}},
		Groups: map[string]domain.Rules{"readers": {certType: {get: domain.AllowAll}}}}
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Policies: mapPolicies{"private": private}})
	id := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, certItem(c.root),
		attribute1x("Operation Policy Name", kmip.Text(0, "private")))))
	if got := validity(t, s, alice, v14, uidItem(id)); got != kmip.ValidityIndicatorValid {
		t.Errorf("owner: %s", got)
	}
	mustFail(t, sendOne(t, s, bob, v14, validateReq(uidItem(id))), kmip.ResultReasonPermissionDenied)
	reader := domain.Principal{Name: "rita", Groups: []string{"readers"}, HasGroupInfo: true}
	if got := validity(t, s, reader, v14, uidItem(id)); got != kmip.ValidityIndicatorValid {
		t.Errorf("a reader: %s", got)
	}
}

// TestValidateCompromisedCertificate: a Certificate object revoked as
// compromised makes its chain Invalid; the same certificate given in the
// request, where kmipd cannot know it, is still Valid.
func TestValidateCompromisedCertificate(t *testing.T) {
	t.Parallel()
	c := newTestChain(t)
	s := newService(t)
	root := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, certItem(c.root))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRevoke, uidItem(root),
		kmip.Struct(kmip.TagRevocationReason, kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))),
		kmip.DateTime(kmip.TagCompromiseOccurrenceDate, testNow))))
	if st := state(t, s, v14, root); st != domain.Compromised {
		t.Fatalf("revoked certificate is %s", st)
	}
	if got := validity(t, s, alice, v14, certItem(c.leaf), certItem(c.inter), uidItem(root)); got != kmip.ValidityIndicatorInvalid {
		t.Errorf("chain ending in a compromised certificate object: %s, want Invalid", got)
	}
	if got := validity(t, s, alice, v14, certItem(c.leaf), certItem(c.inter), certItem(c.root)); got != kmip.ValidityIndicatorValid {
		t.Errorf("the same chain given in the request: %s, want Valid", got)
	}
}
