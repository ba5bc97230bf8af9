package kmipclient

import "github.com/kmipd/kmipd/domain/kmip"

// Attribute is a KMIP 1.x Attribute structure (KMIP 1.4 §2.1.1) named name
// whose Attribute Value is a copy of v.
func Attribute(name string, v *kmip.Item) *kmip.Item {
	v = v.Clone()
	v.Tag = kmip.TagAttributeValue
	return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, name), v)
}

// NameAttribute is the KMIP 1.x Name attribute (KMIP 1.4 §3.2) with an
// uninterpreted text value.
func NameAttribute(name string) *kmip.Item {
	return Attribute("Name", kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, name),
		kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString))))
}

// CreateSymmetricKey is the payload of a KMIP 1.x Create (KMIP 1.4 §4.1) of a
// symmetric key; name is omitted when empty.
func CreateSymmetricKey(alg kmip.CryptographicAlgorithm, bits int32, mask kmip.CryptographicUsageMask, name string) []*kmip.Item {
	ta := kmip.Struct(kmip.TagTemplateAttribute,
		Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(alg))),
		Attribute("Cryptographic Length", kmip.Int(0, bits)),
		Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(mask))))
	if name != "" {
		ta.Add(NameAttribute(name))
	}
	return []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), ta}
}
