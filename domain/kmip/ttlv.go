package kmip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"
	"unicode/utf8"
)

// ErrUnencodable: an item cannot be encoded in TTLV (a Value of the wrong Go
// type for its Type, a tag outside 0x42xxxx/0x54xxxx, a Text String that is
// not UTF-8, a length beyond 32 bits, nesting beyond maxEncodeDepth).
var ErrUnencodable = errors.New("item cannot be encoded in TTLV")

// maxEncodeDepth bounds Structure nesting on encode, so that a cyclic tree
// fails instead of recursing forever.
const maxEncodeDepth = 4096

// AppendTTLV appends the binary TTLV encoding of it (KMIP 1.4 §9.1.1, 2.1
// §10.1) to dst, growing dst at most once. It validates the whole tree first:
// on error (ErrUnencodable) dst is returned unchanged. Big Integers take the
// minimal two's complement, sign-extended to a multiple of 8 bytes. This is
// the one TTLV encoder: the transport frames messages with it and the key
// wrapping of TTLV-encoded key values uses it.
func AppendTTLV(dst []byte, it *Item) ([]byte, error) {
	n, err := ttlvSize(it, 1)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	out := appendTTLV(slices.Grow(dst, n), it)
	if len(out)-start != n {
		// Unreachable unless ttlvSize and appendTTLV disagree.
		return dst, fmt.Errorf("%w: internal size mismatch (%d != %d)", ErrUnencodable, len(out)-start, n)
	}
	return out, nil
}

// TTLVLen returns the number of bytes AppendTTLV adds for it, or -1 if it
// cannot be encoded.
func TTLVLen(it *Item) int {
	n, err := ttlvSize(it, 1)
	if err != nil {
		return -1
	}
	return n
}

// minMicroTime and maxMicroTime bound the times a Date-Time Extended can
// hold: [minMicroTime, maxMicroTime).
var (
	minMicroTime = time.UnixMicro(math.MinInt64)
	maxMicroTime = time.UnixMicro(math.MaxInt64).Add(time.Microsecond)
)

// itemSize validates it and returns its encoded size, padding included.
func ttlvSize(it *Item, depth int) (int, error) {
	if it == nil {
		return 0, fmt.Errorf("%w: nil item", ErrUnencodable)
	}
	if it.Tag > 0xFFFFFF || !(byte(it.Tag>>16) == 0x42 || byte(it.Tag>>16) == 0x54) {
		return 0, fmt.Errorf("%w: tag %s: not a 0x42xxxx or 0x54xxxx tag", ErrUnencodable, it.Tag)
	}
	var vlen int
	ok := true
	switch it.Type {
	case TypeStructure:
		kids, isKids := it.Value.([]*Item)
		if !isKids && it.Value != nil {
			ok = false
			break
		}
		if depth >= maxEncodeDepth && len(kids) > 0 {
			return 0, fmt.Errorf("%w: %s: structure nesting deeper than %d", ErrUnencodable, it.Tag, maxEncodeDepth)
		}
		for _, k := range kids {
			n, err := ttlvSize(k, depth+1)
			if err != nil {
				return 0, err
			}
			vlen += n
		}
	case TypeInteger:
		_, ok = it.Value.(int32)
		vlen = 4
	case TypeLongInteger:
		_, ok = it.Value.(int64)
		vlen = 8
	case TypeBigInteger:
		var x *big.Int
		x, ok = it.Value.(*big.Int)
		if ok && x == nil {
			ok = false
		}
		if ok {
			vlen = bigLen(x)
		}
	case TypeEnumeration:
		_, ok = it.Value.(uint32)
		vlen = 4
	case TypeBoolean:
		_, ok = it.Value.(bool)
		vlen = 8
	case TypeTextString:
		var s string
		s, ok = it.Value.(string)
		if ok && !utf8.ValidString(s) {
			return 0, fmt.Errorf("%w: %s: text string is not valid UTF-8", ErrUnencodable, it.Tag)
		}
		vlen = len(s)
	case TypeByteString:
		var b []byte
		b, ok = it.Value.([]byte)
		vlen = len(b)
	case TypeDateTime, TypeDateTimeExtended:
		var tm time.Time
		tm, ok = it.Value.(time.Time)
		if ok && it.Type == TypeDateTimeExtended && (tm.Before(minMicroTime) || !tm.Before(maxMicroTime)) {
			return 0, fmt.Errorf("%w: %s: %s value outside the 64-bit microsecond range", ErrUnencodable, it.Tag, it.Type)
		}
		vlen = 8
	case TypeInterval:
		_, ok = it.Value.(uint32)
		vlen = 4
	default:
		return 0, fmt.Errorf("%w: %s: unknown item type %s", ErrUnencodable, it.Tag, it.Type)
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s: %s value has Go type %T", ErrUnencodable, it.Tag, it.Type, it.Value)
	}
	if uint64(vlen) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %s: value of %d bytes exceeds the 32-bit length field", ErrUnencodable, it.Tag, vlen)
	}
	return 8 + padded(vlen), nil
}

// bigLen returns the length of x in minimal two's complement, sign-extended
// to a multiple of 8 bytes (KMIP 1.4 §9.1.1.4).
func bigLen(x *big.Int) int {
	bits := x.BitLen() // of |x|
	if x.Sign() < 0 && x.TrailingZeroBits() == uint(bits-1) {
		bits-- // -2^k fits in k+1 bits
	}
	return padded((bits + 1 + 7) / 8) // +1 for the sign bit
}

// appendItem appends the encoding of an item already validated by itemSize.
func appendTTLV(dst []byte, it *Item) []byte {
	t := uint32(it.Tag)
	dst = append(dst, byte(t>>16), byte(t>>8), byte(t), byte(it.Type), 0, 0, 0, 0)
	lenAt := len(dst) - 4
	start := len(dst)
	switch v := it.Value.(type) {
	case []*Item:
		for _, k := range v {
			dst = appendTTLV(dst, k)
		}
	case int32:
		dst = binary.BigEndian.AppendUint32(dst, uint32(v))
	case int64:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v))
	case *big.Int:
		n := bigLen(v)
		dst = dst[:start+n]
		buf := dst[start:]
		v.FillBytes(buf)
		if v.Sign() < 0 {
			negate(buf)
		}
	case uint32: // Enumeration, Interval
		dst = binary.BigEndian.AppendUint32(dst, v)
	case bool:
		var u uint64
		if v {
			u = 1
		}
		dst = binary.BigEndian.AppendUint64(dst, u)
	case string:
		dst = append(dst, v...)
	case []byte:
		dst = append(dst, v...)
	case time.Time:
		if it.Type == TypeDateTimeExtended {
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.UnixMicro()))
		} else {
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.Unix()))
		}
	}
	vlen := len(dst) - start
	binary.BigEndian.PutUint32(dst[lenAt:], uint32(vlen))
	for range padded(vlen) - vlen {
		dst = append(dst, 0)
	}
	return dst
}

// negate turns a big-endian magnitude into its two's complement negation in place.
func negate(b []byte) {
	for i := range b {
		b[i] = ^b[i]
	}
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			break
		}
	}
}
