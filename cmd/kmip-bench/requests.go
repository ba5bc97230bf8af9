package main

import (
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
)

// protocol is a KMIP protocol version the load generator speaks.
type protocol struct{ major, minor int32 }

// v2 reports whether attributes travel in KMIP 2.x form (an Attributes
// structure, KMIP 2.1 §7.2) rather than as 1.x Attribute name/value pairs.
func (p protocol) v2() bool { return p.major >= 2 }

// attrs builds the attribute container of a Create or Locate request for
// the protocol: a 1.x Template-Attribute (or bare Attribute list for
// Locate) or a 2.x Attributes structure. Each attribute is given as its 2.x
// item (tag = the attribute) and its 1.x name.
type attr struct {
	name string
	item *kmip.Item
}

func (p protocol) attrList(as []attr) []*kmip.Item {
	out := make([]*kmip.Item, len(as))
	for i, a := range as {
		if p.v2() {
			out[i] = a.item
		} else {
			out[i] = kmipclient.Attribute(a.name, a.item)
		}
	}
	return out
}

func aesKeyAttrs(mask kmip.CryptographicUsageMask, name string) []attr {
	as := []attr{
		{"Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES))},
		{"Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, 256)},
		{"Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, int32(mask))},
	}
	if name != "" {
		as = append(as, attr{"Name", nameItem(name)})
	}
	return as
}

func nameItem(name string) *kmip.Item {
	return kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, name),
		kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))
}

// createAES is a Create batch item of a 256-bit AES key (KMIP 1.4 §4.1,
// KMIP 2.1 §6.1.9).
func (p protocol) createAES(mask kmip.CryptographicUsageMask, name string) *kmip.Item {
	list := p.attrList(aesKeyAttrs(mask, name))
	container := kmip.Struct(kmip.TagTemplateAttribute, list...)
	if p.v2() {
		container = kmip.Struct(kmip.TagAttributes, list...)
	}
	return kmipclient.BatchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), container)
}

// byID is a batch item of op naming the object id; an empty id leaves the
// Unique Identifier out, so that the batch's ID Placeholder applies.
func byID(op kmip.Operation, id string) *kmip.Item {
	if id == "" {
		return kmipclient.BatchItem(op)
	}
	return kmipclient.BatchItem(op, kmip.Text(kmip.TagUniqueIdentifier, id))
}

// locateByName is a Locate batch item matching one Name (KMIP 1.4 §4.9).
func (p protocol) locateByName(name string) *kmip.Item {
	list := p.attrList([]attr{{"Name", nameItem(name)}})
	if p.v2() {
		return kmipclient.BatchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes, list...))
	}
	return kmipclient.BatchItem(kmip.OperationLocate, list...)
}

// query is a Query batch item asking for the operations and object types
// (KMIP 1.4 §4.25).
func query() *kmip.Item {
	return kmipclient.BatchItem(kmip.OperationQuery,
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)),
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryObjects)))
}

// encryptCBC is an Encrypt batch item of data with AES-CBC and PKCS#5
// padding under key id, with a client-chosen IV (KMIP 1.4 §4.29).
func encryptCBC(id string, iv, data []byte) *kmip.Item {
	return kmipclient.BatchItem(kmip.OperationEncrypt,
		kmip.Text(kmip.TagUniqueIdentifier, id),
		kmip.Struct(kmip.TagCryptographicParameters,
			kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
			kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES))),
		kmip.Bytes(kmip.TagData, data),
		kmip.Bytes(kmip.TagIVCounterNonce, iv))
}
