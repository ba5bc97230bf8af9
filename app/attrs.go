package app

import (
	"strings"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Attribute requests arrive in two shapes: KMIP 1.x wraps each value in an
// Attribute structure (Attribute Name, Attribute Index, Attribute Value);
// KMIP 2.x lists values under their own tags inside an Attributes structure,
// with Vendor Attributes (an Attribute structure holding Vendor Identification,
// Attribute Name and Attribute Value) for custom ones. Both map onto domain.Attribute, whose
// Value carries the attribute's own tag (TagAttributeValue for custom ones).

// attrFrom1x converts a KMIP 1.x Attribute structure.
func attrFrom1x(a *kmip.Item) (domain.Attribute, error) {
	name, ok := a.Child(kmip.TagAttributeName).AsText()
	if !ok || name == "" {
		return domain.Attribute{}, invalidField("Attribute without Attribute Name")
	}
	idx := 0
	if it := a.Child(kmip.TagAttributeIndex); it != nil {
		n, ok := it.AsInt()
		if !ok || n < 0 {
			return domain.Attribute{}, invalidField("invalid Attribute Index")
		}
		idx = int(n)
	}
	val := a.Child(kmip.TagAttributeValue)
	if val == nil {
		return domain.Attribute{Name: name, Index: idx}, nil
	}
	v := val.Clone()
	if tag, ok := kmip.TagBySpecName(name); ok && !isCustom1xName(name) {
		v.Tag = tag
		name = tag.SpecName()
		if err := checkValue(v); err != nil {
			return domain.Attribute{}, err
		}
	}
	return domain.Attribute{Name: name, Index: idx, Value: v}, nil
}

// checkValue enforces the item types the specification gives an attribute
// value and, recursively, the fields of a structured one (KMIP 1.4 §3 and
// KMIP 2.1 §4, each attribute's encoding table; §9.1.3.2 enumerations): a
// Text String where an Enumeration belongs, or an enumeration value that is
// neither defined nor an extension (8XXXXXXX), is Invalid Field (1.4 §11.2
// "Incorrect attribute value(s)") rather than a stored, malformed attribute.
func checkValue(v *kmip.Item) error {
	if on, _ := v.AsBool(); on && v.Tag == kmip.TagRotateAutomatic {
		// kmipd rotates only on request (Re-key, Re-key Key Pair); accepting
		// the attribute would promise rotations that never happen.
		return errorf(kmip.ResultReasonFeatureNotSupported, "automatic rotation is not supported; rotate with Re-key")
	}
	if def, ok := kmip.LookupTag(v.Tag); ok && def.Type != 0 {
		if v.Type != def.Type {
			return invalidField("%s must be a %s, not a %s", def.SpecName, def.Type, v.Type)
		}
		if e, isEnum := v.AsEnum(); isEnum && def.Enum != "" && e < 0x80000000 {
			if _, known := kmip.EnumName(v.Tag, e); !known {
				return invalidField("%d is not a %s value", e, def.SpecName)
			}
		}
	}
	for _, ch := range v.Children() {
		if err := checkValue(ch); err != nil {
			return err
		}
	}
	return nil
}

// attrFrom2x converts one child of a KMIP 2.x Attributes structure (or a New
// Attribute / Current Attribute wrapper's content).
func attrFrom2x(v *kmip.Item) (domain.Attribute, error) {
	if v.Tag == kmip.TagAttribute {
		vid, _ := v.Child(kmip.TagVendorIdentification).AsText()
		an, _ := v.Child(kmip.TagAttributeName).AsText()
		if vid == "" || an == "" {
			return domain.Attribute{}, invalidField("Vendor Attribute needs Vendor Identification and Attribute Name")
		}
		val := v.Child(kmip.TagAttributeValue)
		if val != nil {
			val = val.Clone()
		}
		return domain.Attribute{Name: vid + "-" + an, Value: val}, nil
	}
	if _, ok := kmip.LookupTag(v.Tag); !ok {
		return domain.Attribute{}, invalidField("unknown attribute tag %s", v.Tag)
	}
	if err := checkValue(v); err != nil {
		return domain.Attribute{}, err
	}
	return domain.Attribute{Name: v.Tag.SpecName(), Value: v.Clone()}, nil
}

// requestAttrs reads the attributes of a Create/Register/Locate-style
// request: the 1.x Template-Attribute (or bare Attribute list) or the 2.x
// Attributes structure.
func requestAttrs(c *call, containers ...kmip.Tag) ([]domain.Attribute, error) {
	var out []domain.Attribute
	for _, ct := range containers {
		for _, box := range c.payload.ChildrenOf(ct) {
			as, err := attrsIn(box)
			if err != nil {
				return nil, err
			}
			out = append(out, as...)
		}
	}
	// Locate in KMIP 1.x lists Attribute items directly in the payload.
	for _, a := range c.payload.ChildrenOf(kmip.TagAttribute) {
		at, err := attrFrom1x(a)
		if err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, nil
}

// attrsIn reads a Template-Attribute / Attributes / Common/Private/Public
// Template-Attribute container.
func attrsIn(box *kmip.Item) ([]domain.Attribute, error) {
	var out []domain.Attribute
	for _, ch := range box.Children() {
		switch {
		case ch.Tag == kmip.TagAttribute && box.Tag != kmip.TagAttributes:
			a, err := attrFrom1x(ch)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		case ch.Tag == kmip.TagName:
			if box.Tag == kmip.TagAttributes {
				a, err := attrFrom2x(ch)
				if err != nil {
					return nil, err
				}
				out = append(out, a)
				continue
			}
			// A 1.x Template-Attribute's Name items name Templates (KMIP 1.4 §2.1.8).
			return nil, errorf(kmip.ResultReasonFeatureNotSupported, "Template references are not supported")
		default:
			if box.Tag != kmip.TagAttributes {
				return nil, invalidField("unexpected %s in %s", ch.Tag, box.Tag)
			}
			a, err := attrFrom2x(ch)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// isCustom1xName reports whether name is a KMIP 1.x Custom Attribute name:
// "x-" (client-defined) or "y-" (server-defined) and at least one more
// character (KMIP 1.4 §3.39). Such names never map to a standard tag.
func isCustom1xName(name string) bool {
	return len(name) > 2 && name[1] == '-' && strings.ContainsRune("xXyY", rune(name[0]))
}

// attrOut renders one attribute value for a response in version v's shape.
func attrOut(v version, a domain.Attribute) *kmip.Item {
	if v.major < 2 {
		out := kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, a.Name))
		if a.Index > 0 {
			out.Add(kmip.Int(kmip.TagAttributeIndex, int32(a.Index)))
		}
		if a.Value != nil {
			val := a.Value.Clone()
			val.Tag = kmip.TagAttributeValue
			out.Add(val)
		}
		return out
	}
	if isCustom1xName(a.Name) || a.Value == nil || a.Value.Tag == kmip.TagAttributeValue {
		vid, an, _ := strings.Cut(a.Name, "-")
		out := kmip.Struct(kmip.TagAttribute,
			kmip.Text(kmip.TagVendorIdentification, vid),
			kmip.Text(kmip.TagAttributeName, an))
		if a.Value != nil {
			val := a.Value.Clone()
			val.Tag = kmip.TagAttributeValue
			out.Add(val)
		}
		return out
	}
	return a.Value.Clone()
}

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
