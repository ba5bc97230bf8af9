package domain

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestDefaultPolicyMatchesReferenceTable(t *testing.T) {
	p := DefaultPolicy()
	owner := Principal{Name: "alice"}
	other := Principal{Name: "bob"}
	cases := []struct {
		ot      kmip.ObjectType
		op      kmip.Operation
		who     Principal
		allowed bool
	}{
		// Certificates: readable by everyone, changed by the owner.
		{kmip.ObjectTypeCertificate, kmip.OperationGet, other, true},
		{kmip.ObjectTypeCertificate, kmip.OperationLocate, other, true},
		{kmip.ObjectTypeCertificate, kmip.OperationDestroy, other, false},
		{kmip.ObjectTypeCertificate, kmip.OperationDestroy, owner, true},
		// Symmetric keys: owner only.
		{kmip.ObjectTypeSymmetricKey, kmip.OperationGet, owner, true},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationGet, other, false},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationLocate, other, false},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationActivate, owner, true},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationRevoke, other, false},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationDestroy, owner, true},
		{kmip.ObjectTypeSymmetricKey, kmip.OperationGetUsageAllocation, owner, true},
		// Public keys: readable by everyone.
		{kmip.ObjectTypePublicKey, kmip.OperationGetAttributes, other, true},
		{kmip.ObjectTypePublicKey, kmip.OperationObtainLease, other, true},
		{kmip.ObjectTypePublicKey, kmip.OperationModifyAttribute, other, false},
		// Secret data and opaque data: owner only.
		{kmip.ObjectTypeSecretData, kmip.OperationModifyAttribute, owner, true},
		{kmip.ObjectTypeSecretData, kmip.OperationGet, other, false},
		{kmip.ObjectTypeOpaqueObject, kmip.OperationGet, owner, true},
		{kmip.ObjectTypeOpaqueObject, kmip.OperationGet, other, false},
		// Templates have no Activate rule: nothing written means Disallow All.
		{kmip.ObjectTypeTemplate, kmip.OperationActivate, owner, false},
		{kmip.ObjectTypeTemplate, kmip.OperationGet, owner, true},
		// Operations no rule mentions are refused even to the owner.
		{kmip.ObjectTypeSymmetricKey, kmip.OperationCreateKeyPair, owner, false},
		// An anonymous principal never matches an owner.
		{kmip.ObjectTypeSymmetricKey, kmip.OperationGet, Principal{}, false},
	}
	for _, c := range cases {
		owner := "alice"
		if c.who.Name == "" {
			owner = ""
		}
		err := p.Allowed(c.who, owner, uint32(c.ot), uint32(c.op))
		if c.allowed != (err == nil) {
			t.Errorf("%s %s by %q: err=%v, want allowed=%v", c.ot, c.op, c.who.Name, err, c.allowed)
		}
		if err != nil && !errors.Is(err, ErrPermissionDenied) {
			t.Errorf("refusal is not ErrPermissionDenied: %v", err)
		}
	}
}

func TestPublicPolicy(t *testing.T) {
	p := PublicPolicy()
	anyone := Principal{Name: "carol"}
	if p.Allowed(anyone, "alice", uint32(kmip.ObjectTypeTemplate), uint32(kmip.OperationGet)) != nil {
		t.Error("public template Get refused")
	}
	if p.Allowed(Principal{Name: "alice"}, "alice", uint32(kmip.ObjectTypeTemplate), uint32(kmip.OperationDestroy)) == nil {
		t.Error("public template Destroy allowed even to its owner")
	}
	if p.Allowed(anyone, "alice", uint32(kmip.ObjectTypeSymmetricKey), uint32(kmip.OperationGet)) == nil {
		t.Error("public policy says nothing of symmetric keys but allowed Get")
	}
}

func TestGroupRules(t *testing.T) {
	ot, get, destroy := uint32(kmip.ObjectTypeCertificate), uint32(kmip.OperationGet), uint32(kmip.OperationDestroy)
	p := &Policy{Name: "example",
		Preset: Rules{ot: {destroy: DisallowAll, get: AllowOwner}},
		Groups: map[string]Rules{
			"group_A": {ot: {get: AllowAll, destroy: AllowAll}},
			"group_B": {ot: {get: AllowAll, destroy: DisallowAll}},
		}}
	both := Principal{Name: "u", Groups: []string{"group_B", "group_A"}, HasGroupInfo: true}
	if p.Permission(both, ot, destroy) != AllowAll {
		t.Error("most permissive rule across groups not applied")
	}
	onlyB := Principal{Name: "u", Groups: []string{"group_B"}, HasGroupInfo: true}
	if p.Permission(onlyB, ot, destroy) != DisallowAll {
		t.Error("group_B may not destroy")
	}
	noGroups := Principal{Name: "u"}
	if p.Permission(noGroups, ot, get) != AllowOwner {
		t.Error("without group info the preset rules apply")
	}
	groupsOnly := &Policy{Groups: p.Groups}
	if groupsOnly.Permission(noGroups, ot, get) != DisallowAll {
		t.Error("only groups defined and no group info must be Disallow All")
	}
	presetOnly := &Policy{Preset: p.Preset}
	if presetOnly.Permission(onlyB, ot, get) != AllowOwner {
		t.Error("group info with only preset rules must use preset")
	}
}

func TestAttributeVisibility(t *testing.T) {
	opn, _ := AttrRuleFor("Operation Policy Name")
	if !opn.VisibleIn(1, 4) || opn.VisibleIn(2, 0) || opn.VisibleIn(2, 1) {
		t.Error("Operation Policy Name must be visible in 1.x only (KMIP 2.0 removed it)")
	}
	kft, _ := AttrRuleFor("Key Format Type")
	if kft.VisibleIn(1, 4) || !kft.VisibleIn(2, 0) {
		t.Error("Key Format Type is an attribute from KMIP 2.0 on")
	}
	desc, _ := AttrRuleFor("Description")
	if desc.VisibleIn(1, 3) || !desc.VisibleIn(1, 4) || !desc.VisibleIn(2, 1) {
		t.Error("Description exists from KMIP 1.4 on")
	}
}

// TestOriginalCreationDateListedFrom13: Original Creation Date is visible
// from KMIP 1.2 but answers listing every attribute include it only from 1.3
// (PyKMIP's 1.2 client cannot decode it); an attribute without a listing
// version is listed wherever it is visible.
func TestOriginalCreationDateListedFrom13(t *testing.T) {
	ocd, _ := AttrRuleFor("Original Creation Date")
	if !ocd.VisibleIn(1, 2) || ocd.ListedIn(1, 2) || !ocd.ListedIn(1, 3) || !ocd.ListedIn(2, 1) || ocd.ListedIn(1, 1) {
		t.Error("Original Creation Date: visible from 1.2, listed from 1.3")
	}
	desc, _ := AttrRuleFor("Description")
	if desc.ListedIn(1, 3) || !desc.ListedIn(1, 4) {
		t.Error("Description is listed wherever it is visible (1.4 on)")
	}
}
