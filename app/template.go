package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// templateContainers are the KMIP 1.x request structures whose Name items
// reference Template objects (KMIP 1.4 §2.1.8).
var templateContainers = map[kmip.Tag]bool{
	kmip.TagTemplateAttribute: true, kmip.TagCommonTemplateAttribute: true,
	kmip.TagPrivateKeyTemplateAttribute: true, kmip.TagPublicKeyTemplateAttribute: true,
}

// expandTemplates returns the call with every Template reference of its
// Template-Attribute structures (a Name naming a Template object, KMIP 1.4
// §2.1.8 and §2.2.6) replaced by the Template's attributes. Attributes given
// individually take precedence over a Template's value of the same
// single-valued attribute, and a later Template over an earlier one. A name
// that matches no Template the caller may read is Item Not Found. KMIP 2.x
// has no Templates; its calls are returned unchanged.
func (s *Service) expandTemplates(ctx context.Context, c *call) (*call, error) {
	if c.v.major >= 2 || !hasTemplateRef(c.payload) {
		return c, nil
	}
	payload := c.payload.Clone()
	for _, box := range payload.Children() {
		if !templateContainers[box.Tag] {
			continue
		}
		var fromTemplates, explicit []*kmip.Item
		for _, ch := range box.Children() {
			if ch.Tag != kmip.TagName {
				explicit = append(explicit, ch)
				continue
			}
			attrs, err := s.templateAttrs(ctx, c, ch)
			if err != nil {
				return nil, err
			}
			fromTemplates = append(fromTemplates, attrs...)
		}
		box.Value = append(mergeTemplateAttrs(fromTemplates, explicit), explicit...)
	}
	cc := *c
	cc.payload = payload
	return &cc, nil
}

func hasTemplateRef(payload *kmip.Item) bool {
	for _, box := range payload.Children() {
		if templateContainers[box.Tag] && box.Child(kmip.TagName) != nil {
			return true
		}
	}
	return false
}

// templateAttrs finds the Template a Name item names and returns its
// Attribute structures. A Name identifies one object by its Name Value
// (whatever the Name Type), so the reference resolves only when exactly one
// Template carries that value and the caller may read (Get) that one; it is
// never resolved to another Template of the same name the caller can read.
// No such Template, or one the caller may not read, is Item Not Found; two
// (a server that let them in, or two nodes registering at once) are Illegal
// Operation: an ambiguous name is refused, never resolved to a first match.
func (s *Service) templateAttrs(ctx context.Context, c *call, name *kmip.Item) ([]*kmip.Item, error) {
	nv, ok := domain.NameValue(name)
	if !ok || nv == "" {
		return nil, invalidField("a Template reference needs a Name Value")
	}
	// Templates are few (and deprecated): list them and compare names here,
	// which also finds Templates stored before Names were indexed by value.
	ids, err := s.cfg.Store.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{
		{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeTemplate))},
	}})
	if err != nil {
		return nil, err
	}
	var found *domain.Object
	for _, id := range ids {
		obj, err := s.cfg.Store.Get(ctx, id)
		if errors.Is(err, ports.ErrNotFound) {
			continue // destroyed since the listing
		} else if err != nil {
			return nil, err
		}
		if !hasName(obj, nv) {
			continue
		}
		if found != nil {
			s.cfg.Log.Warn().Str("client", c.who.Name).Str("first", found.ID).Str("second", obj.ID).
				Msg("a Template name names more than one Template; the reference is refused")
			return nil, errorf(kmip.ResultReasonIllegalOperation, "the Template name %q is ambiguous", nv)
		}
		found = obj
	}
	if found == nil || found.Payload == nil || s.authorize(ctx, c, found, kmip.OperationGet) != nil {
		return nil, errorf(kmip.ResultReasonItemNotFound, "no Template named %q", nv)
	}
	return found.Payload.Clone().ChildrenOf(kmip.TagAttribute), nil
}

// mergeTemplateAttrs drops from the Templates' attributes each
// single-valued attribute given again later (by a later Template or
// individually), so that the last value wins.
func mergeTemplateAttrs(fromTemplates, explicit []*kmip.Item) []*kmip.Item {
	nameOf := func(a *kmip.Item) string { n, _ := a.Child(kmip.TagAttributeName).AsText(); return n }
	single := func(n string) bool { r, ok := domain.AttrRuleFor(n); return ok && !r.Multi }
	var out []*kmip.Item
	for i, a := range fromTemplates {
		n := nameOf(a)
		overridden := false
		if single(n) {
			for _, later := range append(append([]*kmip.Item(nil), fromTemplates[i+1:]...), explicit...) {
				if later.Tag == kmip.TagAttribute && nameOf(later) == n {
					overridden = true
					break
				}
			}
		}
		if !overridden {
			out = append(out, a)
		}
	}
	return out
}

// hasName reports whether one of the object's Names has the value nv.
func hasName(obj *domain.Object, nv string) bool {
	for _, n := range obj.AttrValuesOf(kmip.TagName) {
		if v, _ := domain.NameValue(n); v == nv {
			return true
		}
	}
	return false
}
