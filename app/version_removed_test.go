package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// removedNames lists the tags KMIP 2.x removed that an answer names as an
// Attribute Reference (KMIP 2.x Get Attribute List names attributes so).
func removedNames(it *kmip.Item, v version) []kmip.Tag {
	var out []kmip.Tag
	if it.Tag == kmip.TagAttributeReference {
		if e, ok := it.AsEnum(); ok && kmip.RemovedIn(kmip.Tag(e), v.major, v.minor) {
			out = append(out, kmip.Tag(e))
		}
	}
	for _, c := range it.Children() {
		out = append(out, removedNames(c, v)...)
	}
	return out
}

// TestAnswers2xCarryNoRemovedTag: no KMIP 2.0 or 2.1 answer carries a tag
// KMIP 2.0 removed (Operation Policy Name, Attribute Index, Template-
// Attribute ...: "(Reserved)" in the 2.1 §8 tag table), nor names one as an
// attribute, though kmipd keeps an Operation Policy Name for every object.
func TestAnswers2xCarryNoRemovedTag(t *testing.T) {
	s := newCryptoService()
	// A key given a KMIP 2.1 attribute (Rotate Interval), read at 2.0 too.
	rot := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Interval(kmip.TagRotateInterval, 3600))
	for _, v := range []version{{2, 0}, v21} {
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), nameItem("removed-"+v.String()))
		var queries []*kmip.Item
		for f := uint32(1); f <= 0x0E; f++ {
			queries = append(queries, kmip.Enum(kmip.TagQueryFunction, f))
		}
		for _, req := range []*kmip.Item{
			batchItem(kmip.OperationGetAttributes, uidItem(id)),
			batchItem(kmip.OperationGetAttributeList, uidItem(id)),
			batchItem(kmip.OperationGet, uidItem(id)),
			batchItem(kmip.OperationLocate),
			batchItem(kmip.OperationQuery, queries...),
			batchItem(kmip.OperationGetAttributes, uidItem(rot)),
		} {
			resp, rs := send(t, s, alice, msg(v, req))
			op, _ := req.Child(kmip.TagOperation).AsEnum()
			if rs[0].status != kmip.ResultStatusSuccess {
				t.Fatalf("%s %s failed: %s", v, kmip.Operation(op), rs[0].reason)
			}
			if bad := newerTags(resp, v); len(bad) > 0 {
				t.Errorf("%s %s answer carries %v, which %s does not define", v, kmip.Operation(op), bad, v)
			}
			if bad := removedNames(resp, v); len(bad) > 0 {
				t.Errorf("%s %s answer names attributes %v, which %s does not define", v, kmip.Operation(op), bad, v)
			}
		}
	}
}

// aesCreateIn is a Create of an AES key (Encrypt and Decrypt) in the
// attribute container of version v: Template-Attribute in 1.x, Attributes
// in 2.x (which has no Template-Attribute).
func aesCreateIn(v version, bits int32, name string) *kmip.Item {
	if v.major < 2 {
		return aesCreate14(bits, name)
	}
	c := aesCreate21(bits, name)
	c.Path(kmip.TagRequestPayload, kmip.TagAttributes, kmip.TagCryptographicUsageMask).Value =
		int32(kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt)
	return c
}

// TestRemovedFieldsRefusedIn2x: a KMIP 2.0 or 2.1 request using a 1.x field
// KMIP 2.0 removed is refused and changes nothing: an attribute 2.x does not
// define is an Invalid Attribute, another such field (Template-Attribute,
// Attribute Index) an Invalid Message, the reference server's answer to a
// 2.0 Create with a Template-Attribute. The same requests at 1.4 succeed;
// a Re-key's Template-Attribute is read, as the reference server does.
func TestRemovedFieldsRefusedIn2x(t *testing.T) {
	ta := func() *kmip.Item {
		return kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attribute1x("Cryptographic Length", kmip.Int(0, 128)),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))))
	}
	symKey := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))
	withAttr := func(extra *kmip.Item) *kmip.Item {
		return batchItem(kmip.OperationCreate, symKey.Clone(), attrsFor(v21,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 128), mask(kmip.CryptographicUsageMaskEncrypt), extra))
	}
	s := newCryptoService()
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreate, symKey.Clone(), ta())))
	for _, v := range []version{{2, 0}, v21} {
		before := len(mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier))
		// Both forms at once are ambiguous.
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate, symKey.Clone(), kmip.Struct(kmip.TagAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128)), ta())),
			kmip.ResultReasonInvalidMessage)
		mustFail(t, sendOne(t, s, alice, v, withAttr(kmip.Text(kmip.TagOperationPolicyName, "default"))), kmip.ResultReasonInvalidAttribute)
		mustFail(t, sendOne(t, s, alice, v, withAttr(kmip.Struct(kmip.TagCertificateIdentifier, kmip.Text(kmip.TagIssuer, "CN=x")))), kmip.ResultReasonInvalidAttribute)
		if after := len(mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier)); after != before {
			t.Errorf("%s: refused requests made %d objects", v, after-before)
		}
		// A 1.x Template-Attribute form in place of its 2.x replacement is
		// read, as at 1.x (clients written for 1.x send them).
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate, symKey.Clone(), ta())))
		// Create Key Pair's 1.x forms are not read at 2.x: refused, naming the field.
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreateKeyPair, kmip.Struct(kmip.TagCommonTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))),
			attribute1x("Cryptographic Length", kmip.Int(0, 2048))))), kmip.ResultReasonInvalidMessage)
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), nameItem("idx-"+v.String()))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeleteAttribute, uidItem(id),
			kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagName)), kmip.Int(kmip.TagAttributeIndex, 0))), kmip.ResultReasonInvalidMessage)
		// Re-key with a Template-Attribute, as PyKMIP sends it at every version, is served.
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReKey, uidItem(id), kmip.Struct(kmip.TagTemplateAttribute))))
		// A Template object: its Object Type 2.x does not define is refused (2.1 §6.1.43).
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
			kmip.Struct(kmip.TagTemplate, attribute1x("Cryptographic Length", kmip.Int(0, 128))))), kmip.ResultReasonInvalidObjectType)
	}
}
