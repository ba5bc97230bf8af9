package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// withTemplates returns the attributes of one request container (a KMIP
// 1.x Template-Attribute, decoded by app/codec) with every Template it
// references (a Name naming a Template object, KMIP 1.4 §2.1.8 and §2.2.6)
// replaced by the Template's attributes. Attributes given individually take
// precedence over a Template's value of the same single-valued attribute,
// and a later Template over an earlier one. A name that matches no Template
// the caller may read is Item Not Found. KMIP 2.x has no Templates (the
// codec refuses a reference).
func (s *Service) withTemplates(ctx context.Context, c *call, set codec.AttributeSet) ([]domain.Attribute, error) {
	if len(set.Templates) == 0 {
		return set.Attributes, nil
	}
	var fromTemplates []domain.Attribute
	for _, nv := range set.Templates {
		attrs, err := s.templateAttrs(ctx, c, nv)
		if err != nil {
			return nil, err
		}
		fromTemplates = append(fromTemplates, attrs...)
	}
	return append(mergeTemplateAttrs(fromTemplates, set.Attributes), set.Attributes...), nil
}

// templateAttrs finds the Template a Name item names and returns its
// Attribute structures. A Name identifies one object by its Name Value
// (whatever the Name Type), so the reference resolves only when exactly one
// Template carries that value and the caller may read (Get) that one; it is
// never resolved to another Template of the same name the caller can read.
// No such Template, or one the caller may not read, is Item Not Found; two
// (a server that let them in, or two nodes registering at once) are Illegal
// Operation: an ambiguous name is refused, never resolved to a first match.
func (s *Service) templateAttrs(ctx context.Context, c *call, nv string) ([]domain.Attribute, error) {
	if nv == "" {
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
	var attrs []domain.Attribute
	for _, it := range found.Payload.ChildrenOf(kmip.TagAttribute) {
		a, err := codec.Attribute1x(it) // checked when the Template was registered
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// mergeTemplateAttrs drops from the Templates' attributes each
// single-valued attribute given again later (by a later Template or
// individually), so that the last value wins.
func mergeTemplateAttrs(fromTemplates, explicit []domain.Attribute) []domain.Attribute {
	single := func(n string) bool { r, ok := domain.AttrRuleFor(n); return ok && !r.Multi }
	var out []domain.Attribute
	for i, a := range fromTemplates {
		overridden := false
		if single(a.Name) {
			for _, later := range append(append([]domain.Attribute(nil), fromTemplates[i+1:]...), explicit...) {
				if later.Name == a.Name {
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

// requestedAttrs decodes the attributes a request gives the object it makes
// (a 1.x Template-Attribute or a 2.x Attributes) and resolves the Templates
// they reference.
func (s *Service) requestedAttrs(ctx context.Context, c *call) ([]domain.Attribute, error) {
	set, err := codec.NewObjectAttributes(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	return s.withTemplates(ctx, c, set)
}
