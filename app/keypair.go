package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// halves returns the attributes of each half of a key pair request
// (codec.Half), the Templates its three attribute containers reference
// resolved when templates is set, and refused otherwise.
func (s *Service) halves(ctx context.Context, c *call, kp codec.KeyPairAttributes, templates bool) (priv, pub []domain.Attribute, err error) {
	var common, private, public []domain.Attribute
	for _, h := range []struct {
		set codec.AttributeSet
		out *[]domain.Attribute
	}{{kp.Common, &common}, {kp.Private, &private}, {kp.Public, &public}} {
		if !templates {
			*h.out, err = h.set.Only()
		} else {
			*h.out, err = s.withTemplates(ctx, c, h.set)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return codec.Half(common, private), codec.Half(common, public), nil
}

// keyPairSpec reads what to generate from the private key's attributes.
func keyPairSpec(priv, pub *domain.Object) (ports.KeyPairSpec, error) {
	alg, okA := priv.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := priv.AttrOf(kmip.TagCryptographicLength).AsInt()
	curve, okC := priv.AttrOf(kmip.TagCryptographicDomainParameters).Child(kmip.TagRecommendedCurve).AsEnum()
	if !okC {
		curve, okC = priv.AttrOf(kmip.TagRecommendedCurve).AsEnum()
	}
	privMask, okM1 := priv.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	pubMask, okM2 := pub.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	switch {
	case !okA:
		return ports.KeyPairSpec{}, invalidField("the Cryptographic Algorithm attribute is required")
	case !okL && !okC:
		return ports.KeyPairSpec{}, invalidField("the Cryptographic Length attribute is required")
	case !okM1 || !okM2:
		return ports.KeyPairSpec{}, invalidField("the Cryptographic Usage Mask attribute is required for both keys")
	}
	if a2, ok := pub.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum(); ok && a2 != alg {
		return ports.KeyPairSpec{}, invalidField("the private and public keys must have the same Cryptographic Algorithm")
	}
	switch kmip.CryptographicAlgorithm(alg) {
	case kmip.CryptographicAlgorithmRSA, kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA,
		kmip.CryptographicAlgorithmECDH, kmip.CryptographicAlgorithmEd25519:
	default:
		return ports.KeyPairSpec{}, invalidField("%s is not a supported asymmetric algorithm", kmip.CryptographicAlgorithm(alg))
	}
	return ports.KeyPairSpec{
		PrivateID: priv.ID, PublicID: pub.ID, Algorithm: alg, Length: int(length), Curve: curve,
		PrivateMask: privMask, PublicMask: pubMask,
	}, nil
}

// keyObjectPayload is the stored structure of a generated key.
func keyObjectPayload(tag kmip.Tag, k ports.Key, alg uint32, length int32) *kmip.Item {
	format := k.Format
	switch {
	case format != 0:
	case tag == kmip.TagPrivateKey:
		format = uint32(kmip.KeyFormatTypePKCS_8)
	case tag == kmip.TagPublicKey:
		format = uint32(kmip.KeyFormatTypeX_509)
	default:
		format = uint32(kmip.KeyFormatTypeRaw)
	}
	kb := kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, format))
	// A key the engine keeps (k.Ref) without material has no Key Value.
	if k.Material != nil || k.Ref == "" {
		kb.Add(kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, k.Material)))
	}
	kb.Add(kmip.Enum(kmip.TagCryptographicAlgorithm, alg))
	if length > 0 {
		kb.Add(kmip.Int(kmip.TagCryptographicLength, length))
	}
	return kmip.Struct(tag, kb)
}

// linkAttr is a Link attribute value.
func linkAttr(t kmip.LinkType, id string) *kmip.Item {
	return kmip.Struct(kmip.TagLink, kmip.Enum(kmip.TagLinkType, uint32(t)), kmip.Text(kmip.TagLinkedObjectIdentifier, id))
}

// generatePair fills priv and pub with a new key pair, links them to each
// other and stores both; the ID Placeholder becomes the private key's.
// replaces lists the objects whose Names the pair takes over (Re-key Key
// Pair); the two halves never share a Name Value.
func (s *Service) generatePair(ctx context.Context, c *call, priv, pub *domain.Object, replaces ...string) (*kmip.Item, error) {
	gen, err := capability[ports.KeyPairGenerator](s)
	if err != nil {
		return nil, err
	}
	for _, n := range pub.AttrValuesOf(kmip.TagName) {
		if s.cfg.StrictNames && hasNameValue(priv, n, -1) {
			return nil, nameTaken()
		}
	}
	spec, err := keyPairSpec(priv, pub)
	if err != nil {
		return nil, err
	}
	kp, err := gen.GenerateKeyPair(ctx, spec)
	if err != nil {
		switch {
		case transient(err):
		case errors.Is(err, ports.ErrUnsupported):
			return nil, invalidField("%s key pairs of this size or curve are not supported%s", kmip.CryptographicAlgorithm(spec.Algorithm),
				engineDetail(err, ports.ErrUnsupported)).because(err)
		case errors.Is(err, ports.ErrInvalidLength):
			return nil, invalidField("%d is not a valid length for %s keys%s", spec.Length, kmip.CryptographicAlgorithm(spec.Algorithm),
				engineDetail(err, ports.ErrInvalidLength)).because(err)
		}
		return nil, err
	}
	length := int32(spec.Length)
	if priv.AttrOf(kmip.TagCryptographicLength) == nil && length > 0 {
		priv.SetAttrOf(kmip.TagCryptographicLength, kmip.Int(kmip.TagCryptographicLength, length))
	}
	for _, o := range []*domain.Object{priv, pub} {
		for _, name := range []string{kmip.TagCryptographicAlgorithm.SpecName(), kmip.TagCryptographicLength.SpecName(), kmip.TagCryptographicDomainParameters.SpecName()} {
			if o.Attr(name) == nil && priv.Attr(name) != nil {
				o.SetAttr(name, priv.Attr(name).Clone())
			}
		}
	}
	priv.Payload = keyObjectPayload(kmip.TagPrivateKey, kp.Private, spec.Algorithm, length)
	pub.Payload = keyObjectPayload(kmip.TagPublicKey, kp.Public, spec.Algorithm, length)
	adoptKey(priv, kp.Private)
	adoptKey(pub, kp.Public)
	priv.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypePublicKeyLink, pub.ID))
	pub.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypePrivateKeyLink, priv.ID))
	if err := s.storeNew(ctx, c, priv, replaces...); err != nil {
		s.forgetKept(ctx, pub) // the public half was generated too
		return nil, err
	}
	if err := s.storeNew(ctx, c, pub, replaces...); err != nil {
		if derr := s.cfg.Store.Delete(ctx, priv.ID); derr != nil {
			s.cfg.Log.Error().Err(derr).Str("id", priv.ID).Msg("could not remove the private key of a failed key pair")
		} else {
			s.forgetKept(ctx, priv)
		}
		return nil, err
	}
	return codec.KeyPairResponse(priv.ID, pub.ID), nil
}
