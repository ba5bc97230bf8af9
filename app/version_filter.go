package app

import (
	"github.com/kmipd/kmipd/domain/kmip"
)

// stripNewer removes from a response every item whose tag the negotiated
// version v does not define (kmip.TagDefinedIn), at any depth: newer than
// v, or a 1.x tag KMIP 2.x removed (Template-Attribute, Operation Policy
// Name, Attribute Index ...). A client of that version cannot know such a
// field, and the spec of that version cannot require it, so no answer loses
// a field its version needs. It returns the tags it removed, for the log.
func stripNewer(it *kmip.Item, v version) []kmip.Tag {
	if it == nil || it.Type != kmip.TypeStructure {
		return nil
	}
	var dropped []kmip.Tag
	kids := it.Children()
	var kept []*kmip.Item // allocated at the first drop: most answers drop nothing
	for i, c := range kids {
		if !kmip.TagDefinedIn(c.Tag, v.major, v.minor) {
			if kept == nil {
				kept = append(make([]*kmip.Item, 0, len(kids)-1), kids[:i]...)
			}
			dropped = append(dropped, c.Tag)
			continue
		}
		dropped = append(dropped, stripNewer(c, v)...)
		if kept != nil {
			kept = append(kept, c)
		}
	}
	if kept != nil {
		it.Value = kept
	}
	return dropped
}

// enumIn reports whether protocol version v defines value e of tag t's
// enumeration (for the lists Query answers).
func enumIn(t kmip.Tag, e uint32, v version) bool {
	return kmip.EnumDefinedIn(t, e, v.major, v.minor)
}

// olderReason is, for a Result Reason a version may not define, the reason
// an older version gives for the same failure: the KMIP 1.4 §11 tables
// answer Feature Not Supported ("Not Supported") for a Key Wrap Type the
// server does not support, and kmipd answers Permission Denied where 1.4
// says Sensitive or Not Extractable; a key value not present (1.2) is the
// item not found before.
var olderReason = map[kmip.ResultReason]kmip.ResultReason{
	kmip.ResultReasonKeyWrapTypeNotSupported:             kmip.ResultReasonFeatureNotSupported,
	kmip.ResultReasonSensitive:                           kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonNotExtractable:                      kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonKeyValueNotPresent:                  kmip.ResultReasonItemNotFound,
	kmip.ResultReasonObjectNotFound:                      kmip.ResultReasonItemNotFound,
	kmip.ResultReasonWrongKeyLifecycleState:              kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonInvalidAttribute:                    kmip.ResultReasonInvalidField,
	kmip.ResultReasonInvalidAttributeValue:               kmip.ResultReasonInvalidField,
	kmip.ResultReasonAttributeReadOnly:                   kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonReadOnlyAttribute:                   kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonBadCryptographicParameters:          kmip.ResultReasonInvalidField,
	kmip.ResultReasonUnsupportedCryptographicParameters:  kmip.ResultReasonInvalidField,
	kmip.ResultReasonIncompatibleCryptographicUsageMask:  kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonInvalidObjectType:                   kmip.ResultReasonInvalidField,
	kmip.ResultReasonObjectDestroyed:                     kmip.ResultReasonItemNotFound,
	kmip.ResultReasonWrappingObjectNotFound:              kmip.ResultReasonItemNotFound,
	kmip.ResultReasonServerLimitExceeded:                 kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonInvalidCorrelationValue:             kmip.ResultReasonItemNotFound,
	kmip.ResultReasonInvalidAsynchronousCorrelationValue: kmip.ResultReasonItemNotFound,
}

// reasonIn returns r when protocol version v defines it, else the older
// reason for the same failure (olderReason) that v defines, else General
// Failure: no answer carries a Result Reason its version does not define.
func reasonIn(r kmip.ResultReason, v version) kmip.ResultReason {
	for range len(olderReason) + 1 {
		if enumIn(kmip.TagResultReason, uint32(r), v) {
			return r
		}
		older, ok := olderReason[r]
		if !ok {
			break
		}
		r = older
	}
	return kmip.ResultReasonGeneralFailure
}

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

// removedField refuses a request payload of version v holding, at any depth,
// a field v does not define: a removed one (removedTag) or one newer than v
// (newerField). It returns nil when there is none.
func removedField(payload *kmip.Item, v version) *Error {
	if e := removedTag(payload, v); e != nil {
		return e
	}
	return newerField(payload, v)
}

// removedTag refuses a request payload of version v holding, at any
// depth, a KMIP 1.x tag v no longer defines (kmip.RemovedIn: KMIP 2.0 made
// Template-Attribute, Template, Attribute Index, Operation Policy Name ...
// "(Reserved)"), except a 1.x Template-Attribute a payload holds instead
// of its 2.x replacement (readsLegacyForm). An attribute in an Attributes
// structure (attrHolders) is an Invalid
// Attribute ("An attribute is invalid for this object for this operation",
// KMIP 2.1 §11.47); any other such field is an Invalid Message, "the invalid
// use of a known tag" (§11.47), as the reference server answers a 2.0 Create
// with a Template-Attribute. A Template object is left to the Object Type
// check (Invalid Object Type, KMIP 2.1 §6.1.43). It returns nil when there
// is none.
func removedTag(payload *kmip.Item, v version) *Error {
	if v.major < 2 {
		return nil
	}
	var walk func(it *kmip.Item) *Error
	walk = func(it *kmip.Item) *Error {
		for _, c := range it.Children() {
			if !kmip.RemovedIn(c.Tag, v.major, v.minor) {
				if err := walk(c); err != nil {
					return err
				}
				continue
			}
			switch {
			case attrHolders[it.Tag]:
				return errorf(kmip.ResultReasonInvalidAttribute, "%s is not an attribute in KMIP %s (removed in 2.0)", c.Tag.SpecName(), v)
			case c.Tag == kmip.TagTemplate && it == payload:
				continue // a Template object: its Object Type is refused (Invalid Object Type)
			case it == payload && readsLegacyForm(payload, c):
				continue
			}
			return errorf(kmip.ResultReasonInvalidMessage, "%s is not a KMIP %s field (removed in 2.0)", c.Tag.SpecName(), v)
		}
		return nil
	}
	return walk(payload)
}

// newerField refuses a KMIP 2.x request payload holding, at any depth, a
// tag newer than version v (a 2.1 tag, 0x420166 on, in a 2.0 request:
// Unknown Tag, "A tag is not known by the server") or a value newer than v
// of an enumeration split by version (kmip.EnumDefinedIn), an Attribute
// Reference naming such a tag included (Unknown Enumeration, "An
// enumerated value is not known by the server"): a 2.0 server does not
// know them, so kmipd does not act on them at 2.0 either. Tags 2.x removed
// are removedTag's. KMIP 1.x requests are not checked: old 1.x clients
// send later 1.x fields, which kmipd reads.
func newerField(payload *kmip.Item, v version) *Error {
	if v.major < 2 {
		return nil
	}
	for _, c := range payload.Children() {
		if e := newerItem(c, v); e != nil {
			return e
		}
	}
	return nil
}

// newerItem is newerField for one item and its children.
func newerItem(it *kmip.Item, v version) *Error {
	switch {
	case !kmip.TagDefinedIn(it.Tag, v.major, v.minor) && !kmip.RemovedIn(it.Tag, v.major, v.minor):
		return kindFailure(errKindUnknownTag, v, "%s (tag %#06x) is not a KMIP %s field", it.Tag.SpecName(), uint32(it.Tag), v)
	case it.Type == kmip.TypeEnumeration:
		e, _ := it.AsEnum()
		if !enumIn(it.Tag, e, v) {
			return kindFailure(errKindUnknownEnum, v, "%s value %#x is not defined in KMIP %s", it.Tag.SpecName(), e, v)
		}
		if ref := kmip.Tag(e); it.Tag == kmip.TagAttributeReference && !kmip.TagDefinedIn(ref, v.major, v.minor) && !kmip.RemovedIn(ref, v.major, v.minor) {
			return kindFailure(errKindUnknownEnum, v, "Attribute Reference %s is not a KMIP %s attribute", ref.SpecName(), v)
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

// kindFailure is an *Error of kind k carrying its Result Reason in version
// v, for refusals made before a handler runs.
func kindFailure(k errKind, v version, format string, args ...any) *Error {
	e := kindErr(k, format, args...)
	e.Reason = k.reason(v)
	return e
}
