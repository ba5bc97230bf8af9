package ttlv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// hasBig reports whether the tree holds a Big Integer, the one type whose
// accepted encodings are not all canonical (extra sign extension).
func hasBig(it *kmip.Item) bool {
	if it.Type == kmip.TypeBigInteger {
		return true
	}
	for _, k := range it.Children() {
		if hasBig(k) {
			return true
		}
	}
	return false
}

func FuzzDecode(f *testing.F) {
	for _, ex := range specExamples {
		f.Add(hx(ex.hex))
	}
	if b, err := Encode(getRequest()); err == nil {
		f.Add(b)
	}
	f.Add(nested(5))
	f.Add(hx("42 00 20 | 04 | 00 00 00 10 | FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FE"))
	lim := Limits{MaxItems: 10000, MaxDepth: 32, MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := Decode(b, lim)
		if err != nil {
			if it != nil {
				t.Fatal("item returned with an error")
			}
			if errors.Is(err, ErrFraming) == errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is both or neither of ErrFraming and ErrInvalid", err)
			}
			return
		}
		enc, err := Encode(it)
		if err != nil {
			t.Fatalf("Encode of a decoded item: %v", err)
		}
		if EncodedLen(it) != len(enc) {
			t.Fatalf("EncodedLen %d != %d", EncodedLen(it), len(enc))
		}
		if !hasBig(it) && !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs:\n  in %X\n out %X", b, enc)
		}
		it2, err := Decode(enc, lim)
		if err != nil {
			t.Fatalf("Decode of the re-encoding: %v", err)
		}
		if !it2.Equal(it) {
			t.Fatalf("round trip changed the item:\n%v\n%v", it, it2)
		}
		enc2, err := Encode(it2)
		if err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("second re-encoding differs (%v)", err)
		}
	})
}
