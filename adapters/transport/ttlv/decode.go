package ttlv

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Decode decodes exactly one TTLV item spanning all of b (KMIP 1.4 §9.1).
//
// It is strict: every length must fit its enclosing item and match its type's
// fixed length (Integer, Enumeration and Interval 4; Long Integer, Boolean,
// Date-Time and Date-Time Extended 8; Big Integer a non-zero multiple of 8);
// padding must be present and zero; Booleans must be 0 or 1; Text Strings
// must be valid UTF-8; tags must be 0x42xxxx or 0x54xxxx; Structure children
// must fill their Structure exactly; and lim must hold. Big Integers with more
// sign extension than the minimum are accepted (and re-encode minimally).
//
// A root item that does not span exactly b, or a b longer than lim.MaxSize,
// yields ErrFraming (ErrTooLarge for the latter); every other fault yields
// ErrInvalid. Error texts give offsets and registered tag names but never
// quote bytes of b, which may be key material. Decode never panics, copies
// what it keeps (b may be reused), and allocates a small multiple of len(b).
func Decode(b []byte, lim Limits) (*kmip.Item, error) {
	lim = lim.effective()
	if len(b) > lim.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), lim.MaxSize)
	}
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, shorter than an item header", ErrFraming, len(b))
	}
	l := uint64(binary.BigEndian.Uint32(b[4:8]))
	avail := uint64(len(b) - headerLen)
	switch {
	case l > avail:
		return nil, fmt.Errorf("%w: item length exceeds the %d bytes available", ErrFraming, avail)
	case uint64(pad8(int(l))) > avail:
		return nil, fmt.Errorf("%w: item lacks its padding", ErrFraming)
	case uint64(pad8(int(l))) < avail:
		return nil, fmt.Errorf("%w: %d trailing bytes after the item", ErrFraming, avail-uint64(pad8(int(l))))
	}

	s := scanner{lim: lim}
	if _, err := s.scan(b, 0, 1); err != nil {
		return nil, err
	}
	d := builder{
		items: make([]kmip.Item, s.items),
		ptrs:  make([]*kmip.Item, s.items-1),
	}
	if s.byteLen > 0 {
		d.bytes = make([]byte, 0, s.byteLen)
	}
	d.text.Grow(s.textLen)
	it, _ := d.build(b)
	return it, nil
}

// scanner is Decode's first pass: it validates everything and counts what the
// second pass allocates, so that the second pass cannot fail.
type scanner struct {
	lim     Limits
	items   int
	textLen int
	byteLen int
}

// scan validates the item at the start of b (the remaining bytes of its
// enclosing Structure; off is b's offset in the message, for error text) and
// returns its encoded size, padding included.
func (s *scanner) scan(b []byte, off, depth int) (int, error) {
	if len(b) < headerLen {
		return 0, fmt.Errorf("%w: offset %d: truncated item header (%d bytes left in the structure)", ErrInvalid, off, len(b))
	}
	tag, _ := PeekTag(b)
	if !validTagPrefix(b[0]) {
		return 0, fmt.Errorf("%w: offset %d: tag is not 0x42xxxx or 0x54xxxx", ErrInvalid, off)
	}
	typ := kmip.Type(b[3])
	name := tagName(tag)
	l64 := uint64(binary.BigEndian.Uint32(b[4:8]))
	if l64 > uint64(len(b)-headerLen) {
		return 0, fmt.Errorf("%w: offset %d: %s length exceeds the %d bytes left in the structure", ErrInvalid, off, name, len(b)-headerLen)
	}
	l := int(l64)
	s.items++
	if s.items > s.lim.MaxItems {
		return 0, fmt.Errorf("%w: more than %d items", ErrInvalid, s.lim.MaxItems)
	}
	v := b[headerLen : headerLen+l]
	fixed := func(want int) error {
		if l != want {
			return fmt.Errorf("%w: offset %d: %s %s has length other than %d", ErrInvalid, off, name, typ, want)
		}
		return nil
	}
	var err error
	switch typ {
	case kmip.TypeStructure:
		if depth > s.lim.MaxDepth {
			return 0, fmt.Errorf("%w: offset %d: structures nested deeper than %d", ErrInvalid, off, s.lim.MaxDepth)
		}
		for p := 0; p < l; {
			n, err := s.scan(v[p:], off+headerLen+p, depth+1)
			if err != nil {
				return 0, err
			}
			p += n
		}
		// Children have sizes that are multiples of 8 and fill v exactly,
		// so l is a multiple of 8 and there is no padding.
		return headerLen + l, nil
	case kmip.TypeInteger, kmip.TypeEnumeration, kmip.TypeInterval:
		err = fixed(4)
	case kmip.TypeLongInteger, kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		err = fixed(8)
	case kmip.TypeBoolean:
		if err = fixed(8); err == nil {
			if u := binary.BigEndian.Uint64(v); u > 1 {
				err = fmt.Errorf("%w: offset %d: %s Boolean has a value other than 0 or 1", ErrInvalid, off, name)
			}
		}
	case kmip.TypeBigInteger:
		if l == 0 || l%8 != 0 {
			err = fmt.Errorf("%w: offset %d: %s BigInteger length is not a non-zero multiple of 8", ErrInvalid, off, name)
		}
	case kmip.TypeTextString:
		if !utf8.Valid(v) {
			err = fmt.Errorf("%w: offset %d: %s TextString is not valid UTF-8", ErrInvalid, off, name)
		}
		s.textLen += l
	case kmip.TypeByteString:
		s.byteLen += l
	default:
		err = fmt.Errorf("%w: offset %d: %s has an unknown item type", ErrInvalid, off, name)
	}
	if err != nil {
		return 0, err
	}
	end := headerLen + pad8(l)
	if end > len(b) {
		return 0, fmt.Errorf("%w: offset %d: %s lacks its padding", ErrInvalid, off, name)
	}
	for _, c := range b[headerLen+l : end] {
		if c != 0 {
			return 0, fmt.Errorf("%w: offset %d: %s has non-zero padding", ErrInvalid, off, name)
		}
	}
	return end, nil
}

// tagName names tag for an error text: its registered name, or "item" for a
// tag the registry does not know, whose bytes may be misread payload.
func tagName(tag kmip.Tag) string {
	if _, ok := kmip.LookupTag(tag); ok {
		return tag.String()
	}
	return "item"
}

// builder is Decode's second pass: it builds the tree from input the scanner
// accepted, carving items, child lists, byte strings and text strings out of
// one allocation each.
type builder struct {
	items []kmip.Item
	ptrs  []*kmip.Item
	bytes []byte
	text  strings.Builder
}

// build decodes the validated item at the start of b and returns it with its
// encoded size.
func (d *builder) build(b []byte) (*kmip.Item, int) {
	it := &d.items[0]
	d.items = d.items[1:]
	tag, _ := PeekTag(b)
	it.Tag = tag
	it.Type = kmip.Type(b[3])
	l := int(binary.BigEndian.Uint32(b[4:8]))
	v := b[headerLen : headerLen+l]
	switch it.Type {
	case kmip.TypeStructure:
		n := 0
		for p := 0; p < l; p += headerLen + pad8(int(binary.BigEndian.Uint32(v[p+4:p+8]))) {
			n++
		}
		kids := d.ptrs[:n:n]
		d.ptrs = d.ptrs[n:]
		for i, p := 0, 0; i < n; i++ {
			k, size := d.build(v[p:])
			kids[i] = k
			p += size
		}
		it.Value = kids
	case kmip.TypeInteger:
		it.Value = int32(binary.BigEndian.Uint32(v))
	case kmip.TypeLongInteger:
		it.Value = int64(binary.BigEndian.Uint64(v))
	case kmip.TypeBigInteger:
		it.Value = decodeBig(v)
	case kmip.TypeEnumeration, kmip.TypeInterval:
		it.Value = binary.BigEndian.Uint32(v)
	case kmip.TypeBoolean:
		it.Value = v[7] == 1
	case kmip.TypeTextString:
		start := d.text.Len()
		d.text.Write(v)
		it.Value = d.text.String()[start:]
	case kmip.TypeByteString:
		start := len(d.bytes)
		d.bytes = append(d.bytes, v...)
		it.Value = d.bytes[start:len(d.bytes):len(d.bytes)]
	case kmip.TypeDateTime:
		it.Value = time.Unix(int64(binary.BigEndian.Uint64(v)), 0).UTC()
	case kmip.TypeDateTimeExtended:
		it.Value = time.UnixMicro(int64(binary.BigEndian.Uint64(v))).UTC()
	}
	return it, headerLen + pad8(l)
}

// decodeBig decodes a big-endian two's complement integer.
func decodeBig(v []byte) *big.Int {
	x := new(big.Int)
	if v[0]&0x80 == 0 {
		return x.SetBytes(v)
	}
	// v is x + 2^(8·len(v)) for a negative x.
	x.SetBytes(v)
	return x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
}
