package app

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// One fsync an item (issue 18.5). With an Auditor that can append without
// syncing (ports.BufferedAuditor), an item's intent is appended, not synced:
// the Service writes through auditSyncedStore, whose every write of an item
// first syncs the trail up to the item's intent, and the result's Record
// syncs both when the item wrote nothing (checked: Sync of the intent's
// mark is then cheap). The trail keeps, for every item:
//
//	(a) no answer but the refusal "the audit trail could not be written"
//	    reaches the client before the item's intent and result records are
//	    durable;
//	(b) no store write of the item commits before its intent is durable,
//	    so a crash never leaves a change without its intent;
//	(c) a record that cannot be written, or made durable, fails the item
//	    and reverses its writes (fail closed), as a refused Record does.
//
// Reversing writes (undoLog.revert) syncs nothing: the write it reverses
// made the intent durable already, and a reversal must work while the
// trail fails (an auditor may then count even records it synced as lost:
// adapters/audit widens its lost range). A write made outside any item
// (none is today) syncs nothing either.

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
	itemSyncKey    struct{}
	noAuditSyncKey struct{}
)

// withoutAuditSync marks ctx for writes that sync nothing (reversals).
func withoutAuditSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuditSyncKey{}, true)
}

// itemSync is one item's intent as appended, and whether a sync of it
// failed, which fails the item (c).
type itemSync struct {
	intent ports.AuditMark
	failed atomic.Bool
}

// auditIntent writes an item's intent record: appended when the Auditor
// buffers, ctx then carrying its mark for the item's writes to sync, else
// recorded.
func (s *Service) auditIntent(ctx context.Context, rec ports.AuditRecord) (context.Context, *itemSync, error) {
	if s.buffered == nil {
		return ctx, nil, s.audit(ctx, rec)
	}
	mark, err := s.buffered.Append(ctx, rec)
	is := &itemSync{intent: mark}
	return context.WithValue(ctx, itemSyncKey{}, is), is, s.auditFailed(rec, err)
}

// syncAudit makes the intent of the item writing durable before its store
// write; an error (fail closed only) refuses the write.
func (s *Service) syncAudit(ctx context.Context) error {
	is, _ := ctx.Value(itemSyncKey{}).(*itemSync)
	if is == nil || ctx.Value(noAuditSyncKey{}) != nil {
		return nil
	}
	if s.syncIntent(ctx, is) {
		return nil
	}
	return errors.New("the audit trail could not be made durable: write refused")
}

// syncIntent makes the item's intent durable and reports whether it is or
// the trail fails open; a failure is logged and noted in is.
func (s *Service) syncIntent(ctx context.Context, is *itemSync) bool {
	err := s.buffered.Sync(ctx, is.intent)
	if err == nil {
		return true
	}
	s.cfg.Log.Error().Err(err).Bool("fail_closed", !s.cfg.AuditFailOpen).Msg("audit intent record not durable")
	if s.cfg.AuditFailOpen {
		return true
	}
	is.failed.Store(true)
	return false
}

// intentLost reports, after the item's result was recorded, whether its
// intent failed to become durable (cheap: the result's sync covered it).
func (s *Service) intentLost(ctx context.Context, is *itemSync) bool {
	return is != nil && (is.failed.Load() || !s.syncIntent(ctx, is))
}
