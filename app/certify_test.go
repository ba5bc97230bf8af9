package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var v12 = version{1, 2}

// testCA is a CA certificate and key for Certify tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, notAfter time.Time) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmipd test CA"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert, key}
}

func newCAService(t *testing.T, ca testCA) *Service {
	return New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		CA: &CA{Certificate: ca.cert, Signer: ca.key}})
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// regPub registers k's public key as a Public Key object.
func regPub(t *testing.T, s *Service, who domain.Principal, v version, k *ecdsa.PrivateKey) string {
	t.Helper()
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return createdID(t, sendOne(t, s, who, v, register(kmip.ObjectTypePublicKey,
		kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki))))))
}

// issued Gets certificate id and checks that the CA issued it for client
// authentication, valid now.
func issued(t *testing.T, s *Service, v version, id string, ca testCA) *x509.Certificate {
	t.Helper()
	got := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
	der, _ := got.Path(kmip.TagCertificate, kmip.TagCertificateValue).AsBytes()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("Get returned no X.509 certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow.Add(time.Minute),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the certificate does not verify against the CA: %v", err)
	}
	return cert
}

// stored reads an object straight from the store.
func stored(t *testing.T, s *Service, id string) *domain.Object {
	t.Helper()
	obj, err := s.cfg.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func certify(v version, extra ...*kmip.Item) *kmip.Item {
	return batchItem(kmip.OperationCertify, extra...)
}

func csrItems(v version, t kmip.CertificateRequestType, b []byte) []*kmip.Item {
	tag := kmip.TagCertificateRequest
	if v.major >= 2 {
		tag = kmip.TagCertificateRequestValue
	}
	return []*kmip.Item{kmip.Enum(kmip.TagCertificateRequestType, uint32(t)), kmip.Bytes(tag, b)}
}

func newCSR(t *testing.T, k *ecdsa.PrivateKey, subject pkix.Name) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Certify of a public key object (KMIP 1.4 §4.7, 2.1 §6.1.6): the CA
// issues a certificate for that key naming the client, the certificate and
// the key link to each other, and the certificate's attributes describe it.
func TestCertifyPublicKeyEveryVersion(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(5*365*24*time.Hour))
	for _, v := range []version{v12, v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newCAService(t, ca)
			k := ecKey(t)
			pub := regPub(t, s, alice, v, k)
			id := createdID(t, sendOne(t, s, alice, v, certify(v, uidItem(pub))))
			cert := issued(t, s, v, id, ca)
			if cert.Subject.CommonName != "alice" || !sameKey(cert.PublicKey, &k.PublicKey) {
				t.Errorf("certificate for %q and another key", cert.Subject.CommonName)
			}
			if cert.SerialNumber.BitLen() < 120 || cert.IsCA {
				t.Errorf("serial %x (%d bits), IsCA %v", cert.SerialNumber, cert.SerialNumber.BitLen(), cert.IsCA)
			}
			if want := testNow.Add(DefaultCAValidity); !cert.NotAfter.Equal(want) {
				t.Errorf("NotAfter %v, want %v", cert.NotAfter, want)
			}
			obj := stored(t, s, id)
			if linkedID(obj, kmip.LinkTypePublicKeyLink) != pub || linkedID(stored(t, s, pub), kmip.LinkTypeCertificateLink) != id {
				t.Error("the certificate and the public key do not link to each other")
			}
			if obj.Owner != "alice" || obj.State != domain.Active {
				t.Errorf("owner %q state %v", obj.Owner, obj.State)
			}
			if alg, _ := obj.AttrOf(kmip.TagDigitalSignatureAlgorithm).AsEnum(); kmip.DigitalSignatureAlgorithm(alg) != kmip.DigitalSignatureAlgorithmECDSAWithSHA256 {
				t.Errorf("Digital Signature Algorithm %d", alg)
			}
			if dn, _ := obj.AttrOf(kmip.TagX_509CertificateIssuer).Child(kmip.TagIssuerDistinguishedName).AsBytes(); string(dn) != string(ca.cert.RawSubject) {
				t.Error("X.509 Certificate Issuer is not the CA")
			}
			if d, _ := obj.AttrOf(kmip.TagDeactivationDate).AsTime(); !d.Equal(cert.NotAfter) {
				t.Errorf("Deactivation Date %v, certificate NotAfter %v", d, cert.NotAfter)
			}
			// Certificate Type may be given (KMIP 1.4 §4.7); kmipd issues X.509 only.
			mustFail(t, sendOne(t, s, alice, v, certify(v, uidItem(pub), attrsFor(v,
				kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypePGP))))), kmip.ResultReasonFeatureNotSupported)
			mustOK(t, sendOne(t, s, alice, v, certify(v, uidItem(pub), attrsFor(v,
				kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509))))))
			// A client may not set what the server derives from the certificate.
			if r := sendOne(t, s, alice, v, certify(v, uidItem(pub), attrsFor(v, kmip.Struct(kmip.TagX_509CertificateSubject,
				kmip.Bytes(kmip.TagSubjectDistinguishedName, ca.cert.RawSubject))))); r.status == kmip.ResultStatusSuccess {
				t.Error("a client set X.509 Certificate Subject")
			}
			// A second Certify (certificate update) moves the key's Certificate Link.
			id2 := createdID(t, sendOne(t, s, alice, v, certify(v, uidItem(pub))))
			if linkedID(stored(t, s, pub), kmip.LinkTypeCertificateLink) != id2 || len(stored(t, s, pub).AttrValuesOf(kmip.TagLink)) != 1 {
				t.Error("the public key does not link to its newest certificate only")
			}
		})
	}
}

// The ID Placeholder names the key to certify and then the certificate.
func TestCertifyPlaceholderBatch(t *testing.T) {
	t.Parallel()
	s := newCAService(t, newTestCA(t, testNow.Add(5*365*24*time.Hour)))
	spki, _ := x509.MarshalPKIXPublicKey(&ecKey(t).PublicKey)
	_, rs := send(t, s, alice, msg(v14,
		register(kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki)))),
		certify(v14), batchItem(kmip.OperationGet)))
	for i, r := range rs {
		mustOK(t, r)
		if i == 2 && r.payload.Child(kmip.TagCertificate) == nil {
			t.Error("Get after Certify did not return the certificate")
		}
	}
}

// A certificate is issued for the CA's validity but never beyond the CA.
func TestCertifyCappedByCA(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(30*24*time.Hour))
	s := newCAService(t, ca)
	id := createdID(t, sendOne(t, s, alice, v14, certify(v14, uidItem(regPub(t, s, alice, v14, ecKey(t))))))
	if cert := issued(t, s, v14, id, ca); !cert.NotAfter.Equal(ca.cert.NotAfter) {
		t.Errorf("NotAfter %v beyond the CA's %v", cert.NotAfter, ca.cert.NotAfter)
	}
}

// Certify of a PKCS#10 request (DER or PEM, in the payload or, in KMIP 2.x,
// a Certificate Request object): the signature is checked, the subject
// taken from the request when it names the client, and a request for
// another key than the one named is refused.
func TestCertifyCSR(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(5*365*24*time.Hour))
	for _, v := range []version{v12, v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newCAService(t, ca)
			k := ecKey(t)
			csr := newCSR(t, k, pkix.Name{CommonName: "alice", Organization: []string{"acme"}})
			id := createdID(t, sendOne(t, s, alice, v, certify(v, csrItems(v, kmip.CertificateRequestTypePKCS_10, csr)...)))
			cert := issued(t, s, v, id, ca)
			if cert.Subject.CommonName != "alice" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "acme" || !sameKey(cert.PublicKey, &k.PublicKey) {
				t.Errorf("subject %v", cert.Subject)
			}
			pemCSR := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
			pub := regPub(t, s, alice, v, k)
			id = createdID(t, sendOne(t, s, alice, v, certify(v, append(csrItems(v, kmip.CertificateRequestTypePEM, pemCSR), uidItem(pub))...)))
			issued(t, s, v, id, ca)
			if linkedID(stored(t, s, pub), kmip.LinkTypeCertificateLink) != id {
				t.Error("the public key does not link to the certificate of its request")
			}

			invalid := kmip.ResultReasonInvalidField
			if v.major >= 2 {
				invalid = kmip.ResultReasonInvalidCSR
			}
			bad := append([]byte(nil), csr...)
			bad[len(bad)-3] ^= 0xff // inside the signature
			mustFail(t, sendOne(t, s, alice, v, certify(v, csrItems(v, kmip.CertificateRequestTypePKCS_10, bad)...)), invalid)
			mustFail(t, sendOne(t, s, alice, v, certify(v, csrItems(v, kmip.CertificateRequestTypePKCS_10, []byte("junk"))...)), invalid)
			other := regPub(t, s, alice, v, ecKey(t))
			mustFail(t, sendOne(t, s, alice, v, certify(v, append(csrItems(v, kmip.CertificateRequestTypePKCS_10, csr), uidItem(other))...)), invalid)
			mustFail(t, sendOne(t, s, alice, v, certify(v, csrItems(v, kmip.CertificateRequestTypeCRMF, csr)...)), kmip.ResultReasonFeatureNotSupported)
			// A client is certified under its own identity only.
			mustFail(t, sendOne(t, s, alice, v, certify(v, csrItems(v, kmip.CertificateRequestTypePKCS_10,
				newCSR(t, k, pkix.Name{CommonName: "bob"}))...)), kmip.ResultReasonPermissionDenied)
		})
	}
	t.Run("request object", func(t *testing.T) {
		s := newCAService(t, ca)
		k := ecKey(t)
		req := createdID(t, sendOne(t, s, alice, v21, register(kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
			kmip.Bytes(kmip.TagCertificateRequestValue, newCSR(t, k, pkix.Name{}))))))
		id := createdID(t, sendOne(t, s, alice, v21, certify(v21, uidItem(req))))
		if cert := issued(t, s, v21, id, ca); cert.Subject.CommonName != "alice" || !sameKey(cert.PublicKey, &k.PublicKey) {
			t.Errorf("subject %v", cert.Subject)
		}
		mustFail(t, sendOne(t, s, bob, v21, certify(v21, uidItem(req))), kmip.ResultReasonPermissionDenied)
	})
}

// Re-certify (KMIP 1.4 §4.8, 2.1 §6.1.45) renews a certificate for the
// same key: the new one takes the Names, links Replaced to the old (which
// links Replacement to it), the key's Certificate Link moves, and the
// Offset sets the dates as in Re-key.
func TestReCertify(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(5*365*24*time.Hour))
	for _, v := range []version{v12, v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newCAService(t, ca)
			k := ecKey(t)
			pub := regPub(t, s, alice, v, k)
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
}

// Without a CA, Certify and Re-certify are not offered: Query does not list
// them and a request is answered Operation Not Supported; with one, both
// are listed.
func TestCertifyOnlyWithCA(t *testing.T) {
	t.Parallel()
	listed := func(s *Service, v version) map[kmip.Operation]bool {
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))))
		m := map[kmip.Operation]bool{}
		for _, it := range out.ChildrenOf(kmip.TagOperation) {
			op, _ := it.AsEnum()
			m[kmip.Operation(op)] = true
		}
		return m
	}
	plain := newCryptoService()
	withCA := newCAService(t, newTestCA(t, testNow.Add(time.Hour*24*400)))
	for _, v := range []version{v12, v14, v21} {
		pub := regPub(t, plain, alice, v, ecKey(t))
		mustFail(t, sendOne(t, plain, alice, v, certify(v, uidItem(pub))), kmip.ResultReasonOperationNotSupported)
		mustFail(t, sendOne(t, plain, alice, v, batchItem(kmip.OperationReCertify, uidItem(pub))), kmip.ResultReasonOperationNotSupported)
		if ops := listed(plain, v); ops[kmip.OperationCertify] || ops[kmip.OperationReCertify] {
			t.Errorf("%s: Query lists Certify without a CA", v)
		}
		if ops := listed(withCA, v); !ops[kmip.OperationCertify] || !ops[kmip.OperationReCertify] {
			t.Errorf("%s: Query does not list Certify and Re-certify with a CA", v)
		}
	}
}

// A client may not certify another client's key nor renew its certificate.
func TestCertifyAccess(t *testing.T) {
	t.Parallel()
	s := newCAService(t, newTestCA(t, testNow.Add(time.Hour*24*400)))
	for _, v := range []version{v14, v21} {
		pub := regPub(t, s, alice, v, ecKey(t))
		mustFail(t, sendOne(t, s, bob, v, certify(v, uidItem(pub))), kmip.ResultReasonPermissionDenied)
		cert := createdID(t, sendOne(t, s, alice, v, certify(v, uidItem(pub))))
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationReCertify, uidItem(cert))), kmip.ResultReasonPermissionDenied)
		if linkedID(stored(t, s, pub), kmip.LinkTypeCertificateLink) != cert {
			t.Error("a refused request changed the key's link")
		}
		mustFail(t, sendOne(t, s, domain.Principal{}, v, certify(v, uidItem(pub))), kmip.ResultReasonPermissionDenied)
	}
}

// caEngine is cryptoFake signing for real with PKCS#8 ECDSA keys, as the
// software engine does, so that a CA key held as an object can sign.
type caEngine struct{ cryptoFake }

func (caEngine) Sign(_ context.Context, k ports.KeyHandle, _ ports.CryptoParams, data []byte, digested bool) ([]byte, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.Material)
	if err != nil || !digested {
		return nil, ports.ErrUnsupported
	}
	return ecdsa.SignASN1(rand.Reader, priv.(*ecdsa.PrivateKey), data)
}

// A CA whose key and certificate are objects in kmipd signs through the
// crypto engine; issued certificates link to the CA certificate, and a CA
// key that is no longer Active issues nothing.
func TestCertifyWithCAObjects(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(5*365*24*time.Hour))
	store := newMemStore()
	admin := New(Config{Store: store, Crypto: caEngine{}, Clock: fixedClock{testNow}})
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ca.key)
	keyID := createdID(t, sendOne(t, admin, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(pkcs8))), attribute1x("Activation Date", activeNow()))))
	certID := createdID(t, sendOne(t, admin, alice, v14, register(kmip.ObjectTypeCertificate, kmip.Struct(kmip.TagCertificate,
		kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)), kmip.Bytes(kmip.TagCertificateValue, ca.cert.Raw)))))
	s := New(Config{Store: store, Crypto: caEngine{}, Clock: fixedClock{testNow}, CA: &CA{KeyID: keyID, CertificateID: certID}})
	if err := s.CheckCA(context.Background()); err != nil {
		t.Fatalf("CheckCA: %v", err)
	}
	for _, v := range []version{v14, v21} {
		id := createdID(t, sendOne(t, s, bob, v, certify(v, uidItem(regPub(t, s, bob, v, ecKey(t))))))
		issued(t, s, v, id, ca)
		if linkedID(stored(t, s, id), kmip.LinkTypeCertificateLink) != certID {
			t.Error("the certificate does not link to its issuer")
		}
	}
	mustOK(t, sendOne(t, admin, alice, v14, batchItem(kmip.OperationRevoke, uidItem(keyID),
		kmip.Struct(kmip.TagRevocationReason, kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))),
		kmip.DateTime(kmip.TagCompromiseOccurrenceDate, testNow))))
	mustFail(t, sendOne(t, s, bob, v14, certify(v14, uidItem(regPub(t, s, bob, v14, ecKey(t))))), kmip.ResultReasonGeneralFailure)
	if err := s.CheckCA(context.Background()); err == nil {
		t.Error("CheckCA accepts a compromised CA key")
	}
	// A certificate that is not a CA's cannot be configured as the CA.
	leaf := New(Config{Store: store, Crypto: caEngine{}, Clock: fixedClock{testNow}, CA: &CA{Certificate: &x509.Certificate{}, Signer: ca.key}})
	if err := leaf.CheckCA(context.Background()); err == nil {
		t.Error("CheckCA accepts a certificate that is not a CA's")
	}
}

// CheckCA refuses a key that is not the CA certificate's.
func TestCheckCAKeyMismatch(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testNow.Add(time.Hour*24*400))
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, CA: &CA{Certificate: ca.cert, Signer: ecKey(t)}})
	if err := s.CheckCA(context.Background()); !errors.Is(err, ErrCAKey) {
		t.Errorf("CheckCA: %v, want ErrCAKey", err)
	}
	if err := newCAService(t, ca).CheckCA(context.Background()); err != nil {
		t.Errorf("CheckCA of a matching CA: %v", err)
	}
}
