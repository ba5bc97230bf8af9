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
// says Sensitive or Not Extractable; Private and Public Protection Storage
// Unavailable (2.1) refine 2.0's Protection Storage Unavailable; a key value
// not present (1.2) is the item not found before.
var olderReason = map[kmip.ResultReason]kmip.ResultReason{
	kmip.ResultReasonKeyWrapTypeNotSupported:             kmip.ResultReasonFeatureNotSupported,
	kmip.ResultReasonSensitive:                           kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonNotExtractable:                      kmip.ResultReasonPermissionDenied,
	kmip.ResultReasonKeyValueNotPresent:                  kmip.ResultReasonItemNotFound,
	kmip.ResultReasonPrivateProtectionStorageUnavailable: kmip.ResultReasonProtectionStorageUnavailable,
	kmip.ResultReasonPublicProtectionStorageUnavailable:  kmip.ResultReasonProtectionStorageUnavailable,
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

func removedField(payload *kmip.Item, v version) *Error {
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
