package domain

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// EnumKey is the index key of an enumeration value.
func EnumKey(v uint32) string { return fmt.Sprintf("e:%08x", v) }

// IndexKey returns a canonical, type-tagged string for an attribute value, so
// that two values are equal exactly when their keys are equal. Integer-like
// values are fixed-width hex so that keys of one type sort by value.
func IndexKey(v *kmip.Item) string {
	if v == nil {
		return ""
	}
	switch x := v.Value.(type) {
	case []*kmip.Item:
		var b strings.Builder
		b.WriteString("s:")
		for _, c := range x {
			fmt.Fprintf(&b, "%06x=%s;", uint32(c.Tag), IndexKey(c))
		}
		return b.String()
	case int32:
		return fmt.Sprintf("i:%08x", uint32(x)^0x80000000)
	case int64:
		return fmt.Sprintf("l:%016x", uint64(x)^0x8000000000000000)
	case uint32:
		if v.Type == kmip.TypeInterval {
			return fmt.Sprintf("v:%08x", x)
		}
		return EnumKey(x)
	case bool:
		if x {
			return "b:1"
		}
		return "b:0"
	case string:
		return "t:" + x
	case []byte:
		return "x:" + hex.EncodeToString(x)
	case time.Time:
		return fmt.Sprintf("d:%016x", uint64(x.Unix())^0x8000000000000000)
	default:
		return fmt.Sprintf("?:%v", x)
	}
}
