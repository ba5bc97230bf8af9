package app

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// reCertifyRequest reads the request a Re-certify carries: in the payload
// (both versions) or, in KMIP 2.x, a Certificate Request object named by
// Certificate Request Unique Identifier. It returns nil when there is none.
func (s *Service) reCertifyRequest(ctx context.Context, c *call) (*x509.CertificateRequest, error) {
	csr, err := requestCSR(c)
	if err != nil || csr != nil {
		return csr, err
	}
	id, given, err := codec.CertificateRequestID(c.v.wire(), c.payload)
	if err != nil || !given {
		return nil, err
	}
	obj, err := s.loadAs(ctx, c, id, c.op)
	if err != nil {
		return nil, err
	}
	if obj.Type != uint32(kmip.ObjectTypeCertificateRequest) || obj.Payload == nil {
		return nil, notCertifiable("object %s is not a Certificate Request", id)
	}
	return storedCSR(c, obj)
}

// renewal is what a Re-certify renews: the existing certificate, parsed,
// and the subject and key the new one is for.
type renewal struct {
	old     *domain.Object
	oldX    *x509.Certificate
	subject pkix.Name
}

// renewalOf loads the certificate a Re-certify names and the request it may
// carry, which must be for the same key.
func (s *Service) renewalOf(ctx context.Context, c *call) (*renewal, error) {
	old, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if old.Type != uint32(kmip.ObjectTypeCertificate) || old.Payload == nil {
		return nil, notCertifiable("Re-certify renews certificates, not %s objects", kmip.ObjectType(old.Type))
	}
	oldX, err := x509.ParseCertificate(bytesOfItem(old.Payload.Child(kmip.TagCertificateValue)))
	if err != nil {
		return nil, notCertifiable("object %s is not an X.509 certificate kmipd can renew", old.ID)
	}
	csr, err := s.reCertifyRequest(ctx, c)
	if err != nil {
		return nil, err
	}
	if csr != nil && !sameKey(csr.PublicKey, oldX.PublicKey) {
		return nil, badCSR("the Certificate Request is not for the existing certificate's key")
	}
	subject, err := subjectFor(c, csr)
	if err != nil {
		return nil, err
	}
	return &renewal{old: old, oldX: oldX, subject: subject}, nil
}

// reCertify implements Re-certify (KMIP 1.4 §4.8, KMIP 2.1 §6.1.45): the
// CA issues a new certificate for the key of an existing certificate (or a
// request for that same key). Like Re-key, the new certificate takes the
// existing one's attributes and Names, with Replaced and Replacement links
// between them and dates computed from the Offset (Table 186); the public
// key's Certificate Link moves to the new certificate.
func (s *Service) reCertify(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeReCertify(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	offset := req.Offset
	attrs, err := certAttrs(req.Attributes)
	if err != nil {
		return nil, err
	}
	if err := checkRenewAttrs(attrs, offset != nil); err != nil {
		return nil, err
	}
	r, err := s.renewalOf(ctx, c)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now().Truncate(time.Second)
	repl, err := s.renewedCert(ctx, c, r, id, attrs, now, offset)
	if err != nil {
		return nil, err
	}
	if err := s.storeNew(ctx, c, repl, r.old.ID); err != nil { // it takes over old's Names
		return nil, err
	}
	if err := s.retireReplaced(ctx, c, r.old.ID, id, now, offset); err != nil {
		return nil, err
	}
	if pubID := linkedID(r.old, kmip.LinkTypePublicKeyLink); pubID != "" {
		if err := s.linkKeyToCert(ctx, c, pubID, id); err != nil {
			return nil, err
		}
	}
	s.cfg.Log.Info().Str("id", id).Str("replaces", r.old.ID).Str("client", c.who.Name).Msg("re-certified")
	return codec.IDResponse(id), nil
}

// renewedCert builds the new certificate id of renewal r: the existing
// certificate's attributes as Re-key copies them, less those derived from
// the certificate, overlaid with the request's, linked to the key and the
// issuer, holding a certificate the CA issues now.
func (s *Service) renewedCert(ctx context.Context, c *call, r *renewal, id string, attrs []domain.Attribute,
	now time.Time, offset *time.Duration) (*domain.Object, error) {
	repl, err := r.old.Clone().ReKey(id, now, offset)
	if err != nil {
		return nil, reKeyError(err)
	}
	for name := range derivedCertAttrs {
		repl.DeleteAttr(name)
	}
	for _, a := range attrs {
		if err := overlay(repl, a); err != nil {
			return nil, err
		}
	}
	if repl.Policy != r.old.Policy && (c.who.Name == "" || c.who.Name != r.old.Owner) {
		return nil, errorf(kmip.ResultReasonPermissionDenied, "only the certificate's owner may give its replacement another operation policy")
	}
	repl.ApplyDates(now)
	if err := s.renewServerAttrs(c, r.old, repl, now); err != nil {
		return nil, err
	}
	if pubID := linkedID(r.old, kmip.LinkTypePublicKeyLink); pubID != "" {
		repl.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypePublicKeyLink, pubID))
	}
	if s.cfg.CA.CertificateID != "" {
		setLink(repl, kmip.LinkTypeCertificateLink, s.cfg.CA.CertificateID)
	}
	usage := r.oldX.KeyUsage
	if usage == 0 {
		usage = keyUsageFor(0)
	}
	der, err := s.issue(ctx, r.subject, r.oldX.PublicKey, usage, now)
	if err != nil {
		return nil, err
	}
	repl.Payload = certPayload(der)
	return repl, nil
}

// bytesOfItem is a Byte String item's value, or nil.
func bytesOfItem(it *kmip.Item) []byte {
	b, _ := it.AsBytes()
	return b
}

// checkRenewAttrs checks the attributes a Re-certify request gives the new
// certificate, as Re-key does (KMIP 1.4 §11.9: an Offset with an
// Activation or Deactivation Date is an Invalid Message).
func checkRenewAttrs(attrs []domain.Attribute, offset bool) error {
	for _, a := range attrs {
		rule, known := domain.AttrRuleFor(a.Name)
		switch {
		case !known:
			return invalidField("attribute %q is not supported", a.Name)
		case !rule.ClientSets:
			return invalidField("attribute %q cannot be set by the client", a.Name)
		case a.Value == nil:
			return invalidField("attribute %q has no value", a.Name)
		case offset && offsetDates[a.Name]:
			return errorf(kmip.ResultReasonInvalidMessage, "Offset and %s cannot both be given", a.Name)
		}
	}
	return nil
}

// derivedCertAttrs are the attributes setCertAttrs derives from the
// certificate itself; a client may not set them (KMIP 1.4 §3.8-3.13: set
// by the server) and a renewed certificate derives its own.
var derivedCertAttrs = func() map[string]bool {
	m := map[string]bool{kmip.TagCertificateType.SpecName(): true, kmip.TagCertificateLength.SpecName(): true,
		kmip.TagX_509CertificateIdentifier.SpecName(): true, kmip.TagX_509CertificateSubject.SpecName(): true,
		kmip.TagX_509CertificateIssuer.SpecName(): true, kmip.TagDigitalSignatureAlgorithm.SpecName(): true,
		kmip.TagCertificateIdentifier.SpecName(): true, kmip.TagCertificateSubject.SpecName(): true, kmip.TagCertificateIssuer.SpecName(): true}
	for _, tags := range certNameTags {
		m[tags[0].SpecName()], m[tags[1].SpecName()] = true, true
	}
	return m
}()
