package app

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

// withCAPubEachVersion runs check for KMIP 1.2, 1.4 and 2.1, each as a
// subtest on a fresh service whose CA is valid for five years, with a new
// EC key k whose public key alice registered as pub.
func withCAPubEachVersion(t *testing.T, check func(t *testing.T, ca testCA, s *Service, v version, k *ecdsa.PrivateKey, pub string)) {
	t.Helper()
	ca := newTestCA(t, testNow.Add(5*365*24*time.Hour))
	for _, v := range []version{v12, v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newCAService(t, ca)
			k := ecKey(t)
			check(t, ca, s, v, k, regPub(t, s, alice, v, k))
		})
	}
}
