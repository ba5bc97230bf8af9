package codec

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

var (
	v14 = Version{1, 4}
	v21 = Version{2, 1}
)

func attr1x(name string, val *kmip.Item) *kmip.Item {
	a := kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, name))
	if val != nil {
		val = val.Clone()
		val.Tag = kmip.TagAttributeValue
		a.Add(val)
	}
	return a
}

func payload(items ...*kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagRequestPayload, items...) }

// wantErr checks err is a codec *Error of problem p whose text is want.
func wantErr(t *testing.T, err error, p Problem, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a codec error", err)
	}
	if e.Problem != p || e.Error() != want {
		t.Fatalf("error = %d %q, want %d %q", e.Problem, e.Error(), p, want)
	}
}

func TestErrorsNameTheFieldAtFault(t *testing.T) {
	t.Parallel()
	alg := kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES))
	cases := []struct {
		name string
		v    Version
		p    *kmip.Item
		prob Problem
		want string
	}{
		{"1.x attribute without name", v14, payload(kmip.Struct(kmip.TagTemplateAttribute,
			attr1x("Cryptographic Algorithm", alg), attr1x("Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, 128)),
			kmip.Struct(kmip.TagAttribute, kmip.Int(kmip.TagAttributeValue, 1)))),
			Malformed, "Template-Attribute: Attribute 3: no Attribute Name"},
		{"1.x value of the wrong type", v14, payload(kmip.Struct(kmip.TagTemplateAttribute,
			attr1x("Cryptographic Length", kmip.Text(kmip.TagCryptographicLength, "128")))),
			Malformed, "Template-Attribute: Attribute 1: Attribute Value: Cryptographic Length must be a Integer, not a TextString"},
		{"2.x unknown enumeration value", v21, payload(kmip.Struct(kmip.TagAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, 0x7000))),
			Malformed, "Attributes: Cryptographic Algorithm 1: 28672 is not a Cryptographic Algorithm value"},
		{"2.x vendor attribute without name", v21, payload(kmip.Struct(kmip.TagAttributes, alg,
			kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "acme")))),
			Malformed, "Attributes: Attribute 2: Vendor Attribute: needs Vendor Identification and Attribute Name"},
		{"2.x Template reference", v21, payload(kmip.Struct(kmip.TagTemplateAttribute,
			kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "t")))),
			Unsupported, "Template-Attribute: Name 1: Template references are not supported"},
		{"unexpected item in a 1.x container", v14, payload(kmip.Struct(kmip.TagTemplateAttribute, alg)),
			Malformed, "Template-Attribute: Cryptographic Algorithm 1: unexpected in Template-Attribute"},
		{"bare 1.x Locate attribute", v14, payload(attr1x("Cryptographic Algorithm", alg), kmip.Struct(kmip.TagAttribute)),
			Malformed, "Attribute 2: no Attribute Name"},
	}
	for _, tc := range cases {
		_, err := DecodeAttributes(tc.v, tc.p, kmip.TagTemplateAttribute, kmip.TagAttributes)
		t.Run(tc.name, func(t *testing.T) { wantErr(t, err, tc.prob, tc.want) })
	}
}

func TestAttributesDecodeAlikeInBothShapes(t *testing.T) {
	t.Parallel()
	one, err := DecodeAttributes(v14, payload(kmip.Struct(kmip.TagTemplateAttribute,
		attr1x("cryptographic algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		attr1x("x-note", kmip.Text(0, "hi")),
		kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "tmpl"), kmip.Enum(kmip.TagNameType, 1)))), kmip.TagTemplateAttribute)
	if err != nil {
		t.Fatal(err)
	}
	two, err := DecodeAttributes(v21, payload(kmip.Struct(kmip.TagAttributes,
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "x"), kmip.Text(kmip.TagAttributeName, "note"),
			kmip.Text(kmip.TagAttributeValue, "hi")))), kmip.TagAttributes)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Templates) != 1 || one.Templates[0] != "tmpl" || len(two.Templates) != 0 {
		t.Fatalf("templates: 1.x %q, 2.x %q", one.Templates, two.Templates)
	}
	if _, err := one.Only(); err == nil {
		t.Fatal("Only accepted a set with a Template reference")
	}
	if len(one.Attributes) != 2 || len(two.Attributes) != 2 {
		t.Fatalf("decoded %d and %d attributes", len(one.Attributes), len(two.Attributes))
	}
	for i := range one.Attributes {
		a, b := one.Attributes[i], two.Attributes[i]
		if a.Name != b.Name || !a.Value.Equal(b.Value) {
			t.Errorf("attribute %d: 1.x %s=%v, 2.x %s=%v", i, a.Name, a.Value, b.Name, b.Value)
		}
	}
	if one.Attributes[0].Name != "Cryptographic Algorithm" {
		t.Errorf("1.x name not in the specification's spelling: %q", one.Attributes[0].Name)
	}
}

func TestEncodeByVersion(t *testing.T) {
	t.Parallel()
	alg := domain.Attribute{Name: "Cryptographic Algorithm", Index: 1, Value: kmip.Enum(kmip.TagCryptographicAlgorithm, 3)}
	custom := domain.Attribute{Name: "x-note", Value: kmip.Text(kmip.TagAttributeValue, "hi")}
	got := GetAttributesResponse(v14, "id", []domain.Attribute{alg})
	a := got.Child(kmip.TagAttribute)
	if n, _ := a.Child(kmip.TagAttributeName).AsText(); n != alg.Name || a.Child(kmip.TagAttributeIndex) == nil || a.Child(kmip.TagAttributeValue) == nil {
		t.Fatalf("1.x answer: %v", got)
	}
	got = GetAttributesResponse(v21, "id", []domain.Attribute{alg, custom})
	box := got.Child(kmip.TagAttributes)
	if box.Child(kmip.TagCryptographicAlgorithm) == nil || got.Child(kmip.TagAttribute) != nil {
		t.Fatalf("2.x answer: %v", got)
	}
	if vid, _ := box.Child(kmip.TagAttribute).Child(kmip.TagVendorIdentification).AsText(); vid != "x" {
		t.Fatalf("2.x custom attribute: %v", box)
	}
	list := GetAttributeListResponse(v21, "id", []domain.Attribute{alg, alg, custom})
	if refs := list.ChildrenOf(kmip.TagAttributeReference); len(refs) != 2 {
		t.Fatalf("2.x list: %v", list)
	}
	list = GetAttributeListResponse(v14, "id", []domain.Attribute{alg, custom})
	if names := list.ChildrenOf(kmip.TagAttributeName); len(names) != 2 {
		t.Fatalf("1.x list: %v", list)
	}
	echo := AttributeChangeResponse(v14, "id", domain.Attribute{Name: "x-note", Value: kmip.Text(kmip.TagAttributeValue, "hi")})
	if idx, ok := echo.Path(kmip.TagAttribute, kmip.TagAttributeIndex).AsInt(); !ok || idx != 0 {
		t.Fatalf("1.x echo without Attribute Index 0: %v", echo)
	}
	if AttributeChangeResponse(v21, "id", custom).Child(kmip.TagAttribute) != nil {
		t.Fatal("2.x attribute change echoes the attribute")
	}
}

func TestGetAttributesRefusesRepeatedNamesIn1x(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Text(kmip.TagAttributeName, "State"), kmip.Text(kmip.TagAttributeName, "state"))
	_, err := DecodeGetAttributes(v14, p)
	wantErr(t, err, Repeated, `Attribute Name: attribute "State" is requested more than once`)
	p2 := payload(kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)))
	if req, err := DecodeGetAttributes(v21, p2); err != nil || len(req.Names) != 2 {
		t.Fatalf("2.x: %v %v", req, err)
	}
}

func TestModifySelectsItsInstanceByVersion(t *testing.T) {
	t.Parallel()
	p := payload(attr1x("x-a", kmip.Text(0, "new")))
	r1, err1 := DecodeModifyAttribute(v14, p)
	r2, err2 := DecodeModifyAttribute(v21, p)
	if err1 != nil || err2 != nil || !r1.ByIndex || r2.ByIndex {
		t.Fatalf("1.x %+v %v, 2.x %+v %v", r1, err1, r2, err2)
	}
	_, err := DecodeModifyAttribute(v21, payload(
		kmip.Struct(kmip.TagNewAttribute, kmip.Int(kmip.TagCryptographicLength, 256)),
		kmip.Struct(kmip.TagCurrentAttribute, kmip.Enum(kmip.TagCryptographicAlgorithm, 3))))
	wantErr(t, err, Malformed, "Current Attribute: must name the New Attribute's attribute, with a value")
	_, err = DecodeAddAttribute(payload(attr1x("x-a", nil)))
	wantErr(t, err, Missing, "Attribute Value: Add Attribute needs a value")
}

func TestHalfTakesCommonUnlessOverridden(t *testing.T) {
	t.Parallel()
	mask := func(n int32) domain.Attribute {
		return domain.Attribute{Name: "Cryptographic Usage Mask", Value: kmip.Int(kmip.TagCryptographicUsageMask, n)}
	}
	name := func(s string) domain.Attribute {
		return domain.Attribute{Name: "Name", Value: kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, s))}
	}
	got := Half([]domain.Attribute{mask(1), name("common")}, []domain.Attribute{mask(2), name("own")})
	if len(got) != 3 || got[0].Name != "Name" || !got[1].Value.Equal(kmip.Int(kmip.TagCryptographicUsageMask, 2)) {
		t.Fatalf("half = %v", got)
	}
}

func TestObjectTypeByVersion(t *testing.T) {
	t.Parallel()
	tmpl := payload(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)))
	if _, err := ObjectType(v14, tmpl); err != nil {
		t.Fatalf("1.4 Template: %v", err)
	}
	_, err := ObjectType(v21, tmpl)
	wantErr(t, err, BadObjectType, "Object Type: unknown Object Type 6")
	_, err = ObjectType(v21, payload())
	wantErr(t, err, Missing, "Object Type: is required")
}

func TestLocateAnswersLocatedItemsFrom13(t *testing.T) {
	t.Parallel()
	if LocateResponse(Version{1, 2}, 5, []string{"a"}).Child(kmip.TagLocatedItems) != nil {
		t.Fatal("1.2 answer has Located Items")
	}
	got := LocateResponse(Version{1, 3}, 5, []string{"a", "b"})
	if n, _ := got.Child(kmip.TagLocatedItems).AsInt(); n != 5 || len(got.ChildrenOf(kmip.TagUniqueIdentifier)) != 2 {
		t.Fatalf("1.3 answer: %v", got)
	}
	_, err := DecodeLocate(v14, payload(kmip.Int(kmip.TagMaximumItems, -1)))
	wantErr(t, err, Malformed, "Maximum Items: must be a non-negative Integer")
	req, err := DecodeLocate(v14, payload(kmip.Enum(kmip.TagObjectGroupMember, 2)))
	if err != nil || req.MaxItems != -1 || req.GroupMember == nil || *req.GroupMember != 2 {
		t.Fatalf("request %+v, %v", req, err)
	}
}

func TestRevokeReadsItsReason(t *testing.T) {
	t.Parallel()
	code := func(c kmip.RevocationReasonCode) *kmip.Item {
		return kmip.Enum(kmip.TagRevocationReasonCode, uint32(c))
	}
	// The code alone, outside a Revocation Reason, is read and wrapped.
	req, err := DecodeRevoke(payload(code(kmip.RevocationReasonCodeKeyCompromise)))
	if err != nil || !req.Compromise() || req.Reason.Tag != kmip.TagRevocationReason {
		t.Fatalf("request %+v, %v", req, err)
	}
	_, err = DecodeRevoke(payload(kmip.Struct(kmip.TagRevocationReason, code(kmip.RevocationReasonCodeSuperseded)),
		kmip.DateTime(kmip.TagCompromiseOccurrenceDate, req.CompromiseAt)))
	wantErr(t, err, Malformed, "Compromise Occurrence Date: is only given with Key Compromise or CA Compromise")
	_, err = DecodeRevoke(payload())
	wantErr(t, err, Missing, "Revocation Reason Code: is required")
}

func TestUniqueIdentifierEnumerationOnlyIn2x(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder)))
	_, err := DecodeUniqueIdentifier(v14, p)
	wantErr(t, err, Malformed, "Unique Identifier: must be a Text String")
	uid, err := DecodeUniqueIdentifier(v21, p)
	if err != nil || !uid.Given || !uid.IsEnum || uid.Enum != kmip.UniqueIdentifierIDPlaceholder {
		t.Fatalf("2.1: %+v %v", uid, err)
	}
	_, err = DecodeUniqueIdentifier(v21, payload(kmip.Text(kmip.TagUniqueIdentifier, "a"), kmip.Text(kmip.TagUniqueIdentifier, "b")))
	wantErr(t, err, Repeated, "Unique Identifier: given more than once")
	if uid, err := DecodeUniqueIdentifier(v14, payload()); err != nil || uid.Given {
		t.Fatalf("none: %+v %v", uid, err)
	}
}

func TestCertificateRequestFieldsByVersion(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Enum(kmip.TagCertificateRequestType, 1),
		kmip.Bytes(kmip.TagCertificateRequest, []byte{1}), kmip.Bytes(kmip.TagCertificateRequestValue, []byte{2}),
		kmip.Text(kmip.TagCertificateRequestUniqueIdentifier, "csr"))
	r1, _ := DecodeCertificateRequest(v14, p)
	r2, _ := DecodeCertificateRequest(v21, p)
	if r1 == nil || r2 == nil || r1.Value[0] != 1 || r2.Value[0] != 2 {
		t.Fatalf("1.x %+v, 2.x %+v", r1, r2)
	}
	if _, given, _ := CertificateRequestID(v14, p); given {
		t.Fatal("1.x read a Certificate Request Unique Identifier")
	}
	if id, given, err := CertificateRequestID(v21, p); id != "csr" || !given || err != nil {
		t.Fatalf("2.x: %q %v %v", id, given, err)
	}
}

func TestCheckEchoesTheRefusedUses(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Long(kmip.TagUsageLimitsCount, 7), kmip.Int(kmip.TagCryptographicUsageMask, 4), kmip.Interval(kmip.TagLeaseTime, 60))
	req, err := DecodeCheck(p)
	if err != nil {
		t.Fatal(err)
	}
	got := CheckRefusal(CheckRequest{UsageMask: req.UsageMask, LeaseTime: req.LeaseTime})
	want := kmip.Struct(kmip.TagResponsePayload, kmip.Int(kmip.TagCryptographicUsageMask, 4), kmip.Interval(kmip.TagLeaseTime, 60))
	if !got.Equal(want) {
		t.Fatalf("refusal %v, want %v", got, want)
	}
	_, err = DecodeCheck(payload(kmip.Long(kmip.TagUsageLimitsCount, -1)))
	wantErr(t, err, Malformed, "Usage Limits Count: must be a non-negative Long Integer")
}
