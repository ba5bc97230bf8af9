package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Issue 12.1: a batch with Batch Error Continuation Option Undo reverts only
// what it wrote and no one has written since, and never reverts Fresh or
// spent usage.

// hookStore runs a function once, just before the first Get of an
// identifier: another client acting between two items of a batch.
type hookStore struct {
	*memStore
	hooks map[string]func()
}

func (h *hookStore) Get(ctx context.Context, id string) (*domain.Object, error) {
	if f := h.hooks[id]; f != nil {
		delete(h.hooks, id)
		f()
	}
	return h.memStore.Get(ctx, id)
}

// trigger is the identifier of the failing item of the batches below: its
// Get runs the hook, then fails (no such object), so the batch is undone.
const trigger = "trigger"

// teamPolicy lets everyone Get, Encrypt, Locate and Add Attribute on
// symmetric keys, and the owner run their lifecycle.
func teamPolicy() *domain.Policy {
	all := domain.AllowAll
	own := domain.AllowOwner
	op := func(o kmip.Operation) uint32 { return uint32(o) }
	return &domain.Policy{Name: "team", Preset: domain.Rules{symKey: {
		op(kmip.OperationGet): all, op(kmip.OperationEncrypt): all, op(kmip.OperationLocate): all,
		op(kmip.OperationAddAttribute): all, op(kmip.OperationGetAttributes): all, op(kmip.OperationDeriveKey): all,
		op(kmip.OperationActivate): own, op(kmip.OperationRevoke): own, op(kmip.OperationDestroy): own,
		op(kmip.OperationDecrypt): own, op(kmip.OperationExport): own, op(kmip.OperationImport): own,
	}}}
}

// newUndoService is a crypto-capable service with the team policy whose
// store runs hooks, logging to the returned buffer.
func newUndoService(t *testing.T) (*Service, *hookStore, *bytes.Buffer) {
	t.Helper()
	st := &hookStore{memStore: newMemStore(), hooks: map[string]func(){}}
	var log bytes.Buffer
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		Policies: mapPolicies{"team": teamPolicy()}, Log: zerolog.New(&log)})
	return s, st, &log
}

// undoBatch sends items as one batch with Batch Error Continuation Option
// Undo and returns the results.
func undoBatch(t *testing.T, s *Service, who domain.Principal, items ...*kmip.Item) []result {
	t.Helper()
	m := msg(v14, items...)
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo)))
	_, rs := send(t, s, who, m)
	return rs
}

// teamKey is an active AES key of alice's under the team policy, with extra
// attributes.
func teamKey(t *testing.T, s *Service, extra ...*kmip.Item) string {
	t.Helper()
	vals := append([]*kmip.Item{mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt),
		activeNow(), kmip.Text(kmip.TagOperationPolicyName, "team")}, extra...)
	return aesKey(t, s, v14, vals...)
}

// compromiseAndDestroy is alice revoking her key for Key Compromise and
// destroying it.
func compromiseAndDestroy(t *testing.T, s *Service, id string) {
	t.Helper()
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
}

// checkDestroyed fails unless id is still destroyed and without its value.
func checkDestroyed(t *testing.T, s *Service, id string) {
	t.Helper()
	o := storedObj(t, s, id)
	if o.State != domain.DestroyedCompromised || o.Payload != nil {
		t.Fatalf("alice's destroyed key is %s again (value present: %v): the Undo overwrote her change", o.State, o.Payload != nil)
	}
	if r := sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))); r.status == kmip.ResultStatusSuccess {
		t.Fatal("Get of the destroyed key succeeded after the Undo")
	}
}

// TestUndoRefusedWhenTheRevisionMoved: bob's batch adds an attribute to
// alice's key; before its last item fails, alice revokes and destroys the
// key. Undoing bob's write would restore the key as it was, Active with its
// value; Undo must leave alice's change, keep bob's item Success (it stands),
// and log the identifier at WARN.
func TestUndoRefusedWhenTheRevisionMoved(t *testing.T) {
	t.Parallel()
	s, st, log := newUndoService(t)
	id := teamKey(t, s)
	st.hooks[trigger] = func() { compromiseAndDestroy(t, s, id) }
	rs := undoBatch(t, s, bob,
		batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Contact Information", kmip.Text(0, "bob"))),
		batchItem(kmip.OperationGet, uidItem(trigger)))
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	mustFail(t, rs[1], kmip.ResultReasonItemNotFound)
	checkDestroyed(t, s, id)
	if rs[0].status != kmip.ResultStatusSuccess {
		t.Errorf("bob's Add Attribute: status %s, want Success (not undone: the object changed since)", rs[0].status)
	}
	if !strings.Contains(log.String(), `"level":"warn"`) || !strings.Contains(log.String(), `"id":"`+id+`"`) {
		t.Errorf("no WARN naming %s in the log:\n%s", id, log.String())
	}
}

// TestUndoKeepsFreshAndUsage: an undone Get leaves the object not Fresh
// and an undone Encrypt leaves its usage spent (domain.Reverted), so
// neither reverts alice's key even when she destroyed it meanwhile.
func TestUndoKeepsFreshAndUsage(t *testing.T) {
	t.Parallel()
	limits := func() *kmip.Item {
		return kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, 16),
			kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
	}
	for _, tc := range []struct {
		name string
		item func(id string) *kmip.Item
	}{
		{"Get", func(id string) *kmip.Item { return batchItem(kmip.OperationGet, uidItem(id)) }},
		{"Encrypt", func(id string) *kmip.Item {
			return batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(make([]byte, 10)))
		}},
	} {
		t.Run(tc.name+"/another client destroys", func(t *testing.T) {
			s, st, _ := newUndoService(t)
			id := teamKey(t, s, limits())
			st.hooks[trigger] = func() { compromiseAndDestroy(t, s, id) }
			rs := undoBatch(t, s, bob, tc.item(id), batchItem(kmip.OperationGet, uidItem(trigger)))
			mustFail(t, rs[1], kmip.ResultReasonItemNotFound)
			checkDestroyed(t, s, id)
		})
		t.Run(tc.name+"/own batch", func(t *testing.T) {
			s, _, _ := newUndoService(t)
			id := teamKey(t, s, limits())
			rs := undoBatch(t, s, alice, tc.item(id), batchItem(kmip.OperationGet, uidItem(trigger)))
			if rs[0].status != kmip.ResultStatusOperationUndone || rs[0].payload == nil {
				t.Fatalf("item 1: status %s, want Operation Undone with its payload", rs[0].status)
			}
			o := storedObj(t, s, id)
			if fresh, _ := o.AttrOf(kmip.TagFresh).AsBool(); tc.name == "Get" && fresh {
				t.Error("the undone Get served the key, yet it is Fresh again")
			}
			count, spent := o.AttrOf(kmip.TagUsageLimits).Child(kmip.TagUsageLimitsCount).AsLong()
			if !spent {
				count, _ = o.AttrOf(kmip.TagUsageLimits).Child(kmip.TagUsageLimitsTotal).AsLong()
			}
			if want := map[string]int64{"Get": 16, "Encrypt": 6}[tc.name]; count != want {
				t.Errorf("Usage Limits Count %d after the undone %s, want %d", count, tc.name, want)
			}
		})
	}
}

// TestUndoOfCreateAfterAnotherClientChangedIt: bob's batch creates a shared
// key that alice fetches (clearing Fresh) before the batch fails: the key
// she holds is not deleted, and bob's Create stays Success.
func TestUndoOfCreateAfterAnotherClientChangedIt(t *testing.T) {
	t.Parallel()
	s, st, log := newUndoService(t)
	create := aesCreate14(128, "bobs")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(attribute1x("Operation Policy Name", kmip.Text(0, "team")))
	st.hooks[trigger] = func() {
		ids := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("bobs"))))).ChildrenOf(kmip.TagUniqueIdentifier)
		if len(ids) != 1 {
			t.Fatalf("alice located %d keys named bobs, want 1", len(ids))
		}
		id, _ := ids[0].AsText()
		mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	}
	rs := undoBatch(t, s, bob, create, batchItem(kmip.OperationGet, uidItem(trigger)))
	id := createdID(t, rs[0]) // Success: the Create stands
	if o := storedObj(t, s, id); o.Owner != "bob" {
		t.Fatalf("owner %q", o.Owner)
	}
	if !strings.Contains(log.String(), `"id":"`+id+`"`) {
		t.Errorf("no log naming %s", id)
	}
}

// TestUndoKeepsAnItemWhole: bob derives a key from alice's; she changes
// her key before his batch fails. Her key keeps her change and its Derived
// Key Link, so bob's derived key, which that link names, is kept too (the
// item stands whole) instead of leaving a link to nothing.
func TestUndoKeepsAnItemWhole(t *testing.T) {
	t.Parallel()
	s, st, _ := newUndoService(t)
	base := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskDeriveKey), activeNow(), kmip.Text(kmip.TagOperationPolicyName, "team"))
	st.hooks[trigger] = func() {
		mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(base), attribute1x("Contact Information", kmip.Text(0, "alice")))))
	}
	rs := undoBatch(t, s, bob, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), uidItem(base),
		kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
		kmip.Struct(kmip.TagDerivationParameters,
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
			kmip.Bytes(kmip.TagDerivationData, []byte("context"))),
		kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attribute1x("Cryptographic Length", kmip.Int(0, 128)),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))))),
		batchItem(kmip.OperationGet, uidItem(trigger)))
	derived := createdID(t, rs[0]) // Success: the Derive Key stands
	b := storedObj(t, s, base)
	if b.AttrOf(kmip.TagContactInformation) == nil {
		t.Error("alice's change of her key was undone")
	}
	if linkTo(b, kmip.LinkTypeDerivedKeyLink) != derived {
		t.Fatal("alice's key lost its Derived Key Link")
	}
	if o, err := s.cfg.Store.Get(context.Background(), derived); err != nil || o.Owner != "bob" {
		t.Fatalf("the derived key the link names: %v, %v", o, err)
	}
}

// TestUndoRevertsAllOwnWrites: the batch's own successive writes of one
// object (Create, Activate, a Get clearing Fresh, Add Attribute) do not
// block each other's undo: the object is deleted and every item undone.
func TestUndoRevertsAllOwnWrites(t *testing.T) {
	t.Parallel()
	s, _, _ := newUndoService(t)
	other := teamKey(t, s)
	rs := undoBatch(t, s, alice, aesCreate14(128, "mine"), batchItem(kmip.OperationActivate), batchItem(kmip.OperationGet),
		batchItem(kmip.OperationAddAttribute, attribute1x("Contact Information", kmip.Text(0, "x"))),
		batchItem(kmip.OperationGet, uidItem(other)), batchItem(kmip.OperationActivate, uidItem(other)))
	if len(rs) != 6 {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs[:5] {
		if r.status != kmip.ResultStatusOperationUndone {
			t.Errorf("item %d: status %s, want Operation Undone", i, r.status)
		}
	}
	id, _ := rs[0].payload.Child(kmip.TagUniqueIdentifier).AsText()
	if _, err := s.cfg.Store.Get(context.Background(), id); err == nil {
		t.Error("the created key was not deleted")
	}
}

// TestUsedIdentifierCannotBeImported (issue 12.8): the identifier of a
// deleted object (here a Create undone) is never taken again: bob's Import
// of it, replacing or not, is Object Already Exists.
func TestUsedIdentifierCannotBeImported(t *testing.T) {
	t.Parallel()
	s, _, _ := newUndoService(t)
	rs := undoBatch(t, s, alice, aesCreate14(128, "gone"), batchItem(kmip.OperationGet, uidItem(trigger)))
	gone, _ := rs[0].payload.Child(kmip.TagUniqueIdentifier).AsText()
	if _, err := s.cfg.Store.Get(context.Background(), gone); err == nil {
		t.Fatal("the undone Create left its object")
	}
	mine := createdID(t, sendOne(t, s, bob, v14, aesCreate14(128, "")))
	exported := mustOK(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationExport, uidItem(mine))))
	exported.Child(kmip.TagUniqueIdentifier).Value = gone
	for _, a := range exported.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Unique Identifier" {
			a.Child(kmip.TagAttributeValue).Value = gone
		}
	}
	for _, replace := range []bool{false, true} {
		mustFail(t, sendOne(t, s, bob, v14, importFrom(v14, exported, replace)), kmip.ResultReasonObjectAlreadyExists)
	}
	if _, err := s.cfg.Store.Get(context.Background(), gone); err == nil {
		t.Fatal("bob took the identifier of a deleted object")
	}
}
