package ttlv

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/kmipd/kmipd/domain/kmip"
)

// maxEncodeDepth bounds Structure nesting on encode, so that a cyclic tree
// fails instead of recursing forever.
const maxEncodeDepth = maxDepthCeiling

// Encode returns the TTLV encoding of it (KMIP 1.4 §9.1.1). It fails with
// ErrInvalid if any item's Value lacks the Go type its Type requires (see
// kmip.Item), a tag is not 0x42xxxx or 0x54xxxx, a Text String is not valid
// UTF-8, a Date-Time Extended does not fit 64-bit microseconds, or a length
// does not fit 32 bits.
func Encode(it *kmip.Item) ([]byte, error) { return AppendEncode(nil, it) }

// AppendEncode appends the TTLV encoding of it to dst, growing dst at most
// once; on error it returns dst unchanged along with an ErrInvalid error.
func AppendEncode(dst []byte, it *kmip.Item) ([]byte, error) {
	n, err := itemSize(it, 1)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	out := appendItem(slices.Grow(dst, n), it)
	if len(out)-start != n {
		// Unreachable unless itemSize and appendItem disagree.
		return dst, fmt.Errorf("%w: internal size mismatch (%d != %d)", ErrInvalid, len(out)-start, n)
	}
	return out, nil
}

// EncodedLen returns the number of bytes Encode(it) produces, or -1 if it
// cannot be encoded.
func EncodedLen(it *kmip.Item) int {
	n, err := itemSize(it, 1)
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
func itemSize(it *kmip.Item, depth int) (int, error) {
	if it == nil {
		return 0, fmt.Errorf("%w: nil item", ErrInvalid)
	}
	if it.Tag > 0xFFFFFF || !validTagPrefix(byte(it.Tag>>16)) {
		return 0, fmt.Errorf("%w: tag %s: not a 0x42xxxx or 0x54xxxx tag", ErrInvalid, it.Tag)
	}
	var vlen int
	ok := true
	switch it.Type {
	case kmip.TypeStructure:
		kids, isKids := it.Value.([]*kmip.Item)
		if !isKids && it.Value != nil {
			ok = false
			break
		}
		if depth >= maxEncodeDepth && len(kids) > 0 {
			return 0, fmt.Errorf("%w: %s: structure nesting deeper than %d", ErrInvalid, it.Tag, maxEncodeDepth)
		}
		for _, k := range kids {
			n, err := itemSize(k, depth+1)
			if err != nil {
				return 0, err
			}
			vlen += n
		}
	case kmip.TypeInteger:
		_, ok = it.Value.(int32)
		vlen = 4
	case kmip.TypeLongInteger:
		_, ok = it.Value.(int64)
		vlen = 8
	case kmip.TypeBigInteger:
		var x *big.Int
		x, ok = it.Value.(*big.Int)
		if ok && x == nil {
			ok = false
		}
		if ok {
			vlen = bigLen(x)
		}
	case kmip.TypeEnumeration:
		_, ok = it.Value.(uint32)
		vlen = 4
	case kmip.TypeBoolean:
		_, ok = it.Value.(bool)
		vlen = 8
	case kmip.TypeTextString:
		var s string
		s, ok = it.Value.(string)
		if ok && !utf8.ValidString(s) {
			return 0, fmt.Errorf("%w: %s: text string is not valid UTF-8", ErrInvalid, it.Tag)
		}
		vlen = len(s)
	case kmip.TypeByteString:
		var b []byte
		b, ok = it.Value.([]byte)
		vlen = len(b)
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		var tm time.Time
		tm, ok = it.Value.(time.Time)
		if ok && it.Type == kmip.TypeDateTimeExtended && (tm.Before(minMicroTime) || !tm.Before(maxMicroTime)) {
			return 0, fmt.Errorf("%w: %s: %s value outside the 64-bit microsecond range", ErrInvalid, it.Tag, it.Type)
		}
		vlen = 8
	case kmip.TypeInterval:
		_, ok = it.Value.(uint32)
		vlen = 4
	default:
		return 0, fmt.Errorf("%w: %s: unknown item type %s", ErrInvalid, it.Tag, it.Type)
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s: %s value has Go type %T", ErrInvalid, it.Tag, it.Type, it.Value)
	}
	if uint64(vlen) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %s: value of %d bytes exceeds the 32-bit length field", ErrInvalid, it.Tag, vlen)
	}
	return headerLen + pad8(vlen), nil
}

// bigLen returns the length of x in minimal two's complement, sign-extended
// to a multiple of 8 bytes (KMIP 1.4 §9.1.1.4).
func bigLen(x *big.Int) int {
	bits := x.BitLen() // of |x|
	if x.Sign() < 0 && x.TrailingZeroBits() == uint(bits-1) {
		bits-- // -2^k fits in k+1 bits
	}
	return pad8((bits + 1 + 7) / 8) // +1 for the sign bit
}

// appendItem appends the encoding of an item already validated by itemSize.
func appendItem(dst []byte, it *kmip.Item) []byte {
	t := uint32(it.Tag)
	dst = append(dst, byte(t>>16), byte(t>>8), byte(t), byte(it.Type), 0, 0, 0, 0)
	lenAt := len(dst) - 4
	start := len(dst)
	switch v := it.Value.(type) {
	case []*kmip.Item:
		for _, k := range v {
			dst = appendItem(dst, k)
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
		if it.Type == kmip.TypeDateTimeExtended {
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.UnixMicro()))
		} else {
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.Unix()))
		}
	}
	vlen := len(dst) - start
	binary.BigEndian.PutUint32(dst[lenAt:], uint32(vlen))
	for range pad8(vlen) - vlen {
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
