package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// TestPolicyNameChangesGovernAccess: a client cannot change an object's
// Operation Policy Name after creation (KMIP 1.4 Table 91), and Get
// Attributes reports exactly the policy access checks enforce. Before, Add
// and Set Attribute answered Success and stored a second, reported but
// unenforced, Operation Policy Name: an owner "withdrawing" a group's access
// saw the new name while the group still read the key.
func TestPolicyNameChangesGovernAccess(t *testing.T) {
	// "shared": owners may read and change attributes, group "readers" may Get.
	shared := sharedPolicy()
	for _, op := range []kmip.Operation{kmip.OperationAddAttribute, kmip.OperationModifyAttribute,
		kmip.OperationDeleteAttribute, kmip.OperationSetAttribute, kmip.OperationGetAttributes} {
		shared.Preset[symKey][uint32(op)] = domain.AllowOwner
	}
	policies := mapPolicies{"shared": shared}
	reader := domain.Principal{Name: "rita", Groups: []string{"readers"}, HasGroupInfo: true}
	opn := func(v string) *kmip.Item { return attr14("Operation Policy Name", kmip.Text(0, v)) }
	check := func(t *testing.T, s *Service, id, want string) {
		t.Helper()
		got := attrs14(t, s, id)["Operation Policy Name"]
		if len(got) != 1 {
			t.Fatalf("Get Attributes reports %d Operation Policy Names, want 1: %v", len(got), got)
		}
		if v, _ := got[0].AsText(); v != want {
			t.Errorf("Get Attributes reports Operation Policy Name %q, want %q", v, want)
		}
		r := one(t, s, reader, v14, bi(kmip.OperationGet, uidItem(id)))
		if want == "shared" {
			mustOK(t, r)
		} else {
			mustFail(t, r, kmip.ResultReasonPermissionDenied)
		}
	}

	// KMIP 1.4 Table 91: set at creation by the client or the server, not
	// modifiable or deletable by the client; it always has a value, so an
	// Add Attribute finds it present.
	for _, tc := range []struct {
		name string
		v    version
		item func(id string) *kmip.Item
		want kmip.ResultReason
	}{
		{"modify", v14, func(id string) *kmip.Item {
			return bi(kmip.OperationModifyAttribute, uidItem(id), opn("default"))
		}, kmip.ResultReasonPermissionDenied},
		{"add", v14, func(id string) *kmip.Item {
			return bi(kmip.OperationAddAttribute, uidItem(id), opn("default"))
		}, kmip.ResultReasonIllegalOperation},
		{"delete", v14, func(id string) *kmip.Item {
			return bi(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Operation Policy Name"))
		}, kmip.ResultReasonPermissionDenied},
		{"set", v21, func(id string) *kmip.Item {
			return bi(kmip.OperationSetAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.Text(kmip.TagOperationPolicyName, "default")))
		}, kmip.ResultReasonAttributeReadOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newPolicyService(t, policies)
			id := createWithPolicy(t, s, alice, "shared")
			check(t, s, id, "shared")
			mustFail(t, one(t, s, alice, tc.v, tc.item(id)), tc.want)
			check(t, s, id, "shared")
		})
	}
}
