package attacker

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// aes2x is a KMIP 2.x Create payload of a 128-bit AES key with extra
// attributes.
func aes2x(extra ...*kmip.Item) []*kmip.Item {
	attrs := kmip.Struct(kmip.TagAttributes,
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128),
		kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt)))
	attrs.Add(extra...)
	return []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), attrs}
}

// A KMIP 2.0 client cannot smuggle a field 2.0 does not define past the
// real binary: a 2.1 tag (Rotate Interval) or a tag no version allocated
// is Unknown Tag over the wire, and nothing is created; the same request
// at 2.1 is read. And a 2.0 client is answered with 2.0's Result Reason
// for an attribute change the key's state forbids (Permission Denied),
// a 2.1 client with 2.1's (Wrong Key Lifecycle State).
func TestKMIP20FieldsAndReasonsOverTheWire(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c20, c21 := srv.Dial(t, "alice", 2, 0), srv.Dial(t, "alice", 2, 1)

	rotate := kmip.Interval(kmip.TagRotateInterval, 86400)
	if _, err := c20.Call(kmip.OperationCreate, aes2x(rotate)...); reason(err) != kmip.ResultReasonUnknownTag {
		t.Errorf("2.0 Create with Rotate Interval: %v, want Unknown Tag", err)
	}
	unallocated := kmip.Text(kmip.Tag(0x42FF01), "x")
	if _, err := c20.Call(kmip.OperationCreate, aes2x(unallocated)...); reason(err) != kmip.ResultReasonUnknownTag {
		t.Errorf("2.0 Create with tag 0x42FF01: %v, want Unknown Tag", err)
	}
	located := harness.Call(t, c21, kmip.OperationLocate, kmip.Struct(kmip.TagAttributes))
	if n := len(located.ChildrenOf(kmip.TagUniqueIdentifier)); n != 0 {
		t.Errorf("refused 2.0 Creates made %d objects", n)
	}
	harness.Call(t, c21, kmip.OperationCreate, aes2x(rotate)...)

	out := harness.Call(t, c21, kmip.OperationCreate, aes2x()...)
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	harness.Call(t, c21, kmip.OperationActivate, uid(id))
	change := kmip.Struct(kmip.TagNewAttribute,
		kmip.DateTime(kmip.TagActivationDate, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	if _, err := c20.Call(kmip.OperationModifyAttribute, uid(id), change); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("2.0 Modify Attribute of an Active key's Activation Date: %v, want Permission Denied", err)
	}
	if _, err := c21.Call(kmip.OperationModifyAttribute, uid(id), change); reason(err) != kmip.ResultReasonWrongKeyLifecycleState {
		t.Errorf("2.1 Modify Attribute of an Active key's Activation Date: %v, want Wrong Key Lifecycle State", err)
	}
}
