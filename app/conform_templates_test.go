package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestTemplateNamedInsideItself: a KMIP 1.0–1.2 client registers a Template
// whose own Name is one of the Attributes inside the Template object (the
// 1.0 use cases do; 1.3 and 1.4 §2.2.6 moved it to the Register's
// Template-Attribute). Create, Register and Create Key Pair then find the
// Template by that name, take its other attributes, and do not give the new
// object the Template's Name.
func TestTemplateNamedInsideItself(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 0}, {1, 1}, {1, 2}} {
		s := newCryptoService()
		aesT := "aes-" + v.String()
		rsaT := "rsa-" + v.String()
		mustOK(t, sendOne(t, s, alice, v, register(kmip.ObjectTypeTemplate, kmip.Struct(kmip.TagTemplate,
			attribute1x("Name", nameItem(aesT)),
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attribute1x("Cryptographic Length", kmip.Int(0, 128)),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt)))))))
		mustOK(t, sendOne(t, s, alice, v, register(kmip.ObjectTypeTemplate, kmip.Struct(kmip.TagTemplate,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))),
			attribute1x("Cryptographic Length", kmip.Int(0, 2048)),
			attribute1x("Name", nameItem(rsaT))))))

		key := createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate,
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			kmip.Struct(kmip.TagTemplateAttribute, nameItem(aesT), attribute1x("Name", nameItem("key-"+v.String()))))))
		a := attrsOf(t, s, key)
		if l := a["Cryptographic Length"]; len(l) != 1 || l[0].Value != int32(128) {
			t.Errorf("%s: created key's length %v, want the Template's 128", v, l)
		}
		for _, n := range a["Name"] {
			if nv, _ := n.Child(kmip.TagNameValue).AsText(); nv == aesT {
				t.Errorf("%s: the created key took the Template's own Name", v)
			}
		}

		reg := createdID(t, sendOne(t, s, alice, v, register(kmip.ObjectTypeSymmetricKey,
			kmip.Struct(kmip.TagSymmetricKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(make([]byte, 16)))),
			nameItem(aesT))))
		if m := attrsOf(t, s, reg)["Cryptographic Usage Mask"]; len(m) != 1 || m[0].Value != int32(kmip.CryptographicUsageMaskEncrypt) {
			t.Errorf("%s: registered key's usage mask %v, want the Template's", v, m)
		}

		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreateKeyPair,
			kmip.Struct(kmip.TagCommonTemplateAttribute, nameItem(rsaT),
				attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskSign|kmip.CryptographicUsageMaskVerify)))))))
		priv, _ := p.Child(kmip.TagPrivateKeyUniqueIdentifier).AsText()
		if alg := attrsOf(t, s, priv)["Cryptographic Algorithm"]; len(alg) != 1 || alg[0].Value != uint32(kmip.CryptographicAlgorithmRSA) {
			t.Errorf("%s: key pair's algorithm %v, want the Template's RSA", v, alg)
		}

		// The Template itself answers to its Name through Locate.
		loc := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem(aesT)))))
		if n := len(loc.ChildrenOf(kmip.TagUniqueIdentifier)); n != 1 {
			t.Errorf("%s: Locate by the Template's Name found %d objects, want 1", v, n)
		}
	}
}
