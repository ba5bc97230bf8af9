package domain

import (
	"slices"
	"testing"
	"time"

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

// Stores index only the selective search terms of an AES key as Create
// makes it: its type, state, owner, policy, access and storage terms, name
// values, group, digest and short identifier, not its algorithm, length,
// usage mask and bits, flags and dates; SearchTerms still has them all.
func TestIndexTermsAreTheSelectiveSearchTerms(t *testing.T) {
	o := &Object{ID: "k", Type: uint32(kmip.ObjectTypeSymmetricKey), State: Active, Owner: "alice", Policy: PolicyDefault}
	o.SetAttr("Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)))
	o.SetAttr("Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, 256))
	o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, 12))
	o.AddAttr("Digest", kmip.Struct(kmip.TagDigest, kmip.Enum(kmip.TagHashingAlgorithm, 6), kmip.Bytes(kmip.TagDigestValue, []byte{1, 2})))
	o.SetAttr("Short Unique Identifier", kmip.Bytes(kmip.TagShortUniqueIdentifier, []byte{3, 4}))
	for _, name := range []string{"Sensitive", "Always Sensitive", "Extractable", "Never Extractable", "Fresh"} {
		o.SetAttr(name, kmip.Bool(0, true))
	}
	for _, name := range []string{"Last Change Date", "Original Creation Date"} {
		o.SetAttr(name, kmip.DateTime(0, time.Unix(1e9, 0)))
	}
	o.SetAttr("Key Format Type", kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)))
	o.SetAttr("Lease Time", kmip.Interval(kmip.TagLeaseTime, 3600))
	o.SetAttr("Protection Storage Mask", kmip.Int(kmip.TagProtectionStorageMask, 1))
	o.SetAttr("Random Number Generator", kmip.Struct(kmip.TagRandomNumberGenerator, kmip.Enum(kmip.TagRNGAlgorithm, 1)))
	index, search := o.IndexTerms(), o.SearchTerms()
	names := map[string]bool{}
	for _, term := range index {
		names[term.Name] = true
		if !slices.Contains(search, term) {
			t.Errorf("index term %v is not a search term", term)
		}
	}
	want := []string{IndexObjectType, IndexState, IndexOwner, IndexPolicy, IndexAccess, IndexOwnerAccess, IndexStorage, "Digest", "Short Unique Identifier"}
	if len(index) != len(want) {
		t.Errorf("%d index terms, want %d: %v", len(index), len(want), index)
	}
	for _, n := range want {
		if !names[n] {
			t.Errorf("IndexTerms lacks %s: %v", n, index)
		}
	}
	if len(search) != len(want)+2+14 {
		t.Errorf("%d search terms, want every attribute value and usage bit: %v", len(search), search)
	}
	o.AddAttr("Name", kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "n"), kmip.Enum(kmip.TagNameType, 1)))
	o.AddAttr("Object Group", kmip.Text(kmip.TagObjectGroup, "g"))
	o.AddAttr("x-dept", kmip.Text(0, "payments"))
	for _, n := range []string{"Name", IndexNameValue, "Object Group", "x-dept"} {
		if !slices.ContainsFunc(o.IndexTerms(), func(t IndexTerm) bool { return t.Name == n }) {
			t.Errorf("IndexTerms lacks %s", n)
		}
	}
}
