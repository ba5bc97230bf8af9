package app

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// newObject starts a managed object owned by the caller, applying the
// attributes of the request (decoded by app/codec, Templates resolved)
// after checking each may be set by a client.
func (s *Service) newObject(ctx context.Context, c *call, t kmip.ObjectType, attrs []domain.Attribute) (*domain.Object, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now().Truncate(time.Second)
	obj := &domain.Object{
		ID: id, Type: uint32(t), State: domain.PreActive, Owner: c.who.Name,
		Policy: domain.PolicyDefault, InitialDate: now,
	}
	for _, a := range attrs {
		if err := applyNewAttr(c, obj, t, a); err != nil {
			return nil, err
		}
	}
	// Names are checked here too, before any key is generated for the object.
	if err := s.checkNewNames(ctx, c, obj); err != nil {
		return nil, err
	}
	obj.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
	if err := s.setServerAttrs(c, obj, now); err != nil {
		return nil, err
	}
	if ad, ok := obj.AttrOf(kmip.TagActivationDate).AsTime(); ok && !ad.After(now) && domain.HasLifecycle(obj.Type) {
		obj.State = domain.Active
	}
	return obj, nil
}

// applyNewAttr applies one attribute of a create request to obj, refusing
// one a client may not set (unless it only repeats what the server derives),
// one that does not apply to the type, and a second value of a single-valued
// attribute; the Operation Policy Name becomes obj.Policy.
func applyNewAttr(c *call, obj *domain.Object, t kmip.ObjectType, a domain.Attribute) error {
	rule, err := ruleFor(c, a.Name)
	if err != nil {
		return err
	}
	if !rule.ClientSets {
		if same, err := checkDerived(c, a, t); same || err != nil {
			return err // same: the server derives it from the object (finishObject)
		}
		return readOnlyOnCreate(a.Name)
	}
	if !rule.AppliesToType(uint32(t)) {
		return notApplicable(c, a.Name, t)
	}
	if a.Value == nil {
		return invalidField("attribute %q has no value", a.Name)
	}
	if err := checkAttrValue(a); err != nil {
		return err
	}
	if a.Name == kmip.TagOperationPolicyName.SpecName() {
		name, ok := a.Value.AsText()
		if !ok || name == "" {
			return invalidField("Operation Policy Name must be a non-empty Text String")
		}
		obj.Policy = name
		return nil
	}
	if !rule.Multi && obj.Attr(a.Name) != nil {
		return singleValued(c, a.Name)
	}
	obj.AddAttr(a.Name, a.Value)
	return nil
}

// finishObject derives the attributes the server computes from the payload:
// certificate attributes, algorithm and length of registered keys, Key
// Format Type, and Digest.
func finishObject(obj *domain.Object) {
	setCertAttrs(obj)
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	if kb != nil && kb.Child(kmip.TagKeyValue) == nil && obj.KeyRef == "" && mayOmitKeyValue(kmip.ObjectType(obj.Type)) {
		obj.SetAttrOf(kmip.TagKeyValuePresent, kmip.Bool(kmip.TagKeyValuePresent, false))
	}
	if kb != nil {
		if it := kb.Child(kmip.TagCryptographicAlgorithm); it != nil && obj.AttrOf(kmip.TagCryptographicAlgorithm) == nil {
			obj.SetAttrOf(kmip.TagCryptographicAlgorithm, it.Clone())
		}
		if it := kb.Child(kmip.TagCryptographicLength); it != nil && obj.AttrOf(kmip.TagCryptographicLength) == nil {
			obj.SetAttrOf(kmip.TagCryptographicLength, it.Clone())
		}
		if it := kb.Child(kmip.TagKeyFormatType); it != nil {
			obj.SetAttrOf(kmip.TagKeyFormatType, it.Clone())
		}
	}
	if material, format, ok := digestInput(obj.Payload); ok {
		sum := sha256.Sum256(material)
		d := kmip.Struct(kmip.TagDigest,
			kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)),
			kmip.Bytes(kmip.TagDigestValue, sum[:]))
		if format != nil {
			d.Add(format.Clone())
		}
		obj.SetAttrOf(kmip.TagDigest, d)
	}
}

// digestInput returns the bytes the Digest attribute is computed over (KMIP
// 1.4 §3.17, KMIP 2.1 §4.12) and the Key Format Type it names: the Key
// Material of a key block (a Byte String as is, a structure TTLV-encoded)
// in the block's format; the Certificate Value of a certificate; the Opaque
// Data Value of an opaque object. The spec requires the Key Format Type only
// for keys and secret data; certificates and opaque objects name Opaque,
// because KMIP 1.x clients (PyKMIP among them) cannot read a Digest without
// one. Objects whose material the server does not hold get no Digest.
func digestInput(payload *kmip.Item) (material []byte, format *kmip.Item, ok bool) {
	if payload == nil {
		return nil, nil, false
	}
	opaque := kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque))
	switch payload.Tag {
	case kmip.TagCertificate:
		b, ok := payload.Child(kmip.TagCertificateValue).AsBytes()
		return b, opaque, ok
	case kmip.TagOpaqueObject:
		b, ok := payload.Child(kmip.TagOpaqueDataValue).AsBytes()
		return b, opaque, ok
	}
	kb := payload.Child(kmip.TagKeyBlock)
	if kb == nil {
		return nil, nil, false
	}
	km := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial)
	if b, ok := km.AsBytes(); ok {
		return b, kb.Child(kmip.TagKeyFormatType), true
	}
	if km != nil && km.Type == kmip.TypeStructure {
		if b, err := kmip.AppendTTLV(nil, km); err == nil {
			return b, kb.Child(kmip.TagKeyFormatType), true
		}
	}
	if b, ok := kb.Child(kmip.TagKeyValue).AsBytes(); ok { // wrapped key
		return b, kb.Child(kmip.TagKeyFormatType), true
	}
	return nil, nil, false
}
