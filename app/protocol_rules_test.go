package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// KMIP 1.4 §4 "ID Placeholder": only Create, Register, Locate ... set it; a
// Get of another object must not redirect later items.
func TestIDPlaceholderComesOnlyFromCreatingOperations(t *testing.T) {
	t.Parallel()
	s := newService(t)
	other := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "other")))
	_, rs := send(t, s, alice, msg(v14, aesCreate14(128, "new"), batchItem(kmip.OperationGet, uidItem(other)), batchItem(kmip.OperationActivate)))
	if len(rs) != 3 {
		t.Fatalf("%d results", len(rs))
	}
	created := createdID(t, rs[0])
	mustOK(t, rs[2])
	if st := state(t, s, v14, created); st != domain.Active {
		t.Errorf("created key is %s, want Active through the ID Placeholder", st)
	}
	if st := state(t, s, v14, other); st != domain.PreActive {
		t.Errorf("the key read by Get was activated (%s): Get changed the ID Placeholder", st)
	}
}

// KMIP 1.4 §4.9: a Locate returning one identifier sets the ID Placeholder;
// one matching several objects empties it, so later items fail.
func TestLocateSetsOrEmptiesIDPlaceholder(t *testing.T) {
	t.Parallel()
	s := newService(t)
	// Names are unique (KMIP 1.4 §3.2): the twins share an Object Group.
	twin := attribute1x("Object Group", kmip.Text(0, "twin"))
	a := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", twin)))
	createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", twin.Clone())))
	solo := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "solo")))

	_, rs := send(t, s, alice, msg(v14, aesCreate14(128, ""), batchItem(kmip.OperationLocate, twin.Clone()), batchItem(kmip.OperationActivate)))
	if len(rs) != 3 || rs[2].status == kmip.ResultStatusSuccess {
		t.Fatalf("Activate after a Locate matching two objects ran: %+v", rs)
	}
	if st := state(t, s, v14, a); st != domain.PreActive {
		t.Errorf("first located key activated")
	}
	_, rs = send(t, s, alice, msg(v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("solo"))), batchItem(kmip.OperationActivate)))
	mustOK(t, rs[1])
	if st := state(t, s, v14, solo); st != domain.Active {
		t.Errorf("uniquely located key is %s, want Active", st)
	}
}

// KMIP 2.1 §4.58, §11.58: a 2.x Unique Identifier may be the ID Placeholder
// enumeration or name the operation whose result it means.
func TestUniqueIdentifierEnumeration(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ph := kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder))
	byCreate := kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierCreate))
	_, rs := send(t, s, alice, msg(v21, aesCreate21(128, ""), batchItem(kmip.OperationActivate, ph),
		batchItem(kmip.OperationGetAttributes, byCreate, kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)))))
	if len(rs) != 3 {
		t.Fatalf("%d results: %+v", len(rs), rs)
	}
	mustOK(t, rs[1])
	if st, _ := mustOK(t, rs[2]).Path(kmip.TagAttributes, kmip.TagState).AsEnum(); domain.State(st) != domain.Active {
		t.Errorf("state %d through the enumerated identifiers", st)
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationActivate, ph)), kmip.ResultReasonMissingData)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationActivate, ph)), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem("a"), uidItem("b"))), kmip.ResultReasonInvalidMessage)
}

// KMIP 1.4 §7.2 Table 283: Unique Batch Item ID is required when Batch
// Count > 1; it correlates items with responses, so it must be unique.
func TestMultiItemBatchNeedsUniqueBatchItemIDs(t *testing.T) {
	t.Parallel()
	s := newService(t)
	q := func() *kmip.Item { return batchItem(kmip.OperationQuery) }
	for name, m := range map[string]*kmip.Item{
		"missing":   rawMsg(v14, withID(q(), "a"), q()),
		"duplicate": rawMsg(v14, withID(q(), "a"), withID(q(), "a")),
	} {
		_, rs := send(t, s, alice, m)
		if len(rs) != 1 {
			t.Fatalf("%s: %d results, want one message-level failure", name, len(rs))
		}
		mustFail(t, rs[0], kmip.ResultReasonInvalidMessage)
	}
	mustOK(t, sendOne(t, s, alice, v14, q())) // a single item needs none
	_, rs := send(t, s, alice, rawMsg(v14, withID(q(), "a"), withID(q(), "b")))
	if len(rs) != 2 {
		t.Fatalf("distinct IDs: %d results", len(rs))
	}
}

// Set Attribute, Log and Interop are KMIP 2.x operations: a 1.x request for
// them is Operation Not Supported, and 1.x Query does not list them.
func TestOperationsOfTheRequestVersion(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSetAttribute, uidItem(id), attribute1x("Contact Information", kmip.Text(0, "x")))),
		kmip.ResultReasonOperationNotSupported)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLog, kmip.Text(kmip.TagLogMessage, "x"))), kmip.ResultReasonOperationNotSupported)
	listed := func(v version) bool {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))))
		for _, it := range p.ChildrenOf(kmip.TagOperation) {
			if op, _ := it.AsEnum(); kmip.Operation(op) == kmip.OperationSetAttribute {
				return true
			}
		}
		return false
	}
	if listed(v14) || !listed(v21) {
		t.Errorf("Query lists Set Attribute in 1.4: %v, in 2.1: %v; want false, true", listed(v14), listed(v21))
	}
}

// KMIP 2.1 error tables: Object Not Found, Invalid Object Type, Object Destroyed.
func TestKMIP2ResultReasons(t *testing.T) {
	t.Parallel()
	s := newService(t)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem("AAABBBCCC"))), kmip.ResultReasonObjectNotFound)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem("AAABBBCCC"))), kmip.ResultReasonItemNotFound)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)))),
		kmip.ResultReasonInvalidObjectType)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		kmip.Struct(kmip.TagTemplate))), kmip.ResultReasonInvalidObjectType)
	opaque := func(v version) string {
		return createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)),
			kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000001), kmip.Bytes(kmip.TagOpaqueDataValue, []byte{1})))))
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationActivate, uidItem(opaque(v21)))), kmip.ResultReasonInvalidObjectType)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationActivate, uidItem(opaque(v14)))), kmip.ResultReasonIllegalOperation)
	for _, v := range []version{v14, v21} {
		id := createdID(t, sendOne(t, s, alice, v, aesCreateIn(v, 128, "")))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
		want := kmip.ResultReasonPermissionDenied // 1.4 §11.22
		if v.major >= 2 {
			want = kmip.ResultReasonObjectDestroyed // 2.1 §6.1.15.1
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))), want)
	}
}

// Values of the wrong item type, or enumeration values that do not exist,
// are refused with Invalid Field instead of being stored (KMIP 1.4 §11.2,
// §11.4 "Incorrect attribute value(s) specified").
func TestAttributeValueTypes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ot := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))
	length := attribute1x("Cryptographic Length", kmip.Int(0, 128))
	mask := attribute1x("Cryptographic Usage Mask", kmip.Int(0, 12))
	secret := kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
		kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("pw")))))
	register := func(a *kmip.Item) *kmip.Item {
		return batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
			kmip.Struct(kmip.TagTemplateAttribute, a), secret.Clone())
	}
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	cases := map[string]struct {
		v    version
		item *kmip.Item
	}{
		"algorithm as text": {v14, batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Text(0, "AES")), length, mask))},
		"unknown algorithm": {v14, batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, 0x7777)), length, mask))},
		"2.x length as enumeration": {v21, batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Enum(kmip.TagCryptographicLength, 128), kmip.Int(kmip.TagCryptographicUsageMask, 12)))},
		"usage mask as text":  {v14, register(attribute1x("Cryptographic Usage Mask", kmip.Text(0, "Encrypt")))},
		"name value integer":  {v14, register(attribute1x("Name", kmip.Struct(0, kmip.Int(kmip.TagNameValue, 1))))},
		"activation as bytes": {v14, register(attribute1x("Activation Date", kmip.Bytes(0, []byte{1})))},
		"add: name type text": {v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Name",
			kmip.Struct(0, kmip.Text(kmip.TagNameValue, "n"), kmip.Text(kmip.TagNameType, "x"))))},
		"locate: object type text": {v14, batchItem(kmip.OperationLocate, attribute1x("Object Type", kmip.Text(0, "SymmetricKey")))},
		"get: key format text":     {v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Text(kmip.TagKeyFormatType, "Raw"))},
		"revoke: unknown reason": {v14, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, 99)))},
		"delete: index as text": {v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Name"),
			kmip.Text(kmip.TagAttributeIndex, "0"))},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { mustFail(t, sendOne(t, s, alice, tc.v, tc.item), kmip.ResultReasonInvalidField) })
	}
	// A 2.x Vendor Attribute without a value is not something to add.
	vendor := kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "x"), kmip.Text(kmip.TagAttributeName, "y"))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationAddAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, vendor))),
		kmip.ResultReasonMissingData)
	if got := attrs14(t, s, id); len(got["Name"]) != 0 || len(got["x-y"]) != 0 {
		t.Errorf("a refused attribute was stored: %v", got)
	}
}

// The attribute operations' Result Reasons: KMIP 1.4 §11.13-§11.17 and
// KMIP 2.1 §6.1.2, §6.1.13, §6.1.34 with the 2.x reasons' definitions.
func TestAttributeOperationReasons(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "a")))
	contact := func(v string) *kmip.Item { return attribute1x("Contact Information", kmip.Text(0, v)) }

	// KMIP 1.x.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), contact("x"))), kmip.ResultReasonInvalidField)
	idx := attribute1x("Name", nameItem("z"))
	idx.Add(kmip.Int(kmip.TagAttributeIndex, 5))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), idx)), kmip.ResultReasonItemNotFound)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), idx.Clone())), kmip.ResultReasonInvalidField)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), contact("x"))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), contact("y"))), kmip.ResultReasonIllegalOperation)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Description"))),
		kmip.ResultReasonItemNotFound)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGetAttributes, uidItem(id),
		kmip.Text(kmip.TagAttributeName, "State"), kmip.Text(kmip.TagAttributeName, "State"))), kmip.ResultReasonInvalidMessage)

	// KMIP 2.x.
	newAttr := func(it *kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagNewAttribute, it) }
	curAttr := func(it *kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagCurrentAttribute, it) }
	desc := kmip.Text(kmip.TagDescription, "d")
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), newAttr(desc))), kmip.ResultReasonAttributeNotFound)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDeleteAttribute, uidItem(id), curAttr(desc))), kmip.ResultReasonAttributeNotFound)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), curAttr(nameItem("nope")), newAttr(nameItem("b")))),
		kmip.ResultReasonAttributeInstanceNotFound)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), newAttr(nameItem("b"))))) // the only Name
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationAddAttribute, uidItem(id), newAttr(nameItem("c")))))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), newAttr(nameItem("d")))),
		kmip.ResultReasonAttributeInstanceNotFound) // two Names: which one?
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDeleteAttribute, uidItem(id), curAttr(nameItem("nope")))),
		kmip.ResultReasonAttributeInstanceNotFound)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagName)))))
	if n := len(attrs14(t, s, id)["Name"]); n != 0 {
		t.Errorf("Delete Attribute by reference left %d of 2 Names", n)
	}
}

// An Opaque Object has no usage lifecycle: it cannot be revoked (the
// reference's "not revokable (e.g., opaque data object)"), but it can be destroyed.
func TestOpaqueObjectRevokeAndDestroy(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)),
		kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000001), kmip.Bytes(kmip.TagOpaqueDataValue, []byte{1})))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))), kmip.ResultReasonIllegalOperation)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonItemNotFound)
}

// The response header echoes the Client Correlation Value from KMIP 1.4 on
// (KMIP 1.4 §6.18), and not to older clients, which do not know the field.
func TestClientCorrelationValueEchoed(t *testing.T) {
	t.Parallel()
	s := newService(t)
	for _, v := range []version{{1, 2}, v14, v21} {
		m := msg(v, batchItem(kmip.OperationDiscoverVersions))
		hdr := m.Child(kmip.TagRequestHeader)
		kids := hdr.Children()
		// The header's field order: Protocol Version, Client Correlation Value, ..., Batch Count.
		hdr.Value = append([]*kmip.Item{kids[0], kmip.Text(kmip.TagClientCorrelationValue, "step=7")}, kids[1:]...)
		resp, _ := send(t, s, alice, m)
		got, ok := resp.Path(kmip.TagResponseHeader, kmip.TagClientCorrelationValue).AsText()
		if v.atLeast(1, 4) && (!ok || got != "step=7") {
			t.Errorf("%s: Client Correlation Value %q not echoed", v, got)
		}
		if !v.atLeast(1, 4) && ok {
			t.Errorf("%s: Client Correlation Value sent to a client that predates it", v)
		}
	}
}
