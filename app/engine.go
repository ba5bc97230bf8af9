package app

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// version is a KMIP protocol version.
type version struct{ major, minor int32 }

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// atLeast reports whether v is maj.min or later.
func (v version) atLeast(maj, min int32) bool {
	return v.major > maj || (v.major == maj && v.minor >= min)
}

// supportedVersions lists the protocol versions kmipd speaks, preferred first
// (the order DiscoverVersions answers in).
var supportedVersions = []version{{2, 1}, {2, 0}, {1, 4}, {1, 3}, {1, 2}, {1, 1}, {1, 0}}

// negotiate returns the version to answer a request of version v in: v itself
// when supported, else the newest supported version of the same major
// version not above v; ok is false when there is none.
func negotiate(v version) (version, bool) {
	for _, s := range supportedVersions {
		if s.major == v.major && s.minor <= v.minor {
			return s, true
		}
	}
	if v.major > 2 {
		return supportedVersions[0], true
	}
	return version{}, false
}

// call is one batch item being processed.
type call struct {
	v           version
	who         domain.Principal
	op          kmip.Operation
	payload     *kmip.Item
	placeholder *string // the batch's ID Placeholder (KMIP 1.4 §6.1 "ID Placeholder")
	// undo collects how to reverse this item's writes when the batch asked
	// for Batch Error Continuation Option Undo; nil otherwise.
	undo *[]undoStep
}

// undoStep reverses one committed write.
type undoStep func(ctx context.Context) error

// undoCreate records that a batch item created id.
func (s *Service) undoCreate(c *call, id string) {
	if c.undo == nil {
		return
	}
	*c.undo = append(*c.undo, func(ctx context.Context) error { return s.cfg.Store.Delete(ctx, id) })
}

// undoUpdate records the object as it was before a batch item changed it.
func (s *Service) undoUpdate(c *call, before *domain.Object) {
	if c.undo == nil || before == nil {
		return
	}
	*c.undo = append(*c.undo, func(ctx context.Context) error {
		return s.cfg.Store.Update(ctx, before.ID, func(obj *domain.Object) error {
			rev := obj.Revision
			*obj = *before.Clone()
			obj.Revision = rev
			return nil
		})
	})
}

// uid returns the request's Unique Identifier, or the batch's ID Placeholder
// when the request omits it.
func (c *call) uid() (string, error) {
	if it := c.payload.Child(kmip.TagUniqueIdentifier); it != nil {
		s, ok := it.AsText()
		if !ok {
			return "", invalidField("Unique Identifier must be a Text String")
		}
		return s, nil
	}
	if *c.placeholder != "" {
		return *c.placeholder, nil
	}
	return "", missingData("no Unique Identifier and no ID Placeholder")
}

// HandleUndecodable answers a message that could not be decoded.
func (s *Service) HandleUndecodable(ctx context.Context, err error) *kmip.Item {
	s.cfg.Log.Debug().Err(err).Msg("undecodable request")
	return s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "message could not be decoded")
}

// errorMessage is a whole-message failure: one failed batch item.
func (s *Service) errorMessage(v version, reason kmip.ResultReason, msg string) *kmip.Item {
	return kmip.Struct(kmip.TagResponseMessage,
		s.responseHeader(v, 1, nil),
		kmip.Struct(kmip.TagBatchItem,
			kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
			kmip.Enum(kmip.TagResultReason, uint32(reason)),
			kmip.Text(kmip.TagResultMessage, msg),
		),
	)
}

func (s *Service) responseHeader(v version, count int, reqHeader *kmip.Item) *kmip.Item {
	h := kmip.Struct(kmip.TagResponseHeader,
		kmip.Struct(kmip.TagProtocolVersion,
			kmip.Int(kmip.TagProtocolVersionMajor, v.major),
			kmip.Int(kmip.TagProtocolVersionMinor, v.minor)),
		kmip.DateTime(kmip.TagTimeStamp, s.cfg.Clock.Now()),
	)
	if reqHeader != nil && v.atLeast(1, 4) {
		if cc := reqHeader.Child(kmip.TagClientCorrelationValue); cc != nil {
			h.Add(cc.Clone())
		}
	}
	h.Add(kmip.Int(kmip.TagBatchCount, int32(count)))
	return h
}

// HandleMessage answers one request message (KMIP 1.4 §7, KMIP 2.1 §8):
// it negotiates the protocol version, runs the batch items in order with
// the requested Batch Error Continuation Option and ID Placeholder, and
// enforces Maximum Response Size. It never panics on any input tree.
func (s *Service) HandleMessage(ctx context.Context, req *kmip.Item) (resp *kmip.Item) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("panic while handling a request")
			resp = s.errorMessage(version{1, 0}, kmip.ResultReasonGeneralFailure, "internal error")
		}
	}()
	if req == nil || req.Tag != kmip.TagRequestMessage || req.Type != kmip.TypeStructure {
		return s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "not a Request Message")
	}
	hdr := req.Child(kmip.TagRequestHeader)
	pv := hdr.Child(kmip.TagProtocolVersion)
	maj, ok1 := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
	min, ok2 := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
	if hdr == nil || !ok1 || !ok2 {
		return s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "missing or invalid Request Header / Protocol Version")
	}
	v, ok := negotiate(version{maj, min})
	if !ok {
		return s.errorMessage(supportedVersions[len(supportedVersions)-1], kmip.ResultReasonInvalidMessage,
			fmt.Sprintf("protocol version %d.%d is not supported", maj, min))
	}
	items := req.ChildrenOf(kmip.TagBatchItem)
	if n, ok := hdr.Child(kmip.TagBatchCount).AsInt(); !ok || int(n) != len(items) || n < 1 {
		return s.errorMessage(v, kmip.ResultReasonInvalidMessage, "Batch Count does not match the batch items")
	}
	if len(items) > s.cfg.MaxBatchItems {
		return s.errorMessage(v, kmip.ResultReasonInvalidMessage, fmt.Sprintf("more than %d batch items", s.cfg.MaxBatchItems))
	}
	if hdr.Child(kmip.TagAsynchronousIndicator) != nil {
		if b, _ := hdr.Child(kmip.TagAsynchronousIndicator).AsBool(); b {
			// kmipd always answers synchronously, which the client must accept (KMIP 1.4 §6.7).
			s.cfg.Log.Debug().Msg("asynchronous indicator set; answering synchronously")
		}
	}
	onError := kmip.BatchErrorContinuationOptionStop
	if it := hdr.Child(kmip.TagBatchErrorContinuationOption); it != nil {
		e, _ := it.AsEnum()
		onError = kmip.BatchErrorContinuationOption(e)
		switch onError {
		case kmip.BatchErrorContinuationOptionContinue, kmip.BatchErrorContinuationOptionStop,
			kmip.BatchErrorContinuationOptionUndo:
		default:
			return s.errorMessage(v, kmip.ResultReasonInvalidMessage, "invalid Batch Error Continuation Option")
		}
	}
	who, _ := ports.PeerFrom(ctx)
	placeholder := ""
	var undo *[]undoStep
	if onError == kmip.BatchErrorContinuationOptionUndo {
		undo = new([]undoStep)
	}
	var out []*kmip.Item
	for _, bi := range items {
		item, failed := s.runItem(ctx, v, who, bi, &placeholder, undo)
		out = append(out, item)
		if failed && onError != kmip.BatchErrorContinuationOptionContinue {
			if undo != nil {
				s.undoBatch(ctx, *undo, out[:len(out)-1])
			}
			break
		}
	}
	resp = kmip.Struct(kmip.TagResponseMessage, s.responseHeader(v, len(out), hdr))
	resp.Add(out...)
	if it := hdr.Child(kmip.TagMaximumResponseSize); it != nil {
		if max, ok := it.AsInt(); ok && max > 0 && kmip.EncodedLen(resp) > int(max) {
			for _, bi := range out {
				tooLarge(bi)
			}
		}
	}
	return resp
}

// undoBatch reverses the writes of a batch's earlier items, newest first, and
// marks those items Operation Undone (KMIP 1.4 §6.14). A step that cannot be
// reversed (another client changed the object meanwhile) is logged.
func (s *Service) undoBatch(ctx context.Context, steps []undoStep, done []*kmip.Item) {
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i](ctx); err != nil {
			s.cfg.Log.Error().Err(err).Msg("could not undo a batch item")
		}
	}
	for _, bi := range done {
		var kept []*kmip.Item
		for _, c := range bi.Children() {
			switch c.Tag {
			case kmip.TagOperation, kmip.TagUniqueBatchItemID:
				kept = append(kept, c)
			}
		}
		bi.Value = append(kept, kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationUndone)))
	}
}

// tooLarge replaces a batch item's result with Response Too Large.
func tooLarge(bi *kmip.Item) {
	var kept []*kmip.Item
	for _, c := range bi.Children() {
		if c.Tag == kmip.TagOperation || c.Tag == kmip.TagUniqueBatchItemID {
			kept = append(kept, c)
		}
	}
	kept = append(kept,
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonResponseTooLarge)),
		kmip.Text(kmip.TagResultMessage, "response exceeds Maximum Response Size"))
	bi.Value = kept
}

// runItem processes one batch item and returns its response batch item.
func (s *Service) runItem(ctx context.Context, v version, who domain.Principal, bi *kmip.Item, placeholder *string, undo *[]undoStep) (resp *kmip.Item, failed bool) {
	resp = kmip.Struct(kmip.TagBatchItem)
	opItem := bi.Child(kmip.TagOperation)
	if opItem != nil {
		resp.Add(opItem.Clone())
	}
	if id := bi.Child(kmip.TagUniqueBatchItemID); id != nil {
		resp.Add(id.Clone())
	}
	fail := func(reason kmip.ResultReason, msg string) (*kmip.Item, bool) {
		resp.Add(
			kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
			kmip.Enum(kmip.TagResultReason, uint32(reason)),
			kmip.Text(kmip.TagResultMessage, msg))
		return resp, true
	}
	opv, ok := opItem.AsEnum()
	if !ok {
		return fail(kmip.ResultReasonInvalidMessage, "batch item has no Operation")
	}
	op := kmip.Operation(opv)
	h, ok := s.routes[op]
	if !ok {
		return fail(kmip.ResultReasonOperationNotSupported, fmt.Sprintf("operation %s is not supported", op))
	}
	for _, ext := range bi.ChildrenOf(kmip.TagMessageExtension) {
		if crit, _ := ext.Child(kmip.TagCriticalityIndicator).AsBool(); crit {
			return fail(kmip.ResultReasonFeatureNotSupported, "critical message extension not supported")
		}
	}
	payload := bi.Child(kmip.TagRequestPayload)
	if payload == nil || payload.Type != kmip.TypeStructure {
		payload = kmip.Struct(kmip.TagRequestPayload)
	}
	c := &call{v: v, who: who, op: op, payload: payload, placeholder: placeholder, undo: undo}
	out, err := s.safeCall(ctx, h, c)
	if err != nil {
		reason, msg, internal := resultFor(err, v)
		ev := s.cfg.Log.Debug()
		if internal {
			ev = s.cfg.Log.Error()
		}
		ev.Err(err).Str("op", op.String()).Str("client", who.Name).Str("reason", reason.String()).Msg("operation failed")
		return fail(reason, msg)
	}
	if out == nil {
		out = kmip.Struct(kmip.TagResponsePayload)
	}
	out.Tag = kmip.TagResponsePayload
	if id, ok := out.Child(kmip.TagUniqueIdentifier).AsText(); ok {
		*placeholder = id
	}
	resp.Add(kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusSuccess)), out)
	s.cfg.Log.Debug().Str("op", op.String()).Str("client", who.Name).Msg("operation succeeded")
	return resp, false
}

// safeCall runs a handler, turning a panic into an internal error.
func (s *Service) safeCall(ctx context.Context, h handler, c *call) (out *kmip.Item, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Str("op", c.op.String()).Msg("panic in operation handler")
			out, err = nil, fmt.Errorf("panic in %s handler", c.op)
		}
	}()
	return h(ctx, c)
}
