package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Issue 18.5: with an Auditor that buffers, an item costs one sync round
// unless it writes, and then the sync comes before its first write
// (app/audit_sync.go, guarantees (a), (b), (c)).

// syncEvents is the order in which a test's auditor and store saw records
// appended ("append intent"), recorded and synced at once ("record
// result"), synced ("sync": an fsync round over appended records) and
// store writes ("write").
type syncEvents struct {
	mu      sync.Mutex
	events  []string
	seq     int // records written
	synced  int // records synced
	onWrite func()
}

func (e *syncEvents) add(ev string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *syncEvents) wrote() {
	e.mu.Lock()
	fn := e.onWrite
	e.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (e *syncEvents) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := e.events
	e.events = nil
	return ev
}

// bufferedFake is a fakeAuditor that buffers (ports.BufferedAuditor);
// failSync, when set, fails every sync of a record not synced before,
// loseAll of every record (a failing auditor may count records it synced
// before as lost, as adapters/audit's widened lost range does).
type bufferedFake struct {
	fakeAuditor
	ev       *syncEvents
	failSync bool
	loseAll  bool
}

func (f *bufferedFake) Append(_ context.Context, rec ports.AuditRecord) (ports.AuditMark, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(rec) {
		return 0, errors.New("disk full")
	}
	f.recs = append(f.recs, rec)
	f.ev.mu.Lock()
	f.ev.seq++
	mark := ports.AuditMark(f.ev.seq)
	f.ev.mu.Unlock()
	f.ev.add("append " + rec.Event)
	return mark, nil
}

// Sync fails, once failSync is set, for every record not synced before.
func (f *bufferedFake) Sync(_ context.Context, upto ports.AuditMark) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ev.mu.Lock()
	done := int(upto) <= f.ev.synced
	f.ev.mu.Unlock()
	if f.loseAll {
		return errors.New("EIO")
	}
	if done {
		return nil // no fsync
	}
	if f.failSync {
		return errors.New("EIO")
	}
	f.ev.mu.Lock()
	f.ev.synced = f.ev.seq
	f.ev.mu.Unlock()
	f.ev.add("sync")
	return nil
}

// Record syncs what was appended before rec only while syncs work.
func (f *bufferedFake) Record(ctx context.Context, rec ports.AuditRecord) error {
	if err := f.fakeAuditor.Record(ctx, rec); err != nil {
		return err
	}
	f.mu.Lock()
	failSync := f.failSync
	f.mu.Unlock()
	f.ev.mu.Lock()
	f.ev.seq++
	if !failSync {
		f.ev.synced = f.ev.seq
	}
	f.ev.mu.Unlock()
	f.ev.add("record " + rec.Event)
	return nil
}

// eventStore is a memStore noting its writes in ev; onWrite, when set, is
// called after each.
type eventStore struct {
	*memStore
	ev *syncEvents
}

func (s eventStore) Create(ctx context.Context, o *domain.Object) error {
	s.ev.add("write")
	defer s.ev.wrote()
	return s.memStore.Create(ctx, o)
}

func (s eventStore) Update(ctx context.Context, id string, fn func(*domain.Object) error) error {
	s.ev.add("write")
	defer s.ev.wrote()
	return s.memStore.Update(ctx, id, fn)
}

func (s eventStore) Delete(ctx context.Context, id string) error {
	s.ev.add("write")
	return s.memStore.Delete(ctx, id)
}

func (s eventStore) DeleteIf(ctx context.Context, id string, rev uint64) error {
	s.ev.add("write")
	return s.memStore.DeleteIf(ctx, id, rev)
}

func newBufferedAuditService(t *testing.T) (*Service, *memStore, *bufferedFake) {
	t.Helper()
	ev := &syncEvents{}
	aud := &bufferedFake{ev: ev}
	st := newMemStore()
	s := New(Config{Store: eventStore{st, ev}, Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		Policies: mapPolicies{"team": teamPolicy()}, Log: zerolog.Nop(), Auditor: aud})
	return s, st, aud
}

func TestBufferedAuditSyncsOnceAndBeforeWrites(t *testing.T) {
	t.Parallel()
	s, _, aud := newBufferedAuditService(t)
	limits := kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, 1000),
		kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
	limited := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow(), limits)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	aud.ev.take()
	writes := []string{"append intent", "sync", "write", "record result"}
	reads := []string{"append intent", "record result"} // one sync round: the result's
	steps := []struct {
		what string
		item func(id string) *kmip.Item
		want []string
	}{
		{"Create", func(string) *kmip.Item { return aesCreate14(128, "") }, writes},
		{"first Get (clears Fresh)", func(id string) *kmip.Item { return batchItem(kmip.OperationGet, uidItem(id)) }, writes},
		{"second Get", func(id string) *kmip.Item { return batchItem(kmip.OperationGet, uidItem(id)) }, reads},
		{"Get Attributes", func(id string) *kmip.Item { return batchItem(kmip.OperationGetAttributes, uidItem(id)) }, reads},
		{"Locate", func(string) *kmip.Item { return batchItem(kmip.OperationLocate) }, reads},
		{"Encrypt", func(id string) *kmip.Item { return batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x"))) }, reads},
		{"Encrypt with Usage Limits", func(string) *kmip.Item {
			return batchItem(kmip.OperationEncrypt, uidItem(limited), data([]byte("x")))
		}, writes},
		{"Revoke", func(id string) *kmip.Item {
			return batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
				kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))
		}, writes},
	}
	for _, st := range steps {
		if r := sendOne(t, s, alice, v14, st.item(id)); r.status != kmip.ResultStatusSuccess {
			t.Fatalf("%s: %s", st.what, r.reason)
		}
		if got := aud.ev.take(); !slices.Equal(got, st.want) {
			t.Errorf("%s: events %q, want %q", st.what, got, st.want)
		}
		if aud.ev.synced != aud.ev.seq { // (a): answered with every record durable
			t.Errorf("%s: answered with %d records not synced", st.what, aud.ev.seq-aud.ev.synced)
		}
	}
}

// (c): a sync that fails before a write refuses the write and fails the
// item as a refused record does; nothing of it is in the store.
func TestBufferedAuditFailedSyncFailsTheItem(t *testing.T) {
	t.Parallel()
	s, st, aud := newBufferedAuditService(t)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	aud.failSync = true
	count := len(st.objs)
	mustFail(t, sendOne(t, s, alice, v14, aesCreate14(128, "")), kmip.ResultReasonGeneralFailure)
	if len(st.objs) != count {
		t.Errorf("%d objects, want %d: a Create committed without a durable intent", len(st.objs), count)
	}
	r := sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id)))
	mustFail(t, r, kmip.ResultReasonGeneralFailure)
	if r.payload != nil {
		t.Error("a Get whose intent could not be made durable served the key")
	}
	if obj, _ := st.Get(context.Background(), id); !isTrue(obj.Attr("Fresh")) {
		t.Error("Fresh was cleared by a Get whose intent could not be made durable")
	}
}

// Reversing an item's writes does not sync: when the result record fails
// and the trail fails every sync from then on, even of records synced
// before, the item still leaves nothing in the store.
func TestBufferedAuditRevertsWithoutSync(t *testing.T) {
	t.Parallel()
	s, st, aud := newBufferedAuditService(t)
	aud.fail = func(r ports.AuditRecord) bool {
		if r.Event == ports.AuditResult {
			aud.loseAll = true // under aud.mu, as Sync reads it
		}
		return aud.loseAll
	}
	mustFail(t, sendOne(t, s, alice, v14, aesCreate14(128, "")), kmip.ResultReasonGeneralFailure)
	if len(st.objs) != 0 {
		t.Errorf("%d objects: the refused Create stayed", len(st.objs))
	}
	if got, want := aud.ev.take(), []string{"append intent", "sync", "write", "write"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// (a) for an item that writes nothing: when its intent cannot be made
// durable, though its result was recorded, the answer is the refusal and
// the key is not served.
func TestBufferedAuditLostIntentFailsAReadOnlyItem(t *testing.T) {
	t.Parallel()
	s, _, aud := newBufferedAuditService(t)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id)))) // clears Fresh
	aud.mu.Lock()
	aud.failSync = true
	aud.mu.Unlock()
	r := sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id)))
	mustFail(t, r, kmip.ResultReasonGeneralFailure)
	if r.payload != nil {
		t.Error("a Get whose intent could not be made durable served the key")
	}
}
