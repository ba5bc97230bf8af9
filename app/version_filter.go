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
