package app

// KMIP 2.0 answered as its own specification says where it differs from
// 2.1: the Result Reasons its error tables list, and request fields it
// does not define.

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

var v20 = version{2, 0}

// activeKey creates an AES key at version v and activates it, so its
// Activation Date (a Pre-Active-only attribute) can no longer change.
func activeKey(t *testing.T, s *Service, v version) string {
	t.Helper()
	create := aesCreate21(128, "")
	if v.major < 2 {
		create = aesCreate14(128, "")
	}
	id := createdID(t, sendOne(t, s, alice, v, create))
	mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(id))))
	return id
}

// attrChangeRequests are the attribute changes of version v that the
// lifecycle state of an Active key refuses: each touches its Activation
// Date. Set and Adjust Attribute are KMIP 2.x operations.
func attrChangeRequests(v version, id string) map[string]*kmip.Item {
	later := kmip.DateTime(kmip.TagActivationDate, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if v.major < 2 {
		return map[string]*kmip.Item{
			"Modify Attribute": batchItem(kmip.OperationModifyAttribute, uidItem(id), attribute1x("Activation Date", later)),
			"Delete Attribute": batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Activation Date")),
		}
	}
	ref := kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagActivationDate))
	return map[string]*kmip.Item{
		"Modify Attribute": batchItem(kmip.OperationModifyAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, later)),
		"Delete Attribute": batchItem(kmip.OperationDeleteAttribute, uidItem(id), ref),
		"Set Attribute":    batchItem(kmip.OperationSetAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, later)),
		"Adjust Attribute": batchItem(kmip.OperationAdjustAttribute, uidItem(id), ref,
			kmip.Enum(kmip.TagAdjustmentType, uint32(kmip.AdjustmentTypeIncrement)),
			kmip.Interval(kmip.TagAdjustmentValue, 3600)),
	}
}

// A change of attributes the object's lifecycle state forbids is Wrong Key
// Lifecycle State in KMIP 2.1 (its Add, Adjust, Delete, Modify and Set
// Attribute error tables list it), Permission Denied in 2.0 (whose tables
// do not) and in 1.4 (§11.16-11.17 "Permission Denied").
func TestAttrChangeRefusedByStateByVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    version
		want kmip.ResultReason
	}{
		{v14, kmip.ResultReasonPermissionDenied},
		{v20, kmip.ResultReasonPermissionDenied},
		{v21, kmip.ResultReasonWrongKeyLifecycleState},
	} {
		s := newService(t)
		id := activeKey(t, s, c.v)
		for op, req := range attrChangeRequests(c.v, id) {
			r := sendOne(t, s, alice, c.v, req)
			if r.status != kmip.ResultStatusOperationFailed || r.reason != c.want {
				t.Errorf("%s of an Active key's Activation Date at %s: %s %s, want %s", op, c.v, r.status, r.reason, c.want)
			}
		}
	}
}

// A KMIP 2.1 tag (0x420166 on) in a 2.0 request is refused with Unknown
// Tag, at any depth, and read at 2.1.
func TestNewerTagRefusedAt20(t *testing.T) {
	t.Parallel()
	rotate := kmip.Interval(kmip.TagRotateInterval, 86400)
	create := func() *kmip.Item {
		return batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			kmip.Struct(kmip.TagAttributes,
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128),
				kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt)),
				rotate))
	}
	s := newService(t)
	mustFail(t, sendOne(t, s, alice, v20, create()), kmip.ResultReasonUnknownTag)
	createdID(t, sendOne(t, s, alice, v21, create()))

	// A top-level payload field too: Locate's Object Groups (2.1).
	locate := batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes),
		kmip.Struct(kmip.TagObjectGroups, kmip.Text(kmip.TagObjectGroup, "g")))
	mustFail(t, sendOne(t, s, alice, v20, locate), kmip.ResultReasonUnknownTag)
}

// An Attribute Reference naming a 2.1 attribute in a 2.0 request is an
// enumeration value 2.0 does not define: Unknown Enumeration; 2.1 reads it.
func TestNewerAttributeReferenceRefusedAt20(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	get := batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagRotateInterval)))
	mustFail(t, sendOne(t, s, alice, v20, get), kmip.ResultReasonUnknownEnumeration)
	mustOK(t, sendOne(t, s, alice, v21, get))

	// 2.0's own fields stay accepted: the last 2.0 tag, a 2.0 reference.
	get20 := batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)))
	mustOK(t, sendOne(t, s, alice, v20, get20))
}

// A tag no version allocated (past the 2.1 table) is Unknown Tag at 2.0.
func TestUnallocatedTagRefusedAt20(t *testing.T) {
	t.Parallel()
	s := newService(t)
	_, rs := send(t, s, alice, msg(v20, batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes), kmip.Text(kmip.Tag(0x42FF01), "x"))))
	mustFail(t, rs[0], kmip.ResultReasonUnknownTag)
}
