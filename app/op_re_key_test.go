package app

import (
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// TestReKey14 follows KMIP 1.4 §4.4 and TC-REKEY-1-10.
func TestReKey14(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	now := clk.Now()
	old := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("orig", dateAttr14("Activation Date", now.Add(-time.Hour)))))
	_, rs := send(t, s, alice, msg(v14,
		batchItem(kmip.OperationReKey, uidItem(old), kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Name", nameItem("second")))),
		batchItem(kmip.OperationGetAttributes, kmip.Text(kmip.TagAttributeName, "Name"), kmip.Text(kmip.TagAttributeName, "State"))))
	repl := createdID(t, rs[0])
	if repl == old {
		t.Fatal("Re-key returned the existing key")
	}
	got := mustOK(t, rs[1])
	if id, _ := got.Child(kmip.TagUniqueIdentifier).AsText(); id != repl {
		t.Fatalf("ID Placeholder after Re-key is %q, want the replacement", id)
	}
	var names []string
	for _, a := range got.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Name" {
			v, _ := a.Path(kmip.TagAttributeValue, kmip.TagNameValue).AsText()
			names = append(names, v)
		}
	}
	if strings.Join(names, ",") != "orig,second" {
		t.Fatalf("replacement names %v, want orig,second", names)
	}
	if st := state(t, s, v14, repl); st != domain.Active {
		t.Fatalf("replacement with the existing past Activation Date is %s", st)
	}
	oa := attrs14(t, s, old)
	if len(oa["Name"]) != 0 {
		t.Fatalf("existing key kept its names: %v", oa["Name"])
	}
	if !hasLink(oa["Link"], kmip.LinkTypeReplacementObjectLink, repl) {
		t.Fatal("existing key has no Replacement Object Link")
	}
	if !hasLink(attrs14(t, s, repl)["Link"], kmip.LinkTypeReplacedObjectLink, old) {
		t.Fatal("replacement has no Replaced Object Link")
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(repl))))

	// An Offset with an Activation Date is Invalid Message (1.4 §11.5);
	// with an offset the replacement activates at Initial Date + Offset.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(repl), kmip.Interval(kmip.TagOffset, 60),
		kmip.Struct(kmip.TagTemplateAttribute, dateAttr14("Activation Date", now)))), kmip.ResultReasonInvalidMessage)
	r2 := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(repl), kmip.Interval(kmip.TagOffset, 3600))))
	if ad, _ := attrs14(t, s, r2)["Activation Date"][0].AsTime(); !ad.Equal(now.Add(time.Hour)) {
		t.Fatalf("offset activation date %v", ad)
	}
	if st := state(t, s, v14, r2); st != domain.PreActive {
		t.Fatalf("replacement activating in an hour is %s", st)
	}
	// A key without an Activation Date cannot take an Offset.
	plain := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(plain), kmip.Interval(kmip.TagOffset, 60))), kmip.ResultReasonIllegalOperation)
	// Only symmetric keys are re-keyed; other users' keys are not.
	opaque := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)),
		kmip.Struct(kmip.TagTemplateAttribute), kmip.Struct(kmip.TagOpaqueObject,
			kmip.Enum(kmip.TagOpaqueDataType, 0x80000001), kmip.Bytes(kmip.TagOpaqueDataValue, []byte("x"))))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(opaque))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(opaque))), kmip.ResultReasonInvalidObjectType)
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationReKey, uidItem(plain))), kmip.ResultReasonPermissionDenied)
	// A destroyed key has no key value to replace.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(plain))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(plain))), kmip.ResultReasonKeyValueNotPresent)
}

// Re-key records the rotation (KMIP 2.1 §4.49-4.52): the replacement is
// the latest of its set, one generation later, with a Rotate Date; the
// existing key is no longer the latest; a client-given Rotate Name is kept.
func TestReKeyRecordsRotation(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	name := kmip.Struct(kmip.TagRotateName, kmip.Text(kmip.TagRotateNameValue, "db-master"),
		kmip.Enum(kmip.TagRotateNameType, uint32(kmip.RotateNameTypeUninterpretedTextString)))
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt), name)
	first := createdID(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(id))))
	second := createdID(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(first))))
	for _, c := range []struct {
		id     string
		gen    int32
		latest bool
	}{{first, 1, false}, {second, 2, true}} {
		if g, _ := getAttr21(t, s, c.id, kmip.TagRotateGeneration).AsInt(); g != c.gen {
			t.Errorf("Rotate Generation %d, want %d", g, c.gen)
		}
		if l, _ := getAttr21(t, s, c.id, kmip.TagRotateLatest).AsBool(); l != c.latest {
			t.Errorf("Rotate Latest %v, want %v", l, c.latest)
		}
		if _, ok := getAttr21(t, s, c.id, kmip.TagRotateDate).AsTime(); !ok {
			t.Error("no Rotate Date")
		}
		if v, _ := getAttr21(t, s, c.id, kmip.TagRotateName).Child(kmip.TagRotateNameValue).AsText(); v != "db-master" {
			t.Errorf("Rotate Name %q not carried to the replacement", v)
		}
	}
	if l, _ := getAttr21(t, s, id, kmip.TagRotateLatest).AsBool(); l {
		t.Error("the original key is still the latest")
	}
	// The server sets the rotation record; a client may not.
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationSetAttribute, uidItem(second),
		kmip.Struct(kmip.TagNewAttribute, kmip.Int(kmip.TagRotateGeneration, 7)))), kmip.ResultReasonAttributeReadOnly)
}
