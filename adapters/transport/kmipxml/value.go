package kmipxml

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// LeafHook lets a caller type a leaf Node itself: it is called for every
// non-Structure node with the tag whose enumeration or mask set applies to
// it (the node's own tag, or for a KMIP 1.x Attribute Value the tag named by
// the sibling Attribute Name; 0 when none is known). A nil item and nil error
// mean "parse it the ordinary way".
type LeafHook func(n *Node, set kmip.Tag) (*kmip.Item, error)

// Item types the node tree as a kmip.Item tree (KMIP Profiles §5.4).
func (n *Node) Item() (*kmip.Item, error) { return n.ItemWith(nil) }

// ItemWith types the node tree like Item, giving hook the first say on every leaf.
func (n *Node) ItemWith(hook LeafHook) (*kmip.Item, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: nil node", ErrInvalid)
	}
	return toItem(n, n.Tag, hook, 1)
}

func toItem(n *Node, set kmip.Tag, hook LeafHook, depth int) (*kmip.Item, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d", ErrInvalid, MaxDepth)
	}
	if n.Type != kmip.TypeStructure {
		if hook != nil {
			it, err := hook(n, set)
			if err != nil || it != nil {
				return it, err
			}
		}
		return ParseLeaf(n, set)
	}
	attrSet := attributeSetOfNodes(n)
	kids := make([]*kmip.Item, 0, len(n.Children))
	for _, c := range n.Children {
		cs := c.Tag
		if c.Tag == kmip.TagAttributeValue {
			cs = attrSet
		}
		k, err := toItem(c, cs, hook, depth+1)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return &kmip.Item{Tag: n.Tag, Type: kmip.TypeStructure, Value: kids}, nil
}

// AttributeValueSet returns the tag whose enumeration or mask set applies to
// the Attribute Value of a KMIP 1.x Attribute structure (KMIP 1.4 §2.1.1):
// the tag whose specification name is the Attribute Name, or 0.
func AttributeValueSet(attributeName string) kmip.Tag {
	t, ok := kmip.TagBySpecName(attributeName)
	if !ok {
		return 0
	}
	return t
}

func attributeSetOfNodes(n *Node) kmip.Tag {
	if an := n.Child(kmip.TagAttributeName); an != nil && an.Type == kmip.TypeTextString {
		return AttributeValueSet(an.Value)
	}
	return 0
}

func attributeSetOfItem(it *kmip.Item) kmip.Tag {
	if s, ok := it.Child(kmip.TagAttributeName).AsText(); ok {
		return AttributeValueSet(s)
	}
	return 0
}

// ParseLeaf types one non-Structure node; set is the tag whose enumeration or
// mask set names may appear in the value (see LeafHook).
func ParseLeaf(n *Node, set kmip.Tag) (*kmip.Item, error) {
	it, err := parseValue(n.Tag, n.Type, n.Value, set)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, n.Tag, err)
	}
	return it, nil
}

func parseValue(tag kmip.Tag, typ kmip.Type, s string, set kmip.Tag) (*kmip.Item, error) {
	switch typ {
	case kmip.TypeInteger:
		if v, err := strconv.ParseInt(s, 10, 32); err == nil {
			return kmip.Int(tag, int32(v)), nil
		}
		if v, ok := parseHexValue(s, 32); ok {
			return kmip.Int(tag, int32(uint32(v))), nil
		}
		if set != 0 && kmip.IsMask(set) && strings.TrimSpace(s) != "" {
			if v, ok := kmip.MaskValue(set, s); ok {
				return kmip.Int(tag, v), nil
			}
		}
		return nil, fmt.Errorf("bad Integer %q", truncate(s, 40))
	case kmip.TypeLongInteger:
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return kmip.Long(tag, v), nil
		}
		if v, ok := parseHexValue(s, 64); ok {
			return kmip.Long(tag, int64(v)), nil
		}
		return nil, fmt.Errorf("bad LongInteger %q", truncate(s, 40))
	case kmip.TypeBigInteger:
		h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		b, err := hex.DecodeString(h)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("bad BigInteger %q", truncate(s, 40))
		}
		return kmip.Big(tag, fromTwosComplement(b)), nil
	case kmip.TypeEnumeration:
		if v, ok := kmip.EnumValueOf(set, s); ok {
			return kmip.Enum(tag, v), nil
		}
		return nil, fmt.Errorf("bad Enumeration %q (not a name of %s's set, nor 0x-hex)", truncate(s, 40), set)
	case kmip.TypeBoolean:
		switch s {
		case "true", "1", "0x0000000000000001":
			return kmip.Bool(tag, true), nil
		case "false", "0", "0x0000000000000000":
			return kmip.Bool(tag, false), nil
		}
		return nil, fmt.Errorf("bad Boolean %q", truncate(s, 40))
	case kmip.TypeTextString:
		return kmip.Text(tag, s), nil
	case kmip.TypeByteString:
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bad ByteString: %v", err)
		}
		return kmip.Bytes(tag, b), nil
	case kmip.TypeDateTime:
		if v, ok := parseHexValue(s, 64); ok {
			return kmip.DateTime(tag, time.Unix(int64(v), 0)), nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("bad DateTime %q", truncate(s, 40))
		}
		return kmip.DateTime(tag, t), nil
	case kmip.TypeDateTimeExtended:
		if v, ok := parseHexValue(s, 64); ok {
			return kmip.DateTimeExt(tag, time.UnixMicro(int64(v))), nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("bad DateTimeExtended %q", truncate(s, 40))
		}
		return kmip.DateTimeExt(tag, t), nil
	case kmip.TypeInterval:
		if v, err := strconv.ParseUint(s, 10, 32); err == nil {
			return kmip.Interval(tag, uint32(v)), nil
		}
		if v, ok := parseHexValue(s, 32); ok {
			return kmip.Interval(tag, uint32(v)), nil
		}
		return nil, fmt.Errorf("bad Interval %q", truncate(s, 40))
	}
	return nil, fmt.Errorf("unsupported type %s", typ)
}

// parseHexValue parses "0x" followed by at most bits/4 hex digits.
func parseHexValue(s string, bits int) (uint64, bool) {
	if len(s) < 3 || (s[:2] != "0x" && s[:2] != "0X") {
		return 0, false
	}
	return parseHexUint(s[2:], bits)
}

func parseHexUint(h string, bits int) (uint64, bool) {
	if len(h) == 0 || len(h) > bits/4 {
		return 0, false
	}
	v, err := strconv.ParseUint(h, 16, bits)
	return v, err == nil
}

// fromTwosComplement reads big-endian two's-complement bytes.
func fromTwosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// toTwosComplement writes v as big-endian two's complement, sign-extended to a
// multiple of 8 bytes as the TTLV encoding requires (KMIP 1.4 §9.1.1.4).
func toTwosComplement(v *big.Int) []byte {
	n := (v.BitLen() + 8) / 8 // at least one bit more than the magnitude, for the sign
	n = (n + 7) &^ 7
	out := make([]byte, n)
	if v.Sign() >= 0 {
		v.FillBytes(out)
		return out
	}
	m := new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	m.FillBytes(out)
	return out
}

// dateTimeLayout is the ISO 8601 form written for Date-Time values, in UTC.
const (
	dateTimeLayout    = "2006-01-02T15:04:05+00:00"
	dateTimeExtLayout = "2006-01-02T15:04:05.000000+00:00"
)

// iso8601Year reports whether t's year has the four digits an ISO 8601
// date (and time.Parse) needs; other Date-Times are written in hex.
func iso8601Year(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// FormatLeaf returns the value attribute of a non-Structure item; set is the
// tag whose enumeration or mask names are used (see LeafHook).
func FormatLeaf(it *kmip.Item, set kmip.Tag) (string, error) {
	bad := fmt.Errorf("%w: %s: type %s with a %T value", ErrInvalid, it.Tag, it.Type, it.Value)
	switch it.Type {
	case kmip.TypeInteger:
		v, ok := it.Value.(int32)
		if !ok {
			return "", bad
		}
		if v != 0 && set != 0 && kmip.IsMask(set) {
			return strings.Join(kmip.MaskNames(set, v), " "), nil
		}
		return strconv.FormatInt(int64(v), 10), nil
	case kmip.TypeLongInteger:
		v, ok := it.Value.(int64)
		if !ok {
			return "", bad
		}
		return strconv.FormatInt(v, 10), nil
	case kmip.TypeBigInteger:
		v, ok := it.Value.(*big.Int)
		if !ok || v == nil {
			return "", bad
		}
		return hex.EncodeToString(toTwosComplement(v)), nil
	case kmip.TypeEnumeration:
		v, ok := it.Value.(uint32)
		if !ok {
			return "", bad
		}
		if name, ok := kmip.EnumName(set, v); ok {
			return name, nil
		}
		return fmt.Sprintf("0x%08X", v), nil
	case kmip.TypeBoolean:
		v, ok := it.Value.(bool)
		if !ok {
			return "", bad
		}
		return strconv.FormatBool(v), nil
	case kmip.TypeTextString:
		v, ok := it.Value.(string)
		if !ok {
			return "", bad
		}
		return v, nil
	case kmip.TypeByteString:
		v, ok := it.Value.([]byte)
		if !ok {
			return "", bad
		}
		return hex.EncodeToString(v), nil
	case kmip.TypeDateTime:
		v, ok := it.Value.(time.Time)
		if !ok {
			return "", bad
		}
		if !iso8601Year(v) {
			return fmt.Sprintf("0x%016X", uint64(v.Unix())), nil
		}
		return v.UTC().Format(dateTimeLayout), nil
	case kmip.TypeDateTimeExtended:
		v, ok := it.Value.(time.Time)
		if !ok {
			return "", bad
		}
		if !iso8601Year(v) {
			return fmt.Sprintf("0x%016X", uint64(v.UnixMicro())), nil
		}
		return v.UTC().Format(dateTimeExtLayout), nil
	case kmip.TypeInterval:
		v, ok := it.Value.(uint32)
		if !ok {
			return "", bad
		}
		return strconv.FormatUint(uint64(v), 10), nil
	}
	return "", fmt.Errorf("%w: %s: unsupported type %s", ErrInvalid, it.Tag, it.Type)
}
