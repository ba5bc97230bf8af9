package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// The audit trail (issue 14.7): every batch item gets an intent record
// before it runs and a result record after. The trail fails closed unless
// Config.AuditFailOpen: an item whose intent cannot be recorded is not run;
// an item whose result cannot be recorded has its writes reversed as batch
// Undo reverses them (undoCreate, undoUpdate) and is answered General
// Failure. What Undo cannot reverse (an HSM key or a Template destroyed,
// usage spent, Fresh cleared) stands, with its intent in the trail.

// maxAuditUIDs bounds the identifiers one record lists (a Locate's answer).
const maxAuditUIDs = 1000

// msgAudit is what every record of one request message shares.
type msgAudit struct {
	id   string
	who  domain.Principal
	addr string
	v    version // the negotiated version, once known
	ran  bool    // an item was audited: the message needs no record of its own
	// gate, set while an item answered Operation Pending awaits its result
	// record, orders that record before the final one (app/async.go).
	gate *auditGate
}

func newMsgAudit(ctx context.Context) *msgAudit {
	var b [8]byte
	rand.Read(b[:])
	who, _ := ports.PeerFrom(ctx)
	return &msgAudit{id: hex.EncodeToString(b[:]), who: who, addr: ports.RemoteAddrFrom(ctx)}
}

func (m *msgAudit) record(s *Service, event string, item int) ports.AuditRecord {
	rec := ports.AuditRecord{Time: s.cfg.Clock.Now(), Event: event, Request: m.id, Item: item,
		Client: m.who.Name, Address: m.addr, Version: m.v.String()}
	if m.who.HasGroupInfo {
		rec.Groups = append([]string{}, m.who.Groups...)
	}
	return rec
}

// audit writes rec; the error is nil when it was written or the trail
// fails open.
func (s *Service) audit(ctx context.Context, rec ports.AuditRecord) error {
	return s.auditFailed(rec, s.cfg.Auditor.Record(ctx, rec))
}

// auditFailed logs err, rec's failure to be written; it returns nil when
// err is or the trail fails open.
func (s *Service) auditFailed(rec ports.AuditRecord, err error) error {
	if err == nil {
		return nil
	}
	s.cfg.Log.Error().Err(err).Str("client", rec.Client).Str("op", rec.Operation).Str("event", rec.Event).
		Bool("fail_closed", !s.cfg.AuditFailOpen).Msg("audit record not written")
	if s.cfg.AuditFailOpen {
		return nil
	}
	return err
}

// runAudited runs batch item i between its intent and result records and
// bounds its response (capResponse).
func (s *Service) runAudited(ctx context.Context, m *msgAudit, i int, bi *kmip.Item, batch *batchIDs, undo *undoLog, size *int) (*kmip.Item, bool) {
	v := m.v
	if s.cfg.Auditor == nil {
		item, failed := s.runItemMaybePending(ctx, m, i, bi, batch, undo)
		return item, s.capResponse(item, size) || failed
	}
	m.ran = true
	rec := m.record(s, ports.AuditIntent, i)
	describeRequest(&rec, v, bi, batch)
	ctx, is, err := s.auditIntent(ctx, rec) // app/audit_sync.go
	if err != nil {
		return auditRefused(bi), true
	}
	l := undo
	if l == nil {
		l = &undoLog{}
	}
	mark := len(l.steps)
	saved := batchIDs{placeholder: batch.placeholder, byOp: maps.Clone(batch.byOp)}
	item, failed := s.runItemMaybePending(ctx, m, i, bi, batch, l)
	failed = s.capResponse(item, size) || failed
	rec.Time, rec.Event = s.cfg.Clock.Now(), ports.AuditResult
	describeResult(&rec, item)
	refused := s.audit(ctx, rec) != nil || s.intentLost(ctx, is)
	m.pendingAudited(refused) // app/async.go
	if refused {
		s.revertItem(ctx, m.who, l, mark)
		*batch = saved
		return auditRefused(bi), true
	}
	return item, failed
}

// revertItem reverses the writes an item logged in l from step mark on,
// newest first, and drops them from l.
func (s *Service) revertItem(ctx context.Context, who domain.Principal, l *undoLog, mark int) {
	l.exact = true
	defer func() { l.exact = false }()
	for j := len(l.steps) - 1; j >= mark; j-- {
		if err := l.revert(ctx, l.steps[j]); err != nil {
			s.cfg.Log.Error().Err(err).Str("id", l.steps[j].id).Str("client", who.Name).
				Msg("audit record not written and a write of the request could not be reversed")
		}
	}
	l.steps = l.steps[:mark]
}

// auditMessage records a message answered without running any item (a
// malformed header, an unsupported version, a panic): one result record.
func (s *Service) auditMessage(ctx context.Context, m *msgAudit, req, resp *kmip.Item) {
	if s.cfg.Auditor == nil || m.ran || resp == nil {
		return
	}
	rec := m.record(s, ports.AuditResult, 0)
	pv := resp.Child(kmip.TagResponseHeader).Child(kmip.TagProtocolVersion)
	maj, _ := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
	min, _ := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
	rec.Version = version{maj, min}.String()
	if items := req.ChildrenOf(kmip.TagBatchItem); len(items) == 1 {
		if op, ok := items[0].Child(kmip.TagOperation).AsEnum(); ok {
			rec.Operation = kmip.Operation(op).String()
		}
	}
	describeResult(&rec, resp.Child(kmip.TagBatchItem))
	s.audit(ctx, rec) // the answer is a failure already
}

// auditRefused is the answer to an item refused because its record could
// not be written.
func auditRefused(bi *kmip.Item) *kmip.Item {
	resp := kmip.Struct(kmip.TagBatchItem)
	for _, tag := range []kmip.Tag{kmip.TagOperation, kmip.TagUniqueBatchItemID} {
		if it := bi.Child(tag); it != nil {
			resp.Add(it.Clone())
		}
	}
	return resp.Add(
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonGeneralFailure)),
		kmip.Text(kmip.TagResultMessage, "the audit trail could not be written: request refused"))
}

// describeRequest fills in the operation, the objects the item names (its
// Unique Identifiers, or the ID Placeholder it stands for) and, for
// operations that use a key, the keys: those objects and any wrapping or
// MAC/signature key it names.
func describeRequest(rec *ports.AuditRecord, v version, bi *kmip.Item, batch *batchIDs) {
	opv, ok := bi.Child(kmip.TagOperation).AsEnum()
	if !ok {
		return
	}
	op := kmip.Operation(opv)
	rec.Operation = op.String()
	payload := bi.Child(kmip.TagRequestPayload)
	var ids []string
	for _, it := range payload.ChildrenOf(kmip.TagUniqueIdentifier) {
		if id, ok := it.AsText(); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && payload != nil && !operations[op].noTarget {
		c := &call{v: v, op: op, payload: payload, batch: batch}
		if id, err := c.uid(); err == nil {
			ids = append(ids, id)
		}
	}
	rec.UIDs = ids
	if operations[op].usesKey {
		rec.Keys = append(append([]string{}, ids...), keyInfoIDs(payload, 4)...)
	} else if wrap := keyInfoIDs(payload, 4); len(wrap) > 0 {
		rec.Keys = wrap
	}
}

// keyInfoIDs returns the Unique Identifiers of the Encryption Key
// Information and MAC/Signature Key Information under it, depth levels down.
func keyInfoIDs(it *kmip.Item, depth int) []string {
	if depth == 0 || it == nil || it.Type != kmip.TypeStructure {
		return nil
	}
	var ids []string
	for _, c := range it.Children() {
		if c.Tag == kmip.TagEncryptionKeyInformation || c.Tag == kmip.TagMACSignatureKeyInformation {
			if id, ok := c.Child(kmip.TagUniqueIdentifier).AsText(); ok {
				ids = append(ids, id)
			}
			continue
		}
		ids = append(ids, keyInfoIDs(c, depth-1)...)
	}
	return ids
}

// describeResult fills in the Result Status and Reason of the response
// item and adds the identifiers its payload returned.
func describeResult(rec *ports.AuditRecord, item *kmip.Item) {
	if st, ok := item.Child(kmip.TagResultStatus).AsEnum(); ok {
		rec.Status = kmip.ResultStatus(st).String()
	}
	if r, ok := item.Child(kmip.TagResultReason).AsEnum(); ok {
		rec.Reason = kmip.ResultReason(r).String()
	}
	seen := map[string]bool{}
	for _, id := range rec.UIDs {
		seen[id] = true
	}
	out := item.Child(kmip.TagResponsePayload)
	for _, tag := range []kmip.Tag{kmip.TagUniqueIdentifier, kmip.TagPrivateKeyUniqueIdentifier, kmip.TagPublicKeyUniqueIdentifier} {
		for _, it := range out.ChildrenOf(tag) {
			id, ok := it.AsText()
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			if len(rec.UIDs) >= maxAuditUIDs {
				rec.UIDsOmitted++
				continue
			}
			rec.UIDs = append(rec.UIDs, id)
		}
	}
}
