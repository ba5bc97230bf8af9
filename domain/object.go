// Package domain is kmipd's pure core: managed objects and their attributes,
// the lifecycle state machine and the access-policy rules. It does no I/O and
// imports no project package outside domain/.
package domain

import (
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Attribute is one value of a managed object's attribute. Multi-valued
// attributes (Name, Link, Object Group, custom attributes, ...) appear once per
// value with increasing Index.
type Attribute struct {
	// Name is the KMIP 1.x attribute name: the specification name for standard
	// attributes ("Cryptographic Algorithm"), "x-..." / "y-..." for custom ones.
	Name string `json:"name"`
	// Index is the position of this value among the values of the same name.
	Index int `json:"index"`
	// Value holds the value. Its Tag is the attribute's own tag (KMIP 2.x form)
	// for standard attributes, and TagAttributeValue for custom ones.
	Value *kmip.Item `json:"value"`
}

// Object is one managed object (KMIP 1.4 §2.2): its identity, lifecycle state,
// owner, operation policy, attributes and, unless destroyed, the cryptographic
// object itself.
type Object struct {
	// ID is the Unique Identifier, unique across every node sharing a store.
	ID string `json:"id"`
	// Type is the Object Type enumeration value (kmip.ObjectType*).
	Type uint32 `json:"type"`
	// State is the lifecycle state; change it only through the transition methods.
	State State `json:"state"`
	// Owner is the identity of the client that created or registered the object.
	Owner string `json:"owner"`
	// Policy is the Operation Policy Name.
	Policy string `json:"policy"`
	// InitialDate is when the server first created or registered the object.
	InitialDate time.Time `json:"initial_date"`
	// Attributes holds every other attribute value the object carries.
	Attributes []Attribute `json:"attributes"`
	// Payload is the managed cryptographic object as KMIP encodes it (a
	// SymmetricKey, SecretData, OpaqueObject ... structure), nil once destroyed.
	Payload *kmip.Item `json:"payload,omitempty"`
	// KeyRef is the crypto engine's reference to the key it keeps for this
	// object (an HSM key); empty when the Payload holds the key material.
	// Such a key's Key Block carries no Key Value: the material never
	// leaves the engine unless the engine lets it be exported.
	KeyRef string `json:"key_ref,omitempty"`
	// Revision counts committed updates; stores use it for optimistic concurrency.
	Revision uint64 `json:"revision"`
}

// Attr returns the first value of the named attribute, or nil.
func (o *Object) Attr(name string) *kmip.Item {
	for _, a := range o.Attributes {
		if a.Name == name {
			return a.Value
		}
	}
	return nil
}

// AttrValues returns every value of the named attribute in index order.
func (o *Object) AttrValues(name string) []*kmip.Item {
	var out []*kmip.Item
	for _, a := range o.Attributes {
		if a.Name == name {
			out = append(out, a.Value)
		}
	}
	return out
}

// SetAttr replaces every value of the named attribute with the single value v.
func (o *Object) SetAttr(name string, v *kmip.Item) {
	o.DeleteAttr(name)
	o.Attributes = append(o.Attributes, Attribute{Name: name, Index: 0, Value: v})
}

// AddAttr appends a value to the named attribute and returns its index.
func (o *Object) AddAttr(name string, v *kmip.Item) int {
	idx := 0
	for _, a := range o.Attributes {
		if a.Name == name && a.Index >= idx {
			idx = a.Index + 1
		}
	}
	o.Attributes = append(o.Attributes, Attribute{Name: name, Index: idx, Value: v})
	return idx
}

// DeleteAttr removes every value of the named attribute.
func (o *Object) DeleteAttr(name string) {
	kept := o.Attributes[:0]
	for _, a := range o.Attributes {
		if a.Name != name {
			kept = append(kept, a)
		}
	}
	o.Attributes = kept
}

// AttrOf returns the first value of the standard attribute t (named by its
// spec name, KMIP 1.4 §3, KMIP 2.1 §4), or nil; custom and vendor
// attributes, which have no tag, are read by name with Attr.
func (o *Object) AttrOf(t kmip.Tag) *kmip.Item { return o.Attr(t.SpecName()) }

// AttrValuesOf returns every value of the standard attribute t in index order.
func (o *Object) AttrValuesOf(t kmip.Tag) []*kmip.Item { return o.AttrValues(t.SpecName()) }

// SetAttrOf replaces every value of the standard attribute t with the single value v.
func (o *Object) SetAttrOf(t kmip.Tag, v *kmip.Item) { o.SetAttr(t.SpecName(), v) }

// AddAttrOf appends a value to the standard attribute t and returns its index.
func (o *Object) AddAttrOf(t kmip.Tag, v *kmip.Item) int { return o.AddAttr(t.SpecName(), v) }

// DeleteAttrOf removes every value of the standard attribute t.
func (o *Object) DeleteAttrOf(t kmip.Tag) { o.DeleteAttr(t.SpecName()) }

// Clone returns a deep copy.
func (o *Object) Clone() *Object {
	c := *o
	c.Attributes = make([]Attribute, len(o.Attributes))
	for i, a := range o.Attributes {
		c.Attributes[i] = Attribute{Name: a.Name, Index: a.Index, Value: a.Value.Clone()}
	}
	c.Payload = o.Payload.Clone()
	return &c
}

// IndexTerm is one searchable fact about an object: an attribute name and a
// canonical encoding of one of its values. Stores index these so that Locate
// is a lookup, not a scan.
type IndexTerm struct {
	Name string
	Key  string
}

// Pseudo-attribute names indexed beside the object's own attributes.
const (
	IndexObjectType = "Object Type"
	IndexState      = "State"
	IndexOwner      = "kmipd:owner"
	IndexPolicy     = "Operation Policy Name"
)

// SearchTerms lists every term a Locate can select the object by: its
// object type, state, owner, policy, derived terms (DerivedTerms) and each
// value of each attribute. A store indexes only those of them IndexTerms
// lists; the rest are checked on loaded objects.
func (o *Object) SearchTerms() []IndexTerm { return o.terms(true) }

// IndexTerms lists the terms stores index for the object: the SearchTerms
// whose name is Indexed: 9 for an AES key made by Create without a Name,
// where every search term would be 25.
func (o *Object) IndexTerms() []IndexTerm { return o.terms(false) }

// terms builds SearchTerms (all) or IndexTerms, computing no key of a term
// it leaves out.
func (o *Object) terms(all bool) []IndexTerm {
	terms := make([]IndexTerm, 0, 8+len(o.Attributes))
	terms = append(terms,
		IndexTerm{IndexObjectType, EnumKey(o.Type)},
		IndexTerm{IndexState, EnumKey(uint32(o.State))},
		IndexTerm{IndexOwner, o.Owner},
		IndexTerm{IndexPolicy, o.Policy},
	)
	terms = o.derivedTerms(terms, all)
	for _, a := range o.Attributes {
		if all || Indexed(a.Name) {
			terms = append(terms, IndexTerm{a.Name, IndexKey(a.Value)})
		}
	}
	return terms
}
