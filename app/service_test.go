package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// fakeCrypto makes AES and 3DES keys of counting bytes; the real engines are
// tested with the crypto contract suite.
type fakeCrypto struct{}

func (fakeCrypto) Name() string { return "fake" }

func (fakeCrypto) GenerateSymmetricKey(_ context.Context, s ports.SymmetricKeySpec) (ports.Key, error) {
	switch kmip.CryptographicAlgorithm(s.Algorithm) {
	case kmip.CryptographicAlgorithmAES:
		if s.Length != 128 && s.Length != 192 && s.Length != 256 {
			return ports.Key{}, ports.ErrInvalidLength
		}
	case kmip.CryptographicAlgorithmDES3:
	default:
		return ports.Key{}, ports.ErrUnsupported
	}
	k := make([]byte, s.Length/8)
	for i := range k {
		k[i] = byte(i)
	}
	return ports.Key{Material: k}, nil
}

func (fakeCrypto) RandomBytes(_ context.Context, n int) ([]byte, error) { return make([]byte, n), nil }

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestCreateGetAndAttributes(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newService(t)
			create := aesCreate14(256, "k1")
			if v.major >= 2 {
				create = aesCreate21(256, "k1")
			}
			id := createdID(t, sendOne(t, s, alice, v, create))
			got := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
			material, ok := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
			if !ok || len(material) != 32 {
				t.Fatalf("Get returned no 32-byte key: %v", got)
			}
			if ot, _ := got.Child(kmip.TagObjectType).AsEnum(); kmip.ObjectType(ot) != kmip.ObjectTypeSymmetricKey {
				t.Errorf("object type %d", ot)
			}
			attrs := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
			values := map[string]*kmip.Item{}
			if v.major >= 2 {
				for _, a := range attrs.Child(kmip.TagAttributes).Children() {
					values[a.Tag.SpecName()] = a
				}
			} else {
				for _, a := range attrs.ChildrenOf(kmip.TagAttribute) {
					n, _ := a.Child(kmip.TagAttributeName).AsText()
					values[n] = a.Child(kmip.TagAttributeValue)
				}
			}
			for _, n := range []string{"Unique Identifier", "Object Type", "Cryptographic Algorithm", "Cryptographic Length",
				"Cryptographic Usage Mask", "Initial Date", "State", "Name", "Digest", "Last Change Date"} {
				if values[n] == nil {
					t.Errorf("attribute %q missing from Get Attributes", n)
				}
			}
			if v.major >= 2 && values["Operation Policy Name"] != nil {
				t.Error("KMIP 2.x has no Operation Policy Name attribute, but it was returned")
			}
			if st, _ := values["State"].AsEnum(); domain.State(st) != domain.PreActive {
				t.Errorf("state %d, want Pre-Active", st)
			}
			if p, _ := values["Operation Policy Name"].AsText(); v.major < 2 && p != "default" {
				t.Errorf("policy %q, want default", p)
			}
			sum := sha256.Sum256(material)
			if d, _ := values["Digest"].Child(kmip.TagDigestValue).AsBytes(); !bytes.Equal(d, sum[:]) {
				t.Error("Digest is not the SHA-256 of the key material")
			}
			// Named selection returns only those.
			var sel *kmip.Item
			if v.major >= 2 {
				sel = batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)))
			} else {
				sel = batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Text(kmip.TagAttributeName, "State"))
			}
			p := mustOK(t, sendOne(t, s, alice, v, sel))
			n := len(p.ChildrenOf(kmip.TagAttribute))
			if v.major >= 2 {
				n = len(p.Child(kmip.TagAttributes).Children())
			}
			if n != 1 {
				t.Errorf("selected 1 attribute, got %d", n)
			}
			list := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributeList, uidItem(id))))
			if len(list.Children()) < 8 {
				t.Errorf("attribute list too short: %v", list)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newService(t)
			wrongState := kmip.ResultReasonPermissionDenied
			destroyedGet := kmip.ResultReasonItemNotFound
			notFound := kmip.ResultReasonItemNotFound
			if v.major >= 2 {
				notFound = kmip.ResultReasonObjectNotFound
				wrongState = kmip.ResultReasonWrongKeyLifecycleState
				destroyedGet = kmip.ResultReasonObjectDestroyed
			}
			id := createdID(t, sendOne(t, s, alice, v, aesCreateIn(v, 128, "")))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(id))))
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(id))), wrongState)
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))), wrongState)
			revoke := func(code kmip.RevocationReasonCode) *kmip.Item {
				return batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
					kmip.Enum(kmip.TagRevocationReasonCode, uint32(code))))
			}
			mustOK(t, sendOne(t, s, alice, v, revoke(kmip.RevocationReasonCodeCessationOfOperation)))
			if st := state(t, s, v, id); st != domain.Deactivated {
				t.Fatalf("after revoke: %s", st)
			}
			// KMIP 1.4 §11.21 (and the reference server): Illegal Operation.
			revokeState := kmip.ResultReasonIllegalOperation
			if v.major >= 2 {
				revokeState = wrongState
			}
			mustFail(t, sendOne(t, s, alice, v, revoke(kmip.RevocationReasonCodeCessationOfOperation)), revokeState)
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
			if st := state(t, s, v, id); st != domain.Destroyed {
				t.Fatalf("after destroy: %s", st)
			}
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))), destroyedGet)
			mustOK(t, sendOne(t, s, alice, v, revoke(kmip.RevocationReasonCodeKeyCompromise)))
			if st := state(t, s, v, id); st != domain.DestroyedCompromised {
				t.Fatalf("compromise after destroy: %s", st)
			}
			// A Pre-Active key revoked for compromise becomes Compromised, then Destroyed Compromised.
			id = createdID(t, sendOne(t, s, alice, v, aesCreateIn(v, 128, "")))
			mustOK(t, sendOne(t, s, alice, v, revoke(kmip.RevocationReasonCodeKeyCompromise)))
			if st := state(t, s, v, id); st != domain.Compromised {
				t.Fatalf("compromise: %s", st)
			}
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
			if st := state(t, s, v, id); st != domain.DestroyedCompromised {
				t.Fatalf("destroy compromised: %s", st)
			}
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem("no-such-id"))), notFound)
		})
	}
}

func TestOwnerIsolation(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "shared-name")))
	for _, op := range []*kmip.Item{
		batchItem(kmip.OperationGet, uidItem(id)), batchItem(kmip.OperationGetAttributes, uidItem(id)),
		batchItem(kmip.OperationActivate, uidItem(id)), batchItem(kmip.OperationDestroy, uidItem(id)),
	} {
		mustFail(t, sendOne(t, s, bob, v14, op), kmip.ResultReasonPermissionDenied)
	}
	byName := batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("shared-name")))
	if ids := mustOK(t, sendOne(t, s, bob, v14, byName)).ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 0 {
		t.Fatalf("bob located alice's key")
	}
	if ids := mustOK(t, sendOne(t, s, alice, v14, byName)).ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 1 {
		t.Fatalf("alice located %d keys", len(ids))
	}
}

func TestBatchPlaceholderAndContinuation(t *testing.T) {
	t.Parallel()
	s := newService(t)
	// Create, then Activate and Get Attributes through the ID Placeholder.
	m := msg(v14, aesCreate14(128, ""), batchItem(kmip.OperationActivate), batchItem(kmip.OperationGetAttributes, kmip.Text(kmip.TagAttributeName, "State")))
	m.Children()[1].Add(kmip.Bytes(kmip.TagUniqueBatchItemID, []byte{1}))
	_, rs := send(t, s, alice, m)
	if len(rs) != 3 {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		mustOK(t, r)
	}
	if st, _ := rs[2].payload.Path(kmip.TagAttribute, kmip.TagAttributeValue).AsEnum(); domain.State(st) != domain.Active {
		t.Fatalf("placeholder chain left state %d", st)
	}
	// Stop (the default): the failing second item ends the batch.
	bad := batchItem(kmip.OperationGet, uidItem("missing"))
	_, rs = send(t, s, alice, msg(v14, aesCreate14(128, ""), bad, aesCreate14(128, "")))
	if len(rs) != 2 || rs[1].reason != kmip.ResultReasonItemNotFound {
		t.Fatalf("stop option: %+v", rs)
	}
	// Continue: every item runs.
	m = msg(v14, bad, aesCreate14(128, ""))
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionContinue)))
	_, rs = send(t, s, alice, m)
	if len(rs) != 2 || rs[1].status != kmip.ResultStatusSuccess {
		t.Fatalf("continue option: %+v", rs)
	}
	// Unique Batch Item IDs are echoed.
	resp, _ := send(t, s, alice, msg(v14, kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(kmip.OperationQuery)),
		kmip.Bytes(kmip.TagUniqueBatchItemID, []byte("abc")), kmip.Struct(kmip.TagRequestPayload))))
	if b, _ := resp.Path(kmip.TagBatchItem, kmip.TagUniqueBatchItemID).AsBytes(); string(b) != "abc" {
		t.Fatal("Unique Batch Item ID not echoed")
	}
}

func TestMessageLevelErrors(t *testing.T) {
	t.Parallel()
	s := newService(t)
	check := func(name string, m *kmip.Item, wantMajor, wantMinor int32, reason kmip.ResultReason) {
		t.Run(name, func(t *testing.T) {
			resp, rs := send(t, s, alice, m)
			pv := resp.Path(kmip.TagResponseHeader, kmip.TagProtocolVersion)
			maj, _ := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
			min, _ := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
			if maj != wantMajor || min != wantMinor {
				t.Errorf("answered in %d.%d, want %d.%d", maj, min, wantMajor, wantMinor)
			}
			if _, ok := resp.Path(kmip.TagResponseHeader, kmip.TagTimeStamp).AsTime(); !ok {
				t.Error("no Time Stamp")
			}
			if reason == 0 {
				mustOK(t, rs[0])
			} else {
				mustFail(t, rs[0], reason)
			}
		})
	}
	query := batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	check("1.5 answered as 1.4", msg(version{1, 5}, query), 1, 4, 0)
	// A major version mismatch is an Invalid Message (KMIP 1.4 §11.1).
	check("3.0 refused", msg(version{3, 0}, query), 2, 1, kmip.ResultReasonInvalidMessage)
	check("1.2 answered as 1.2", msg(version{1, 2}, query), 1, 2, 0)
	check("0.9 refused", msg(version{0, 9}, query), 1, 0, kmip.ResultReasonInvalidMessage)
	bad := msg(v14, query)
	bad.Child(kmip.TagRequestHeader).Child(kmip.TagBatchCount).Value = int32(2)
	check("batch count mismatch", bad, 1, 4, kmip.ResultReasonInvalidMessage)
	check("unknown operation", msg(v14, batchItem(kmip.Operation(0x7777))), 1, 4, kmip.ResultReasonOperationNotSupported)
	check("not a request", kmip.Struct(kmip.TagResponseMessage), 1, 0, kmip.ResultReasonInvalidMessage)
	small := msg(v14, query)
	small.Child(kmip.TagRequestHeader).Add(kmip.Int(kmip.TagMaximumResponseSize, 64))
	check("maximum response size", small, 1, 4, kmip.ResultReasonResponseTooLarge)
	crit := msg(v14, query)
	crit.Children()[1].Add(kmip.Struct(kmip.TagMessageExtension, kmip.Text(kmip.TagVendorIdentification, "acme"),
		kmip.Bool(kmip.TagCriticalityIndicator, true), kmip.Struct(kmip.TagVendorExtension)))
	check("critical extension", crit, 1, 4, kmip.ResultReasonFeatureNotSupported)
	resp := s.HandleUndecodable(context.Background(), context.Canceled)
	if r, _ := resp.Path(kmip.TagBatchItem, kmip.TagResultReason).AsEnum(); kmip.ResultReason(r) != kmip.ResultReasonInvalidMessage {
		t.Errorf("undecodable: reason %d", r)
	}
}

func TestRegisterAndLocate(t *testing.T) {
	t.Parallel()
	s := newService(t)
	secret := []byte("correct horse battery staple")
	reg := batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
		kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Name", nameItem("pw")), attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskDeriveKey)))),
		kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, secret)))))
	sid := createdID(t, sendOne(t, s, alice, v14, reg))
	got := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(sid))))
	if b, _ := got.Path(kmip.TagSecretData, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(b, secret) {
		t.Fatal("secret data changed on the way")
	}
	opaque := batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)),
		kmip.Struct(kmip.TagTemplateAttribute),
		kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000001), kmip.Bytes(kmip.TagOpaqueDataValue, []byte{1, 2, 3})))
	oid := createdID(t, sendOne(t, s, alice, v14, opaque))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationActivate, uidItem(oid))), kmip.ResultReasonIllegalOperation)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)))), kmip.ResultReasonInvalidField)

	// Names are unique (KMIP 1.4 §3.2): the located keys share an Object Group.
	group := attribute1x("Object Group", kmip.Text(0, "loc"))
	inGroup := func(bits int32) *kmip.Item {
		c := aesCreate14(bits, "")
		c.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(group.Clone())
		return c
	}
	var keys []string
	for i := 0; i < 5; i++ {
		keys = append(keys, createdID(t, sendOne(t, s, alice, v14, inGroup(256))))
	}
	createdID(t, sendOne(t, s, alice, v14, inGroup(128)))
	loc := func(v version, items ...*kmip.Item) (ids []string, located int32) {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationLocate, items...)))
		for _, it := range p.ChildrenOf(kmip.TagUniqueIdentifier) {
			id, _ := it.AsText()
			ids = append(ids, id)
		}
		located, _ = p.Child(kmip.TagLocatedItems).AsInt()
		return
	}
	ids, n := loc(v14, group.Clone(), attribute1x("Cryptographic Length", kmip.Int(0, 256)))
	if len(ids) != 5 || n != 5 {
		t.Fatalf("locate group+length: %d ids, located %d", len(ids), n)
	}
	for i := range keys {
		if ids[i] != keys[len(keys)-1-i] {
			t.Fatal("locate order is not newest first (KMIP 2.1 §6.1.29)")
		}
	}
	// Newest first: the 128-bit key, then keys[4], keys[3], ...
	ids, n = loc(v14, group.Clone(), kmip.Int(kmip.TagMaximumItems, 2), kmip.Int(kmip.TagOffsetItems, 1))
	if len(ids) != 2 || n != 6 || ids[0] != keys[4] || ids[1] != keys[3] {
		t.Fatalf("paging: %v located %d", ids, n)
	}
	ids, _ = loc(v14, attribute1x("Object Type", kmip.Enum(0, uint32(kmip.ObjectTypeSecretData))))
	if len(ids) != 1 || ids[0] != sid {
		t.Fatalf("locate by object type: %v", ids)
	}
	ids, _ = loc(v21, kmip.Struct(kmip.TagAttributes, kmip.Enum(kmip.TagState, uint32(kmip.StatePreActive)),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES))))
	if len(ids) != 6 {
		t.Fatalf("locate 2.1 state+algorithm: %d", len(ids))
	}
	ids, _ = loc(v14)
	if len(ids) != 8 {
		t.Fatalf("locate all: %d", len(ids))
	}
}

func TestQueryAndDiscover(t *testing.T) {
	t.Parallel()
	s := newService(t)
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationQuery,
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)),
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryObjects)),
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryServerInformation)))))
	ops := p.ChildrenOf(kmip.TagOperation)
	if len(ops) != len(s.operations(v14)) {
		t.Fatalf("Query lists %d operations, %d are routed for 1.4", len(ops), len(s.operations(v14)))
	}
	for _, it := range ops {
		op, _ := it.AsEnum()
		if !s.offers(kmip.Operation(op)) {
			t.Errorf("Query claims unimplemented %s", kmip.Operation(op))
		}
	}
	if v, _ := p.Child(kmip.TagVendorIdentification).AsText(); v != "kmipd" {
		t.Errorf("vendor %q", v)
	}
	d := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDiscoverVersions)))
	if n := len(d.ChildrenOf(kmip.TagProtocolVersion)); n != len(supportedVersions) {
		t.Errorf("discover all: %d versions", n)
	}
	d = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDiscoverVersions,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 2)),
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 9), kmip.Int(kmip.TagProtocolVersionMinor, 9)))))
	if n := len(d.ChildrenOf(kmip.TagProtocolVersion)); n != 1 {
		t.Errorf("discover 1.2 & 9.9: %d versions", n)
	}
}

func TestInteropAndLog(t *testing.T) {
	t.Parallel()
	s := newService(t)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationInterop,
		kmip.Enum(kmip.TagInteropFunction, uint32(kmip.InteropFunctionBegin)), kmip.Text(kmip.TagInteropIdentifier, "BL-M-1-21"))))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationInterop)), kmip.ResultReasonMissingData)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLog, kmip.Text(kmip.TagLogMessage, "hello"))))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLog)), kmip.ResultReasonMissingData)
}

func TestAttributeChanges(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "a")))
	// Add a second name, then modify and delete it.
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Name", nameItem("b")))))
	if idx, _ := p.Path(kmip.TagAttribute, kmip.TagAttributeIndex).AsInt(); idx != 1 {
		t.Errorf("added name index %d", idx)
	}
	mod := attribute1x("Name", nameItem("c"))
	mod.Add(kmip.Int(kmip.TagAttributeIndex, 1))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), mod)))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Name"), kmip.Int(kmip.TagAttributeIndex, 1))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Name"), kmip.Int(kmip.TagAttributeIndex, 1))), kmip.ResultReasonItemNotFound)
	// Read-only attributes.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), attribute1x("State", kmip.Enum(0, 2)))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationSetAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.Enum(kmip.TagState, 2)))), kmip.ResultReasonAttributeReadOnly)
	// Activation Date may change only while Pre-Active (SKLC-M-3).
	// (A date after the service clock's now: a past one would activate the key at once, KMIP 1.4 §3.22.)
	now := kmip.DateTime(0, time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Activation Date", now))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationActivate, uidItem(id))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), attribute1x("Activation Date", now))), kmip.ResultReasonPermissionDenied)
	// Custom attributes.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-purpose", kmip.Text(0, "backup")))))
	ids := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("x-purpose", kmip.Text(0, "backup"))))).ChildrenOf(kmip.TagUniqueIdentifier)
	if len(ids) != 1 {
		t.Errorf("locate by custom attribute: %d", len(ids))
	}
	// The same attribute is a Vendor Attribute in KMIP 2.x.
	vendor := kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "x"),
		kmip.Text(kmip.TagAttributeName, "purpose"), kmip.Text(kmip.TagAttributeValue, "backup"))
	ids = mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes, vendor)))).ChildrenOf(kmip.TagUniqueIdentifier)
	if len(ids) != 1 {
		t.Errorf("locate by vendor attribute: %d", len(ids))
	}
	p = mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGetAttributes, uidItem(id),
		kmip.Struct(kmip.TagAttributeReference, kmip.Text(kmip.TagVendorIdentification, "x"), kmip.Text(kmip.TagAttributeName, "purpose")))))
	if got := p.Path(kmip.TagAttributes, kmip.TagAttribute); !got.Equal(vendor) {
		t.Errorf("vendor attribute came back as %v", got)
	}
}

// panicStore panics on every call, to prove a handler panic becomes a failed item.
type panicStore struct{ *memStore }

func (*panicStore) Get(context.Context, string) (*domain.Object, error) { panic("boom") }

func TestPanicBecomesGeneralFailure(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: &panicStore{newMemStore()}, Crypto: fakeCrypto{}})
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem("x"))), kmip.ResultReasonGeneralFailure)
}

func TestUndoBatch(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "keep")))
	m := msg(v14, aesCreate14(128, "undone"), batchItem(kmip.OperationActivate, uidItem(id)),
		batchItem(kmip.OperationGet, uidItem("missing")), batchItem(kmip.OperationDestroy, uidItem(id)))
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo)))
	_, rs := send(t, s, alice, m)
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3 (processing stops at the failure)", len(rs))
	}
	// Undone items keep their payload: it is required unless the item
	// failed (KMIP 1.4 §7.3 Table 285; OASIS BL-M-2-21).
	for i := 0; i < 2; i++ {
		if rs[i].status != kmip.ResultStatusOperationUndone || rs[i].payload == nil {
			t.Errorf("item %d: status %s, want Operation Undone with its payload", i, rs[i].status)
		}
	}
	mustFail(t, rs[2], kmip.ResultReasonItemNotFound)
	if st := state(t, s, v14, id); st != domain.PreActive {
		t.Errorf("activation not undone: %s", st)
	}
	ids := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("undone"))))).ChildrenOf(kmip.TagUniqueIdentifier)
	if len(ids) != 0 {
		t.Errorf("created key not undone")
	}
}

func TestPreActiveOnlyAttributeIsAStateError(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationActivate, uidItem(id))))
	mod := batchItem(kmip.OperationModifyAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.DateTime(kmip.TagActivationDate, time.Now())))
	mustFail(t, sendOne(t, s, alice, v21, mod), kmip.ResultReasonWrongKeyLifecycleState)
}
