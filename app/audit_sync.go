package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// One fsync an item (issue 18.5). With an Auditor that can append without
// syncing (ports.BufferedAuditor), an item's intent is appended, not synced:
// the Service writes through auditSyncedStore, whose every write first
// makes the records appended so far durable, and the result's Record syncs
// both when the item wrote nothing. The trail keeps, for every item:
//
//	(a) no answer but the refusal "the audit trail could not be written"
//	    reaches the client before the item's intent and result records are
//	    durable;
//	(b) no store write of the item commits before its intent is durable,
//	    so a crash never leaves a change without its intent;
//	(c) a record that cannot be written, or made durable, fails the item
//	    and reverses its writes (fail closed), as a refused Record does.
//
// Reversing writes (undoLog.revert) does not sync: the write it reverses
// already made the intent durable, and it must work while the trail does
// not.

// auditSyncedStore is the Store of a Service whose Auditor buffers: reads
// go straight to the store, writes sync the trail first. It offers
// ports.ScratchStore when the store does (auditSyncedScratch), no other
// optional capability: the app uses no other.
type auditSyncedStore struct {
	ports.Store
	s *Service
}

func (st auditSyncedStore) Create(ctx context.Context, obj *domain.Object) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.Store.Create(ctx, obj)
}

func (st auditSyncedStore) Update(ctx context.Context, id string, fn func(obj *domain.Object) error) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.Store.Update(ctx, id, fn)
}

func (st auditSyncedStore) Delete(ctx context.Context, id string) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.Store.Delete(ctx, id)
}

func (st auditSyncedStore) DeleteIf(ctx context.Context, id string, revision uint64) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.Store.DeleteIf(ctx, id, revision)
}

// auditSyncedScratch is auditSyncedStore over a store that keeps scratch
// values; writing one syncs the trail first too.
type auditSyncedScratch struct {
	auditSyncedStore
	ss ports.ScratchStore
}

func (st auditSyncedScratch) PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ports.ScratchQuota) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.ss.PutScratch(ctx, key, value, expires, quotas...)
}

func (st auditSyncedScratch) AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.ss.AddScratch(ctx, key, value, expires)
}

func (st auditSyncedScratch) GetScratch(ctx context.Context, key string) ([]byte, error) {
	return st.ss.GetScratch(ctx, key)
}

func (st auditSyncedScratch) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	if err := st.s.syncAudit(ctx); err != nil {
		return nil, err
	}
	return st.ss.TakeScratch(ctx, key)
}

func (st auditSyncedScratch) DeleteScratch(ctx context.Context, key string) error {
	if err := st.s.syncAudit(ctx); err != nil {
		return err
	}
	return st.ss.DeleteScratch(ctx, key)
}

// useBufferedAudit makes s append intents and write through a syncing
// store when its Auditor buffers.
func (s *Service) useBufferedAudit() {
	b, ok := s.cfg.Auditor.(ports.BufferedAuditor)
	if !ok {
		return
	}
	s.buffered = b
	synced := auditSyncedStore{Store: s.cfg.Store, s: s}
	if ss, ok := s.cfg.Store.(ports.ScratchStore); ok {
		s.cfg.Store = auditSyncedScratch{auditSyncedStore: synced, ss: ss}
		return
	}
	s.cfg.Store = synced
}

type (
	noAuditSyncKey struct{}
	itemSyncKey    struct{}
)

// withoutAuditSync marks ctx for writes that need no sync (reversals).
func withoutAuditSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuditSyncKey{}, true)
}

// itemSync notes that a sync failed during one item, which then fails (c).
type itemSync struct{ failed atomic.Bool }

func withItemSync(ctx context.Context) (context.Context, *itemSync) {
	is := &itemSync{}
	return context.WithValue(ctx, itemSyncKey{}, is), is
}

// syncAudit makes every record appended so far durable before a store
// write; an error (fail closed only) refuses the write.
func (s *Service) syncAudit(ctx context.Context) error {
	if ctx.Value(noAuditSyncKey{}) != nil {
		return nil
	}
	err := s.buffered.Sync(ctx)
	if err == nil {
		return nil
	}
	s.cfg.Log.Error().Err(err).Bool("fail_closed", !s.cfg.AuditFailOpen).Msg("audit trail not synced before a write")
	if s.cfg.AuditFailOpen {
		return nil
	}
	if is, _ := ctx.Value(itemSyncKey{}).(*itemSync); is != nil {
		is.failed.Store(true)
	}
	return fmt.Errorf("the audit trail could not be made durable, write refused: %w", err)
}

// auditIntent writes an item's intent record: appended when the Auditor
// buffers (the item's first write or its result syncs it), else recorded.
func (s *Service) auditIntent(ctx context.Context, rec ports.AuditRecord) error {
	if s.buffered == nil {
		return s.audit(ctx, rec)
	}
	return s.auditFailed(rec, s.buffered.Append(ctx, rec))
}
