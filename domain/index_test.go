package domain

import (
	"slices"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestAccessTermsFollowAllowed checks that an object carries one of the
// access terms AccessTerms gives exactly when Policy.Allowed lets the
// principal perform the operation on it.
func TestAccessTermsFollowAllowed(t *testing.T) {
	groups := &Policy{Name: "grouped",
		Preset: Rules{uint32(kmip.ObjectTypeSecretData): {opLocate: AllowAll}},
		Groups: map[string]Rules{
			"ops": {uint32(kmip.ObjectTypeSymmetricKey): {opLocate: AllowAll}, uint32(kmip.ObjectTypeSecretData): {opLocate: AllowOwner}},
			"dev": {uint32(kmip.ObjectTypeSymmetricKey): {opLocate: AllowOwner}, uint32(kmip.ObjectTypePrivateKey): {opGet: AllowAll}},
		}}
	policies := map[string]*Policy{PolicyDefault: DefaultPolicy(), PolicyPublic: PublicPolicy(), "grouped": groups}
	who := []Principal{
		{Name: "alice"}, {Name: "bob"}, {},
		{Name: "alice", Groups: []string{"ops"}, HasGroupInfo: true},
		{Name: "bob", Groups: []string{"dev", "ops"}, HasGroupInfo: true},
		{Name: "carol", Groups: nil, HasGroupInfo: true},
	}
	types := []uint32{uint32(kmip.ObjectTypeSymmetricKey), uint32(kmip.ObjectTypeSecretData), uint32(kmip.ObjectTypeTemplate),
		uint32(kmip.ObjectTypeCertificate), uint32(kmip.ObjectTypePrivateKey)}
	for _, op := range []uint32{opLocate, opGet} {
		for _, w := range who {
			var terms []IndexTerm
			for name, p := range policies {
				terms = append(terms, AccessTerms(name, p, w, op)...)
			}
			for name, p := range policies {
				for _, typ := range types {
					for _, owner := range []string{"alice", "bob", ""} {
						o := &Object{Type: typ, Owner: owner, Policy: name}
						indexed := slices.ContainsFunc(o.IndexTerms(), func(t IndexTerm) bool { return slices.Contains(terms, t) })
						allowed := p.Allowed(w, owner, typ, op) == nil
						if indexed != allowed {
							t.Errorf("op %d, %+v, object of type %d owned by %q under %s: indexed %v, allowed %v",
								op, w, typ, owner, name, indexed, allowed)
						}
					}
				}
			}
		}
	}
	if AccessTerms("x", nil, Principal{Name: "alice"}, opLocate) != nil {
		t.Error("a nil policy gives access terms")
	}
}

func TestOwnerAccessKeysAreUnambiguous(t *testing.T) {
	if OwnerAccessKey("b:c", "a", 1) == OwnerAccessKey("c", "a:b", 1) {
		t.Error("owner and policy run into each other")
	}
}

func TestUsageBitsAndStorageStatus(t *testing.T) {
	o := &Object{State: Active}
	o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, 0x0c))
	terms := o.DerivedTerms()
	for _, want := range []IndexTerm{{IndexUsageBit, EnumKey(4)}, {IndexUsageBit, EnumKey(8)},
		{IndexStorage, EnumKey(uint32(kmip.StorageStatusMaskOnLineStorage))}} {
		if !slices.Contains(terms, want) {
			t.Errorf("DerivedTerms lacks %v: %v", want, terms)
		}
	}
	if slices.Contains(terms, IndexTerm{IndexUsageBit, EnumKey(1)}) {
		t.Errorf("DerivedTerms has an unset bit: %v", terms)
	}
	o.State = DestroyedCompromised
	if o.StorageStatus() != uint32(kmip.StorageStatusMaskDestroyedStorage) {
		t.Error("destroyed object not in destroyed storage")
	}
}

// Names are indexed by their Name Value alone, so two Names that differ
// only in Name Type share a term (issue 12.2).
func TestNameValueTerms(t *testing.T) {
	name := func(v string, typ kmip.NameType) *kmip.Item {
		return kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, v), kmip.Enum(kmip.TagNameType, uint32(typ)))
	}
	a, b := &Object{}, &Object{}
	a.AddAttr("Name", name("bob-aes256", kmip.NameTypeUninterpretedTextString))
	b.AddAttr("Name", name("bob-aes256", kmip.NameTypeURI))
	want := IndexTerm{IndexNameValue, NameValueKey("bob-aes256")}
	if !slices.Contains(a.DerivedTerms(), want) || !slices.Contains(b.DerivedTerms(), want) {
		t.Fatalf("Name Value term %v missing: %v / %v", want, a.DerivedTerms(), b.DerivedTerms())
	}
	if slices.ContainsFunc((&Object{}).DerivedTerms(), func(t IndexTerm) bool { return t.Name == IndexNameValue }) {
		t.Error("an object without Names has a Name Value term")
	}
}
