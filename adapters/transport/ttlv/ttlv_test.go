package ttlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// hx decodes spec-style hex ("42 00 20 | 02 | ...") and panics on a typo.
func hx(s string) []byte {
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustBig(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return x
}

// tagExample is the tag KMIP 1.4 §9.1.2 uses in its examples.
const tagExample kmip.Tag = 0x420020

// specExamples are the byte examples of KMIP 1.4 §9.1.2 (the Date-Time
// Extended one is ours: neither spec gives one).
var specExamples = []struct {
	name string
	item *kmip.Item
	hex  string
}{
	{"Integer 8", kmip.Int(tagExample, 8),
		"42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"},
	{"Long Integer 123456789000000000", kmip.Long(tagExample, 123456789000000000),
		"42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00"},
	{"Big Integer 1234567890000000000000000000", kmip.Big(tagExample, mustBig("1234567890000000000000000000")),
		"42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00"},
	{"Enumeration 255", kmip.Enum(tagExample, 255),
		"42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00"},
	{"Boolean True", kmip.Bool(tagExample, true),
		"42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01"},
	{"Text String Hello World", kmip.Text(tagExample, "Hello World"),
		"42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00"},
	{"Byte String 010203", kmip.Bytes(tagExample, []byte{1, 2, 3}),
		"42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00"},
	{"Date-Time 2008-03-14 11:56:40 GMT", kmip.DateTime(tagExample, time.Date(2008, 3, 14, 11, 56, 40, 0, time.UTC)),
		"42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8"},
	{"Interval 10 days", kmip.Interval(tagExample, 10*24*3600),
		"42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00"},
	{"Structure {Enumeration 254, Integer 255}", kmip.Struct(tagExample, kmip.Enum(0x420004, 254), kmip.Int(0x420005, 255)),
		`42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00
		00 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00`},
	{"Date-Time Extended 2008-03-14 11:56:40.123456", kmip.DateTimeExt(tagExample, time.Date(2008, 3, 14, 11, 56, 40, 123456000, time.UTC)),
		"42 00 20 | 0B | 00 00 00 08 | 00 04 48 64 5C F1 D0 40"},
}

func TestSpecExamples(t *testing.T) {
	for _, ex := range specExamples {
		t.Run(ex.name, func(t *testing.T) {
			want := hx(ex.hex)
			got, err := Encode(ex.item)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode:\n got %X\nwant %X", got, want)
			}
			if n := EncodedLen(ex.item); n != len(want) {
				t.Errorf("EncodedLen = %d, want %d", n, len(want))
			}
			dec, err := Decode(want, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !dec.Equal(ex.item) {
				t.Fatalf("Decode = %v, want %v", dec, ex.item)
			}
		})
	}
}

func TestRoundTripEveryType(t *testing.T) {
	var hugeBytes = bytes.Repeat([]byte{0xA5}, 1000)
	items := []*kmip.Item{
		kmip.Int(0x420001, 0), kmip.Int(0x420001, -1), kmip.Int(0x420001, 1<<31-1), kmip.Int(0x420001, -1<<31),
		kmip.Long(0x420001, 0), kmip.Long(0x420001, -1), kmip.Long(0x420001, 1<<63-1), kmip.Long(0x420001, -1<<63),
		kmip.Enum(0x420001, 0), kmip.Enum(0x420001, 0x80000001), kmip.Enum(0x420001, 1<<32-1),
		kmip.Bool(0x420001, false), kmip.Bool(0x420001, true),
		kmip.Text(0x420001, ""), kmip.Text(0x420001, "12345678"), kmip.Text(0x420001, "héllo, 世界 🔑"),
		kmip.Bytes(0x420001, nil), kmip.Bytes(0x420001, []byte{0}), kmip.Bytes(0x420001, hugeBytes),
		kmip.DateTime(0x420001, time.Unix(0, 0)), kmip.DateTime(0x420001, time.Unix(-62135596800, 0)),
		kmip.DateTime(0x420001, time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC)),
		kmip.DateTimeExt(0x420001, time.UnixMicro(-1)), kmip.DateTimeExt(0x420001, time.UnixMicro(1_700_000_000_123_456)),
		kmip.Interval(0x420001, 0), kmip.Interval(0x420001, 1<<32-1),
		kmip.Struct(0x420001),
		kmip.Struct(0x540001, kmip.Struct(0x420002, kmip.Struct(0x420003, kmip.Text(0x540004, "deep")))),
	}
	for _, s := range []string{"0", "1", "-1", "127", "128", "-128", "-129", "255", "256",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551616", "-18446744073709551616", "-1234567890000000000000000000"} {
		items = append(items, kmip.Big(0x420001, mustBig(s)))
	}
	for _, it := range items {
		enc, err := Encode(it)
		if err != nil {
			t.Fatalf("Encode(%v): %v", it, err)
		}
		if len(enc)%8 != 0 || len(enc) != EncodedLen(it) {
			t.Fatalf("Encode(%v): %d bytes, EncodedLen %d", it, len(enc), EncodedLen(it))
		}
		dec, err := Decode(enc, Limits{})
		if err != nil {
			t.Fatalf("Decode(Encode(%v)) = %X: %v", it, enc, err)
		}
		if !dec.Equal(it) {
			t.Fatalf("round trip of %v gave %v", it, dec)
		}
	}
	// The whole set inside one structure, too.
	all := kmip.Struct(0x420078, items...)
	enc, err := Encode(all)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(enc, Limits{})
	if err != nil || !dec.Equal(all) {
		t.Fatalf("round trip of the combined structure: %v", err)
	}
}

func TestBigIntegerEncoding(t *testing.T) {
	cases := []struct{ v, hex string }{
		{"0", "00 00 00 00 00 00 00 00"},
		{"-1", "FF FF FF FF FF FF FF FF"},
		{"-128", "FF FF FF FF FF FF FF 80"},
		{"128", "00 00 00 00 00 00 00 80"},
		{"9223372036854775807", "7F FF FF FF FF FF FF FF"},
		{"9223372036854775808", "00 00 00 00 00 00 00 00 80 00 00 00 00 00 00 00"},
		{"-9223372036854775808", "80 00 00 00 00 00 00 00"},
		{"-9223372036854775809", "FF FF FF FF FF FF FF FF 7F FF FF FF FF FF FF FF"},
	}
	for _, c := range cases {
		want := hx(c.hex)
		enc, err := Encode(kmip.Big(tagExample, mustBig(c.v)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc[8:], want) {
			t.Errorf("Big %s: value %X, want %X", c.v, enc[8:], want)
		}
	}
	// Over-long sign extension is accepted on decode.
	b := hx("42 00 20 | 04 | 00 00 00 10 | FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FE")
	it, err := Decode(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := it.AsBig(); v.Int64() != -2 {
		t.Errorf("decoded %v, want -2", v)
	}
}

func TestTimeExtremesRoundTrip(t *testing.T) {
	for _, typ := range []string{"09", "0B"} {
		for _, v := range []string{"7F FF FF FF FF FF FF FF", "80 00 00 00 00 00 00 00", "FF FF FF FF FF FF FF FF", "00 00 00 00 00 00 00 00"} {
			b := hx("42 00 20 | " + typ + " | 00 00 00 08 | " + v)
			it, err := Decode(b, Limits{})
			if err != nil {
				t.Fatalf("Decode(%X): %v", b, err)
			}
			enc, err := Encode(it)
			if err != nil || !bytes.Equal(enc, b) {
				t.Errorf("type %s value %s re-encodes as %X (%v)", typ, v, enc, err)
			}
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	cyclic := kmip.Struct(0x420001)
	cyclic.Add(cyclic)
	cases := []struct {
		name string
		item *kmip.Item
	}{
		{"nil item", nil},
		{"nil child", &kmip.Item{Tag: 0x420001, Type: kmip.TypeStructure, Value: []*kmip.Item{nil}}},
		{"int as int", &kmip.Item{Tag: 0x420001, Type: kmip.TypeInteger, Value: 5}},
		{"long as int32", &kmip.Item{Tag: 0x420001, Type: kmip.TypeLongInteger, Value: int32(5)}},
		{"enum as int32", &kmip.Item{Tag: 0x420001, Type: kmip.TypeEnumeration, Value: int32(5)}},
		{"bool as int", &kmip.Item{Tag: 0x420001, Type: kmip.TypeBoolean, Value: 1}},
		{"text as bytes", &kmip.Item{Tag: 0x420001, Type: kmip.TypeTextString, Value: []byte("x")}},
		{"bytes as text", &kmip.Item{Tag: 0x420001, Type: kmip.TypeByteString, Value: "x"}},
		{"nil big", &kmip.Item{Tag: 0x420001, Type: kmip.TypeBigInteger, Value: (*big.Int)(nil)}},
		{"datetime as int64", &kmip.Item{Tag: 0x420001, Type: kmip.TypeDateTime, Value: int64(5)}},
		{"structure as item", &kmip.Item{Tag: 0x420001, Type: kmip.TypeStructure, Value: kmip.Int(0x420002, 1)}},
		{"unknown type", &kmip.Item{Tag: 0x420001, Type: 0x0C, Value: uint32(1)}},
		{"invalid UTF-8", kmip.Text(0x420001, "ab\xffcd")},
		{"bad tag prefix", kmip.Int(0x430001, 1)},
		{"tag over 24 bits", kmip.Int(0x1420001, 1)},
		{"invalid child deep inside", kmip.Struct(0x420001, kmip.Struct(0x420002, kmip.Text(0x420003, "\xc0")))},
		{"cyclic structure", cyclic},
	}
	for _, c := range cases {
		dst := []byte("prefix")
		out, err := AppendEncode(dst, c.item)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", c.name, err)
		}
		if string(out) != "prefix" {
			t.Errorf("%s: dst changed to %q", c.name, out)
		}
		if n := EncodedLen(c.item); n != -1 {
			t.Errorf("%s: EncodedLen = %d, want -1", c.name, n)
		}
	}
}

func TestAppendEncodeAppends(t *testing.T) {
	it := specExamples[0].item
	out, err := AppendEncode([]byte{0xAA}, it)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{0xAA}, hx(specExamples[0].hex)...); !bytes.Equal(out, want) {
		t.Fatalf("got %X, want %X", out, want)
	}
}

func TestDecodeCopiesInput(t *testing.T) {
	b, err := Encode(kmip.Struct(0x420001, kmip.Bytes(0x420002, []byte("key!")), kmip.Text(0x420003, "name")))
	if err != nil {
		t.Fatal(err)
	}
	it, err := Decode(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	kb, _ := it.Path(0x420002).AsBytes()
	txt, _ := it.Path(0x420003).AsText()
	if string(kb) != "key!" || txt != "name" {
		t.Fatalf("decoded values alias the input: %q %q", kb, txt)
	}
	// Appending to a decoded byte string must not clobber its neighbours.
	b2, _ := Encode(kmip.Struct(0x420001, kmip.Bytes(0x420002, []byte("ab")), kmip.Bytes(0x420002, []byte("cd"))))
	it, _ = Decode(b2, Limits{})
	first := it.Children()[0]
	v, _ := first.AsBytes()
	_ = append(v, 'X')
	if w, _ := it.Children()[1].AsBytes(); string(w) != "cd" {
		t.Fatalf("append to a decoded byte string changed its sibling to %q", w)
	}
	// Adding to a decoded structure must not clobber a sibling structure.
	b3, _ := Encode(kmip.Struct(0x420001, kmip.Struct(0x420002, kmip.Int(0x420003, 1)), kmip.Struct(0x420004, kmip.Int(0x420005, 2))))
	it, _ = Decode(b3, Limits{})
	it.Children()[0].Add(kmip.Int(0x420006, 3))
	if c := it.Children()[1].Children(); len(c) != 1 || c[0].Tag != 0x420005 {
		t.Fatalf("Add to a decoded structure changed its sibling: %v", it)
	}
}

func TestPeekTag(t *testing.T) {
	if tag, ok := PeekTag(hx("42 00 78 01")); !ok || tag != 0x420078 {
		t.Errorf("PeekTag = %v, %v", tag, ok)
	}
	if _, ok := PeekTag([]byte{0x42, 0}); ok {
		t.Error("PeekTag of 2 bytes reported ok")
	}
}
