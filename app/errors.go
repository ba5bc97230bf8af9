package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Error is a request failure with the Result Reason the client must see, or
// the kind of failure that names it in each protocol version (errKind), and
// a short message safe to send to it.
type Error struct {
	Reason kmip.ResultReason
	Kind   errKind // when set, it picks the reason (kindReasons)
	Msg    string
	// Payload, when set, is sent as the failed item's Response Payload
	// (Check's refused attributes, KMIP 1.4 §4.10).
	Payload *kmip.Item
	// Cause, when set, is the engine or store error the reason was chosen
	// for; the log shows it (Error includes it), the client never sees it.
	Cause error
}

func (e *Error) Error() string {
	what := e.Reason.String()
	if e.Kind != errKindNone {
		what = e.Kind.String()
	}
	if e.Cause != nil {
		return what + ": " + e.Msg + " (cause: " + e.Cause.Error() + ")"
	}
	return what + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Cause }

// because keeps err as e's Cause and returns e.
func (e *Error) because(err error) *Error {
	e.Cause = err
	return e
}

// transient reports an error that says nothing about the request: the
// backend is unreachable, closed or out of time. Mappers of engine refusals
// pass it through unchanged, so it is never reported as a client error.
func transient(err error) bool {
	return errors.Is(err, ports.ErrUnavailable) || errors.Is(err, ports.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// errorf builds an *Error.
func errorf(reason kmip.ResultReason, format string, args ...any) *Error {
	return &Error{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Common request errors.
func invalidField(format string, args ...any) *Error {
	return errorf(kmip.ResultReasonInvalidField, format, args...)
}

func missingData(format string, args ...any) *Error {
	return errorf(kmip.ResultReasonMissingData, format, args...)
}

// resultFor is the one place that maps an error to the Result Reason and
// message a client sees. Errors it does not know become General Failure with
// a generic message; internal is true for those, and the caller logs them.
func resultFor(err error, v version) (reason kmip.ResultReason, msg string, internal bool) {
	defer func() { reason = reasonIn(reason, v) }()
	err = fromCodec(err)
	var ae *Error
	switch {
	case errors.As(err, &ae) && ae.Kind != errKindNone:
		return ae.Kind.reason(v), ae.Msg, false
	case ae != nil:
		return ae.Reason, ae.Msg, false
	// Transient errors first: whatever else an error says, a backend out of
	// reach or out of time is never the client's fault.
	case errors.Is(err, context.DeadlineExceeded):
		return kmip.ResultReasonGeneralFailure, "request deadline exceeded", true
	case errors.Is(err, context.Canceled):
		return kmip.ResultReasonOperationCanceledByRequester, "request canceled", false
	case errors.Is(err, ports.ErrUnavailable):
		return kmip.ResultReasonGeneralFailure, "backend unavailable", true
	case errors.Is(err, ports.ErrStoreLost):
		// The loss is logged loudly by whoever watches the store's health;
		// one log line per refused request would only bury it.
		return kmip.ResultReasonGeneralFailure, "the key store is unavailable: nothing was written", false
	case errors.Is(err, ports.ErrNoSpace):
		return kmip.ResultReasonGeneralFailure, "the key store is out of space: nothing was written", true
	}
	return sentinelResult(err, v)
}

// sentinelResult maps the domain's and the ports' sentinel errors to the
// Result Reason and message a client sees; any other error is General
// Failure with a generic message and internal true.
func sentinelResult(err error, v version) (reason kmip.ResultReason, msg string, internal bool) {
	switch {
	case errors.Is(err, ports.ErrKeyMaterialUnavailable):
		// The object exists; its key is missing from the HSM. "The Key
		// Value is not present on the server" (KMIP 1.4 §11.5, KMIP 2.1 §11.46).
		return kmip.ResultReasonKeyValueNotPresent, "the key material of this object is unavailable in the HSM", false
	case errors.Is(err, ports.ErrNotFound):
		// KMIP 2.x names the case Object Not Found (KMIP 2.1 §6.1 error
		// tables; OASIS BL-M-4-21); KMIP 1.x has only Item Not Found.
		return errKindNotFound.reason(v), "object not found", false
	case errors.Is(err, domain.ErrPermissionDenied):
		return errKindDenied.reason(v), "permission denied", false
	case errors.Is(err, domain.ErrWrongState):
		// KMIP 1.x has no Wrong Key Lifecycle State reason; its test cases
		// answer Permission Denied.
		return errKindWrongState.reason(v), "object is in the wrong lifecycle state", false
	case errors.Is(err, domain.ErrUsageDate):
		// Outside the Process Start / Protect Stop window (KMIP 1.4 §3.25-3.26).
		return errKindWrongState.reason(v), "object may not be used for this purpose at this time", false
	case errors.Is(err, domain.ErrArchived):
		return kmip.ResultReasonObjectArchived, "object is archived", false
	case errors.Is(err, domain.ErrDateOrder):
		return kmip.ResultReasonInvalidField, "lifecycle dates out of order", false
	case errors.Is(err, domain.ErrNotApplicable):
		// KMIP 1.4 §11.20-21: Illegal Operation; KMIP 2.1 §6.1.1/§6.1.44
		// list Invalid Object Type instead.
		return errKindNotApplicable.reason(v), "operation does not apply to this object type", false
	case errors.Is(err, ports.ErrInvalidLength):
		return kmip.ResultReasonInvalidField, "invalid cryptographic length for the algorithm", false
	case errors.Is(err, ports.ErrUnsupported):
		return kmip.ResultReasonFeatureNotSupported, "not supported by the cryptographic engine", false
	case errors.Is(err, ports.ErrInvalidInput):
		return errKindBadCryptoInput.reason(v), "invalid input for the cryptographic operation", false
	case errors.Is(err, ports.ErrNotExtractable):
		// Not Extractable exists from KMIP 1.4 (§9.1.3.2.29); earlier
		// versions answer Permission Denied.
		return errKindNotExtractable.reason(v), "the key is not extractable", false
	case errors.Is(err, ports.ErrCryptoFailure):
		return kmip.ResultReasonCryptographicFailure, "cryptographic failure", false
	case errors.Is(err, ports.ErrExists):
		return kmip.ResultReasonObjectAlreadyExists, "object already exists", false
	}
	return kmip.ResultReasonGeneralFailure, "internal error", true
}
