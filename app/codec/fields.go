package codec

import "github.com/kmipd/kmipd/domain/kmip"

// attrHolders are the KMIP 2.x structures whose children are attributes.
var attrHolders = map[kmip.Tag]bool{
	kmip.TagAttributes: true, kmip.TagCommonAttributes: true, kmip.TagPrivateKeyAttributes: true,
	kmip.TagPublicKeyAttributes: true, kmip.TagNewAttribute: true, kmip.TagCurrentAttribute: true,
}

// legacyForms pairs the KMIP 1.x Template-Attribute with the KMIP 2.x
// Attributes structure that replaced it. A 2.x request may still carry the
// 1.x form in place of the 2.x one: clients written for 1.x send it at 2.x
// (PyKMIP, the reference client, in Re-key at every version; Go clients in
// Create), and Create, Register, Re-key and Re-certify read it as at 1.x.
// A payload holding both is ambiguous and refused. Create Key Pair's
// Common/Private/Public forms are not read at 2.x, so they are refused.
var legacyForms = map[kmip.Tag]kmip.Tag{
	kmip.TagTemplateAttribute: kmip.TagAttributes,
}

// readsLegacyForm reports whether c, a child of payload, is a 1.x
// Template-Attribute form that payload holds instead of its 2.x
// replacement (legacyForms).
func readsLegacyForm(payload, c *kmip.Item) bool {
	replacement, ok := legacyForms[c.Tag]
	return ok && payload.Child(replacement) == nil
}

// CheckFields refuses a request payload of version v holding, at any depth,
// a field v does not define: a removed one (removedTag) or one newer than v
// (newerField). It returns nil when there is none, and for every 1.x
// request.
func CheckFields(v Version, payload *kmip.Item) error {
	if !v.v2() {
		return nil
	}
	if e := removedTag(payload, v); e != nil {
		return e
	}
	if e := newerField(payload, v); e != nil {
		return e
	}
	return nil // not a nil *Error in a non-nil error
}

// removedTag refuses a KMIP 2.x request payload holding, at any depth, a
// KMIP 1.x tag v no longer defines (kmip.RemovedIn: KMIP 2.0 made
// Template-Attribute, Template, Attribute Index, Operation Policy Name ...
// "(Reserved)"), except a 1.x Template-Attribute a payload holds instead
// of its 2.x replacement (readsLegacyForm). An attribute in an Attributes
// structure (attrHolders) is RemovedAttribute ("An attribute is invalid for
// this object for this operation", KMIP 2.1 §11.47); any other such field
// is RemovedField, "the invalid use of a known tag" (§11.47), as the
// reference server answers a 2.0 Create with a Template-Attribute. A
// Template object is left to the Object Type check (Invalid Object Type,
// KMIP 2.1 §6.1.43).
func removedTag(payload *kmip.Item, v Version) *Error {
	var walk func(it *kmip.Item) *Error
	walk = func(it *kmip.Item) *Error {
		for _, c := range it.Children() {
			if !kmip.RemovedIn(c.Tag, v.Major, v.Minor) {
				if err := walk(c); err != nil {
					return err
				}
				continue
			}
			switch {
			case attrHolders[it.Tag]:
				return fail(RemovedAttribute, "", "%s is not an attribute in KMIP %d.%d (removed in 2.0)", c.Tag.SpecName(), v.Major, v.Minor)
			case c.Tag == kmip.TagTemplate && it == payload:
				continue // a Template object: its Object Type is refused (Invalid Object Type)
			case it == payload && readsLegacyForm(payload, c):
				continue
			}
			return fail(RemovedField, "", "%s is not a KMIP %d.%d field (removed in 2.0)", c.Tag.SpecName(), v.Major, v.Minor)
		}
		return nil
	}
	return walk(payload)
}

// newerField refuses a KMIP 2.x request payload holding, at any depth, a
// tag newer than version v (a 2.1 tag, 0x420166 on, in a 2.0 request:
// UnknownTag, "A tag is not known by the server") or a value newer than v
// of an enumeration split by version (kmip.EnumDefinedIn), an Attribute
// Reference naming such a tag included (UnknownEnumeration, "An
// enumerated value is not known by the server"): a 2.0 server does not
// know them, so kmipd does not act on them at 2.0 either. Tags 2.x removed
// are removedTag's. KMIP 1.x requests are not checked: old 1.x clients
// send later 1.x fields, which kmipd reads.
func newerField(payload *kmip.Item, v Version) *Error {
	for _, c := range payload.Children() {
		if e := newerItem(c, v); e != nil {
			return e
		}
	}
	return nil
}

// newerItem is newerField for one item and its children.
func newerItem(it *kmip.Item, v Version) *Error {
	known := func(t kmip.Tag) bool {
		return kmip.TagDefinedIn(t, v.Major, v.Minor) || kmip.RemovedIn(t, v.Major, v.Minor)
	}
	switch {
	case !known(it.Tag):
		return fail(UnknownTag, "", "%s (tag %#06x) is not a KMIP %d.%d field", it.Tag.SpecName(), uint32(it.Tag), v.Major, v.Minor)
	case it.Type == kmip.TypeEnumeration:
		e, _ := it.AsEnum()
		if !kmip.EnumDefinedIn(it.Tag, e, v.Major, v.Minor) {
			return fail(UnknownEnumeration, "", "%s value %#x is not defined in KMIP %d.%d", it.Tag.SpecName(), e, v.Major, v.Minor)
		}
		if ref := kmip.Tag(e); it.Tag == kmip.TagAttributeReference && !known(ref) {
			return fail(UnknownEnumeration, "", "Attribute Reference %s is not a KMIP %d.%d attribute", ref.SpecName(), v.Major, v.Minor)
		}
	case it.Type == kmip.TypeStructure:
		for _, c := range it.Children() {
			if e := newerItem(c, v); e != nil {
				return e
			}
		}
	}
	return nil
}
