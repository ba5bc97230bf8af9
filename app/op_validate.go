package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// validate implements Validate (KMIP 1.4 §4.24, KMIP 2.1 §6.1.57): it
// checks the certificate chain the request gives, leaf first, at the
// Validity Date (now when absent) and answers its Validity Indicator (the
// method is the server's to choose, the spec says; judgeChain is kmipd's).
// A request naming no certificate uses the ID Placeholder as its one
// Unique Identifier, and without one specifies no certificate list:
// Invalid Message (1.4 §11.25). Each named object must be a certificate
// the caller may Get (ruleOf) and not archived (Object Archived).
func (s *Service) validate(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeValidate(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	links := req.Chain
	if len(links) == 0 {
		if c.batch.placeholder == "" {
			return nil, errorf(kmip.ResultReasonInvalidMessage, "no Certificate and no Unique Identifier: the request specifies no certificate chain")
		}
		links = []codec.ChainLink{{IsID: true}}
	}
	chain := make([]chainCert, 0, len(links))
	for i, l := range links {
		cc, err := s.chainLink(ctx, c, l, i+1)
		if err != nil {
			return nil, err
		}
		chain = append(chain, cc)
	}
	at := req.Date
	if at.IsZero() {
		at = s.cfg.Clock.Now()
	}
	return codec.ValidateResponse(s.judgeChain(ctx, chain, at)), nil
}

// chainCert is one certificate of a chain to validate: cert is nil when
// kmipd cannot read it (not X.509), its public key nil when it is on a
// curve Go cannot use (cert_foreign.go); compromised when it is a
// Certificate object revoked as compromised (Compromised state).
type chainCert struct {
	cert        *x509.Certificate
	compromised bool
}

// chainLink reads link n of the chain: a Certificate the request carries,
// or the certificate object its Unique Identifier names.
func (s *Service) chainLink(ctx context.Context, c *call, l codec.ChainLink, n int) (chainCert, error) {
	t, der := l.Type, l.Value
	compromised := false
	if l.IsID {
		id, err := c.resolveUID(l.ID)
		if err != nil {
			return chainCert{}, err
		}
		obj, err := s.loadAs(ctx, c, id, c.op)
		if err != nil {
			return chainCert{}, err
		}
		if obj.Type != uint32(kmip.ObjectTypeCertificate) {
			return chainCert{}, kindErr(errKindNotACertificate, "object %s is a %s, not a certificate", id, kmip.ObjectType(obj.Type))
		}
		if obj.Payload == nil {
			return chainCert{}, kindErr(errKindDestroyed, "certificate %s has been destroyed", id)
		}
		compromised = obj.State == domain.Compromised
		ct, _ := obj.Payload.Child(kmip.TagCertificateType).AsEnum()
		t = kmip.CertificateType(ct)
		der, _ = obj.Payload.Child(kmip.TagCertificateValue).AsBytes()
	}
	if t != kmip.CertificateTypeX_509 {
		return chainCert{compromised: compromised}, nil
	}
	if cert, err := x509.ParseCertificate(der); err == nil {
		return chainCert{cert, compromised}, nil
	}
	if cert, _, ok := parseForeignECCertificate(der); ok {
		return chainCert{cert, compromised}, nil
	}
	if l.IsID {
		return chainCert{compromised: compromised}, nil
	}
	return chainCert{}, invalidField("Certificate %d: not an X.509 certificate", n)
}

// judgeChain decides a chain, leaf first: Invalid when a certificate is
// a Certificate object revoked as compromised, is outside its validity
// period at at, is not issued (names and signature)
// by the next one, or the chain ends neither in a self-signed certificate
// nor in one the configured [ca] issued; otherwise Unknown when a link
// cannot be checked (a certificate kmipd cannot read, a signature
// algorithm or key Go does not verify); otherwise Valid. CRLs and OCSP
// are not consulted.
func (s *Service) judgeChain(ctx context.Context, chain []chainCert, at time.Time) kmip.ValidityIndicator {
	verdict := kmip.ValidityIndicatorValid
	note := func(v kmip.ValidityIndicator) {
		if v == kmip.ValidityIndicatorInvalid || verdict == kmip.ValidityIndicatorValid {
			verdict = v
		}
	}
	for i, cc := range chain {
		if cc.compromised {
			note(kmip.ValidityIndicatorInvalid)
		}
		cert := cc.cert
		if cert == nil {
			note(kmip.ValidityIndicatorUnknown)
			continue
		}
		note(validAt(cert, at))
		if i+1 < len(chain) {
			note(issuedBy(cert, chain[i+1].cert))
			continue
		}
		note(s.anchored(ctx, cert, at))
	}
	return verdict
}

// anchored judges the last certificate of a chain: self-signed, or issued
// by the configured CA (whose own validity at at counts too).
func (s *Service) anchored(ctx context.Context, cert *x509.Certificate, at time.Time) kmip.ValidityIndicator {
	if bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		if cert.PublicKey == nil {
			return kmip.ValidityIndicatorUnknown
		}
		return signatureVerdict(cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature))
	}
	if !s.cfg.CA.configured() {
		return kmip.ValidityIndicatorInvalid
	}
	ca, err := s.caCertificate(ctx)
	if err != nil {
		s.cfg.Log.Error().Err(err).Msg("Validate cannot read the CA certificate")
		return kmip.ValidityIndicatorUnknown
	}
	if !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return kmip.ValidityIndicatorInvalid
	}
	if v := issuedBy(cert, ca); v != kmip.ValidityIndicatorValid {
		return v
	}
	return validAt(ca, at)
}

// validAt reports whether at lies in cert's validity period.
func validAt(cert *x509.Certificate, at time.Time) kmip.ValidityIndicator {
	if at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
		return kmip.ValidityIndicatorInvalid
	}
	return kmip.ValidityIndicatorValid
}

// issuedBy judges whether issuer (nil: unreadable) issued cert: its
// subject is cert's issuer, it may issue certificates, and its key signed
// cert.
func issuedBy(cert, issuer *x509.Certificate) kmip.ValidityIndicator {
	switch {
	case issuer == nil:
		return kmip.ValidityIndicatorUnknown
	case !bytes.Equal(cert.RawIssuer, issuer.RawSubject):
		return kmip.ValidityIndicatorInvalid
	case issuer.PublicKey == nil:
		return kmip.ValidityIndicatorUnknown
	}
	return signatureVerdict(cert.CheckSignatureFrom(issuer))
}

// signatureVerdict maps a signature check's error: none is Valid, an
// algorithm Go does not verify (unsupported, or refused as insecure: MD5,
// SHA-1) Unknown, any other Invalid.
func signatureVerdict(err error) kmip.ValidityIndicator {
	var insecure x509.InsecureAlgorithmError
	switch {
	case err == nil:
		return kmip.ValidityIndicatorValid
	case errors.Is(err, x509.ErrUnsupportedAlgorithm), errors.As(err, &insecure):
		return kmip.ValidityIndicatorUnknown
	}
	return kmip.ValidityIndicatorInvalid
}
