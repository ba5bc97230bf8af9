package codec

import (
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// ObjectTags maps Object Type values to the tag of their payload structure.
var ObjectTags = map[kmip.ObjectType]kmip.Tag{
	kmip.ObjectTypeCertificate:        kmip.TagCertificate,
	kmip.ObjectTypeSymmetricKey:       kmip.TagSymmetricKey,
	kmip.ObjectTypePublicKey:          kmip.TagPublicKey,
	kmip.ObjectTypePrivateKey:         kmip.TagPrivateKey,
	kmip.ObjectTypeSplitKey:           kmip.TagSplitKey,
	kmip.ObjectTypeTemplate:           kmip.TagTemplate,
	kmip.ObjectTypeSecretData:         kmip.TagSecretData,
	kmip.ObjectTypeOpaqueObject:       kmip.TagOpaqueObject,
	kmip.ObjectTypePGPKey:             kmip.TagPGPKey,
	kmip.ObjectTypeCertificateRequest: kmip.TagCertificateRequest,
}

// ObjectValue reads the object a Register or Import request carries: the
// structure of Object Type t's tag (for example Symmetric Key).
func ObjectValue(payload *kmip.Item, t kmip.ObjectType) (*kmip.Item, error) {
	tag := ObjectTags[t]
	it := payload.Child(tag)
	if it == nil || it.Type != kmip.TypeStructure {
		return nil, fail(Malformed, specName(tag), "is required, a Structure")
	}
	return it, nil
}

// RegisterRequest is a Register (KMIP 1.4 §4.3, KMIP 2.1 §6.1.42)
// request's Object Type, object (the request's own structure, or a copy
// when the codec changed it: app copies what it keeps) and the attributes
// it gives the new object, read as Create's.
type RegisterRequest struct {
	ObjectType kmip.ObjectType
	Object     *kmip.Item
	Attributes AttributeSet
}

// DecodeRegister reads a Register request's Object Type, object and
// attributes (templateOwnNames).
func DecodeRegister(v Version, payload *kmip.Item) (RegisterRequest, error) {
	t, err := ObjectType(v, payload)
	if err != nil {
		return RegisterRequest{}, err
	}
	obj, err := ObjectValue(payload, t)
	if err != nil {
		return RegisterRequest{}, err
	}
	set, err := NewObjectAttributes(v, payload)
	if err != nil {
		return RegisterRequest{}, err
	}
	req := RegisterRequest{ObjectType: t, Object: obj, Attributes: set}
	if t == kmip.ObjectTypeTemplate && !v.AtLeast(1, 3) {
		err = req.templateOwnNames()
	}
	return req, err
}

// templateOwnNames moves the Names a KMIP 1.0–1.2 Template carries inside
// itself into the Register request's attributes: before 1.3 clients (and
// the 1.0 use cases) name a Template inside the Template, where 1.3 and
// 1.4 (§2.2.6) put "the name of a Template ... in the Template-Attribute
// structure in the Register operation". A Name is the Template's own: it
// identifies the Template and is never copied to the objects made from it.
func (r *RegisterRequest) templateOwnNames() error {
	kept := []*kmip.Item{}
	moved := false
	for i, a := range r.Object.Children() {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n != kmip.TagName.SpecName() {
			kept = append(kept, a)
			continue
		}
		at, err := Attribute1x(a)
		if err != nil {
			return in(specName(kmip.TagTemplate)+": "+nth(a.Tag, i+1), err)
		}
		r.Attributes.Attributes = append(r.Attributes.Attributes, at)
		moved = true
	}
	if moved {
		r.Object = r.Object.Clone()
		r.Object.Value = kept
	}
	return nil
}

// ImportRequest is an Import (KMIP 1.4 §4.41, KMIP 2.1 §6.1.27) request:
// the object's Unique Identifier, Object Type, Replace Existing, a copy of
// the object (safe to change), the Key Wrap Type (nil when absent) and the
// attributes as given.
type ImportRequest struct {
	ID         string
	ObjectType kmip.ObjectType
	Replace    bool
	Object     *kmip.Item
	WrapType   *kmip.KeyWrapType
	Attributes []domain.Attribute
}

// DecodeImport reads an Import request.
func DecodeImport(v Version, payload *kmip.Item) (ImportRequest, error) {
	var r ImportRequest
	id, ok := payload.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		return r, fail(Missing, specName(kmip.TagUniqueIdentifier), "Import needs the object's Unique Identifier as a Text String")
	}
	r.ID = id
	var err error
	if r.ObjectType, err = ObjectType(v, payload); err != nil {
		return ImportRequest{}, err
	}
	if it := payload.Child(kmip.TagReplaceExisting); it != nil {
		if r.Replace, ok = it.AsBool(); !ok {
			return ImportRequest{}, fail(Malformed, specName(kmip.TagReplaceExisting), "must be a Boolean")
		}
	}
	obj, err := ObjectValue(payload, r.ObjectType)
	if err != nil {
		return ImportRequest{}, err
	}
	r.Object = obj.Clone()
	if it := payload.Child(kmip.TagKeyWrapType); it != nil {
		wt, ok := it.AsEnum()
		if !ok {
			return ImportRequest{}, fail(Malformed, specName(kmip.TagKeyWrapType), "must be an Enumeration")
		}
		t := kmip.KeyWrapType(wt)
		r.WrapType = &t
	}
	set, err := DecodeAttributes(v, payload, kmip.TagAttributes)
	if err != nil {
		return ImportRequest{}, err
	}
	r.Attributes, err = set.Only()
	return r, err
}
