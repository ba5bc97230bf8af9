package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// register implements Register (KMIP 1.4 §4.3, KMIP 2.1 §6.1.42) for every
// object type: the object's structure is validated, the attributes its
// content determines are derived, and it is stored as given.
func (s *Service) register(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeRegister(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	t, payload := req.ObjectType, req.Object
	if err := validateObject(c, t, payload); err != nil {
		return nil, err
	}
	if err := s.checkRegisteredWrapping(c, payload); err != nil {
		return nil, err
	}
	derived, err := derivedAttrs(c, t, payload)
	if err != nil {
		return nil, err
	}
	attrs, err := s.withTemplates(ctx, c, req.Attributes)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	if err := applyDerived(obj, derived); err != nil {
		return nil, err
	}
	obj.Payload = payload.Clone()
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// derivedAttrs lists the attributes Register derives from a registered
// object's content beyond those finishObject sets for every new object
// (certificate attributes, Key Value Present, the Key Block's algorithm
// and length): for X.509 certificates
// the KMIP 1.0 Certificate Identifier, Subject and Issuer (KMIP 1.4
// §3.13-3.15, gone in 2.0) and the algorithm and length of the certified
// public key; for keys whose Key Block does not say them, the Cryptographic
// Algorithm and Length the material determines.
func derivedAttrs(c *call, t kmip.ObjectType, payload *kmip.Item) ([]domain.Attribute, error) {
	if t == kmip.ObjectTypeCertificate {
		ct, _ := payload.Child(kmip.TagCertificateType).AsEnum()
		if kmip.CertificateType(ct) != kmip.CertificateTypeX_509 {
			return nil, nil
		}
		der, _ := payload.Child(kmip.TagCertificateValue).AsBytes()
		cert, err := parseCertificate(der)
		if err != nil {
			return nil, err
		}
		out := certificateAttrs(c.v, cert)
		if _, ec, foreign := parseForeignECCertificate(der); foreign {
			out = append(out, foreignECAttrs(c.v, ec)...)
		}
		return out, nil
	}
	kb := payload.Child(kmip.TagKeyBlock)
	kv := kb.Child(kmip.TagKeyValue)
	if kv == nil || kb.Child(kmip.TagCryptographicAlgorithm) != nil || kb.Child(kmip.TagKeyWrappingData) != nil {
		return nil, nil
	}
	f, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	k, err := decodeKey(t, kmip.KeyFormatType(f), kv.Child(kmip.TagKeyMaterial))
	if err != nil {
		return nil, err
	}
	if k == nil {
		m, _ := kv.Child(kmip.TagKeyMaterial).AsBytes()
		if ec, foreign := keyformat.IsForeignEC(m); foreign {
			return foreignECAttrs(c.v, ec), nil
		}
		return nil, nil
	}
	alg, length, ok := k.Describe()
	if !ok {
		return nil, nil
	}
	return []domain.Attribute{
		{Name: kmip.TagCryptographicAlgorithm.SpecName(), Value: kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(ecAlgFor(c.v, alg)))},
		{Name: kmip.TagCryptographicLength.SpecName(), Value: kmip.Int(kmip.TagCryptographicLength, length)},
	}, nil
}

// foreignECAttrs are the attributes an EC key on a curve Go cannot use
// determines: its algorithm, and its length when the curve's field size is
// known.
func foreignECAttrs(v version, ec keyformat.ForeignEC) []domain.Attribute {
	out := []domain.Attribute{{Name: kmip.TagCryptographicAlgorithm.SpecName(),
		Value: kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(ecAlgFor(v, kmip.CryptographicAlgorithmEC)))}}
	if ec.Bits > 0 {
		out = append(out, domain.Attribute{Name: kmip.TagCryptographicLength.SpecName(), Value: kmip.Int(kmip.TagCryptographicLength, int32(ec.Bits))})
	}
	return out
}

// certificateAttrs derives the KMIP 1.0 text identifier, subject and issuer
// of an X.509 certificate and the algorithm and length of its public key.
func certificateAttrs(v version, cert *x509.Certificate) []domain.Attribute {
	out := []domain.Attribute{
		{Name: kmip.TagCertificateIdentifier.SpecName(), Value: kmip.Struct(kmip.TagCertificateIdentifier,
			kmip.Text(kmip.TagIssuer, cert.Issuer.String()),
			kmip.Text(kmip.TagSerialNumber, cert.SerialNumber.String()))},
		{Name: kmip.TagCertificateSubject.SpecName(), Value: kmip.Struct(kmip.TagCertificateSubject,
			kmip.Text(kmip.TagCertificateSubjectDistinguishedName, cert.Subject.String()))},
		{Name: kmip.TagCertificateIssuer.SpecName(), Value: kmip.Struct(kmip.TagCertificateIssuer,
			kmip.Text(kmip.TagCertificateIssuerDistinguishedName, cert.Issuer.String()))},
	}
	add := func(alg kmip.CryptographicAlgorithm, length int) {
		out = append(out,
			domain.Attribute{Name: kmip.TagCryptographicAlgorithm.SpecName(), Value: kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(alg))},
			domain.Attribute{Name: kmip.TagCryptographicLength.SpecName(), Value: kmip.Int(kmip.TagCryptographicLength, int32(length))})
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		add(kmip.CryptographicAlgorithmRSA, pub.N.BitLen())
	case *ecdsa.PublicKey:
		add(ecAlgFor(v, kmip.CryptographicAlgorithmEC), pub.Curve.Params().BitSize)
	}
	return out
}

// applyDerived adds the derived attributes to a new object. A client-supplied
// Cryptographic Algorithm or Length that contradicts the material is Invalid
// Field (an EC use, ECDSA or ECDH, may stand for EC).
func applyDerived(obj *domain.Object, derived []domain.Attribute) error {
	for _, a := range derived {
		if have := obj.Attr(a.Name); have != nil {
			if !have.Equal(a.Value) && !sameAlgorithmFamily(have, a.Value) {
				return invalidField("%s %v contradicts the object's content", a.Name, have)
			}
			continue
		}
		obj.SetAttr(a.Name, a.Value)
	}
	return nil
}
