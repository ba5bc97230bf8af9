package kmip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"
)

// ErrUnparsable: bytes that are not one TTLV item as AppendTTLV writes it.
var ErrUnparsable = errors.New("bytes are not a TTLV item")

// ParseTTLV reads back one item that AppendTTLV encoded, spanning all of b.
// It is meant for the server's own stored values (the outcome of an
// asynchronous operation), not for the wire, whose decoder
// (adapters/transport/ttlv) enforces the request limits: it checks every
// length, padding byte and type, never panics, and bounds nesting like
// AppendTTLV does.
func ParseTTLV(b []byte) (*Item, error) {
	it, n, err := parseTTLV(b, 1)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrUnparsable, len(b)-n)
	}
	return it, nil
}

// parseTTLV reads the item at the start of b and returns it with the bytes
// it took, padding included.
func parseTTLV(b []byte, depth int) (*Item, int, error) {
	if len(b) < 8 {
		return nil, 0, fmt.Errorf("%w: truncated header", ErrUnparsable)
	}
	tag, typ := Tag(uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2])), Type(b[3])
	vlen := int(binary.BigEndian.Uint32(b[4:8]))
	if vlen > len(b)-8 || padded(vlen) > len(b)-8 {
		return nil, 0, fmt.Errorf("%w: %s: length beyond the data", ErrUnparsable, tag)
	}
	v, pad := b[8:8+vlen], b[8+vlen:8+padded(vlen)]
	for _, p := range pad {
		if p != 0 {
			return nil, 0, fmt.Errorf("%w: %s: non-zero padding", ErrUnparsable, tag)
		}
	}
	it := &Item{Tag: tag, Type: typ}
	var err error
	if typ == TypeStructure {
		if depth >= maxEncodeDepth && vlen > 0 {
			return nil, 0, fmt.Errorf("%w: nesting deeper than %d", ErrUnparsable, maxEncodeDepth)
		}
		it.Value, err = parseChildren(v, depth)
	} else {
		it.Value, err = parseValue(typ, v)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w (%s)", err, tag)
	}
	return it, 8 + padded(vlen), nil
}

// parseChildren reads the items filling a Structure's value v.
func parseChildren(v []byte, depth int) ([]*Item, error) {
	var kids []*Item
	for len(v) > 0 {
		k, n, err := parseTTLV(v, depth+1)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
		v = v[n:]
	}
	return kids, nil
}

// parseValue reads a primitive value v of type typ into the Go type Item
// uses for it.
func parseValue(typ Type, v []byte) (any, error) {
	fixed := map[Type]int{TypeInteger: 4, TypeEnumeration: 4, TypeInterval: 4, TypeLongInteger: 8,
		TypeBoolean: 8, TypeDateTime: 8, TypeDateTimeExtended: 8}
	if n, ok := fixed[typ]; ok && len(v) != n {
		return nil, fmt.Errorf("%w: %s of %d bytes", ErrUnparsable, typ, len(v))
	}
	switch typ {
	case TypeInteger:
		return int32(binary.BigEndian.Uint32(v)), nil
	case TypeEnumeration, TypeInterval:
		return binary.BigEndian.Uint32(v), nil
	case TypeLongInteger:
		return int64(binary.BigEndian.Uint64(v)), nil
	case TypeBoolean:
		u := binary.BigEndian.Uint64(v)
		if u > 1 {
			return nil, fmt.Errorf("%w: Boolean %d", ErrUnparsable, u)
		}
		return u == 1, nil
	case TypeDateTime:
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0).UTC(), nil
	case TypeDateTimeExtended:
		return time.UnixMicro(int64(binary.BigEndian.Uint64(v))).UTC(), nil
	case TypeBigInteger:
		if len(v) == 0 || len(v)%8 != 0 {
			return nil, fmt.Errorf("%w: Big Integer of %d bytes", ErrUnparsable, len(v))
		}
		x := new(big.Int).SetBytes(v)
		if v[0]&0x80 != 0 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
		}
		return x, nil
	case TypeTextString:
		if !utf8.Valid(v) {
			return nil, fmt.Errorf("%w: Text String is not UTF-8", ErrUnparsable)
		}
		return string(v), nil
	case TypeByteString:
		return append([]byte{}, v...), nil
	}
	return nil, fmt.Errorf("%w: unknown item type %s", ErrUnparsable, typ)
}
