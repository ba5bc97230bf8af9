// Package kmip is the neutral model of the KMIP protocol shared by every layer:
// the typed TTLV item tree, and the one registry of tags, item types,
// enumerations and masks for KMIP 1.0 to 2.1. It does no I/O; the wire
// encodings (binary TTLV, XML, JSON) live in adapters and read this registry.
package kmip

import (
	"fmt"
	"math/big"
	"time"
)

// Tag identifies a TTLV item (KMIP 1.4 §9.1.3.1, KMIP 2.1 §11.56). Standard
// tags are 0x42xxxx; extension tags are 0x54xxxx.
type Tag uint32

// Type is the item type byte of a TTLV item (KMIP 1.4 §9.1.1.2).
type Type uint8

// Item types (KMIP 1.4 §9.1.3.2, KMIP 2.1 §15 "Item Type").
const (
	TypeStructure        Type = 0x01
	TypeInteger          Type = 0x02
	TypeLongInteger      Type = 0x03
	TypeBigInteger       Type = 0x04
	TypeEnumeration      Type = 0x05
	TypeBoolean          Type = 0x06
	TypeTextString       Type = 0x07
	TypeByteString       Type = 0x08
	TypeDateTime         Type = 0x09
	TypeInterval         Type = 0x0A
	TypeDateTimeExtended Type = 0x0B
)

var typeNames = map[Type]string{
	TypeStructure: "Structure", TypeInteger: "Integer", TypeLongInteger: "LongInteger",
	TypeBigInteger: "BigInteger", TypeEnumeration: "Enumeration", TypeBoolean: "Boolean",
	TypeTextString: "TextString", TypeByteString: "ByteString", TypeDateTime: "DateTime",
	TypeInterval: "Interval", TypeDateTimeExtended: "DateTimeExtended",
}

// String returns the type's XML-encoding name, e.g. "TextString".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Type(0x%02X)", uint8(t))
}

// Valid reports whether t is one of the eleven defined item types.
func (t Type) Valid() bool { _, ok := typeNames[t]; return ok }

// TypeByName returns the item type with the given XML-encoding name.
func TypeByName(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}

// Item is one TTLV item. Value holds, by Type:
//
//	Structure        []*Item
//	Integer          int32 (masks such as Cryptographic Usage Mask are Integers)
//	LongInteger      int64
//	BigInteger       *big.Int
//	Enumeration      uint32
//	Boolean          bool
//	TextString       string
//	ByteString       []byte
//	DateTime         time.Time (whole seconds, UTC)
//	Interval         uint32    (seconds)
//	DateTimeExtended time.Time (microseconds, UTC)
//
// An Item is a plain value: the codecs guarantee that a decoded Item's Value
// has exactly the Go type its Type names.
type Item struct {
	Tag   Tag
	Type  Type
	Value any
}

// Constructors. Each returns an Item whose Value has the Go type its Type requires.

// Struct builds a Structure item from its children (nil children are skipped).
func Struct(tag Tag, children ...*Item) *Item {
	kids := make([]*Item, 0, len(children))
	for _, c := range children {
		if c != nil {
			kids = append(kids, c)
		}
	}
	return &Item{Tag: tag, Type: TypeStructure, Value: kids}
}

// Int builds an Integer item.
func Int(tag Tag, v int32) *Item { return &Item{Tag: tag, Type: TypeInteger, Value: v} }

// Long builds a Long Integer item.
func Long(tag Tag, v int64) *Item { return &Item{Tag: tag, Type: TypeLongInteger, Value: v} }

// Big builds a Big Integer item.
func Big(tag Tag, v *big.Int) *Item { return &Item{Tag: tag, Type: TypeBigInteger, Value: v} }

// Enum builds an Enumeration item.
func Enum(tag Tag, v uint32) *Item { return &Item{Tag: tag, Type: TypeEnumeration, Value: v} }

// Bool builds a Boolean item.
func Bool(tag Tag, v bool) *Item { return &Item{Tag: tag, Type: TypeBoolean, Value: v} }

// Text builds a Text String item.
func Text(tag Tag, v string) *Item { return &Item{Tag: tag, Type: TypeTextString, Value: v} }

// Bytes builds a Byte String item.
func Bytes(tag Tag, v []byte) *Item { return &Item{Tag: tag, Type: TypeByteString, Value: v} }

// DateTime builds a Date-Time item, truncated to whole seconds in UTC.
func DateTime(tag Tag, v time.Time) *Item {
	return &Item{Tag: tag, Type: TypeDateTime, Value: v.UTC().Truncate(time.Second)}
}

// DateTimeExt builds a Date-Time Extended item, truncated to microseconds in UTC.
func DateTimeExt(tag Tag, v time.Time) *Item {
	return &Item{Tag: tag, Type: TypeDateTimeExtended, Value: v.UTC().Truncate(time.Microsecond)}
}

// Interval builds an Interval item (seconds).
func Interval(tag Tag, seconds uint32) *Item {
	return &Item{Tag: tag, Type: TypeInterval, Value: seconds}
}

// Children returns a Structure's children, or nil for any other item.
func (it *Item) Children() []*Item {
	if it == nil {
		return nil
	}
	kids, _ := it.Value.([]*Item)
	return kids
}

// Add appends children to a Structure item and returns it.
func (it *Item) Add(children ...*Item) *Item {
	kids := it.Children()
	for _, c := range children {
		if c != nil {
			kids = append(kids, c)
		}
	}
	it.Value = kids
	return it
}

// Child returns the first direct child with the given tag, or nil.
func (it *Item) Child(tag Tag) *Item {
	for _, c := range it.Children() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// ChildrenOf returns every direct child with the given tag, in order.
func (it *Item) ChildrenOf(tag Tag) []*Item {
	var out []*Item
	for _, c := range it.Children() {
		if c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// Path follows a chain of tags through first matching children; nil if any step is missing.
func (it *Item) Path(tags ...Tag) *Item {
	cur := it
	for _, t := range tags {
		cur = cur.Child(t)
		if cur == nil {
			return nil
		}
	}
	return cur
}

// Typed accessors: each returns the value and whether the item exists with that type.

// AsInt returns an Integer's value.
func (it *Item) AsInt() (int32, bool) {
	if it == nil {
		return 0, false
	}
	v, ok := it.Value.(int32)
	return v, ok && it.Type == TypeInteger
}

// AsLong returns a Long Integer's value.
func (it *Item) AsLong() (int64, bool) {
	if it == nil {
		return 0, false
	}
	v, ok := it.Value.(int64)
	return v, ok && it.Type == TypeLongInteger
}

// AsEnum returns an Enumeration's value.
func (it *Item) AsEnum() (uint32, bool) {
	if it == nil {
		return 0, false
	}
	v, ok := it.Value.(uint32)
	return v, ok && it.Type == TypeEnumeration
}

// AsBool returns a Boolean's value.
func (it *Item) AsBool() (bool, bool) {
	if it == nil {
		return false, false
	}
	v, ok := it.Value.(bool)
	return v, ok && it.Type == TypeBoolean
}

// AsText returns a Text String's value.
func (it *Item) AsText() (string, bool) {
	if it == nil {
		return "", false
	}
	v, ok := it.Value.(string)
	return v, ok && it.Type == TypeTextString
}

// AsBytes returns a Byte String's value.
func (it *Item) AsBytes() ([]byte, bool) {
	if it == nil {
		return nil, false
	}
	v, ok := it.Value.([]byte)
	return v, ok && it.Type == TypeByteString
}

// AsTime returns a Date-Time or Date-Time Extended value.
func (it *Item) AsTime() (time.Time, bool) {
	if it == nil {
		return time.Time{}, false
	}
	v, ok := it.Value.(time.Time)
	return v, ok && (it.Type == TypeDateTime || it.Type == TypeDateTimeExtended)
}

// AsInterval returns an Interval's value in seconds.
func (it *Item) AsInterval() (uint32, bool) {
	if it == nil {
		return 0, false
	}
	v, ok := it.Value.(uint32)
	return v, ok && it.Type == TypeInterval
}

// AsBig returns a Big Integer's value.
func (it *Item) AsBig() (*big.Int, bool) {
	if it == nil {
		return nil, false
	}
	v, ok := it.Value.(*big.Int)
	return v, ok && it.Type == TypeBigInteger
}

// Clone returns a deep copy of the item.
func (it *Item) Clone() *Item {
	if it == nil {
		return nil
	}
	c := &Item{Tag: it.Tag, Type: it.Type, Value: it.Value}
	switch v := it.Value.(type) {
	case []*Item:
		kids := make([]*Item, len(v))
		for i, k := range v {
			kids[i] = k.Clone()
		}
		c.Value = kids
	case []byte:
		c.Value = append([]byte(nil), v...)
	case *big.Int:
		c.Value = new(big.Int).Set(v)
	}
	return c
}

// Equal reports whether two items have the same tag, type and value, recursively.
func (it *Item) Equal(o *Item) bool {
	if it == nil || o == nil {
		return it == o
	}
	if it.Tag != o.Tag || it.Type != o.Type {
		return false
	}
	switch v := it.Value.(type) {
	case []*Item:
		w, ok := o.Value.([]*Item)
		if !ok || len(v) != len(w) {
			return false
		}
		for i := range v {
			if !v[i].Equal(w[i]) {
				return false
			}
		}
		return true
	case []byte:
		w, ok := o.Value.([]byte)
		return ok && string(v) == string(w)
	case *big.Int:
		w, ok := o.Value.(*big.Int)
		return ok && v.Cmp(w) == 0
	case time.Time:
		w, ok := o.Value.(time.Time)
		return ok && v.Equal(w)
	default:
		return it.Value == o.Value
	}
}

// String renders the item tree for debugging. Byte Strings are shown by length
// only, so that key material never reaches a log through this method.
func (it *Item) String() string {
	if it == nil {
		return "<nil>"
	}
	switch v := it.Value.(type) {
	case []*Item:
		s := it.Tag.String() + "{"
		for i, k := range v {
			if i > 0 {
				s += " "
			}
			s += k.String()
		}
		return s + "}"
	case []byte:
		return fmt.Sprintf("%s=<%d bytes>", it.Tag, len(v))
	case uint32:
		if it.Type == TypeEnumeration {
			if n, ok := EnumName(it.Tag, v); ok {
				return fmt.Sprintf("%s=%s", it.Tag, n)
			}
		}
		return fmt.Sprintf("%s=%d", it.Tag, v)
	default:
		return fmt.Sprintf("%s=%v", it.Tag, v)
	}
}
