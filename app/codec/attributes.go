package codec

import (
	"strings"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Attribute requests arrive in two shapes: KMIP 1.x wraps each value in an
// Attribute structure (Attribute Name, Attribute Index, Attribute Value);
// KMIP 2.x lists values under their own tags inside an Attributes structure,
// with Vendor Attributes (an Attribute structure holding Vendor
// Identification, Attribute Name and Attribute Value) for custom ones. Both
// map onto domain.Attribute, whose Value carries the attribute's own tag
// (TagAttributeValue for custom ones).

// AttributeSet is what one attribute container of a request holds: the
// attributes given and, in a KMIP 1.x Template-Attribute, the Name Values
// of the Templates it references (KMIP 1.4 §2.1.8), in request order; a
// reference without a Name Value is "".
type AttributeSet struct {
	Attributes []domain.Attribute
	Templates  []string
}

// Only returns the attributes of a set that may not reference Templates,
// or Unsupported when it does.
func (s AttributeSet) Only() ([]domain.Attribute, error) {
	if len(s.Templates) > 0 {
		return nil, fail(Unsupported, specName(kmip.TagTemplateAttribute), "Template references are not supported here")
	}
	return s.Attributes, nil
}

// IsCustom1xName reports whether name is a KMIP 1.x Custom Attribute name:
// "x-" (client-defined) or "y-" (server-defined) and at least one more
// character (KMIP 1.4 §3.39). Such names never map to a standard tag.
func IsCustom1xName(name string) bool {
	return len(name) > 2 && name[1] == '-' && strings.ContainsRune("xXyY", rune(name[0]))
}

// CustomNameIn reports whether a client of version v may name a
// non-standard attribute name: KMIP 1.x only "x-" and "y-" Custom
// Attributes (1.4 §3.39), KMIP 2.x any Vendor Attribute ("vendor-name").
func CustomNameIn(v Version, name string) bool {
	return v.v2() || IsCustom1xName(name)
}

// standardName returns the specification spelling of a standard attribute
// name, and a custom or unknown name unchanged.
func standardName(name string) string {
	if t, ok := kmip.TagBySpecName(name); ok && !IsCustom1xName(name) {
		return t.SpecName()
	}
	return name
}

// Attribute1x decodes a KMIP 1.x Attribute structure. An attribute without
// Attribute Value decodes with a nil Value (Get-style selectors); callers
// that need one say so.
func Attribute1x(a *kmip.Item) (domain.Attribute, error) {
	name, ok := a.Child(kmip.TagAttributeName).AsText()
	if !ok || name == "" {
		return domain.Attribute{}, fail(Malformed, "", "no Attribute Name")
	}
	idx := 0
	if it := a.Child(kmip.TagAttributeIndex); it != nil {
		n, ok := it.AsInt()
		if !ok || n < 0 {
			return domain.Attribute{}, fail(Malformed, specName(kmip.TagAttributeIndex), "must be a non-negative Integer")
		}
		idx = int(n)
	}
	val := a.Child(kmip.TagAttributeValue)
	if val == nil {
		return domain.Attribute{Name: name, Index: idx}, nil
	}
	v := val.Clone()
	if tag, ok := kmip.TagBySpecName(name); ok && !IsCustom1xName(name) {
		v.Tag = tag
		name = tag.SpecName()
		if err := CheckValue(v); err != nil {
			return domain.Attribute{}, in(specName(kmip.TagAttributeValue), err)
		}
	}
	return domain.Attribute{Name: name, Index: idx, Value: v}, nil
}

// CheckValue enforces the item types the specification gives an attribute
// value and, recursively, the fields of a structured one (KMIP 1.4 §3 and
// KMIP 2.1 §4, each attribute's encoding table; §9.1.3.2 enumerations): a
// Text String where an Enumeration belongs, or an enumeration value that is
// neither defined nor an extension (8XXXXXXX), is Malformed (1.4 §11.2
// "Incorrect attribute value(s)") rather than a stored, malformed attribute.
// Rotate Automatic set to true is Unsupported: kmipd rotates only on
// request (Re-key, Re-key Key Pair), and accepting it would promise
// rotations that never happen.
func CheckValue(v *kmip.Item) error {
	if on, _ := v.AsBool(); on && v.Tag == kmip.TagRotateAutomatic {
		return fail(Unsupported, specName(v.Tag), "automatic rotation is not supported; rotate with Re-key")
	}
	if def, ok := kmip.LookupTag(v.Tag); ok && def.Type != 0 {
		if v.Type != def.Type {
			return fail(Malformed, "", "%s must be a %s, not a %s", def.SpecName, def.Type, v.Type)
		}
		if e, isEnum := v.AsEnum(); isEnum && def.Enum != "" && e < 0x80000000 {
			if _, known := kmip.EnumName(v.Tag, e); !known {
				return fail(Malformed, "", "%d is not a %s value", e, def.SpecName)
			}
		}
	}
	for _, ch := range v.Children() {
		if err := CheckValue(ch); err != nil {
			return err
		}
	}
	return nil
}

// Attribute2x decodes one child of a KMIP 2.x Attributes structure (or a
// New Attribute / Current Attribute wrapper's content).
func Attribute2x(v *kmip.Item) (domain.Attribute, error) {
	if v.Tag == kmip.TagAttribute {
		vid, _ := v.Child(kmip.TagVendorIdentification).AsText()
		an, _ := v.Child(kmip.TagAttributeName).AsText()
		if vid == "" || an == "" {
			return domain.Attribute{}, fail(Malformed, "Vendor Attribute", "needs Vendor Identification and Attribute Name")
		}
		val := v.Child(kmip.TagAttributeValue)
		if val != nil {
			val = val.Clone()
		}
		return domain.Attribute{Name: vid + "-" + an, Value: val}, nil
	}
	if _, ok := kmip.LookupTag(v.Tag); !ok {
		return domain.Attribute{}, fail(Malformed, "", "unknown attribute tag %s", v.Tag)
	}
	if err := CheckValue(v); err != nil {
		return domain.Attribute{}, err
	}
	return domain.Attribute{Name: v.Tag.SpecName(), Value: v.Clone()}, nil
}

// DecodeAttributes reads the attributes of a Create/Register/Locate-style
// request from the containers named (a 1.x Template-Attribute, a 2.x
// Attributes, ...) and, for 1.x Locate, the Attribute structures listed
// directly in the payload. The container's tag says its shape; Names in a
// 1.x Template-Attribute reference Templates, which KMIP 2.x does not have.
func DecodeAttributes(v Version, payload *kmip.Item, containers ...kmip.Tag) (AttributeSet, error) {
	var out AttributeSet
	for _, ct := range containers {
		for _, box := range payload.ChildrenOf(ct) {
			if err := decodeContainer(v, box, &out); err != nil {
				return AttributeSet{}, err
			}
		}
	}
	for i, a := range payload.ChildrenOf(kmip.TagAttribute) {
		at, err := Attribute1x(a)
		if err != nil {
			return AttributeSet{}, in(nth(kmip.TagAttribute, i+1), err)
		}
		out.Attributes = append(out.Attributes, at)
	}
	return out, nil
}

// decodeContainer adds the content of one Template-Attribute / Attributes /
// Common/Private/Public container to out; errors name the container and
// the position of the item at fault.
func decodeContainer(v Version, box *kmip.Item, out *AttributeSet) error {
	shape2x := box.Tag == kmip.TagAttributes || box.Tag == kmip.TagCommonAttributes ||
		box.Tag == kmip.TagPrivateKeyAttributes || box.Tag == kmip.TagPublicKeyAttributes
	for i, ch := range box.Children() {
		where := specName(box.Tag) + ": " + nth(ch.Tag, i+1)
		var a domain.Attribute
		var err error
		switch {
		case shape2x:
			a, err = Attribute2x(ch)
		case ch.Tag == kmip.TagAttribute:
			a, err = Attribute1x(ch)
		case ch.Tag == kmip.TagName && v.v2():
			// KMIP 2.x has no Templates: a Template-Attribute's Name is
			// no reference it can resolve.
			return fail(Unsupported, where, "Template references are not supported")
		case ch.Tag == kmip.TagName:
			// A 1.x Template-Attribute's Name items name Templates (KMIP 1.4 §2.1.8).
			nv, _ := domain.NameValue(ch)
			out.Templates = append(out.Templates, nv)
			continue
		default:
			return fail(Malformed, where, "unexpected in %s", specName(box.Tag))
		}
		if err != nil {
			return in(where, err)
		}
		out.Attributes = append(out.Attributes, a)
	}
	return nil
}

// Encode renders one attribute for an answer in version v's shape: a 1.x
// Attribute structure (Attribute Name, Index when not 0, Attribute Value),
// or the 2.x value under its own tag (a Vendor Attribute for custom ones).
func Encode(v Version, a domain.Attribute) *kmip.Item {
	if !v.v2() {
		out := kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, a.Name))
		if a.Index > 0 {
			out.Add(kmip.Int(kmip.TagAttributeIndex, int32(a.Index)))
		}
		return addValue(out, a.Value)
	}
	if IsCustom1xName(a.Name) || a.Value == nil || a.Value.Tag == kmip.TagAttributeValue {
		vid, an, _ := strings.Cut(a.Name, "-")
		out := kmip.Struct(kmip.TagAttribute,
			kmip.Text(kmip.TagVendorIdentification, vid),
			kmip.Text(kmip.TagAttributeName, an))
		return addValue(out, a.Value)
	}
	return a.Value.Clone()
}

func addValue(out, val *kmip.Item) *kmip.Item {
	if val != nil {
		val = val.Clone()
		val.Tag = kmip.TagAttributeValue
		out.Add(val)
	}
	return out
}

// EncodeAll adds attrs to out in version v's shape: in KMIP 1.x each
// Attribute directly, in KMIP 2.x inside one Attributes structure (Get
// Attributes, Export answers).
func EncodeAll(v Version, out *kmip.Item, attrs []domain.Attribute) *kmip.Item {
	box := out
	if v.v2() {
		box = kmip.Struct(kmip.TagAttributes)
		out.Add(box)
	}
	for _, a := range attrs {
		box.Add(Encode(v, a))
	}
	return out
}

// Reference renders an attribute's name for a Get Attribute List answer: a
// 1.x Attribute Name, or a 2.x Attribute Reference (the tag as an
// enumeration, or Vendor Identification and Attribute Name).
func Reference(v Version, a domain.Attribute) *kmip.Item {
	switch {
	case !v.v2():
		return kmip.Text(kmip.TagAttributeName, a.Name)
	case a.Value != nil && a.Value.Tag != kmip.TagAttributeValue:
		return kmip.Enum(kmip.TagAttributeReference, uint32(a.Value.Tag))
	}
	vid, an, ok := strings.Cut(a.Name, "-")
	if !ok {
		vid, an = "", a.Name
	}
	return kmip.Struct(kmip.TagAttributeReference,
		kmip.Text(kmip.TagVendorIdentification, vid), kmip.Text(kmip.TagAttributeName, an))
}

// References reads the attribute names a request selects, in order: KMIP
// 1.x Attribute Name texts, or KMIP 2.x Attribute References (a tag
// enumeration, or a Vendor Identification + Attribute Name structure).
func References(payload *kmip.Item) ([]string, error) {
	var names []string
	for i, ch := range payload.Children() {
		switch ch.Tag {
		case kmip.TagAttributeName:
			n, ok := ch.AsText()
			if !ok {
				return nil, fail(Malformed, nth(ch.Tag, i+1), "must be a Text String")
			}
			names = append(names, standardName(n))
		case kmip.TagAttributeReference:
			if v, ok := ch.AsEnum(); ok {
				names = append(names, kmip.Tag(v).SpecName())
				continue
			}
			vid, _ := ch.Child(kmip.TagVendorIdentification).AsText()
			an, _ := ch.Child(kmip.TagAttributeName).AsText()
			if an == "" {
				return nil, fail(Malformed, nth(ch.Tag, i+1), "needs an Attribute Name or a tag")
			}
			if vid == "" {
				names = append(names, an)
			} else {
				names = append(names, vid+"-"+an)
			}
		}
	}
	return names, nil
}

// NameOf is the attribute name an item of a Template-Attribute or
// Attributes structure sets.
func NameOf(it *kmip.Item) string {
	if it.Tag == kmip.TagAttribute {
		if n, ok := it.Child(kmip.TagAttributeName).AsText(); ok {
			if vid, ok := it.Child(kmip.TagVendorIdentification).AsText(); ok {
				return vid + "-" + n
			}
			return n
		}
	}
	return it.Tag.SpecName()
}
