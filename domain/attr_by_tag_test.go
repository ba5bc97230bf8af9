package domain

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Every standard attribute is named by its tag's spec name, so the
// tag-addressed accessors reach exactly the values stored under the name.
func TestStandardAttributesHaveTags(t *testing.T) {
	t.Parallel()
	for name := range attrRules {
		tag, ok := kmip.TagBySpecName(name)
		if !ok {
			t.Errorf("attribute %q has no tag in the registry", name)
			continue
		}
		if tag.SpecName() != name {
			t.Errorf("attribute %q: its tag's spec name is %q", name, tag.SpecName())
		}
	}
}

// The tag-addressed accessors read and change the same values as the
// name-addressed ones, and leave other attributes alone.
func TestAttrOfMatchesAttrByName(t *testing.T) {
	t.Parallel()
	o := &Object{}
	o.AddAttr("x-note", kmip.Text(kmip.TagAttributeValue, "kept"))
	if i := o.AddAttrOf(kmip.TagName, kmip.Text(kmip.TagNameValue, "a")); i != 0 {
		t.Fatalf("first Name at index %d", i)
	}
	if i := o.AddAttr("Name", kmip.Text(kmip.TagNameValue, "b")); i != 1 {
		t.Fatalf("second Name at index %d", i)
	}
	if got := o.AttrValuesOf(kmip.TagName); len(got) != 2 || got[1].Value != "b" {
		t.Fatalf("AttrValuesOf(Name) = %v", got)
	}
	o.SetAttrOf(kmip.TagCryptographicLength, kmip.Int(kmip.TagCryptographicLength, 128))
	if n, _ := o.Attr("Cryptographic Length").AsInt(); n != 128 {
		t.Fatalf("Cryptographic Length by name = %d", n)
	}
	if n, _ := o.AttrOf(kmip.TagCryptographicLength).AsInt(); n != 128 {
		t.Fatalf("Cryptographic Length by tag = %d", n)
	}
	o.DeleteAttrOf(kmip.TagName)
	if o.Attr("Name") != nil || o.AttrOf(kmip.TagCryptographicLength) == nil || o.Attr("x-note") == nil {
		t.Fatalf("DeleteAttrOf(Name) left %v", o.Attributes)
	}
}
