package app

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/kmipd/kmipd/app/codec"
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
// version not above v; ok is false when there is none, which includes every
// other major version (KMIP 1.4 §11.1: a major version mismatch is an
// Invalid Message).
func negotiate(v version) (version, bool) {
	for _, s := range supportedVersions {
		if s.major == v.major && s.minor <= v.minor {
			return s, true
		}
	}
	return version{}, false
}

// call is one batch item being processed.
type call struct {
	v       version
	who     domain.Principal
	op      kmip.Operation
	payload *kmip.Item
	batch   *batchIDs // the batch's ID Placeholder and the identifiers its items returned
	// undo collects how to reverse this item's writes when the batch asked
	// for Batch Error Continuation Option Undo; nil otherwise.
	undo *undoLog
	// names holds the Name locks the item took (lockNames) until it ends;
	// copies of the call (sub-calls of one item) share it.
	names *nameHold
	// streamKey is the key a continued stream's Correlation Value is bound
	// to: the Unique Identifier of a part that names none (bindStreamKey).
	streamKey string
}

// undoLog is what a batch with Batch Error Continuation Option Undo wrote:
// how to reverse each write, and the revisions its writes produced, so that
// Undo reverts only objects no one else has written since (issue 12.1).
type undoLog struct {
	item  int // the index of the batch item running now
	steps []undoStep
	revs  map[string]*batchRevs
	// exact is set while an item is reversed because its audit record could
	// not be written (app/audit.go): objects are restored as they were,
	// Fresh and spent usage included, since nothing was served.
	exact bool
}

// batchRevs follows one object through a batch's writes: last is the
// revision the batch's latest write of it produced, and every write of the
// batch from revision since on followed the previous one with no other
// writer between.
type batchRevs struct{ since, last uint64 }

// undoStep reverses one write of batch item item to object id, which
// started from revision base (a Create: the revision it created); run gets
// the revision the object must still be at and refuses, with
// ports.ErrConflict, if it is not.
type undoStep struct {
	item int
	id   string
	base uint64
	run  func(ctx context.Context, rev uint64) error
	// exactOnly steps run only when the undoLog is exact; batch Undo skips them.
	exactOnly bool
}

// wrote records a write of the batch that took object id from revision
// from to from+1 (ports.Store.Update's contract).
func (l *undoLog) wrote(id string, from uint64) {
	if l.revs == nil {
		l.revs = map[string]*batchRevs{}
	}
	if r := l.revs[id]; r != nil && r.last == from {
		r.last = from + 1
		return
	}
	l.revs[id] = &batchRevs{since: from, last: from + 1}
}

// undoCreate records that a batch item created obj; Undo deletes it only
// while no one else has written it since.
func (s *Service) undoCreate(c *call, obj *domain.Object) {
	if c.undo == nil {
		return
	}
	l := c.undo
	if l.revs == nil {
		l.revs = map[string]*batchRevs{}
	}
	l.revs[obj.ID] = &batchRevs{since: obj.Revision, last: obj.Revision}
	kept := &domain.Object{ID: obj.ID, Type: obj.Type, KeyRef: obj.KeyRef}
	l.steps = append(l.steps, undoStep{item: l.item, id: obj.ID, base: obj.Revision,
		run: func(ctx context.Context, rev uint64) error {
			if err := s.cfg.Store.DeleteIf(ctx, kept.ID, rev); err != nil {
				return err
			}
			delete(l.revs, kept.ID)
			s.forgetKept(ctx, kept)
			return nil
		}})
}

// undoUpdate records the object as it was before a batch item changed it;
// Undo restores it (domain.Reverted) only while no one else has written it
// since.
func (s *Service) undoUpdate(c *call, before *domain.Object) {
	s.addRestore(c, before, false)
}

// addRestore logs the write of a batch item that changed before, and the
// step that restores it.
func (s *Service) addRestore(c *call, before *domain.Object, exactOnly bool) {
	if c.undo == nil || before == nil {
		return
	}
	l := c.undo
	l.wrote(before.ID, before.Revision)
	l.steps = append(l.steps, undoStep{item: l.item, id: before.ID, base: before.Revision, exactOnly: exactOnly,
		run: func(ctx context.Context, rev uint64) error {
			err := s.cfg.Store.Update(ctx, before.ID, func(obj *domain.Object) error {
				if obj.Revision != rev {
					return fmt.Errorf("object %s is at revision %d, not %d: %w", obj.ID, obj.Revision, rev, ports.ErrConflict)
				}
				if l.exact {
					restored := before.Clone()
					restored.ID, restored.Revision = obj.ID, obj.Revision
					*obj = *restored
					return nil
				}
				*obj = *domain.Reverted(before, obj)
				return nil
			})
			if err == nil {
				l.wrote(before.ID, rev)
			}
			return err
		}})
}

// noteWrite records a write of the batch that Undo does not reverse (Fresh
// cleared, usage spent: see domain.Reverted), so that it does not look like
// another client's write to the undo of the batch's other writes; only an
// exact undo (a failed audit record) restores it.
func (s *Service) noteWrite(c *call, before *domain.Object) {
	s.addRestore(c, before, true)
}

// revert runs step if the object is still as the batch left it.
func (l *undoLog) revert(ctx context.Context, step undoStep) error {
	r := l.revs[step.id]
	if r == nil || step.base < r.since {
		return fmt.Errorf("object %s was written by another request after this batch: %w", step.id, ports.ErrConflict)
	}
	return step.run(withoutAuditSync(ctx), r.last) // app/audit_sync.go
}

// batchIDs is the identifier state of one batch: the ID Placeholder (KMIP
// 1.4 §4 and KMIP 2.1 §6.1, "ID Placeholder") and, for the KMIP 2.x Unique
// Identifier enumeration (KMIP 2.1 §11.58), the identifier each operation
// last returned.
type batchIDs struct {
	placeholder string
	byOp        map[kmip.Operation]string
}

// record updates the batch's identifiers after op succeeded with payload out:
// an operation whose placeholder rule sets the ID Placeholder and that
// returns one identifier sets it; a Locate that returns any other number of
// identifiers empties it (KMIP 1.4 §4.9), so that later items cannot act on
// the wrong object.
func (b *batchIDs) record(op kmip.Operation, out *kmip.Item) {
	rule := operations[op].placeholder
	if rule == keepsPlaceholder {
		return
	}
	ids := out.ChildrenOf(kmip.TagUniqueIdentifier)
	if rule == setsPrivateKeyID {
		ids = out.ChildrenOf(kmip.TagPrivateKeyUniqueIdentifier)
	}
	if rule == setsFirstPart && len(ids) > 0 {
		ids = ids[:1] // the part whose Key Part Identifier is 1 (KMIP 1.4 §4.38)
	}
	id, ok := "", false
	if len(ids) == 1 {
		id, ok = ids[0].AsText()
	}
	if !ok {
		if rule == setsOrEmptiesIfNotOne {
			b.placeholder = ""
			delete(b.byOp, op)
		}
		return
	}
	b.placeholder = id
	if b.byOp == nil {
		b.byOp = map[kmip.Operation]string{}
	}
	b.byOp[op] = id
}

// uid returns the request's Unique Identifier, or the batch's ID Placeholder
// when the request omits it. KMIP 2.x requests may also name the placeholder,
// or the identifier an earlier operation of the batch returned, with the
// Unique Identifier enumeration (KMIP 2.1 §4.58, §11.58).
func (c *call) uid() (string, error) {
	uid, err := codec.DecodeUniqueIdentifier(c.v.wire(), c.payload)
	if err != nil {
		return "", err
	}
	return c.resolveUID(uid)
}

// resolveUID is the identifier a decoded Unique Identifier (or identifier
// field of the same shape) names: its text, the identifier its enumeration
// names, or, when not given, a continued stream's key or the batch's ID
// Placeholder.
func (c *call) resolveUID(uid codec.UniqueIdentifier) (string, error) {
	if uid.Given {
		if !uid.IsEnum {
			return uid.Text, nil
		}
		e := uid.Enum
		var id string
		if kmip.UniqueIdentifier(e) == kmip.UniqueIdentifierIDPlaceholder {
			id = c.batch.placeholder
		} else if op, known := uidEnumOp(kmip.UniqueIdentifier(e)); known {
			id = c.batch.byOp[op]
		} else {
			return "", invalidField("unsupported Unique Identifier enumeration %d", e)
		}
		if id == "" {
			return "", missingData("no earlier batch item supplies the Unique Identifier")
		}
		return id, nil
	}
	if c.streamKey != "" {
		return c.streamKey, nil
	}
	if c.batch.placeholder != "" {
		return c.batch.placeholder, nil
	}
	return "", missingData("no Unique Identifier and no ID Placeholder")
}

// HandleUndecodable answers a message that could not be decoded.
func (s *Service) HandleUndecodable(ctx context.Context, err error) *kmip.Item {
	s.cfg.Log.Debug().Err(err).Msg("undecodable request")
	if s.cfg.Auditor != nil {
		rec := newMsgAudit(ctx).record(s, ports.AuditResult, 0)
		rec.Status, rec.Reason = kmip.ResultStatusOperationFailed.String(), kmip.ResultReasonInvalidMessage.String()
		s.audit(ctx, rec)
	}
	return s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "message could not be decoded")
}

// errorMessage is a whole-message failure: one failed batch item.
func (s *Service) errorMessage(v version, reason kmip.ResultReason, msg string) *kmip.Item {
	return s.errorMessageFor(v, nil, reason, msg)
}

// errorMessageFor is a whole-message failure answered in one failed batch
// item that echoes the Operation and Unique Batch Item ID of the request
// item reqItem (nil: none), as KMIP 1.4 §7.3 Table 285 and KMIP 2.1 §8
// require of every response item whose request item named them.
func (s *Service) errorMessageFor(v version, reqItem *kmip.Item, reason kmip.ResultReason, msg string) *kmip.Item {
	item := kmip.Struct(kmip.TagBatchItem)
	for _, tag := range []kmip.Tag{kmip.TagOperation, kmip.TagUniqueBatchItemID} {
		if it := reqItem.Child(tag); it != nil {
			item.Add(it.Clone())
		}
	}
	item.Add(
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(reason)),
		kmip.Text(kmip.TagResultMessage, msg))
	return kmip.Struct(kmip.TagResponseMessage, s.responseHeader(v, 1, nil), item)
}

// soleItem returns the only item of a one-item batch, nil otherwise.
func soleItem(items []*kmip.Item) *kmip.Item {
	if len(items) == 1 {
		return items[0]
	}
	return nil
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
	m := newMsgAudit(ctx)
	defer func() { s.auditMessage(ctx, m, req, resp) }() // after the recover below
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("panic while handling a request")
			resp = s.errorMessage(version{1, 0}, kmip.ResultReasonGeneralFailure, "internal error")
		}
	}()
	b, refusal := s.readBatch(req)
	if refusal != nil {
		return refusal
	}
	m.v = b.v
	out := s.runBatch(ctx, m, b)
	return s.responseMessage(b, out)
}

// batchRequest is a request message whose header was checked: the
// negotiated version, the header, the batch items and what to do when one
// fails.
type batchRequest struct {
	v       version
	hdr     *kmip.Item
	items   []*kmip.Item
	onError kmip.BatchErrorContinuationOption
	async   asyncMode // what the Asynchronous Indicator allows (app/async.go)
}

// readBatch checks a request message's header and batch (KMIP 1.4 §7,
// KMIP 2.1 §8); a message it refuses gets the error message to answer.
func (s *Service) readBatch(req *kmip.Item) (batchRequest, *kmip.Item) {
	if req == nil || req.Tag != kmip.TagRequestMessage || req.Type != kmip.TypeStructure {
		return batchRequest{}, s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "not a Request Message")
	}
	hdr := req.Child(kmip.TagRequestHeader)
	pv := hdr.Child(kmip.TagProtocolVersion)
	maj, ok1 := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
	min, ok2 := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
	if hdr == nil || !ok1 || !ok2 {
		return batchRequest{}, s.errorMessage(version{1, 0}, kmip.ResultReasonInvalidMessage, "missing or invalid Request Header / Protocol Version")
	}
	v, ok := negotiate(version{maj, min})
	if !ok {
		answer := supportedVersions[len(supportedVersions)-1]
		if maj > answer.major {
			answer = supportedVersions[0]
		}
		return batchRequest{}, s.errorMessage(answer, kmip.ResultReasonInvalidMessage,
			fmt.Sprintf("protocol version %d.%d is not supported", maj, min))
	}
	items := req.ChildrenOf(kmip.TagBatchItem)
	if n, ok := hdr.Child(kmip.TagBatchCount).AsInt(); !ok || int(n) != len(items) || n < 1 {
		return batchRequest{}, s.errorMessageFor(v, soleItem(items), kmip.ResultReasonInvalidMessage, "Batch Count does not match the batch items")
	}
	if len(items) > s.cfg.MaxBatchItems {
		return batchRequest{}, s.errorMessage(v, kmip.ResultReasonInvalidMessage, fmt.Sprintf("more than %d batch items", s.cfg.MaxBatchItems))
	}
	if msg := checkBatchItemIDs(items); msg != "" {
		return batchRequest{}, s.errorMessage(v, kmip.ResultReasonInvalidMessage, msg)
	}
	if bi := criticalExtensionItem(items); bi != nil {
		// "If the indicator is True (i.e., Critical), and the receiver does
		// not understand the extension, then the receiver SHALL reject the
		// entire message" (KMIP 1.4 §6.16, KMIP 2.1 §9.13); kmipd
		// understands no extension. Non-critical ones are ignored.
		return batchRequest{}, s.errorMessageFor(v, bi, kmip.ResultReasonFeatureNotSupported, "critical message extension not supported")
	}
	onError := kmip.BatchErrorContinuationOptionStop
	if it := hdr.Child(kmip.TagBatchErrorContinuationOption); it != nil {
		e, _ := it.AsEnum()
		onError = kmip.BatchErrorContinuationOption(e)
		switch onError {
		case kmip.BatchErrorContinuationOptionContinue, kmip.BatchErrorContinuationOptionStop,
			kmip.BatchErrorContinuationOptionUndo:
		default:
			return batchRequest{}, s.errorMessageFor(v, soleItem(items), kmip.ResultReasonInvalidMessage, "invalid Batch Error Continuation Option")
		}
	}
	return batchRequest{v: v, hdr: hdr, items: items, onError: onError, async: asyncModeOf(hdr)}, nil
}

// runBatch runs b's items in order and returns their answers; after a
// failed item it goes on, stops, or stops and undoes the earlier items, as
// b's Batch Error Continuation Option says.
func (s *Service) runBatch(ctx context.Context, m *msgAudit, b batchRequest) []*kmip.Item {
	batch := &batchIDs{}
	var undo *undoLog
	if b.onError == kmip.BatchErrorContinuationOptionUndo {
		undo = &undoLog{}
	}
	var out []*kmip.Item
	size := 0
	for i, bi := range b.items {
		if undo != nil {
			undo.item = i
		}
		item, failed := s.runAudited(s.itemContext(ctx, b, i), m, i, bi, batch, undo, &size)
		out = append(out, item)
		if failed && b.onError != kmip.BatchErrorContinuationOptionContinue {
			if undo != nil {
				s.undoBatch(ctx, m.who, undo, out[:len(out)-1])
			}
			break
		}
	}
	return out
}

// responseMessage wraps the batch's answers in a Response Message without
// fields newer than its version, and fails every item when the message
// exceeds the request's Maximum Response Size.
func (s *Service) responseMessage(b batchRequest, out []*kmip.Item) *kmip.Item {
	resp := kmip.Struct(kmip.TagResponseMessage, s.responseHeader(b.v, len(out), b.hdr))
	resp.Add(out...)
	if dropped := stripNewer(resp, b.v); len(dropped) > 0 {
		s.cfg.Log.Debug().Str("version", b.v.String()).Interface("tags", dropped).Msg("answer fields newer than the protocol version removed")
	}
	if it := b.hdr.Child(kmip.TagMaximumResponseSize); it != nil {
		if max, ok := it.AsInt(); ok && max > 0 && kmip.EncodedLen(resp) > int(max) {
			for _, bi := range out {
				tooLarge(bi)
			}
		}
	}
	return resp
}

// undoBatch reverses the writes of a batch's earlier items, newest first,
// and marks those items Operation Undone (KMIP 1.4 §6.14), keeping their
// payloads. A write is reversed only while its object is still at the
// revision the batch left it at: Undo never overwrites another request's
// change (issue 12.1). An item with a write that could not be reversed
// keeps its older writes too (a Derive Key or Re-key whose base changed
// keeps the object its link names) and Result Status Success, since it was
// performed and stands (the spec has no status for that, and Table 285
// allows no Result Message with Success); each write left is logged at WARN
// with its object.
func (s *Service) undoBatch(ctx context.Context, who domain.Principal, l *undoLog, done []*kmip.Item) {
	stands := map[int]bool{}
	for i := len(l.steps) - 1; i >= 0; i-- {
		step := l.steps[i]
		if step.exactOnly {
			continue
		}
		if stands[step.item] {
			s.cfg.Log.Warn().Str("id", step.id).Str("client", who.Name).Int("item", step.item).
				Msg("batch Undo left a write in place: another write of its item could not be reversed")
			continue
		}
		err := l.revert(ctx, step)
		if err == nil {
			continue
		}
		stands[step.item] = true
		ev := s.cfg.Log.Warn()
		if !errors.Is(err, ports.ErrConflict) && !errors.Is(err, ports.ErrNotFound) {
			ev = s.cfg.Log.Error()
		}
		ev.Err(err).Str("id", step.id).Str("client", who.Name).Int("item", step.item).
			Msg("batch Undo left a write in place: its object changed since, or the store failed")
	}
	for i, bi := range done {
		if stands[i] {
			continue
		}
		var kept []*kmip.Item
		for _, c := range bi.Children() {
			switch c.Tag {
			case kmip.TagResultStatus:
				// A Response Payload is required unless the item failed
				// (KMIP 1.4 §7.3 Table 285), so an undone item keeps it.
				kept = append(kept, kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationUndone)))
			default:
				kept = append(kept, c)
			}
		}
		bi.Value = kept
	}
}

// checkBatchItemIDs enforces that every item of a multi-item batch carries a
// Unique Batch Item ID (KMIP 1.4 §7.2 Table 283, KMIP 2.1 §8) and that no two
// are equal (§6.4: it correlates an item with its response). It returns the
// problem, or "" when there is none.
func checkBatchItemIDs(items []*kmip.Item) string {
	if len(items) < 2 {
		return ""
	}
	seen := map[string]bool{}
	for _, bi := range items {
		id, ok := bi.Child(kmip.TagUniqueBatchItemID).AsBytes()
		if !ok {
			return "every item of a multi-item batch needs a Unique Batch Item ID"
		}
		if seen[string(id)] {
			return "Unique Batch Item IDs are not unique"
		}
		seen[string(id)] = true
	}
	return ""
}

// criticalExtensionItem returns the first batch item carrying a Message
// Extension whose Criticality Indicator is true, or nil.
func criticalExtensionItem(items []*kmip.Item) *kmip.Item {
	for _, bi := range items {
		for _, ext := range bi.ChildrenOf(kmip.TagMessageExtension) {
			if crit, _ := ext.Child(kmip.TagCriticalityIndicator).AsBool(); crit {
				return bi
			}
		}
	}
	return nil
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
func (s *Service) runItem(ctx context.Context, v version, who domain.Principal, bi *kmip.Item, batch *batchIDs, undo *undoLog) (resp *kmip.Item, failed bool) {
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
	h, ok := s.route(op, v)
	if !ok {
		return fail(kmip.ResultReasonOperationNotSupported, fmt.Sprintf("operation %s is not supported", op))
	}
	payload := bi.Child(kmip.TagRequestPayload)
	if payload == nil || payload.Type != kmip.TypeStructure {
		payload = kmip.Struct(kmip.TagRequestPayload)
	}
	if err := codec.CheckFields(v.wire(), payload); err != nil {
		reason, msg, _ := resultFor(err, v)
		return fail(reason, msg)
	}
	c := &call{v: v, who: who, op: op, payload: payload, batch: batch, undo: undo, names: &nameHold{}}
	defer c.releaseNames()
	out, err := s.safeCall(ctx, h, c)
	if pa := (*asyncAnswer)(nil); errors.As(err, &pa) {
		return pa.fill(resp) // Poll
	}
	if err != nil {
		reason, msg, internal := resultFor(err, v)
		ev := s.failureEvent(c, err, internal)
		ev.Err(err).Str("op", op.String()).Str("client", who.Name).Str("reason", reason.String()).Msg("operation failed")
		var ae *Error
		if errors.As(err, &ae) && ae.Payload != nil {
			resp, failed := fail(reason, msg)
			return resp.Add(ae.Payload), failed
		}
		return fail(reason, msg)
	}
	if out == nil {
		out = kmip.Struct(kmip.TagResponsePayload)
	}
	out.Tag = kmip.TagResponsePayload
	batch.record(op, out)
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
	return h(s, ctx, c)
}
