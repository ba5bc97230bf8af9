package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// reKey implements Re-key (KMIP 1.4 §4.4, KMIP 2.1 §6.1.46) for symmetric
// keys: a new key of the same algorithm and length whose attributes are the
// existing key's (domain.Object.ReKey) overlaid with the request's, linked
// both ways to the existing key, which loses its Names.
func (s *Service) reKey(ctx context.Context, c *call) (*kmip.Item, error) {
	offset, attrs, err := reKeyRequest(c)
	if err != nil {
		return nil, err
	}
	old, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if old.Type != uint32(kmip.ObjectTypeSymmetricKey) {
		return nil, kindErr(errKindWrongObjectType, "Re-key applies to symmetric keys only") // 1.4 §11.5
	}
	if old.Payload == nil {
		return nil, errorf(kmip.ResultReasonKeyValueNotPresent, "the existing key has no key value")
	}
	now := s.cfg.Clock.Now().Truncate(time.Second)
	repl, err := s.replacementOf(ctx, c, old, attrs, now, offset)
	if err != nil {
		return nil, err
	}
	if err := s.storeNew(ctx, c, repl, old.ID); err != nil { // it takes over old's Names
		return nil, err
	}
	if err := s.retireReplaced(ctx, c, old.ID, repl.ID, now, offset); err != nil {
		return nil, err
	}
	s.cfg.Log.Info().Str("id", repl.ID).Str("replaces", old.ID).Str("client", c.who.Name).Msg("re-keyed")
	return codec.IDResponse(repl.ID), nil
}

// reKeyRequest reads a Re-key request's Offset and the attributes it sets
// on the replacement, refusing what a client may not set.
func reKeyRequest(c *call) (*time.Duration, []domain.Attribute, error) {
	req, err := codec.DecodeReKey(c.v.wire(), c.payload)
	if err != nil {
		return nil, nil, err
	}
	offset, attrs := req.Offset, req.Attributes
	for _, a := range attrs {
		rule, known := domain.AttrRuleFor(a.Name)
		switch {
		case !known:
			return nil, nil, invalidField("attribute %q is not supported", a.Name)
		case !rule.ClientSets:
			return nil, nil, invalidField("attribute %q cannot be set by the client", a.Name)
		case a.Value == nil:
			return nil, nil, invalidField("attribute %q has no value", a.Name)
		case offset != nil && offsetDates[a.Name]:
			return nil, nil, errorf(kmip.ResultReasonInvalidMessage, "Offset and %s cannot both be given", a.Name)
		}
	}
	return offset, attrs, nil
}

// replacementOf builds the replacement of old: old's attributes renewed as
// Re-key says, the request's attributes over them, and a new key value of
// the same algorithm and length.
func (s *Service) replacementOf(ctx context.Context, c *call, old *domain.Object, attrs []domain.Attribute, now time.Time, offset *time.Duration) (*domain.Object, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	repl, err := old.Clone().ReKey(id, now, offset)
	if err != nil {
		return nil, reKeyError(err)
	}
	for _, a := range attrs {
		if err := overlay(repl, a); err != nil {
			return nil, err
		}
	}
	if repl.Policy != old.Policy && (c.who.Name == "" || c.who.Name != old.Owner) {
		// The replacement is the existing key's owner's: only that owner
		// may put it under another operation policy.
		return nil, errorf(kmip.ResultReasonPermissionDenied, "only the key's owner may give its replacement another operation policy")
	}
	repl.ApplyDates(now)
	if err := s.renewServerAttrs(c, old, repl, now); err != nil {
		return nil, err
	}
	alg, okA := repl.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := repl.AttrOf(kmip.TagCryptographicLength).AsInt()
	mask, _ := repl.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	if !okA || !okL {
		return nil, errorf(kmip.ResultReasonKeyValueNotPresent, "the existing key has no algorithm or length to re-key with")
	}
	key, err := s.cfg.Crypto.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: id, Algorithm: alg, Length: int(length), UsageMask: mask})
	if err != nil {
		return nil, keygenError(err, kmip.CryptographicAlgorithm(alg), length)
	}
	repl.Payload = keyObjectPayload(kmip.TagSymmetricKey, key, alg, length)
	repl.KeyRef = ""
	adoptKey(repl, key)
	return repl, nil
}
