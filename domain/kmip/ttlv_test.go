package kmip

import (
	"bytes"
	"errors"
	"math/big"
	"testing"
)

// The KMIP 1.4 §9.1.2 examples, a Big Integer of each sign, and refusals.
func TestAppendTTLV(t *testing.T) {
	cases := []struct {
		it   *Item
		want []byte
	}{
		{Int(0x420020, 8), []byte{0x42, 0x00, 0x20, 0x02, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 0}},
		{Text(0x420020, "Hello World"), append([]byte{0x42, 0x00, 0x20, 0x07, 0, 0, 0, 0x0B}, append([]byte("Hello World"), 0, 0, 0, 0, 0)...)},
		{Big(0x420020, big.NewInt(1)), []byte{0x42, 0x00, 0x20, 0x04, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}},
		{Big(0x420020, big.NewInt(-1)), []byte{0x42, 0x00, 0x20, 0x04, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{Struct(0x420020, Bool(0x420021, true)), []byte{0x42, 0x00, 0x20, 0x01, 0, 0, 0, 16, 0x42, 0x00, 0x21, 0x06, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}},
	}
	for _, c := range cases {
		got, err := AppendTTLV([]byte("prefix"), c.it)
		if err != nil {
			t.Fatalf("%s: %v", c.it, err)
		}
		if !bytes.Equal(got[6:], c.want) || string(got[:6]) != "prefix" {
			t.Errorf("%s:\n got %x\nwant %x", c.it, got[6:], c.want)
		}
		if n := TTLVLen(c.it); n != len(c.want) {
			t.Errorf("%s: TTLVLen %d, want %d", c.it, n, len(c.want))
		}
	}
	for _, bad := range []*Item{nil, {Tag: 0x420020, Type: TypeInteger, Value: "x"}, Text(0x110000, "t"), Text(0x420020, "\xff")} {
		out, err := AppendTTLV([]byte("keep"), bad)
		if !errors.Is(err, ErrUnencodable) || string(out) != "keep" {
			t.Errorf("%v: got %q, %v; want dst unchanged and ErrUnencodable", bad, out, err)
		}
		if TTLVLen(bad) != -1 {
			t.Errorf("%v: TTLVLen should be -1", bad)
		}
	}
}
