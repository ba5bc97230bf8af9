package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Poll and Cancel of asynchronous operations (app/async.go), answered from
// the record in the store's scratch space, so on any node sharing it.

// asyncState is where an asynchronous operation stands.
type asyncState byte

const (
	asyncRunning  asyncState = 1 // a node works on it and beats its lease
	asyncDone     asyncState = 2 // item holds its answer
	asyncCanceled asyncState = 3 // cancelled (Cancel, shutdown); item holds the failure, its writes reversed
)

const asyncRecordVersion = 1

// asyncRecord is the scratch record of one asynchronous operation.
type asyncRecord struct {
	owner string
	op    kmip.Operation
	state asyncState
	since time.Time // when it was submitted
	lease time.Time // while running: pending until then, by the Service's clock
	item  []byte    // done or cancelled: the TTLV of its response batch item
}

func (r asyncRecord) encode() []byte {
	b := []byte{asyncRecordVersion}
	b = binary.AppendUvarint(b, uint64(len(r.owner)))
	b = append(b, r.owner...)
	b = binary.AppendUvarint(b, uint64(r.op))
	b = append(b, byte(r.state))
	b = binary.BigEndian.AppendUint64(b, uint64(r.since.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.lease.UnixNano()))
	return append(b, r.item...)
}

// decodeAsync parses a record made by encode; ok is false for anything else.
func decodeAsync(b []byte) (r asyncRecord, ok bool) {
	if len(b) < 1 || b[0] != asyncRecordVersion {
		return r, false
	}
	rest := b[1:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l > uint64(len(rest)-n) {
		return r, false
	}
	r.owner, rest = string(rest[n:n+int(l)]), rest[n+int(l):]
	o, n := binary.Uvarint(rest)
	if n <= 0 || o > 0xFFFFFFFF || len(rest)-n < 17 {
		return r, false
	}
	r.op, rest = kmip.Operation(o), rest[n:]
	r.state = asyncState(rest[0])
	r.since = time.Unix(0, int64(binary.BigEndian.Uint64(rest[1:9])))
	r.lease = time.Unix(0, int64(binary.BigEndian.Uint64(rest[9:17])))
	r.item = bytes.Clone(rest[17:])
	switch r.state {
	case asyncRunning:
		return r, len(r.item) == 0
	case asyncDone, asyncCanceled:
		return r, len(r.item) > 0
	}
	return r, false
}

// loadAsync returns owner's record with value acv; found is false when
// there is none (unknown, expired, another client's), when the store keeps
// no scratch values, or when it cannot be read back.
func (s *Service) loadAsync(ctx context.Context, owner string, acv []byte) (rec asyncRecord, found bool, err error) {
	ss, ok := s.cfg.Store.(ports.ScratchStore)
	if !ok || len(acv) != acvLen {
		return rec, false, nil
	}
	b, err := ss.GetScratch(ctx, asyncKey(owner, acv))
	if errors.Is(err, ports.ErrNotFound) {
		return rec, false, nil
	} else if err != nil {
		return rec, false, err
	}
	rec, ok = decodeAsync(b)
	if !ok || rec.owner != owner {
		s.cfg.Log.Error().Err(errAsyncStore).Str("client", owner).Msg("asynchronous operation record ignored")
		return rec, false, nil
	}
	return rec, true, nil
}

// leaseLost reports whether a running record's node stopped beating it.
func (s *Service) leaseLost(rec asyncRecord) bool {
	return rec.state == asyncRunning && s.cfg.Clock.Now().After(rec.lease)
}

// asyncAnswer is Poll's answer: the batch item of the polled operation
// (Result Status, Reason, Message, Asynchronous Correlation Value and
// payload), which runItem puts under the Poll item's Unique Batch Item ID.
// op is the polled operation once it has finished, whose answer then names
// it, "identical to the response that would have been sent if the operation
// had completed synchronously" (KMIP 1.4 §4.28; the OASIS cases TC-101-11
// and TC-ASYNC-1-21 answer a finished Poll under Archive, Create, ...);
// zero while it is pending, which is answered under Poll.
type asyncAnswer struct {
	item *kmip.Item
	op   kmip.Operation
}

func (a *asyncAnswer) Error() string { return "asynchronous answer" }

// fill completes resp with the answer; failed reports an Operation Failed.
func (a *asyncAnswer) fill(resp *kmip.Item) (*kmip.Item, bool) {
	if op := resp.Child(kmip.TagOperation); op != nil && a.op != 0 {
		op.Value = uint32(a.op)
	}
	for _, c := range a.item.Children() {
		if c.Tag != kmip.TagOperation && c.Tag != kmip.TagUniqueBatchItemID {
			resp.Add(c.Clone())
		}
	}
	st, _ := resp.Child(kmip.TagResultStatus).AsEnum()
	return resp, kmip.ResultStatus(st) == kmip.ResultStatusOperationFailed
}
