package app

import (
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// errKind says what went wrong in the vocabulary of the domain and of the
// use cases; kindReasons gives its Result Reason in each protocol version,
// so a handler names the failure and never looks at the version to pick a
// reason.
type errKind uint8

const (
	errKindNone errKind = iota // the Error carries its Reason itself

	// Objects and their lifecycle.
	errKindNotFound         // no object has the identifier
	errKindDenied           // the client may not do this
	errKindWrongState       // the object's lifecycle state (or usage dates) forbid it
	errKindNotApplicable    // the operation does not apply to the object's type
	errKindWrongObjectType  // the object is of a type this operation refuses
	errKindBadObjectType    // the request names an object type the version does not define
	errKindDestroyed        // the object's value has been destroyed
	errKindAlreadyDestroyed // Destroy of a destroyed object (KMIP 2.1 §6.1.15.1)
	errKindRevokeRefused    // the object cannot be revoked for that reason in its state
	errKindNotCheckable     // Check of an object without a usage lifecycle

	// Release of key material (KMIP 1.4 §3.40-3.41).
	errKindNotExtractable
	errKindSensitive

	// Attributes.
	errKindUnknownAttr          // a name the version does not define
	errKindBadAttrValue         // a value the server cannot accept
	errKindReadOnly             // the client may not change it
	errKindServerSetAttr        // a Create or Register supplies one only the server sets
	errKindValueExists          // Add Attribute of a single-valued attribute that has a value
	errKindRepeatedValue        // a single-valued attribute given twice in a request
	errKindAttrNotForTypeChange // Add or Modify Attribute of one the object's type cannot carry
	errKindAttrNotForType       // a Create or Register with one the object's type cannot carry
	errKindNameTaken            // a Name value another object or instance has
	errKindAttrMissing          // the object has no such attribute
	errKindAttrMissingModify    // Modify Attribute of an attribute not set ("add it first")
	errKindInstanceMissing      // the object has the attribute but not that instance
	errKindAttrChangeState      // Add/Modify/Delete/Set/Adjust Attribute the object's state forbids

	// Keys serving cryptographic operations (checkUse, keyHandle).
	errKindUsageMask      // the Cryptographic Usage Mask lacks the bit
	errKindNoKeyValue     // the key material is absent or unusable by the server
	errKindParamsConflict // the request's Cryptographic Parameters contradict the key's
	errKindBadCryptoInput // data or parameters the engine refuses
	errKindUnsupportedParams
	// Derive Key's base object (KMIP 1.4 §11.7: "not able to be used to
	// derive a new key" is Invalid Field in 1.x).
	errKindBaseWrongType
	errKindBaseWrongState
	errKindBaseUsageMask
	errKindBaseNoKeyValue

	// Wrapping keys (Key Wrapping Specification).
	errKindWrappingNotFound
	errKindWrappingArchived
	errKindWrappingDestroyed

	// Certify and Re-certify.
	errKindBadCSR

	// Validate: a Unique Identifier naming an object that is not a
	// certificate, so the request specifies no certificate list (KMIP 1.4
	// §11.25: Invalid Message; 2.1 §6.1.57.1 lists Invalid Object Type).
	errKindNotACertificate

	// Check (KMIP 1.4 §4.10): the first refused item names the reason; also
	// a Get Usage Allocation the Usage Limits Count cannot grant.
	errKindUsageLimit

	// Get Usage Allocation (KMIP 1.4 §11.19; 2.0 §6.1.22.1, 2.1 §6.1.23.1).
	errKindNoUsageLimits // the object has no Usage Limits
	errKindCannotProtect // not usable for applying protection now (state, dates)

	// Streams and asynchronous operations.
	errKindUnknownCorrelation      // no outstanding streamed operation
	errKindUnknownAsyncCorrelation // no outstanding asynchronous operation

	// Limits (app/limits.go).
	errKindQuota            // a server quota would be exceeded
	errKindTooLarge         // a value longer than kmipd accepts
	errKindTooManyInstances // an attribute would have too many instances

	// Request fields the negotiated version does not define (KMIP 2.1
	// fields in a 2.0 request; app/version_filter.go).
	errKindUnknownTag  // a tag the version does not define
	errKindUnknownEnum // an enumeration value the version does not define

	errKindCount // the number of kinds; not a kind
)

// kindReason is a kind's name (for the log) and its Result Reason in KMIP
// 1.0-1.3, in KMIP 1.4 and in KMIP 2.x; kmip20Reasons overrides v2x where
// the KMIP 2.0 error tables differ from 2.1's. reason answers each version
// with a reason it defines.
type kindReason struct {
	name            string
	pre14, v14, v2x kmip.ResultReason
}

// kindReasons is the one table of Result Reasons by protocol version. The
// 1.x reasons follow KMIP 1.4 §11 (error handling per operation) and the
// reference server; the 2.x ones, the KMIP 2.1 §6.1 error tables and §11.
var kindReasons = func() map[errKind]kindReason {
	const (
		denied    = kmip.ResultReasonPermissionDenied
		field     = kmip.ResultReasonInvalidField
		illegal   = kmip.ResultReasonIllegalOperation
		notFound  = kmip.ResultReasonItemNotFound
		badType   = kmip.ResultReasonInvalidObjectType
		badAttr   = kmip.ResultReasonInvalidAttribute
		readOnly  = kmip.ResultReasonAttributeReadOnly
		single    = kmip.ResultReasonAttributeSingleValued
		noValue   = kmip.ResultReasonKeyValueNotPresent
		badParams = kmip.ResultReasonBadCryptographicParameters
		state     = kmip.ResultReasonWrongKeyLifecycleState
		limit     = kmip.ResultReasonServerLimitExceeded
		destroyed = kmip.ResultReasonObjectDestroyed
	)
	return map[errKind]kindReason{
		errKindNotFound:         {"not found", notFound, notFound, kmip.ResultReasonObjectNotFound},
		errKindDenied:           {"denied", denied, denied, denied},
		errKindWrongState:       {"wrong state", denied, denied, state},
		errKindNotApplicable:    {"not applicable", illegal, illegal, badType},
		errKindWrongObjectType:  {"wrong object type", denied, denied, badType},
		errKindBadObjectType:    {"bad object type", field, field, badType},
		errKindDestroyed:        {"destroyed", notFound, notFound, destroyed},
		errKindAlreadyDestroyed: {"already destroyed", denied, denied, destroyed},
		errKindRevokeRefused:    {"revoke refused", illegal, illegal, state},
		errKindNotCheckable:     {"not checkable", illegal, illegal, kmip.ResultReasonIllegalObjectType},

		errKindNotExtractable: {"not extractable", denied, kmip.ResultReasonNotExtractable, kmip.ResultReasonNotExtractable},
		errKindSensitive:      {"sensitive", denied, kmip.ResultReasonSensitive, kmip.ResultReasonSensitive},

		errKindUnknownAttr:          {"unknown attribute", field, field, badAttr},
		errKindBadAttrValue:         {"bad attribute value", field, field, kmip.ResultReasonInvalidAttributeValue},
		errKindReadOnly:             {"read-only attribute", denied, denied, readOnly},
		errKindServerSetAttr:        {"server-set attribute", field, field, readOnly},
		errKindValueExists:          {"single value exists", illegal, illegal, single},
		errKindRepeatedValue:        {"single value repeated", field, field, single},
		errKindAttrNotForTypeChange: {"attribute not for type", denied, denied, badAttr},
		errKindAttrNotForType:       {"attribute not for type", field, field, badAttr},
		errKindNameTaken:            {"name taken", illegal, illegal, kmip.ResultReasonNonUniqueNameAttribute},
		errKindAttrMissing:          {"attribute missing", notFound, notFound, kmip.ResultReasonAttributeNotFound},
		errKindAttrMissingModify:    {"attribute missing", field, field, kmip.ResultReasonAttributeNotFound},
		errKindInstanceMissing:      {"instance missing", notFound, notFound, kmip.ResultReasonAttributeInstanceNotFound},
		// A lifecycle date or Pre-Active-only attribute the state no longer
		// lets change (domain.CheckDateChange): 2.1 §6.1.2-6.1.3, 6.1.13,
		// 6.1.34, 6.1.51 list Wrong Key Lifecycle State; 2.0 (kmip20Reasons)
		// does not.
		errKindAttrChangeState: {"state forbids attribute change", denied, denied, state},

		errKindUsageMask:         {"usage mask", denied, denied, kmip.ResultReasonIncompatibleCryptographicUsageMask},
		errKindNoKeyValue:        {"no key value", noValue, noValue, noValue},
		errKindParamsConflict:    {"parameters conflict", denied, denied, badParams},
		errKindBadCryptoInput:    {"bad cryptographic input", field, field, badParams},
		errKindUnsupportedParams: {"unsupported parameters", field, field, kmip.ResultReasonUnsupportedCryptographicParameters},
		errKindBaseWrongType:     {"base wrong type", field, field, badType},
		errKindBaseWrongState:    {"base wrong state", field, field, state},
		errKindBaseUsageMask:     {"base usage mask", field, field, kmip.ResultReasonIncompatibleCryptographicUsageMask},
		errKindBaseNoKeyValue:    {"base no key value", field, field, noValue},

		errKindWrappingNotFound:  {"wrapping key not found", notFound, notFound, kmip.ResultReasonWrappingObjectNotFound},
		errKindWrappingArchived:  {"wrapping key archived", kmip.ResultReasonObjectArchived, kmip.ResultReasonObjectArchived, kmip.ResultReasonWrappingObjectArchived},
		errKindWrappingDestroyed: {"wrapping key destroyed", notFound, notFound, kmip.ResultReasonWrappingObjectDestroyed},

		errKindBadCSR: {"bad certificate request", field, field, kmip.ResultReasonInvalidCSR},

		errKindNotACertificate: {"not a certificate", kmip.ResultReasonInvalidMessage, kmip.ResultReasonInvalidMessage, badType},

		errKindUsageLimit: {"usage limit", denied, denied, kmip.ResultReasonUsageLimitExceeded},
		// 1.4 §11.19 "no Usage Limits attribute, or ... not able to be used
		// for applying cryptographic protection": Illegal Operation; the
		// 2.0 and 2.1 tables list Attribute Not Found and, of the general
		// reasons, Permission Denied (not Wrong Key Lifecycle State).
		errKindNoUsageLimits: {"no usage limits", illegal, illegal, kmip.ResultReasonAttributeNotFound},
		errKindCannotProtect: {"cannot protect now", illegal, illegal, denied},

		errKindUnknownCorrelation:      {"unknown correlation", notFound, notFound, kmip.ResultReasonInvalidCorrelationValue},
		errKindUnknownAsyncCorrelation: {"unknown asynchronous correlation", notFound, notFound, kmip.ResultReasonInvalidAsynchronousCorrelationValue},

		errKindQuota:            {"quota", denied, denied, limit},
		errKindTooLarge:         {"too large", field, field, limit},
		errKindTooManyInstances: {"too many instances", kmip.ResultReasonIndexOutOfBounds, kmip.ResultReasonIndexOutOfBounds, limit},

		// "A tag is not known by the server", "An enumerated value is not
		// known by the server" (KMIP 2.0 and 2.1 Result Reason
		// descriptions); 1.x has neither reason and answers an unknown field
		// of the request's own version Invalid Field (1.4 §11.1).
		errKindUnknownTag:  {"unknown tag", field, field, kmip.ResultReasonUnknownTag},
		errKindUnknownEnum: {"unknown enumeration", field, field, kmip.ResultReasonUnknownEnumeration},
	}
}()

// kmip20Reasons is the KMIP 2.0 column where it differs from v2x (the 2.1
// reason): the 2.0 error tables of Add, Adjust, Delete, Modify and Set
// Attribute (2.0 §6.1.2-6.1.3, 6.1.13, 6.1.33, 6.1.47) do not list Wrong
// Key Lifecycle State, which 2.1 added; of their general reasons,
// Permission Denied ("Client is not allowed to perform the specified
// operation") is the one for a change the object's state forbids.
var kmip20Reasons = map[errKind]kmip.ResultReason{
	errKindAttrChangeState: kmip.ResultReasonPermissionDenied,
}

// reason is k's Result Reason in protocol version v, one v defines
// (reasonIn: Key Value Not Present, say, is KMIP 1.2).
func (k errKind) reason(v version) kmip.ResultReason {
	r := kindReasons[k]
	switch {
	case v == version{2, 0} && kmip20Reasons[k] != 0:
		return reasonIn(kmip20Reasons[k], v)
	case v.major >= 2:
		return reasonIn(r.v2x, v)
	case v.atLeast(1, 4):
		return reasonIn(r.v14, v)
	}
	return reasonIn(r.pre14, v)
}

func (k errKind) String() string { return kindReasons[k].name }

// kindErr builds an *Error of kind k; resultFor picks its Result Reason.
func kindErr(k errKind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// attrChangeErr gives a refusal by lifecycle state of an attribute change
// (Add, Modify, Delete, Set or Adjust Attribute: domain.CheckDateChange, a
// Pre-Active-only attribute) its own kind, whose Result Reason differs
// between KMIP 2.0 and 2.1 (kmip20Reasons); any other error is returned as is.
func attrChangeErr(err error) error {
	var ae *Error
	if !errors.Is(err, domain.ErrWrongState) || errors.As(err, &ae) {
		return err
	}
	if err == domain.ErrWrongState {
		return kindErr(errKindAttrChangeState, "the object's lifecycle state does not allow this attribute change")
	}
	return kindErr(errKindAttrChangeState, "%v", err)
}
