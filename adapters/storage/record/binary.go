package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// The binary record (format version 3) is what Marshal writes: decoding the
// JSON form cost 25-40 % of a Get's server CPU. Its first byte is
// binaryVersion, which no JSON record starts with (they start with '{'), so
// Unmarshal reads both. Then, with str = uvarint length + bytes and
// time = varint Unix seconds + varint nanoseconds:
//
//	str ID, uvarint Type, uvarint State, str Owner, str Policy,
//	time InitialDate, uvarint Revision,
//	uvarint len(Attributes)+1 (0: nil), per attribute: str Name, varint Index, item,
//	item Payload, str KeyRef
//
// Version 2 records, written before KeyRef existed, end after Payload and are
// still read (KeyRef empty).
//
// An item is byte 0 (nil) or byte 1, uvarint Tag, byte Type and its value:
// Structure uvarint len+1 (0: nil) then the children; Integer, Long Integer
// varint; Enumeration, Interval uvarint; Boolean byte 0 or 1; Text String
// str; Byte String uvarint len+1 (0: nil) then the bytes; Big Integer byte
// 0 (nil), 1 (>= 0) or 2 (< 0) then, unless nil, str magnitude (big-endian);
// Date-Time and Date-Time Extended time.
const (
	binaryVersion   = 3
	binaryVersionV2 = 2
)

// maxDepth bounds the nesting of a decoded item (the TTLV codec admits far
// less), so that a corrupt record cannot exhaust the stack.
const maxDepth = 512

func marshalBinary(obj *domain.Object) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, binaryVersion)
	b = appendStr(b, obj.ID)
	b = binary.AppendUvarint(b, uint64(obj.Type))
	b = binary.AppendUvarint(b, uint64(obj.State))
	b = appendStr(b, obj.Owner)
	b = appendStr(b, obj.Policy)
	b = appendTime(b, obj.InitialDate)
	b = binary.AppendUvarint(b, obj.Revision)
	if obj.Attributes == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(obj.Attributes))+1)
	}
	var err error
	for _, a := range obj.Attributes {
		b = appendStr(b, a.Name)
		b = binary.AppendVarint(b, int64(a.Index))
		if b, err = appendItem(b, a.Value); err != nil {
			return nil, fmt.Errorf("record: attribute %q: %w", a.Name, err)
		}
	}
	if b, err = appendItem(b, obj.Payload); err != nil {
		return nil, fmt.Errorf("record: payload: %w", err)
	}
	b = appendStr(b, obj.KeyRef)
	return b, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendVarint(b, int64(t.Nanosecond()))
}

func appendItem(b []byte, it *kmip.Item) ([]byte, error) {
	if it == nil {
		return append(b, 0), nil
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(it.Tag))
	b = append(b, byte(it.Type))
	ok := true
	switch it.Type {
	case kmip.TypeStructure:
		var kids []*kmip.Item
		if kids, ok = it.Value.([]*kmip.Item); !ok {
			break
		}
		if kids == nil {
			b = append(b, 0)
			break
		}
		b = binary.AppendUvarint(b, uint64(len(kids))+1)
		for _, k := range kids {
			if k == nil {
				return nil, fmt.Errorf("%s: nil child", it.Tag)
			}
			var err error
			if b, err = appendItem(b, k); err != nil {
				return nil, err
			}
		}
	case kmip.TypeInteger:
		var v int32
		v, ok = it.Value.(int32)
		b = binary.AppendVarint(b, int64(v))
	case kmip.TypeLongInteger:
		var v int64
		v, ok = it.Value.(int64)
		b = binary.AppendVarint(b, v)
	case kmip.TypeBigInteger:
		var v *big.Int
		if v, ok = it.Value.(*big.Int); !ok {
			break
		}
		switch {
		case v == nil:
			b = append(b, 0)
		case v.Sign() < 0:
			b = append(b, 2)
		default:
			b = append(b, 1)
		}
		if v != nil {
			n := (v.BitLen() + 7) / 8
			b = binary.AppendUvarint(b, uint64(n))
			b = append(b, make([]byte, n)...)
			v.FillBytes(b[len(b)-n:]) // FillBytes writes the absolute value
		}
	case kmip.TypeEnumeration, kmip.TypeInterval:
		var v uint32
		v, ok = it.Value.(uint32)
		b = binary.AppendUvarint(b, uint64(v))
	case kmip.TypeBoolean:
		var v bool
		v, ok = it.Value.(bool)
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case kmip.TypeTextString:
		var v string
		v, ok = it.Value.(string)
		b = appendStr(b, v)
	case kmip.TypeByteString:
		var v []byte
		if v, ok = it.Value.([]byte); !ok {
			break
		}
		if v == nil {
			b = append(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(len(v))+1)
			b = append(b, v...)
		}
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		var v time.Time
		v, ok = it.Value.(time.Time)
		b = appendTime(b, v)
	default:
		return nil, fmt.Errorf("%s: unknown item type %s", it.Tag, it.Type)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %s item holds a %T", it.Tag, it.Type, it.Value)
	}
	return b, nil
}

// errTrunc reports a binary record that ends early or holds an impossible
// length; decoding errors never quote stored bytes (they may be key material).
var errTrunc = errors.New("truncated or malformed binary record")

// decoder reads a binary record. It shares no memory with the record, which
// bbolt hands out only for the span of its transaction: strings are cut from
// one copy of the record (or from the record itself, handed over to
// UnmarshalOwned), byte strings copied one by one (they may be changed in
// place), and items allocated a few at a time.
type decoder struct {
	b    []byte
	s    string // a copy of the record; s[len(s)-len(b):] is what remains to read
	slab []kmip.Item
	kids []*kmip.Item // structures' children are cut from it, as items from slab
	err  error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// newItem returns a zero item from the slab.
func (d *decoder) newItem() *kmip.Item {
	if len(d.slab) == 0 {
		d.slab = make([]kmip.Item, 16)
	}
	it := &d.slab[0]
	d.slab = d.slab[1:]
	return it
}

// newKids returns n nil children, capped at n, so that appending to them
// never writes into another structure's.
func (d *decoder) newKids(n int) []*kmip.Item {
	if n > len(d.kids) || n == 0 { // n == 0: empty, not nil
		if n > 16 || n == 0 {
			return make([]*kmip.Item, n)
		}
		d.kids = make([]*kmip.Item, 32)
	}
	k := d.kids[:n:n]
	d.kids = d.kids[n:]
	return k
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail(errTrunc)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTrunc)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTrunc)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail(errTrunc)
	}
	return uint32(v)
}

// raw returns the next n bytes, not copied.
func (d *decoder) raw(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail(errTrunc)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	start := len(d.s) - len(d.b)
	if d.raw(n) == nil {
		return ""
	}
	return d.s[start : start+int(n)]
}

func (d *decoder) time() time.Time {
	s, ns := d.varint(), d.varint()
	if ns < 0 || ns > 999_999_999 {
		d.fail(errTrunc)
	}
	return time.Unix(s, ns).UTC()
}

// count reads a length+1 prefix: nil reports the nil slice; each element
// takes at least one byte, which bounds what a corrupt count can allocate.
func (d *decoder) count() (n int, isNil bool) {
	v := d.uvarint()
	if v == 0 {
		return 0, true
	}
	if v-1 > uint64(len(d.b)) {
		d.fail(errTrunc)
		return 0, true
	}
	return int(v - 1), false
}

func unmarshalBinary(b []byte) (*domain.Object, error) {
	return decodeBinary(b, string(b[1:]))
}

// decodeBinary decodes binary record b whose bytes after the version, as
// a string the decoded text may share, are s.
func decodeBinary(b []byte, s string) (*domain.Object, error) {
	d := &decoder{b: b[1:], s: s}
	o := &domain.Object{
		ID:          d.str(),
		Type:        d.u32(),
		State:       domain.State(d.u32()),
		Owner:       d.str(),
		Policy:      d.str(),
		InitialDate: d.time(),
		Revision:    d.uvarint(),
	}
	if n, isNil := d.count(); !isNil {
		o.Attributes = make([]domain.Attribute, n)
		for i := range o.Attributes {
			a := &o.Attributes[i]
			a.Name = d.str()
			a.Index = int(d.varint())
			a.Value = d.item(0)
			if d.err != nil {
				return nil, fmt.Errorf("record: %w: attribute %d: %v", ErrCorrupt, i, d.err)
			}
		}
	}
	o.Payload = d.item(0)
	if b[0] != binaryVersionV2 {
		o.KeyRef = d.str()
	}
	if d.err != nil {
		return nil, fmt.Errorf("record: %w: %v", ErrCorrupt, d.err)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("record: %w: %d bytes after the record", ErrCorrupt, len(d.b))
	}
	return o, nil
}

func (d *decoder) item(depth int) *kmip.Item {
	switch d.byte() {
	case 0:
		return nil
	case 1:
	default:
		d.fail(errTrunc)
		return nil
	}
	if depth > maxDepth {
		d.fail(errors.New("items nested too deeply"))
		return nil
	}
	it := d.newItem()
	it.Tag, it.Type = kmip.Tag(d.u32()), kmip.Type(d.byte())
	if d.err != nil {
		return nil
	}
	switch it.Type {
	case kmip.TypeStructure:
		n, isNil := d.count()
		if isNil {
			it.Value = []*kmip.Item(nil)
			break
		}
		kids := d.newKids(n)
		for i := range kids {
			if kids[i] = d.item(depth + 1); kids[i] == nil && d.err == nil {
				d.fail(fmt.Errorf("%s: nil child", it.Tag))
			}
		}
		it.Value = kids
	case kmip.TypeInteger:
		v := d.varint()
		if v != int64(int32(v)) {
			d.fail(errTrunc)
		}
		it.Value = int32(v)
	case kmip.TypeLongInteger:
		it.Value = d.varint()
	case kmip.TypeBigInteger:
		switch sign := d.byte(); sign {
		case 0:
			it.Value = (*big.Int)(nil)
		case 1, 2:
			v := new(big.Int).SetBytes(d.raw(d.uvarint()))
			if sign == 2 {
				v.Neg(v)
			}
			it.Value = v
		default:
			d.fail(errTrunc)
		}
	case kmip.TypeEnumeration, kmip.TypeInterval:
		it.Value = d.u32()
	case kmip.TypeBoolean:
		switch d.byte() {
		case 0:
			it.Value = false
		case 1:
			it.Value = true
		default:
			d.fail(errTrunc)
		}
	case kmip.TypeTextString:
		it.Value = d.str()
	case kmip.TypeByteString:
		n, isNil := d.count()
		if isNil {
			it.Value = []byte(nil)
		} else {
			it.Value = append(make([]byte, 0, n), d.raw(uint64(n))...)
		}
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		it.Value = d.time()
	default:
		d.fail(fmt.Errorf("%s: unknown item type %s", it.Tag, it.Type))
	}
	if d.err != nil {
		return nil
	}
	return it
}
