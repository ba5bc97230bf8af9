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
		}, kmip.ResultReasonInvalidAttribute}, // KMIP 2.x has no Operation Policy Name
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

// TestReKeyByNonOwnerKeepsPolicy: the replacement key of a Re-key belongs to
// the existing key's owner, so a client allowed to re-key someone else's key
// cannot give the replacement another operation policy — one under which it
// may Get keys — and so read the key the owner will go on using. The owner
// may still choose one, as when creating a key.
func TestReKeyByNonOwnerKeepsPolicy(t *testing.T) {
	rekey, get := uint32(kmip.OperationReKey), uint32(kmip.OperationGet)
	policies := mapPolicies{
		// "ops" members may re-key, not read, keys under "rotated".
		"rotated": {Name: "rotated",
			Preset: domain.Rules{symKey: {rekey: domain.AllowOwner, get: domain.AllowOwner}},
			Groups: map[string]domain.Rules{"ops": {symKey: {rekey: domain.AllowAll}}}},
		// "ops" members may read keys under "team".
		"team": {Name: "team", Groups: map[string]domain.Rules{"ops": {symKey: {get: domain.AllowAll}}}},
	}
	s := newPolicyService(t, policies)
	op := domain.Principal{Name: "oscar", Groups: []string{"ops"}, HasGroupInfo: true}
	opn := func(v string) *kmip.Item {
		return kmip.Struct(kmip.TagTemplateAttribute, attr14("Operation Policy Name", kmip.Text(0, v)))
	}
	id := createWithPolicy(t, s, alice, "rotated")
	mustFail(t, one(t, s, op, v14, bi(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)

	r := one(t, s, op, v14, bi(kmip.OperationReKey, uidItem(id), opn("team")))
	if r.status == kmip.ResultStatusSuccess {
		repl := createdID(t, r)
		mustFail(t, one(t, s, op, v14, bi(kmip.OperationGet, uidItem(repl))), kmip.ResultReasonPermissionDenied)
	} else {
		mustFail(t, r, kmip.ResultReasonPermissionDenied)
	}
	// Re-keying without naming a policy, or naming the same one, is allowed.
	repl := createdID(t, one(t, s, op, v14, bi(kmip.OperationReKey, uidItem(id), opn("rotated"))))
	obj, err := s.cfg.Store.Get(t.Context(), repl)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Owner != "alice" || obj.Policy != "rotated" {
		t.Errorf("replacement owned by %q under %q, want alice under rotated", obj.Owner, obj.Policy)
	}
	mustFail(t, one(t, s, op, v14, bi(kmip.OperationGet, uidItem(repl))), kmip.ResultReasonPermissionDenied)
	// The owner may choose the replacement's policy.
	mine := createdID(t, one(t, s, alice, v14, bi(kmip.OperationReKey, uidItem(repl), opn("team"))))
	mustOK(t, one(t, s, op, v14, bi(kmip.OperationGet, uidItem(mine))))
}
