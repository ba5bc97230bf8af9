package ttlv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"runtime"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// nested returns n Structures nested inside each other, the innermost empty.
func nested(n int) []byte {
	b := make([]byte, 8*n)
	for i := range n {
		h := b[8*i:]
		copy(h, []byte{0x42, 0x00, 0x01, 0x01})
		binary.BigEndian.PutUint32(h[4:], uint32(8*(n-1-i)))
	}
	return b
}

// flat returns a Structure holding n empty Text Strings.
func flat(n int) []byte {
	var kids []*kmip.Item
	for range n {
		kids = append(kids, kmip.Text(0x420002, ""))
	}
	b, err := Encode(kmip.Struct(0x420001, kids...))
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		raw  []byte // used instead of hex when set
		lim  Limits
		want error
	}{
		// Framing: the root item's extent disagrees with the bytes at hand.
		{name: "empty", hex: "", want: ErrFraming},
		{name: "truncated header", hex: "42 00 20 | 02 | 00 00", want: ErrFraming},
		{name: "header only, length 4", hex: "42 00 20 | 02 | 00 00 00 04", want: ErrFraming},
		{name: "root length beyond buffer", hex: "42 00 20 | 07 | 00 00 00 20 | 41 42 43 44 45 46 47 48", want: ErrFraming},
		{name: "root length 0xFFFFFFFF", hex: "42 00 20 | 01 | FF FF FF FF | 00 00 00 00 00 00 00 00", want: ErrFraming},
		{name: "root padding missing", hex: "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08", want: ErrFraming},
		{name: "trailing bytes", hex: "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00 | 00 00 00 00 00 00 00 00", want: ErrFraming},
		{name: "trailing partial item", hex: "42 00 20 | 01 | 00 00 00 00 | 42 00 20", want: ErrFraming},
		{name: "message over MaxSize", hex: "42 00 20 | 01 | 00 00 00 08 | 42 00 04 | 07 | 00 00 00 00", lim: Limits{MaxSize: 15}, want: ErrTooLarge},

		// Invalid: framing sound, content not.
		{name: "child length beyond structure", hex: "42 00 20 | 01 | 00 00 00 10 | 42 00 04 | 07 | 00 00 00 10 | 41 42 43 44 45 46 47 48", want: ErrInvalid},
		{name: "child header truncated", hex: "42 00 20 | 01 | 00 00 00 04 | 42 00 04 | 07 | 00 00 00 00", want: ErrInvalid},
		{name: "child padding beyond structure", hex: "42 00 20 | 01 | 00 00 00 0C | 42 00 04 | 02 | 00 00 00 04 | 00 00 00 01 | 00 00 00 00", want: ErrInvalid},
		{name: "non-zero padding Integer", hex: "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01", want: ErrInvalid},
		{name: "non-zero padding Text", hex: "42 00 20 | 07 | 00 00 00 03 | 61 62 63 00 00 00 20 00", want: ErrInvalid},
		{name: "non-zero padding Bytes", hex: "42 00 20 | 08 | 00 00 00 01 | 01 80 00 00 00 00 00 00", want: ErrInvalid},
		{name: "Boolean 2", hex: "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02", want: ErrInvalid},
		{name: "Boolean high byte", hex: "42 00 20 | 06 | 00 00 00 08 | 01 00 00 00 00 00 00 00", want: ErrInvalid},
		{name: "Boolean length 4", hex: "42 00 20 | 06 | 00 00 00 04 | 00 00 00 01 00 00 00 00", want: ErrInvalid},
		{name: "Integer length 8", hex: "42 00 20 | 02 | 00 00 00 08 | 00 00 00 00 00 00 00 08", want: ErrInvalid},
		{name: "Integer length 0", hex: "42 00 20 | 02 | 00 00 00 00", want: ErrInvalid},
		{name: "Long Integer length 4", hex: "42 00 20 | 03 | 00 00 00 04 | 00 00 00 08 00 00 00 00", want: ErrInvalid},
		{name: "Enumeration length 8", hex: "42 00 20 | 05 | 00 00 00 08 | 00 00 00 00 00 00 00 FF", want: ErrInvalid},
		{name: "Date-Time length 4", hex: "42 00 20 | 09 | 00 00 00 04 | 47 DA 67 F8 00 00 00 00", want: ErrInvalid},
		{name: "Interval length 8", hex: "42 00 20 | 0A | 00 00 00 08 | 00 0D 2F 00 00 00 00 00", want: ErrInvalid},
		{name: "Date-Time Extended length 16", hex: "42 00 20 | 0B | 00 00 00 10 | 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", want: ErrInvalid},
		{name: "Big Integer length 0", hex: "42 00 20 | 04 | 00 00 00 00", want: ErrInvalid},
		{name: "Big Integer length 4", hex: "42 00 20 | 04 | 00 00 00 04 | 00 00 00 01 00 00 00 00", want: ErrInvalid},
		{name: "unknown type 0x00", hex: "42 00 20 | 00 | 00 00 00 00", want: ErrInvalid},
		{name: "unknown type 0x0C", hex: "42 00 20 | 0C | 00 00 00 04 | 00 00 00 01 00 00 00 00", want: ErrInvalid},
		{name: "unknown type inside structure", hex: "42 00 20 | 01 | 00 00 00 08 | 42 00 04 | FF | 00 00 00 00", want: ErrInvalid},
		{name: "bad tag prefix root", hex: "43 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00", want: ErrInvalid},
		{name: "bad tag prefix child", hex: "42 00 20 | 01 | 00 00 00 08 | 00 00 04 | 07 | 00 00 00 00", want: ErrInvalid},
		{name: "invalid UTF-8", hex: "42 00 20 | 07 | 00 00 00 02 | C3 28 00 00 00 00 00 00", want: ErrInvalid},
		{name: "UTF-8 surrogate", hex: "42 00 20 | 07 | 00 00 00 03 | ED A0 80 00 00 00 00 00", want: ErrInvalid},
		{name: "depth bomb", raw: nested(65), want: ErrInvalid},
		{name: "depth over custom limit", raw: nested(4), lim: Limits{MaxDepth: 3}, want: ErrInvalid},
		{name: "too many items", raw: flat(3), lim: Limits{MaxItems: 3}, want: ErrInvalid},
		{name: "too many items default", raw: flat(100000), want: ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.raw
			if b == nil {
				b = hx(c.hex)
			}
			it, err := Decode(b, c.lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode(%X) = %v, %v; want %v", b, it, err, c.want)
			}
			if it != nil {
				t.Fatalf("Decode returned an item with an error")
			}
			// The two kinds never overlap.
			if errors.Is(err, ErrFraming) == errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is both or neither of ErrFraming and ErrInvalid", err)
			}
		})
	}
}

func TestDecodeLimitsBoundary(t *testing.T) {
	if _, err := Decode(nested(64), Limits{}); err != nil {
		t.Errorf("depth 64 rejected: %v", err)
	}
	if _, err := Decode(flat(2), Limits{MaxItems: 3}); err != nil {
		t.Errorf("3 items with MaxItems 3 rejected: %v", err)
	}
	b := flat(1) // 16 bytes
	if _, err := Decode(b, Limits{MaxSize: len(b)}); err != nil {
		t.Errorf("message of exactly MaxSize rejected: %v", err)
	}
	// A huge MaxDepth is capped rather than allowed to exhaust the stack.
	if _, err := Decode(nested(maxDepthCeiling+1), Limits{MaxDepth: 1 << 30}); !errors.Is(err, ErrInvalid) {
		t.Errorf("depth beyond the ceiling: err = %v", err)
	}
}

func TestDecodeEveryTruncation(t *testing.T) {
	// Every strict prefix of a valid message fails with ErrFraming, never a panic.
	full, err := Encode(getRequest())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(full) {
		if _, err := Decode(full[:n], Limits{}); !errors.Is(err, ErrFraming) {
			t.Fatalf("prefix of %d bytes: err = %v, want ErrFraming", n, err)
		}
	}
	// Every single-bit flip either decodes or fails with one of the two kinds.
	for i := range full {
		for bit := range 8 {
			b := bytes.Clone(full)
			b[i] ^= 1 << bit
			_, err := Decode(b, Limits{})
			if err != nil && !errors.Is(err, ErrFraming) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("flip at %d/%d: untyped error %v", i, bit, err)
			}
		}
	}
}

func TestDecodeAllocationBound(t *testing.T) {
	// The worst cases per wire byte: many empty items of each kind.
	kinds := map[string]func() *kmip.Item{
		"structure": func() *kmip.Item { return kmip.Struct(0x420002) },
		"text":      func() *kmip.Item { return kmip.Text(0x420002, "") },
		"bytes":     func() *kmip.Item { return kmip.Bytes(0x420002, nil) },
		"datetime":  func() *kmip.Item { return kmip.DateTimeExt(0x420002, time.Unix(1e9, 0)) },
		"integer":   func() *kmip.Item { return kmip.Int(0x420002, 1e6) },
		"big":       func() *kmip.Item { return kmip.Big(0x420002, big.NewInt(-1)) },
	}
	for name, mk := range kinds {
		kids := make([]*kmip.Item, 5000)
		for i := range kids {
			kids[i] = mk()
		}
		b, err := Encode(kmip.Struct(0x420001, kids...))
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = Decode(b, Limits{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(b)); ratio > 12 {
			t.Errorf("%s: decoding allocated %.1f bytes per input byte", name, ratio)
		} else {
			t.Logf("%s: %.1f bytes allocated per input byte", name, ratio)
		}
	}
}
