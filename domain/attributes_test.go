package domain

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Every rule names an attribute the tag registry knows by that exact
// specification name, so that KMIP 1.x names and 2.x tags meet.
func TestAttrRulesNameRegisteredTags(t *testing.T) {
	for name := range attrRules {
		tag, ok := kmip.TagBySpecName(name)
		if !ok {
			t.Errorf("%q has a rule but no tag", name)
			continue
		}
		if tag.SpecName() != name {
			t.Errorf("%q: the registry spells it %q", name, tag.SpecName())
		}
	}
}

func TestAttrRuleForCustomAndVendorAttributes(t *testing.T) {
	for name, want := range map[string]struct{ known, clientSets bool }{
		"x-team":           {true, true},
		"X-Team":           {true, true},
		"y-server":         {true, false},
		"acme-colour":      {true, true}, // a KMIP 2.x Vendor Attribute
		"Name":             {true, true},
		"Colour":           {false, false},
		"x-":               {false, false},
		"-x":               {false, false},
		"Always Sensitive": {true, false},
	} {
		r, ok := AttrRuleFor(name)
		if ok != want.known || r.ClientSets != want.clientSets {
			t.Errorf("%q: known %v, client sets %v; want %v, %v", name, ok, r.ClientSets, want.known, want.clientSets)
		}
	}
}

func TestAttrRuleAppliesToType(t *testing.T) {
	kvp, _ := AttrRuleFor("Key Value Present")
	if !kvp.AppliesToType(uint32(kmip.ObjectTypeSymmetricKey)) || kvp.AppliesToType(uint32(kmip.ObjectTypePublicKey)) {
		t.Error("Key Value Present applies to symmetric keys, not public keys")
	}
	name, _ := AttrRuleFor("Name")
	if !name.AppliesToType(uint32(kmip.ObjectTypeOpaqueObject)) {
		t.Error("Name applies to every object type")
	}
	cn, _ := AttrRuleFor("Certificate Subject CN")
	if cn.AppliesToType(uint32(kmip.ObjectTypeSymmetricKey)) || cn.VisibleIn(1, 4) || !cn.VisibleIn(2, 0) {
		t.Error("Certificate Subject CN: certificates only, KMIP 2.0 on")
	}
}
