package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// create implements Create (KMIP 1.4 §4.1) for symmetric keys.
func (s *Service) create(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeCreate(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	t := req.ObjectType
	if t != kmip.ObjectTypeSymmetricKey {
		return nil, badObjectType("Create cannot make %s objects", t)
	}
	attrs, err := s.withTemplates(ctx, c, req.Attributes)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	alg, okA := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := obj.AttrOf(kmip.TagCryptographicLength).AsInt()
	mask, okM := obj.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	switch {
	case !okA:
		return nil, invalidField("the Cryptographic Algorithm attribute is required")
	case !okL:
		return nil, invalidField("the Cryptographic Length attribute is required")
	case !okM:
		return nil, invalidField("the Cryptographic Usage Mask attribute is required")
	}
	key, err := s.cfg.Crypto.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{
		ID: obj.ID, Algorithm: alg, Length: int(length), UsageMask: mask,
	})
	if err != nil {
		return nil, keygenError(err, kmip.CryptographicAlgorithm(alg), length)
	}
	obj.Payload = keyObjectPayload(kmip.TagSymmetricKey, key, alg, length)
	adoptKey(obj, key)
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.CreateResponse(t, obj.ID), nil
}
