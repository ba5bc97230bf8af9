package attacker

import (
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// aesTemplateOf is a KMIP 1.x Template structure for AES keys of bits bits,
// whose keys get policy (none when empty).
func aesTemplateOf(bits int32, policy string) *kmip.Item {
	tmpl := kmip.Struct(kmip.TagTemplate,
		kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		kmipclient.Attribute("Cryptographic Length", kmip.Int(0, bits)),
		kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))))
	if policy != "" {
		tmpl.Add(kmipclient.Attribute("Operation Policy Name", kmip.Text(0, policy)))
	}
	return tmpl
}

// nameWithType is a Name attribute with the given Name Type.
func nameWithType(value string, typ uint32) *kmip.Item {
	return kmipclient.Attribute("Name", kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, value), kmip.Enum(kmip.TagNameType, typ)))
}

// TestTemplateNameCannotBeHijacked: bob registers the Template
// "bob-aes256"; alice tries to place, by Import under an identifier that
// sorts first and by Register, public Templates of the same Name Value under
// other Name Types that make 128-bit keys under "shared". Each is refused,
// and bob's Create from his Template name yields his 256-bit key that alice
// cannot read.
func TestTemplateNameCannotBeHijacked(t *testing.T) {
	tg := start(t, harness.Options{})
	harness.Call(t, tg.bob, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		kmip.Struct(kmip.TagTemplateAttribute, kmipclient.NameAttribute("bob-aes256")), aesTemplateOf(256, ""))

	public := kmipclient.Attribute("Operation Policy Name", kmip.Text(0, "public"))
	_, errImport := tg.alice.Call(kmip.OperationImport, uid("0-hijack"), kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		nameWithType("bob-aes256", uint32(kmip.NameTypeURI)), public, aesTemplateOf(128, "shared"))
	_, errRegister := tg.alice.Call(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		kmip.Struct(kmip.TagTemplateAttribute, nameWithType("bob-aes256", 0x80000001), public.Clone()), aesTemplateOf(128, "shared"))
	for op, err := range map[string]error{"Import": errImport, "Register": errRegister} {
		if reason(err) != kmip.ResultReasonIllegalOperation {
			t.Errorf("alice's %s of a Template named like bob's: %v, want Illegal Operation (the name is taken)", op, err)
		}
	}

	out := harness.Call(t, tg.bob, kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.Struct(kmip.TagTemplateAttribute, kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "bob-aes256"),
			kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))))
	key, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	attrs := harness.Call(t, tg.bob, kmip.OperationGetAttributes, uid(key),
		kmip.Text(kmip.TagAttributeName, "Cryptographic Length"), kmip.Text(kmip.TagAttributeName, "Operation Policy Name"))
	got := map[string]*kmip.Item{}
	for _, a := range attrs.ChildrenOf(kmip.TagAttribute) {
		n, _ := a.Child(kmip.TagAttributeName).AsText()
		got[n] = a.Child(kmip.TagAttributeValue)
	}
	if n, _ := got["Cryptographic Length"].AsInt(); n != 256 {
		t.Errorf("bob's key is %d bits, want his Template's 256", n)
	}
	if p, _ := got["Operation Policy Name"].AsText(); p == "shared" {
		t.Error("bob's key is under alice's policy \"shared\"")
	}
	if _, err := tg.alice.Call(kmip.OperationGet, uid(key)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("alice Get of bob's key: %v, want Permission Denied", err)
	}
}
