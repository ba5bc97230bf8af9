package app

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Certify of a public key object (KMIP 1.4 §4.7, 2.1 §6.1.6): the CA
// issues a certificate for that key naming the client, the certificate and
// the key link to each other, and the certificate's attributes describe it.
func TestCertifyPublicKeyEveryVersion(t *testing.T) {
	t.Parallel()
	withCAPubEachVersion(t, func(t *testing.T, ca testCA, s *Service, v version, k *ecdsa.PrivateKey, pub string) {
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
