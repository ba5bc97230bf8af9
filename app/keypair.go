package app

import (
	"context"
	"errors"
	"time"

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

// createKeyPair implements Create Key Pair (KMIP 1.4 §4.2, KMIP 2.1 §6.1.8).
func (s *Service) createKeyPair(ctx context.Context, c *call) (*kmip.Item, error) {
	kp, err := codec.DecodeKeyPair(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	// KMIP 1.x: Templates named in any of the three Template-Attributes
	// (1.4 §4.2 Tables 164-166) give their attributes.
	privAttrs, pubAttrs, err := s.halves(ctx, c, kp, true)
	if err != nil {
		return nil, err
	}
	priv, err := s.newObject(ctx, c, kmip.ObjectTypePrivateKey, privAttrs)
	if err != nil {
		return nil, err
	}
	pub, err := s.newObject(ctx, c, kmip.ObjectTypePublicKey, pubAttrs)
	if err != nil {
		return nil, err
	}
	return s.generatePair(ctx, c, priv, pub)
}

// notCopied are the attributes a replacement key does not take from the key
// it replaces (KMIP 1.4 §4.5 Table 177, §4.4 Table 170); the server sets them anew.
var notCopied = map[string]bool{
	kmip.TagUniqueIdentifier.SpecName(): true, kmip.TagName.SpecName(): true, kmip.TagDigest.SpecName(): true, kmip.TagState.SpecName(): true, kmip.TagInitialDate.SpecName(): true,
	kmip.TagActivationDate.SpecName(): true, kmip.TagDeactivationDate.SpecName(): true, kmip.TagDestroyDate.SpecName(): true, kmip.TagCompromiseOccurrenceDate.SpecName(): true,
	kmip.TagCompromiseDate.SpecName(): true, kmip.TagRevocationReason.SpecName(): true, kmip.TagLink.SpecName(): true, kmip.TagLastChangeDate.SpecName(): true,
	kmip.TagRandomNumberGenerator.SpecName(): true, kmip.TagArchiveDate.SpecName(): true, kmip.TagKeyFormatType.SpecName(): true, kmip.TagFresh.SpecName(): true,
	kmip.TagOriginalCreationDate.SpecName(): true,
}

// replacement starts the replacement of old: its attributes but those of
// notCopied, its names, then the request's attributes for that half, with
// dates from offset (KMIP 1.4 §4.5 Table 176).
func (s *Service) replacement(ctx context.Context, c *call, old *domain.Object, attrs []domain.Attribute, offset *time.Duration) (*domain.Object, error) {
	fresh, err := s.newObject(ctx, c, kmip.ObjectType(old.Type), attrs)
	if err != nil {
		return nil, err
	}
	now := fresh.InitialDate
	o := old.Clone()
	// The replacement stays its existing owner's (as Re-key's does), whoever
	// re-keys: a right to re-key is not a right to take the key.
	o.ID, o.State, o.InitialDate, o.Payload = fresh.ID, domain.PreActive, now, nil
	kept := o.Attributes[:0]
	for _, a := range o.Attributes {
		if !notCopied[a.Name] || a.Name == kmip.TagName.SpecName() {
			kept = append(kept, a)
		}
	}
	o.Attributes = kept
	set := map[string]bool{}
	for _, a := range fresh.Attributes {
		if !set[a.Name] {
			o.DeleteAttr(a.Name)
			set[a.Name] = true
		}
		o.AddAttr(a.Name, a.Value)
	}
	at1, hasAT := old.AttrOf(kmip.TagActivationDate).AsTime()
	dt1, hasDT := old.AttrOf(kmip.TagDeactivationDate).AsTime()
	if fresh.AttrOf(kmip.TagActivationDate) == nil {
		switch {
		case offset != nil:
			at2 := now.Add(*offset)
			o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, at2))
			if hasAT && hasDT {
				o.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, dt1.Add(at2.Sub(at1))))
			}
		case hasAT:
			o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, at1))
			if hasDT {
				o.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, dt1))
			}
		}
	}
	if ad, ok := o.AttrOf(kmip.TagActivationDate).AsTime(); ok && !ad.After(now) {
		o.State = domain.Active
	}
	return o, nil
}

// reKeyKeyPair implements Re-key Key Pair (KMIP 1.4 §4.5, KMIP 2.1 §6.1.45).
func (s *Service) reKeyKeyPair(ctx context.Context, c *call) (*kmip.Item, error) {
	oldPriv, oldPub, err := s.pairToReKey(ctx, c)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeReKeyKeyPair(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	privAttrs, pubAttrs, err := s.halves(ctx, c, req.Attributes, false)
	if err != nil {
		return nil, err
	}
	priv, err := s.replacement(ctx, c, oldPriv, privAttrs, req.Offset)
	if err != nil {
		return nil, err
	}
	pub, err := s.replacement(ctx, c, oldPub, pubAttrs, req.Offset)
	if err != nil {
		return nil, err
	}
	priv.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacedObjectLink, oldPriv.ID))
	pub.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacedObjectLink, oldPub.ID))
	rotated := s.cfg.Clock.Now().Truncate(time.Second)
	domain.MarkRotation(oldPriv.Clone(), priv, rotated)
	domain.MarkRotation(oldPub.Clone(), pub, rotated)
	out, err := s.generatePair(ctx, c, priv, pub, oldPriv.ID, oldPub.ID)
	if err != nil {
		return nil, err
	}
	if err := s.markReplaced(ctx, c, map[string]string{oldPriv.ID: priv.ID, oldPub.ID: pub.ID}); err != nil {
		return nil, err
	}
	return out, nil
}

// pairToReKey loads the private key a Re-key Key Pair names and the public
// key its Public Key Link names, both checked for access and usability.
func (s *Service) pairToReKey(ctx context.Context, c *call) (oldPriv, oldPub *domain.Object, err error) {
	idItem := c.payload.Child(kmip.TagPrivateKeyUniqueIdentifier)
	lookup := *c
	lookup.payload = kmip.Struct(kmip.TagRequestPayload)
	if idItem != nil {
		it := idItem.Clone()
		it.Tag = kmip.TagUniqueIdentifier
		lookup.payload.Add(it)
	}
	oldPriv, err = s.loadFor(ctx, &lookup)
	if err != nil {
		return nil, nil, err
	}
	if oldPriv.Type != uint32(kmip.ObjectTypePrivateKey) {
		return nil, nil, badObjectType("Re-key Key Pair needs a Private Key")
	}
	pubID := ""
	for _, l := range oldPriv.AttrValuesOf(kmip.TagLink) {
		if t, _ := l.Child(kmip.TagLinkType).AsEnum(); t == uint32(kmip.LinkTypePublicKeyLink) {
			pubID, _ = l.Child(kmip.TagLinkedObjectIdentifier).AsText()
		}
	}
	if pubID == "" {
		return nil, nil, invalidField("the private key has no Public Key Link")
	}
	oldPub, err = s.cfg.Store.Get(ctx, pubID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorize(ctx, c, oldPub, c.op); err != nil {
		return nil, nil, err
	}
	if err := s.effective(c, oldPub); err != nil {
		return nil, nil, err
	}
	return oldPriv, oldPub, nil
}

// markReplaced updates each replaced object (old identifier → replacement
// identifier): its Names move to the replacement, it gains a Replacement
// Object Link, and it is no longer the latest of its rotation.
func (s *Service) markReplaced(ctx context.Context, c *call, replacedBy map[string]string) error {
	now := s.cfg.Clock.Now()
	for old, repl := range replacedBy {
		var before *domain.Object
		err := s.cfg.Store.Update(ctx, old, func(o *domain.Object) error {
			before = o.Clone()
			o.DeleteAttrOf(kmip.TagName)
			o.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacementObjectLink, repl))
			o.SetAttrOf(kmip.TagRotateLatest, kmip.Bool(kmip.TagRotateLatest, false))
			o.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
			return nil
		})
		if err != nil {
			return err
		}
		s.undoUpdate(c, before)
	}
	return nil
}
