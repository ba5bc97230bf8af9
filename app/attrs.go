package app

import (
	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// The wire shapes of attributes (KMIP 1.x Attribute structures, KMIP 2.x
// tagged values and Vendor Attributes) are app/codec's; these are the
// app's names for the codec functions its older handlers use.

// attrFrom1x converts a KMIP 1.x Attribute structure (codec.Attribute1x).
func attrFrom1x(a *kmip.Item) (domain.Attribute, error) { return codec.Attribute1x(a) }

// checkValue enforces the item types the specification gives an attribute
// value (codec.CheckValue).
func checkValue(v *kmip.Item) error { return codec.CheckValue(v) }

// isCustom1xName reports whether name is a KMIP 1.x Custom Attribute name
// (codec.IsCustom1xName).
func isCustom1xName(name string) bool { return codec.IsCustom1xName(name) }

// attrOut renders one attribute value for a response in version v's shape
// (codec.Encode).
func attrOut(v version, a domain.Attribute) *kmip.Item { return codec.Encode(v.wire(), a) }

// allAttrs lists every attribute of the object a client of version v knows
// (domain.AttrRule.VisibleIn): the ones the object's fields hold, then the
// stored ones.
func allAttrs(v version, o *domain.Object) []domain.Attribute {
	all := []domain.Attribute{
		{Name: kmip.TagUniqueIdentifier.SpecName(), Value: kmip.Text(kmip.TagUniqueIdentifier, o.ID)},
		{Name: kmip.TagObjectType.SpecName(), Value: kmip.Enum(kmip.TagObjectType, o.Type)},
		{Name: kmip.TagInitialDate.SpecName(), Value: kmip.DateTime(kmip.TagInitialDate, o.InitialDate)},
	}
	if o.Type != uint32(kmip.ObjectTypeOpaqueObject) || v.major >= 2 {
		all = append(all, domain.Attribute{Name: kmip.TagState.SpecName(), Value: kmip.Enum(kmip.TagState, uint32(o.State))})
	}
	if o.Policy != "" {
		all = append(all, domain.Attribute{Name: kmip.TagOperationPolicyName.SpecName(), Value: kmip.Text(kmip.TagOperationPolicyName, o.Policy)})
	}
	out := all[:0:0]
	for _, a := range append(all, o.Attributes...) {
		if r, ok := domain.AttrRuleFor(a.Name); ok && !r.VisibleIn(v.major, v.minor) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// listedAttrs is allAttrs less the attributes an answer listing every
// attribute leaves out for version v (domain.AttrRule.ListedIn): Get
// Attributes without names and Get Attribute List answer it.
func listedAttrs(v version, o *domain.Object) []domain.Attribute {
	all := allAttrs(v, o)
	out := all[:0:0]
	for _, a := range all {
		if r, ok := domain.AttrRuleFor(a.Name); ok && !r.ListedIn(v.major, v.minor) {
			continue
		}
		out = append(out, a)
	}
	return out
}
