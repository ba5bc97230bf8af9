package kmipxml

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

func roundTrip(t *testing.T, it *kmip.Item) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, it); err != nil {
		t.Fatalf("Encode(%v): %v", it, err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Decode(%s): %v", buf.String(), err)
	}
	if !got.Equal(it) {
		t.Fatalf("round trip changed the item:\n in: %v\nout: %v\nxml:\n%s", it, got, buf.String())
	}
	return buf.String()
}

func TestRoundTripEveryType(t *testing.T) {
	ts := time.Date(2001, 1, 1, 10, 0, 0, 0, time.UTC)
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	cases := []struct {
		name string
		it   *kmip.Item
		want string // a fragment the XML must contain
	}{
		{"Integer", kmip.Int(kmip.TagCryptographicLength, -256), `<CryptographicLength type="Integer" value="-256"/>`},
		{"IntegerMax", kmip.Int(kmip.TagCryptographicLength, 2147483647), `value="2147483647"`},
		{"Mask", kmip.Int(kmip.TagCryptographicUsageMask, 12), `<CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>`},
		{"MaskUnnamedBits", kmip.Int(kmip.TagCryptographicUsageMask, -1), `type="Integer"`},
		{"MaskZero", kmip.Int(kmip.TagCryptographicUsageMask, 0), `value="0"`},
		{"LongInteger", kmip.Long(kmip.TagUsageLimitsTotal, -1<<40), `<UsageLimitsTotal type="LongInteger" value="-1099511627776"/>`},
		{"BigIntegerNeg", kmip.Big(kmip.TagModulus, big1), `<Modulus type="BigInteger" value="`},
		{"BigIntegerZero", kmip.Big(kmip.TagModulus, big.NewInt(0)), `value="0000000000000000"`},
		{"BigIntegerHighBit", kmip.Big(kmip.TagModulus, big.NewInt(0x80)), `value="0000000000000080"`},
		{"Enumeration", kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), `<ObjectType type="Enumeration" value="SymmetricKey"/>`},
		{"EnumerationUnnamed", kmip.Enum(kmip.TagObjectType, 0x80000001), `value="0x80000001"`},
		{"TagEnumeration", kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)), `<AttributeReference type="Enumeration" value="State"/>`},
		{"BooleanTrue", kmip.Bool(kmip.TagSensitive, true), `<Sensitive type="Boolean" value="true"/>`},
		{"BooleanFalse", kmip.Bool(kmip.TagSensitive, false), `value="false"`},
		{"TextString", kmip.Text(kmip.TagNameValue, `a<b>&"c"`+"\n"), `<NameValue type="TextString" value="a&lt;b&gt;&amp;&#34;c&#34;&#xA;"/>`},
		{"TextStringEmpty", kmip.Text(kmip.TagNameValue, ""), `value=""`},
		{"ByteString", kmip.Bytes(kmip.TagKeyMaterial, []byte{0x01, 0xab, 0xff}), `<KeyMaterial type="ByteString" value="01abff"/>`},
		{"ByteStringEmpty", kmip.Bytes(kmip.TagKeyMaterial, []byte{}), `value=""`},
		{"DateTime", kmip.DateTime(kmip.TagActivationDate, ts), `<ActivationDate type="DateTime" value="2001-01-01T10:00:00+00:00"/>`},
		{"DateTimeExtended", kmip.DateTimeExt(kmip.TagTimeStamp, ts.Add(123456*time.Microsecond)), `type="DateTimeExtended" value="2001-01-01T10:00:00.123456+00:00"`},
		{"Interval", kmip.Interval(kmip.TagLeaseTime, 4294967295), `<LeaseTime type="Interval" value="4294967295"/>`},
		{"UnknownTag", kmip.Text(kmip.Tag(0x540001), "x"), `<TTLV tag="0x540001" type="TextString" value="x"/>`},
		{"EmptyStructure", kmip.Struct(kmip.TagResponsePayload), `<ResponsePayload/>`},
		{"UnknownStructure", kmip.Struct(kmip.Tag(0x54FFFF), kmip.Int(kmip.Tag(0x540002), 1)), `<TTLV tag="0x54FFFF">`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := roundTrip(t, kmip.Struct(kmip.TagRequestPayload, c.it))
			if !strings.Contains(x, c.want) {
				t.Errorf("XML lacks %s:\n%s", c.want, x)
			}
		})
	}
}

// TestAttributeValueSets checks that KMIP 1.x Attribute Values take their
// enumeration and mask names from the sibling Attribute Name.
func TestAttributeValueSets(t *testing.T) {
	msg := kmip.Struct(kmip.TagTemplateAttribute,
		kmip.Struct(kmip.TagAttribute,
			kmip.Text(kmip.TagAttributeName, "Cryptographic Algorithm"),
			kmip.Enum(kmip.TagAttributeValue, uint32(kmip.CryptographicAlgorithmAES))),
		kmip.Struct(kmip.TagAttribute,
			kmip.Text(kmip.TagAttributeName, "Cryptographic Usage Mask"),
			kmip.Int(kmip.TagAttributeValue, 12)),
		kmip.Struct(kmip.TagAttribute,
			kmip.Text(kmip.TagAttributeName, "x-custom"),
			kmip.Enum(kmip.TagAttributeValue, 7)),
	)
	x := roundTrip(t, msg)
	for _, want := range []string{
		`<AttributeValue type="Enumeration" value="AES"/>`,
		`<AttributeValue type="Integer" value="Encrypt Decrypt"/>`,
		`<AttributeValue type="Enumeration" value="0x00000007"/>`,
	} {
		if !strings.Contains(x, want) {
			t.Errorf("XML lacks %s:\n%s", want, x)
		}
	}
}

func TestEncodeIndented(t *testing.T) {
	msg := kmip.Struct(kmip.TagRequestMessage,
		kmip.Struct(kmip.TagRequestHeader,
			kmip.Struct(kmip.TagProtocolVersion,
				kmip.Int(kmip.TagProtocolVersionMajor, 1),
				kmip.Int(kmip.TagProtocolVersionMinor, 4))))
	var buf bytes.Buffer
	if err := Encode(&buf, msg); err != nil {
		t.Fatal(err)
	}
	want := `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
  </RequestHeader>
</RequestMessage>
`
	if buf.String() != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestDecodeAlternativeForms(t *testing.T) {
	doc := `<KMIP><!-- c -->
<RequestPayload>
  <CryptographicUsageMask type="Integer" value="0x0000000C"/>
  <CryptographicLength type="Integer" value="0x00000080"/>
  <ObjectType type="Enumeration" value="0x00000002"/>
  <ActivationDate type="DateTime" value="2000-02-01T00:00:00+10:00"/>
  <ActivationDate type="DateTime" value="2000-01-31T14:00:00Z"/>
  <ProtectionStorageMask type="Integer" value="Software"/>
  <TTLV tag="0x540001" type="Integer" value="5"/>
  <NameValue tag="0x420055" type="TextString" value="x"/>
  <Modulus type="BigInteger" value="0xff"/>
</RequestPayload>
</KMIP>`
	got, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := kmip.Struct(kmip.TagRequestPayload,
		kmip.Int(kmip.TagCryptographicUsageMask, 12),
		kmip.Int(kmip.TagCryptographicLength, 128),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.DateTime(kmip.TagActivationDate, time.Date(2000, 1, 31, 14, 0, 0, 0, time.UTC)),
		kmip.DateTime(kmip.TagActivationDate, time.Date(2000, 1, 31, 14, 0, 0, 0, time.UTC)),
		kmip.Int(kmip.TagProtectionStorageMask, int32(kmip.ProtectionStorageMaskSoftware)),
		kmip.Int(kmip.Tag(0x540001), 5),
		kmip.Text(kmip.TagNameValue, "x"),
		kmip.Big(kmip.TagModulus, big.NewInt(-1)),
	)
	if !got.Equal(want) {
		t.Errorf("Decode:\n got %v\nwant %v", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	bad := map[string]string{
		"unknown element":      `<NoSuchTag type="Integer" value="1"/>`,
		"unknown type":         `<CryptographicLength type="Int" value="1"/>`,
		"missing value":        `<CryptographicLength type="Integer"/>`,
		"structure with value": `<RequestPayload value="1"/>`,
		"bad integer":          `<CryptographicLength type="Integer" value="12x"/>`,
		"integer overflow":     `<CryptographicLength type="Integer" value="2147483648"/>`,
		"unknown enum name":    `<ObjectType type="Enumeration" value="NoSuchThing"/>`,
		"bad mask name":        `<CryptographicUsageMask type="Integer" value="Encrypt Nope"/>`,
		"odd hex":              `<KeyMaterial type="ByteString" value="abc"/>`,
		"bad datetime":         `<ActivationDate type="DateTime" value="yesterday"/>`,
		"bad boolean":          `<Sensitive type="Boolean" value="yes"/>`,
		"TTLV without tag":     `<TTLV type="Integer" value="1"/>`,
		"TTLV bad tag":         `<TTLV tag="0x110001" type="Integer" value="1"/>`,
		"children of leaf":     `<CryptographicLength type="Integer" value="1"><NameValue type="TextString" value="x"/></CryptographicLength>`,
		"text content":         `<RequestPayload>hello</RequestPayload>`,
		"truncated":            `<RequestPayload>`,
		"two roots":            `<RequestPayload/><RequestPayload/>`,
		"too deep":             strings.Repeat("<RequestPayload>", MaxDepth+1) + strings.Repeat("</RequestPayload>", MaxDepth+1),
	}
	for name, doc := range bad {
		if _, err := Decode(strings.NewReader(doc)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode(%q) = %v, want ErrInvalid", name, doc, err)
		}
	}
}

func TestEncodeRejectsBadValues(t *testing.T) {
	for _, it := range []*kmip.Item{
		{Tag: kmip.TagCryptographicLength, Type: kmip.TypeInteger, Value: "x"},
		{Tag: kmip.TagRequestPayload, Type: kmip.TypeStructure, Value: 3},
		{Tag: kmip.TagCryptographicLength, Type: kmip.Type(0x20), Value: int32(1)},
		kmip.Struct(kmip.TagRequestPayload, &kmip.Item{Tag: kmip.TagModulus, Type: kmip.TypeBigInteger, Value: (*big.Int)(nil)}),
	} {
		if err := Encode(&bytes.Buffer{}, it); !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode(%#v) = %v, want ErrInvalid", it, err)
		}
	}
}

// dummyHook replaces $VARIABLES with a value of the node's type, as the
// conformance runner does with real values.
func dummyHook(n *Node, _ kmip.Tag) (*kmip.Item, error) {
	if !strings.HasPrefix(n.Value, "$") {
		return nil, nil
	}
	switch n.Type {
	case kmip.TypeTextString:
		return kmip.Text(n.Tag, "dummy"), nil
	case kmip.TypeByteString:
		return kmip.Bytes(n.Tag, []byte{1, 2, 3}), nil
	case kmip.TypeDateTime:
		return kmip.DateTime(n.Tag, time.Now()), nil
	}
	return nil, nil
}

// TestConformanceFiles decodes every message of every OASIS test case, and
// checks that each request survives Item → XML → Item.
func TestConformanceFiles(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "..", "..", "shared", "conformance", "oasis-kmip-*"))
	if len(dirs) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("../shared/conformance not found next to the repository: CI must run the OASIS files")
		}
		t.Skip("../shared/conformance not found next to the repository; skipping the OASIS files")
	}
	files := 0
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, p := range paths {
			files++
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			nodes, err := Parse(f)
			f.Close()
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(p), err)
				continue
			}
			if len(nodes) == 0 {
				t.Errorf("%s: no messages", filepath.Base(p))
			}
			for i, n := range nodes {
				if n.Tag != kmip.TagRequestMessage && n.Tag != kmip.TagResponseMessage {
					t.Errorf("%s: message %d is a %s", filepath.Base(p), i, n.Tag)
					continue
				}
				it, err := n.ItemWith(dummyHook)
				if err != nil {
					t.Errorf("%s: message %d: %v", filepath.Base(p), i, err)
					continue
				}
				if n.Tag == kmip.TagRequestMessage {
					roundTrip(t, it)
				}
			}
		}
	}
	if files < 150 {
		t.Errorf("only %d case files found", files)
	}
}

// TestEncodeRefusesNonXMLText: a Text String XML 1.0 cannot hold is refused,
// not silently replaced (xml.EscapeText writes U+FFFD for it).
func TestEncodeRefusesNonXMLText(t *testing.T) {
	for _, s := range []string{"a\x00b", "\x01", "bad \xff utf-8", "\uFFFE"} {
		var b strings.Builder
		if err := Encode(&b, kmip.Text(kmip.TagUniqueIdentifier, s)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode(%q) = %v, output %q; want ErrInvalid", s, err, b.String())
		}
	}
	for _, s := range []string{"tab\tnl\ncr\r", "\uFFFD é 😀"} {
		var b strings.Builder
		if err := Encode(&b, kmip.Text(kmip.TagUniqueIdentifier, s)); err != nil {
			t.Fatalf("Encode(%q): %v", s, err)
		}
		it, err := Decode(strings.NewReader(b.String()))
		if err != nil || it.Value != s {
			t.Errorf("round trip of %q = %v, %v", s, it, err)
		}
	}
}

// TestDateTimeOutsideISOYears: Date-Times whose year has no four-digit ISO
// 8601 form are written in hex and read back unchanged.
func TestDateTimeOutsideISOYears(t *testing.T) {
	for _, it := range []*kmip.Item{
		kmip.DateTime(kmip.TagActivationDate, time.Unix(1<<40, 0)),
		kmip.DateTime(kmip.TagActivationDate, time.Unix(-1<<40, 0)),
		kmip.DateTimeExt(kmip.TagActivationDate, time.UnixMicro(1<<55)),
	} {
		var b strings.Builder
		if err := Encode(&b, it); err != nil {
			t.Fatal(err)
		}
		back, err := Decode(strings.NewReader(b.String()))
		if err != nil || !back.Equal(it) {
			t.Errorf("round trip of %s via %s = %v, %v", it, b.String(), back, err)
		}
	}
}

// TestDecodeLimited bounds nesting and the number of items as the TTLV
// decoder does.
func TestDecodeLimited(t *testing.T) {
	doc := func(depth, width int) string {
		return strings.Repeat("<Attribute>", depth-1) +
			strings.Repeat(`<BatchCount type="Integer" value="1"/>`, width) + strings.Repeat("</Attribute>", depth-1)
	}
	if _, err := DecodeLimited(strings.NewReader(doc(8, 1)), 8, 0); err != nil {
		t.Fatalf("depth 8, limit 8: %v", err)
	}
	if _, err := DecodeLimited(strings.NewReader(doc(9, 1)), 8, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("depth 9, limit 8: %v", err)
	}
	if _, err := DecodeLimited(strings.NewReader(doc(2, 9)), 64, 10); err != nil {
		t.Fatalf("10 items, limit 10: %v", err)
	}
	if _, err := DecodeLimited(strings.NewReader(doc(2, 10)), 64, 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("11 items, limit 10: %v", err)
	}
}
