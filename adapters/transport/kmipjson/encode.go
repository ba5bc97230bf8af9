// Package kmipjson is the KMIP JSON message encoding (KMIP Profiles 1.4
// §5.5, KMIP Profiles 2.1 §5.5 "JSON Encoding", from KMIP Additional Message
// Encodings 1.0): one JSON object per TTLV item,
//
//	{"tag": "ProtocolVersionMajor", "type": "Integer", "value": 1}
//
// with the tag as its XML-encoding name, or "0x42xxxx" / "0x54xxxx" hex for
// tags the registry does not know (both are accepted when decoding); a
// Structure's value is the JSON array of its children and its type may be
// omitted.
//
// Values are written as the profile says: Integers, Long Integers that a
// JSON number holds exactly, and Intervals as numbers; mask Integers as their
// names joined with "|"; Enumerations by name ("0x0000000A" when unnamed);
// Booleans as true or false; Byte Strings as hex; Big Integers and Long
// Integers beyond ±2^53 as "0x" hex; Date-Times in ISO 8601. The decoder also
// accepts the alternative forms the profile allows ("0x" hex for every
// numeric type, Booleans and Date-Times). KMIP 1.x Attribute Values take
// their enumeration or mask names from the sibling Attribute Name, as in the
// XML encoding, whose leaf formatting this package reuses (kmipxml.FormatLeaf
// and kmipxml.ParseLeaf).
package kmipjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/domain/kmip"
)

// ErrInvalid reports a document that is not a valid KMIP JSON encoding, one
// beyond the decoder's limits, or (from Encode) an item tree that cannot be
// encoded.
var ErrInvalid = errors.New("kmipjson: invalid KMIP JSON")

// maxExactLong is the largest magnitude a JSON number (an IEEE 754 double in
// most readers) holds exactly; Long Integers beyond it are written in hex.
const maxExactLong = 1 << 53

// Encode writes it to w as compact KMIP JSON followed by a newline. It fails,
// having written nothing, if an item's Value does not have the Go type its
// Type requires or the tree is deeper than kmipxml.MaxDepth.
func Encode(w io.Writer, it *kmip.Item) error {
	b, err := Append(nil, it)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Append appends the compact KMIP JSON encoding of it to dst.
func Append(dst []byte, it *kmip.Item) ([]byte, error) {
	if it == nil {
		return dst, fmt.Errorf("%w: nil item", ErrInvalid)
	}
	return appendItem(dst, it, it.Tag, 1)
}

func appendItem(b []byte, it *kmip.Item, set kmip.Tag, depth int) ([]byte, error) {
	if it == nil {
		return b, fmt.Errorf("%w: nil item", ErrInvalid)
	}
	if depth > kmipxml.MaxDepth {
		return b, fmt.Errorf("%w: nesting deeper than %d", ErrInvalid, kmipxml.MaxDepth)
	}
	if !it.Type.Valid() {
		return b, fmt.Errorf("%w: %s: invalid type %s", ErrInvalid, it.Tag, it.Type)
	}
	b = append(b, `{"tag":`...)
	b = strconv.AppendQuote(b, it.Tag.String())
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, it.Type.String())
	b = append(b, `,"value":`...)
	if it.Type == kmip.TypeStructure {
		kids, ok := it.Value.([]*kmip.Item)
		if !ok {
			return b, fmt.Errorf("%w: %s: Structure with a %T value", ErrInvalid, it.Tag, it.Value)
		}
		attrSet := attributeSet(it)
		b = append(b, '[')
		for i, k := range kids {
			if i > 0 {
				b = append(b, ',')
			}
			cs := kmip.Tag(0)
			if k != nil {
				cs = k.Tag
				if k.Tag == kmip.TagAttributeValue {
					cs = attrSet
				}
			}
			var err error
			if b, err = appendItem(b, k, cs, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, "]}"...), nil
	}
	v, err := leafValue(it, set)
	if err != nil {
		return b, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	b = append(b, v...)
	return append(b, '}'), nil
}

// leafValue returns the JSON value of a non-Structure item.
func leafValue(it *kmip.Item, set kmip.Tag) ([]byte, error) {
	switch it.Type {
	case kmip.TypeInteger:
		v, ok := it.Value.(int32)
		if !ok {
			break
		}
		if v != 0 && set != 0 && kmip.IsMask(set) {
			return quote(strings.Join(kmip.MaskNames(set, v), "|")), nil
		}
		return strconv.AppendInt(nil, int64(v), 10), nil
	case kmip.TypeLongInteger:
		v, ok := it.Value.(int64)
		if !ok {
			break
		}
		if v >= -maxExactLong && v <= maxExactLong {
			return strconv.AppendInt(nil, v, 10), nil
		}
		return quote(fmt.Sprintf("0x%016X", uint64(v))), nil
	case kmip.TypeInterval:
		v, ok := it.Value.(uint32)
		if !ok {
			break
		}
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case kmip.TypeBoolean:
		v, ok := it.Value.(bool)
		if !ok {
			break
		}
		return strconv.AppendBool(nil, v), nil
	case kmip.TypeBigInteger:
		if v, ok := it.Value.(*big.Int); !ok || v == nil {
			break
		}
		s, err := kmipxml.FormatLeaf(it, set)
		if err != nil {
			return nil, err
		}
		return quote("0x" + s), nil
	default:
		s, err := kmipxml.FormatLeaf(it, set)
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(s) {
			// JSON would replace the bad bytes: refuse rather than alter.
			return nil, fmt.Errorf("%s: text is not valid UTF-8", it.Tag)
		}
		return quote(s), nil
	}
	return nil, fmt.Errorf("%s: type %s with a %T value", it.Tag, it.Type, it.Value)
}

// quote returns s, valid UTF-8, as a JSON string.
func quote(s string) []byte {
	if plain(s) {
		b := make([]byte, 0, len(s)+2)
		return append(append(append(b, '"'), s...), '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// attributeSet returns the tag whose enumeration or mask names the Attribute
// Value child of a KMIP 1.x Attribute structure uses, or 0.
func attributeSet(it *kmip.Item) kmip.Tag {
	if s, ok := it.Child(kmip.TagAttributeName).AsText(); ok {
		return kmipxml.AttributeValueSet(s)
	}
	return 0
}

// plain reports whether s is printable ASCII that JSON writes as is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
