package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// deriveBases returns the objects a Derive Key request derives from: its
// Unique Identifiers, or the ID Placeholder, each checked against the Derive
// Key rule of its policy.
func (s *Service) deriveBases(ctx context.Context, c *call) ([]*domain.Object, error) {
	uids, err := codec.DecodeUniqueIdentifiers(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, uid := range uids {
		id, err := c.resolveUID(uid)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		id, err := c.uid()
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	var out []*domain.Object
	for _, id := range ids {
		obj, err := s.cfg.Store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(ctx, c, obj, c.op); err != nil {
			return nil, err
		}
		if err := s.effective(c, obj); err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// baseKinds are the kinds of a key refusal when the key is the base object
// of a derivation: Invalid Field in KMIP 1.x (KMIP 1.4 §11.7 "not able to be
// used to derive a new key"), the specific reason in KMIP 2.x.
var baseKinds = map[errKind]errKind{
	errKindWrongObjectType: errKindBaseWrongType, errKindWrongState: errKindBaseWrongState,
	errKindUsageMask: errKindBaseUsageMask, errKindNoKeyValue: errKindBaseNoKeyValue,
}

// deriveRefusal is the client error for a base object that cannot be derived from.
func deriveRefusal(err error) error {
	if ku, ok := err.(*errKeyUnusable); ok {
		return kindErr(baseKinds[ku.kind], "%s", ku.msg)
	}
	return usableError(err)
}

// deriveKey implements Derive Key (KMIP 1.4 §4.6, KMIP 2.1 §6.1.11).
func (s *Service) deriveKey(ctx context.Context, c *call) (*kmip.Item, error) {
	deriver, err := capability[ports.Deriver](s)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeCreate(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	t := req.ObjectType
	if t != kmip.ObjectTypeSymmetricKey && t != kmip.ObjectTypeSecretData {
		return nil, badObjectType("Derive Key makes Symmetric Keys and Secret Data, not %s", t)
	}
	attrs, err := req.Attributes.Only()
	if err != nil {
		return nil, err
	}
	spec, err := deriveSpecOf(c)
	if err != nil {
		return nil, err
	}
	bases, err := s.deriveBases(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.useDeriveBases(bases, &spec); err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	length, ok := obj.AttrOf(kmip.TagCryptographicLength).AsInt()
	if !ok || length <= 0 {
		return nil, invalidField("the Cryptographic Length of the derived object is required")
	}
	spec.Length = int(length)
	key, err := deriver.DeriveKey(ctx, spec)
	if err != nil {
		if errors.Is(err, ports.ErrInvalidLength) && !transient(err) {
			return nil, errorf(kmip.ResultReasonCryptographicFailure, "the requested length exceeds the output of the derivation method").because(err)
		}
		return nil, engineError(err)
	}
	if err := setDerivedPayload(obj, t, key); err != nil {
		return nil, err
	}
	if err := s.storeDerived(ctx, c, obj, bases); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// deriveSpecOf reads the request's Derivation Method and Derivation
// Parameters (KMIP 1.4 §4.6, §2.1.14).
func deriveSpecOf(c *call) (ports.DeriveSpec, error) {
	d, err := codec.DecodeDerivation(c.payload)
	if err != nil {
		return ports.DeriveSpec{}, err
	}
	spec := ports.DeriveSpec{Method: d.Method, Data: d.Data, Salt: d.Salt, IV: d.IV, Iterations: d.Iterations}
	if spec.Params, err = cryptoParams(d.CryptoParams); err != nil {
		return ports.DeriveSpec{}, err
	}
	return spec, nil
}

// useDeriveBases checks the base objects and puts them in spec: the first
// is the key derived from, a second (Secret Data) supplies the Derivation
// Data (KMIP 1.4 §4.6).
func (s *Service) useDeriveBases(bases []*domain.Object, spec *ports.DeriveSpec) error {
	if len(bases) > 2 {
		return errorf(kmip.ResultReasonFeatureNotSupported, "derivation from more than two objects is not supported")
	}
	for i, b := range bases {
		if b.Payload == nil {
			return kindErr(errKindNoKeyValue, "a base object has been destroyed")
		}
		if i == 0 {
			if err := checkUse(b, useDerive, s.cfg.Clock.Now(), false); err != nil {
				return deriveRefusal(err)
			}
			h, err := keyHandle(b)
			if err != nil {
				return deriveRefusal(err)
			}
			spec.Base = h
			continue
		}
		if b.Type != uint32(kmip.ObjectTypeSecretData) {
			return invalidField("the second object of a derivation must be Secret Data")
		}
		if spec.Data != nil {
			return errorf(kmip.ResultReasonInvalidMessage, "derivation data given both as Derivation Data and as a Secret Data object")
		}
		h, err := keyHandle(b)
		if err != nil {
			return deriveRefusal(err)
		}
		spec.Data = h.Material
	}
	return nil
}

// setDerivedPayload gives the derived object its value: a Symmetric Key of
// its Cryptographic Algorithm, or Secret Data of type Seed.
func setDerivedPayload(obj *domain.Object, t kmip.ObjectType, key ports.Key) error {
	if t != kmip.ObjectTypeSymmetricKey {
		obj.Payload = kmip.Struct(kmip.TagSecretData,
			kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypeSeed)),
			kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, key.Material))))
		return nil
	}
	alg, _ := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	if alg == 0 {
		return invalidField("the Cryptographic Algorithm of the derived key is required")
	}
	length, _ := obj.AttrOf(kmip.TagCryptographicLength).AsInt()
	obj.Payload = keyObjectPayload(kmip.TagSymmetricKey, key, alg, length)
	adoptKey(obj, key)
	return nil
}

// storeDerived stores the derived object linked to its bases and links
// each base to it (Derived Key Link); when a base cannot take the link the
// derived object is removed again, since the client never learns it.
func (s *Service) storeDerived(ctx context.Context, c *call, obj *domain.Object, bases []*domain.Object) error {
	for _, b := range bases {
		obj.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeDerivationBaseObjectLink, b.ID))
		// Each derivation links its base to the result: the base's
		// attribute limits bound how often one key is derived from.
		grown := b.Clone()
		grown.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeDerivedKeyLink, obj.ID))
		if err := s.checkAttrLimits(c, b, grown); err != nil {
			return err
		}
	}
	if err := s.storeNew(ctx, c, obj); err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	for _, b := range bases {
		var before *domain.Object
		err := s.cfg.Store.Update(ctx, b.ID, func(o *domain.Object) error {
			before = o.Clone()
			o.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeDerivedKeyLink, obj.ID))
			o.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
			return s.checkAttrLimits(c, before, o)
		})
		if err != nil {
			if derr := s.cfg.Store.Delete(ctx, obj.ID); derr == nil {
				s.forgetKept(ctx, obj)
			}
			return err
		}
		s.undoUpdate(c, before)
	}
	return nil
}
