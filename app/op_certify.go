package app

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// publicKeyOf returns the key a Public Key object holds.
func publicKeyOf(c *call, obj *domain.Object) (crypto.PublicKey, error) {
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	format, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	k, err := keyformat.Decode(kmip.KeyFormatType(format), kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial))
	switch {
	case err != nil:
		return nil, notCertifiable("the public key's value is not one kmipd can certify")
	case k.Kind == keyformat.RSAPublic:
		return k.RSAPublic, nil
	case k.Kind == keyformat.ECPublic:
		return k.ECPublic, nil
	}
	return nil, notCertifiable("object %s is not an RSA or EC public key", obj.ID)
}

// certifySubject is what a Certify request certifies: a public key object
// (pub, nil when the request gives only a CSR) and the key itself.
type certifySubject struct {
	pub *domain.Object
	csr *x509.CertificateRequest
	key crypto.PublicKey
}

// certifyTarget resolves the object a Certify names (the Unique Identifier,
// or the ID Placeholder when no request is given): a public key, a private
// key through its Public Key Link (the placeholder Create Key Pair leaves),
// or in KMIP 2.x a Certificate Request object.
func (s *Service) certifyTarget(ctx context.Context, c *call) (*certifySubject, error) {
	csr, err := requestCSR(c)
	if err != nil {
		return nil, err
	}
	sub := &certifySubject{csr: csr}
	uid, err := codec.DecodeUniqueIdentifier(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	if csr != nil && !uid.Given && (c.v.major >= 2 || c.batch.placeholder == "") {
		sub.key = csr.PublicKey // KMIP 2.1 §6.1.6: the placeholder only without a request
		return sub, nil
	}
	id, err := c.resolveUID(uid)
	if err != nil {
		return nil, err
	}
	obj, err := s.loadAs(ctx, c, id, c.op)
	if err != nil {
		return nil, err
	}
	if obj.Type == uint32(kmip.ObjectTypePrivateKey) {
		pubID := linkedID(obj, kmip.LinkTypePublicKeyLink)
		if pubID == "" {
			return nil, notCertifiable("the private key %s has no public key to certify", obj.ID)
		}
		if obj, err = s.loadAs(ctx, c, pubID, c.op); err != nil {
			return nil, err
		}
	}
	if obj.Payload == nil {
		return nil, notCertifiable("object %s has been destroyed", obj.ID)
	}
	switch {
	case obj.Type == uint32(kmip.ObjectTypeCertificateRequest) && csr == nil:
		if sub.csr, err = storedCSR(c, obj); err != nil {
			return nil, err
		}
		sub.key = sub.csr.PublicKey
		return sub, nil
	case obj.Type != uint32(kmip.ObjectTypePublicKey):
		return nil, notCertifiable("Certify certifies public keys, not %s objects", kmip.ObjectType(obj.Type))
	}
	if sub.key, err = publicKeyOf(c, obj); err != nil {
		return nil, err
	}
	if csr != nil && !sameKey(csr.PublicKey, sub.key) {
		return nil, badCSR("the Certificate Request is for another key than %s", obj.ID)
	}
	sub.pub = obj
	return sub, nil
}

// certify implements Certify (KMIP 1.4 §4.7, KMIP 2.1 §6.1.6): the CA
// issues an X.509 certificate for the public key or request named, which is
// stored as a Certificate object owned by the caller, Active for the
// certificate's validity unless the request gives other dates. The public
// key and the certificate link to each other (Certificate Link, Public Key
// Link) and the certificate to its issuer when kmipd holds the CA's
// certificate.
func (s *Service) certify(ctx context.Context, c *call) (*kmip.Item, error) {
	set, err := codec.CertifyAttributes(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	attrs, err := s.withTemplates(ctx, c, set)
	if err != nil {
		return nil, err
	}
	target, err := s.certifyTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	subject, err := subjectFor(c, target.csr)
	if err != nil {
		return nil, err
	}
	if attrs, err = certAttrs(attrs); err != nil {
		return nil, err
	}
	cert, err := s.newObject(ctx, c, kmip.ObjectTypeCertificate, attrs)
	if err != nil {
		return nil, err
	}
	var mask int32
	if target.pub != nil {
		mask, _ = target.pub.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	}
	now := s.cfg.Clock.Now().Truncate(time.Second)
	der, err := s.issue(ctx, subject, target.key, keyUsageFor(mask), now)
	if err != nil {
		return nil, err
	}
	x, _ := x509.ParseCertificate(der)
	if cert.AttrOf(kmip.TagActivationDate) == nil {
		cert.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, x.NotBefore))
	}
	if cert.AttrOf(kmip.TagDeactivationDate) == nil {
		cert.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, x.NotAfter))
	}
	cert.ApplyDates(now)
	cert.Payload = certPayload(der)
	if target.pub != nil {
		cert.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypePublicKeyLink, target.pub.ID))
	}
	if s.cfg.CA.CertificateID != "" {
		cert.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeCertificateLink, s.cfg.CA.CertificateID))
	}
	if err := s.storeNew(ctx, c, cert); err != nil {
		return nil, err
	}
	if target.pub != nil {
		if err := s.linkKeyToCert(ctx, c, target.pub.ID, cert.ID); err != nil {
			return nil, err
		}
	}
	s.cfg.Log.Info().Str("id", cert.ID).Str("client", c.who.Name).Str("serial", x.SerialNumber.Text(16)).Msg("certified")
	return codec.IDResponse(cert.ID), nil
}
