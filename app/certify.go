package app

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// CA is the certificate authority Certify and Re-certify issue with
// (KMIP 1.4 §4.7-4.8, KMIP 2.1 §6.1.6, §6.1.45). Without one the service
// does not route either operation, so Query does not list them and
// clients are answered Operation Not Supported.
type CA struct {
	// Certificate is the CA's certificate; it issues every certificate.
	// Nil: the Certificate object CertificateID is.
	Certificate *x509.Certificate
	// Signer signs with the private key of the CA certificate (a file's
	// key); the service never asks it for the key. Nil: the Private Key
	// object KeyID signs, through the crypto engine (an HSM key too).
	Signer crypto.Signer
	KeyID  string
	// Validity is how long an issued certificate is valid (default one
	// year), never beyond the CA certificate's own NotAfter.
	Validity time.Duration
	// CertificateID is the Unique Identifier of the CA certificate when
	// kmipd holds it as a Certificate object: issued certificates get a
	// Certificate Link to it, their issuer (KMIP 1.4 §3.35). Empty: none.
	CertificateID string
}

// DefaultCAValidity is the validity of an issued certificate when CA.Validity is zero.
const DefaultCAValidity = 365 * 24 * time.Hour

// notCertifiable refuses an object Certify or Re-certify cannot act on:
// Permission Denied in KMIP 1.x (1.4 §11.8), Invalid Object Type in 2.x.
func notCertifiable(format string, args ...any) error {
	return kindErr(errKindWrongObjectType, format, args...)
}

// badCSR refuses a certificate request that is not a signed request of its
// type: Invalid Field in KMIP 1.x (1.4 §11.8), Invalid CSR in 2.x.
func badCSR(format string, args ...any) error {
	return kindErr(errKindBadCSR, format, args...)
}

// parseCSR reads a PKCS#10 request, DER or PEM, and checks its signature.
func parseCSR(c *call, t kmip.CertificateRequestType, b []byte) (*x509.CertificateRequest, error) {
	switch t {
	case kmip.CertificateRequestTypePEM:
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
			return nil, badCSR("the Certificate Request is not a PEM certificate request")
		}
		b = blk.Bytes
	case kmip.CertificateRequestTypePKCS_10:
	default:
		return nil, errorf(kmip.ResultReasonFeatureNotSupported, "kmipd certifies PKCS#10 and PEM requests, not %s", t)
	}
	csr, err := x509.ParseCertificateRequest(b)
	if err != nil {
		return nil, badCSR("the Certificate Request is not a PKCS#10 request")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, badCSR("the Certificate Request's signature does not verify")
	}
	return csr, nil
}

// requestCSR reads the certificate request the payload carries: Certificate
// Request (KMIP 1.x) or Certificate Request Value (2.x) with its Certificate
// Request Type. It returns nil when there is none.
func requestCSR(c *call) (*x509.CertificateRequest, error) {
	req, err := codec.DecodeCertificateRequest(c.v.wire(), c.payload)
	if err != nil || req == nil {
		return nil, err
	}
	return parseCSR(c, req.Type, req.Value)
}

// storedCSR reads the request a KMIP 2.x Certificate Request object holds.
func storedCSR(c *call, obj *domain.Object) (*x509.CertificateRequest, error) {
	t, _ := obj.Payload.Child(kmip.TagCertificateRequestType).AsEnum()
	b, ok := obj.Payload.Child(kmip.TagCertificateRequestValue).AsBytes()
	if !ok {
		return nil, badCSR("the Certificate Request object holds no request")
	}
	return parseCSR(c, kmip.CertificateRequestType(t), b)
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// certAttrs returns the new certificate's attributes: the request's less
// Certificate Type, which may be given (KMIP 1.4 §4.7) but must be X.509,
// the only type kmipd issues. The other attributes the server derives from
// the certificate stay, for newObject to refuse as read-only.
func certAttrs(attrs []domain.Attribute) ([]domain.Attribute, error) {
	var out []domain.Attribute
	for _, a := range attrs {
		if a.Name != kmip.TagCertificateType.SpecName() {
			out = append(out, a)
			continue
		}
		if t, _ := a.Value.AsEnum(); kmip.CertificateType(t) != kmip.CertificateTypeX_509 {
			return nil, errorf(kmip.ResultReasonFeatureNotSupported, "kmipd issues X.509 certificates only")
		}
	}
	return out, nil
}

// subjectFor is the subject of a certificate issued to the caller: kmipd
// certifies that a key belongs to the client that asked, so the subject is
// CN = the client's identity, or the CSR's subject when every Common Name
// in it is that identity. A CA kmipd's own TLS listener trusts thereby never
// issues one client a certificate naming another.
func subjectFor(c *call, csr *x509.CertificateRequest) (pkix.Name, error) {
	if c.who.Name == "" {
		return pkix.Name{}, errorf(kmip.ResultReasonPermissionDenied, "an anonymous client cannot be certified")
	}
	if csr == nil || len(csr.Subject.Names) == 0 {
		return pkix.Name{CommonName: c.who.Name}, nil
	}
	for _, n := range csr.Subject.Names {
		if n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 3}) && n.Value != c.who.Name {
			return pkix.Name{}, errorf(kmip.ResultReasonPermissionDenied, "the request's Common Name is not the client's identity %q", c.who.Name)
		}
	}
	name := csr.Subject
	if name.CommonName == "" {
		name.ExtraNames = append(name.ExtraNames, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: c.who.Name})
	}
	return name, nil
}

// keyUsageFor maps a Cryptographic Usage Mask to X.509 key usages; a key
// with none that maps is a signing key.
func keyUsageFor(mask int32) x509.KeyUsage {
	var u x509.KeyUsage
	has := func(m kmip.CryptographicUsageMask) bool { return mask&int32(m) != 0 }
	if has(kmip.CryptographicUsageMaskSign) || has(kmip.CryptographicUsageMaskVerify) {
		u |= x509.KeyUsageDigitalSignature
	}
	if has(kmip.CryptographicUsageMaskEncrypt) || has(kmip.CryptographicUsageMaskDecrypt) {
		u |= x509.KeyUsageDataEncipherment
	}
	if has(kmip.CryptographicUsageMaskWrapKey) || has(kmip.CryptographicUsageMaskUnwrapKey) {
		u |= x509.KeyUsageKeyEncipherment
	}
	if has(kmip.CryptographicUsageMaskKeyAgreement) {
		u |= x509.KeyUsageKeyAgreement
	}
	if u == 0 {
		u = x509.KeyUsageDigitalSignature
	}
	return u
}

// issue signs a certificate for key with the CA: an end-entity certificate
// for TLS client authentication, a random 128-bit serial number (top bit
// clear, so positive and of full length), valid from now for the CA's
// validity but never beyond the CA certificate.
func (s *Service) issue(ctx context.Context, subject pkix.Name, key crypto.PublicKey, usage x509.KeyUsage, now time.Time) ([]byte, error) {
	caCert, signer, err := s.caFor(ctx)
	if err != nil {
		return nil, err
	}
	validity := s.cfg.CA.Validity
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	notAfter := now.Add(validity)
	if caCert.NotAfter.Before(notAfter) {
		notAfter = caCert.NotAfter
	}
	if !notAfter.After(now) || now.Before(caCert.NotBefore) {
		return nil, fmt.Errorf("%w: it is not valid now", ErrCACertificate)
	}
	serial := make([]byte, 16) // unique, not secret: the system RNG
	if _, err := rand.Read(serial); err != nil {
		return nil, err
	}
	serial[0] = serial[0]&0x7f | 0x40
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial), Subject: subject,
		NotBefore: now, NotAfter: notAfter, KeyUsage: usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key, signer)
	if err != nil {
		return nil, fmt.Errorf("the CA could not sign the certificate: %w", err)
	}
	return der, nil
}

// certPayload is the stored structure of an X.509 certificate.
func certPayload(der []byte) *kmip.Item {
	return kmip.Struct(kmip.TagCertificate,
		kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		kmip.Bytes(kmip.TagCertificateValue, der))
}

// linkedID is the object obj links to with link type t, or "".
func linkedID(obj *domain.Object, t kmip.LinkType) string {
	for _, l := range obj.AttrValuesOf(kmip.TagLink) {
		if lt, _ := l.Child(kmip.TagLinkType).AsEnum(); kmip.LinkType(lt) == t {
			id, _ := l.Child(kmip.TagLinkedObjectIdentifier).AsText()
			return id
		}
	}
	return ""
}

// setLink makes obj's only Link of type t point at id.
func setLink(obj *domain.Object, t kmip.LinkType, id string) {
	links := obj.AttrValuesOf(kmip.TagLink)
	obj.DeleteAttrOf(kmip.TagLink)
	for _, l := range links {
		if lt, _ := l.Child(kmip.TagLinkType).AsEnum(); kmip.LinkType(lt) != t {
			obj.AddAttrOf(kmip.TagLink, l)
		}
	}
	obj.AddAttrOf(kmip.TagLink, linkAttr(t, id))
}

// linkKeyToCert points the public key's Certificate Link at the new
// certificate certID; should the key have changed meanwhile so that it can
// no longer be linked, the certificate is removed rather than left behind.
func (s *Service) linkKeyToCert(ctx context.Context, c *call, pubID, certID string) error {
	var before *domain.Object
	err := s.cfg.Store.Update(ctx, pubID, func(obj *domain.Object) error {
		if err := s.authorize(ctx, c, obj, c.op); err != nil {
			return err
		}
		if err := s.effective(c, obj); err != nil {
			return err
		}
		before = obj.Clone()
		setLink(obj, kmip.LinkTypeCertificateLink, certID)
		obj.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, s.cfg.Clock.Now().Truncate(time.Second)))
		return nil
	})
	if err != nil {
		if derr := s.cfg.Store.Delete(ctx, certID); derr != nil {
			s.cfg.Log.Error().Err(derr).Str("id", certID).Msg("could not remove an unlinked certificate")
		}
		return err
	}
	s.undoUpdate(c, before)
	return nil
}
