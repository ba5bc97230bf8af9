package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// attr is one attribute of a request: its name as the specification writes
// it ("Cryptographic Algorithm", or a custom "x-..." name) and its value,
// tagged with the attribute's own tag (Attribute Value for custom ones).
type attr struct {
	name  string
	value *kmip.Item
}

// attrList collects repeatable -attr NAME=VALUE flags.
type attrList []attr

func (l *attrList) String() string { return fmt.Sprint(len(*l), " attributes") }

func (l *attrList) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q: want NAME=VALUE", s)
	}
	a, err := parseAttr(strings.TrimSpace(name), value)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// attrTag resolves an attribute name, spec ("Object Group") or CamelCase
// ("ObjectGroup"); ok is false for custom attributes (x-..., y-...).
func attrTag(name string) (kmip.Tag, bool, error) {
	if isCustomName(name) {
		return 0, false, nil
	}
	if t, ok := kmip.TagBySpecName(name); ok {
		return t, true, nil
	}
	if t, ok := kmip.TagByName(strings.ReplaceAll(name, " ", "")); ok {
		return t, true, nil
	}
	return 0, false, fmt.Errorf("unknown attribute %q (custom attributes start with x- or y-)", name)
}

// isCustomName reports whether name is a client (x-) or server (y-) custom
// attribute name (KMIP 1.4 §3.39).
func isCustomName(name string) bool {
	return strings.HasPrefix(name, "x-") || strings.HasPrefix(name, "y-")
}

// specName is the attribute name KMIP 1.x requests carry.
func specName(name string) string {
	if t, ok, _ := attrTag(name); ok {
		return t.SpecName()
	}
	return name
}

// parseAttr types value as the attribute name requires.
func parseAttr(name, value string) (attr, error) {
	t, known, err := attrTag(name)
	if err != nil {
		return attr{}, err
	}
	if !known {
		return attr{name: name, value: kmip.Text(kmip.TagAttributeValue, value)}, nil
	}
	if t == kmip.TagName {
		return attr{name: t.SpecName(), value: nameItem(value)}, nil
	}
	it, err := leaf(t, value)
	if err != nil {
		return attr{}, fmt.Errorf("attribute %s: %w", t.SpecName(), err)
	}
	return attr{name: t.SpecName(), value: it}, nil
}

// nameItem is a Name structure with an uninterpreted text value.
func nameItem(v string) *kmip.Item {
	return kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, v),
		kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))
}

// leaf types the text s as a value of tag t, from the registry's type for t:
// enumerations and masks by name (AES, "Encrypt|Decrypt") or number, dates
// as RFC 3339, "now" or Unix seconds, byte strings as hex.
func leaf(t kmip.Tag, s string) (*kmip.Item, error) {
	def, ok := kmip.LookupTag(t)
	if !ok || def.Type == 0 {
		return nil, fmt.Errorf("%s cannot be set from the command line", t.SpecName())
	}
	switch def.Type {
	case kmip.TypeEnumeration:
		v, err := enumValue(t, s)
		return kmip.Enum(t, v), err
	case kmip.TypeInteger:
		if def.Mask {
			v, ok := kmip.MaskValue(t, s)
			if !ok {
				return nil, fmt.Errorf("%q is not a %s mask (names separated by | or spaces)", s, def.Enum)
			}
			return kmip.Int(t, v), nil
		}
		v, err := strconv.ParseInt(s, 0, 32)
		return kmip.Int(t, int32(v)), err
	case kmip.TypeLongInteger:
		v, err := strconv.ParseInt(s, 0, 64)
		return kmip.Long(t, v), err
	case kmip.TypeInterval:
		v, err := strconv.ParseUint(s, 0, 32)
		return kmip.Interval(t, uint32(v)), err
	case kmip.TypeBoolean:
		v, err := strconv.ParseBool(s)
		return kmip.Bool(t, v), err
	case kmip.TypeTextString:
		return kmip.Text(t, s), nil
	case kmip.TypeByteString:
		b, err := parseHex(s)
		return kmip.Bytes(t, b), err
	case kmip.TypeDateTime:
		v, err := parseTime(s)
		return kmip.DateTime(t, v), err
	}
	return nil, fmt.Errorf("%s is a %s and cannot be set from the command line", t.SpecName(), def.Type)
}

// enumValue reads an enumeration value of tag t by name (case-insensitive,
// with or without spaces and underscores) or number.
func enumValue(t kmip.Tag, s string) (uint32, error) {
	if v, ok := kmip.EnumValueOf(t, s); ok {
		return v, nil
	}
	if n, err := strconv.ParseUint(s, 0, 32); err == nil {
		return uint32(n), nil
	}
	set, _ := kmip.EnumSet(t)
	want := normalize(s)
	for v := uint32(0); v < 0x100; v++ {
		if n, ok := kmip.EnumName(t, v); ok && normalize(n) == want {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%q is not a %s value", s, set)
}

func normalize(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s))
}

func parseTime(s string) (time.Time, error) {
	if s == "now" {
		return time.Now().Truncate(time.Second), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-01-02T15:04:05Z), Unix seconds or now", s)
	}
	return t, nil
}

// v1Attribute is the KMIP 1.x Attribute structure of a.
func v1Attribute(a attr) *kmip.Item {
	v := a.value.Clone()
	v.Tag = kmip.TagAttributeValue
	return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, a.name), v)
}

// v2Attribute is the KMIP 2.x form of a: the value under its own tag, or a
// Vendor Attribute for a custom name (vendor "x" and the rest of the name).
func v2Attribute(a attr) *kmip.Item {
	if a.value.Tag != kmip.TagAttributeValue {
		return a.value.Clone()
	}
	vid, an, _ := strings.Cut(a.name, "-")
	v := a.value.Clone()
	return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, vid),
		kmip.Text(kmip.TagAttributeName, an), v)
}

// attributes is the structure carrying attrs in a request of the flags'
// version: a Template-Attribute of tag1 at 1.x (Template-Attribute, Common
// Template-Attribute, ...) or an Attributes structure of tag2 at 2.x.
func (c *connFlags) attributes(tag1, tag2 kmip.Tag, attrs []attr) *kmip.Item {
	if c.v2() {
		s := kmip.Struct(tag2)
		for _, a := range attrs {
			s.Add(v2Attribute(a))
		}
		return s
	}
	s := kmip.Struct(tag1)
	for _, a := range attrs {
		s.Add(v1Attribute(a))
	}
	return s
}

// attribute is one attribute in the form Add/Modify Attribute take: an
// Attribute at 1.x, a New Attribute structure at 2.x.
func (c *connFlags) attribute(a attr) *kmip.Item {
	if c.v2() {
		return kmip.Struct(kmip.TagNewAttribute, v2Attribute(a))
	}
	return v1Attribute(a)
}

// reference names an attribute in Get Attributes and Delete Attribute: an
// Attribute Name at 1.x, an Attribute Reference at 2.x.
func (c *connFlags) reference(name string) (*kmip.Item, error) {
	t, known, err := attrTag(name)
	if err != nil {
		return nil, err
	}
	if !c.v2() {
		return kmip.Text(kmip.TagAttributeName, specName(name)), nil
	}
	if known {
		return kmip.Enum(kmip.TagAttributeReference, uint32(t)), nil
	}
	vid, an, _ := strings.Cut(name, "-")
	return kmip.Struct(kmip.TagAttributeReference, kmip.Text(kmip.TagVendorIdentification, vid),
		kmip.Text(kmip.TagAttributeName, an)), nil
}

// commonAttrs turns the usual creation flags into attributes.
func commonAttrs(alg string, algTag kmip.Tag, length int, usage, name, policy string, extra attrList) ([]attr, error) {
	var out []attr
	add := func(name, value string) error {
		a, err := parseAttr(name, value)
		if err == nil {
			out = append(out, a)
		}
		return err
	}
	if alg != "" {
		if err := add(algTag.SpecName(), alg); err != nil {
			return nil, err
		}
	}
	if length > 0 {
		out = append(out, attr{name: "Cryptographic Length", value: kmip.Int(kmip.TagCryptographicLength, int32(length))})
	}
	if usage != "" {
		if err := add("Cryptographic Usage Mask", usage); err != nil {
			return nil, err
		}
	}
	if name != "" {
		out = append(out, attr{name: "Name", value: nameItem(name)})
	}
	if policy != "" {
		out = append(out, attr{name: "Operation Policy Name", value: kmip.Text(kmip.TagOperationPolicyName, policy)})
	}
	return append(out, extra...), nil
}
