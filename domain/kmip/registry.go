package kmip

//go:generate go run ./kmipgen

import (
	"fmt"
	"sort"
	"strings"
)

// TagDef describes one tag of the registry.
type TagDef struct {
	Tag Tag
	// Name is the XML-encoding name: the spec name in CamelCase, e.g. "CryptographicAlgorithm".
	Name string
	// SpecName is the name as the specification writes it, e.g. "Cryptographic Algorithm";
	// for attributes it is the KMIP 1.x Attribute Name text.
	SpecName string
	// Type is the item type the specification gives the tag, or 0 where it does not say
	// (or where the tag is used with several types).
	Type Type
	// Enum names the enumeration (or mask) set of an Enumeration-typed tag or a mask-typed
	// Integer tag, e.g. "CryptographicAlgorithm"; empty otherwise.
	Enum string
	// Mask is true for Integer tags whose value is a bit mask of Enum's values.
	Mask bool
}

// tagAlias is an earlier specification name of a renamed tag (KMIP 1.4 name
// of a tag that KMIP 2.1 renamed); it resolves by name but never prints.
type tagAlias struct {
	Tag      Tag
	Name     string
	SpecName string
}

// EnumValue is one named value of an enumeration or mask set.
type EnumValue struct {
	Name  string // XML-encoding name, e.g. "SymmetricKey", "SHA_256"
	Value uint32
}

var (
	tagByValue map[Tag]*TagDef
	tagByName  map[string]*TagDef
	tagBySpec  map[string]*TagDef
	enumByName map[string]map[string]uint32
	enumByVal  map[string]map[uint32]string
	// enumByTag is enumByVal by the tags that use each set: EnumName runs
	// for every enumeration a request carries, and hashing a tag is cheaper
	// than hashing its set's name.
	enumByTag map[Tag]map[uint32]string
)

func init() {
	tagByValue = make(map[Tag]*TagDef, len(tagDefs))
	tagByName = make(map[string]*TagDef, len(tagDefs))
	tagBySpec = make(map[string]*TagDef, len(tagDefs))
	for i := range tagDefs {
		d := &tagDefs[i]
		tagByValue[d.Tag] = d
		tagByName[d.Name] = d
		tagBySpec[strings.ToLower(d.SpecName)] = d
	}
	for _, a := range tagAliases {
		d := tagByValue[a.Tag]
		if _, taken := tagByName[a.Name]; !taken {
			tagByName[a.Name] = d
		}
		if _, taken := tagBySpec[strings.ToLower(a.SpecName)]; !taken {
			tagBySpec[strings.ToLower(a.SpecName)] = d
		}
	}
	enumDefs["Tag"] = tagEnumValues()
	enumByName = make(map[string]map[string]uint32, len(enumDefs))
	enumByVal = make(map[string]map[uint32]string, len(enumDefs))
	for set, vals := range enumDefs {
		bn := make(map[string]uint32, len(vals))
		bv := make(map[uint32]string, len(vals))
		for _, v := range vals {
			bn[v.Name] = v.Value
			if _, dup := bv[v.Value]; !dup {
				bv[v.Value] = v.Name
			}
		}
		enumByName[set] = bn
		enumByVal[set] = bv
	}
	enumByTag = make(map[Tag]map[uint32]string)
	for _, d := range tagByValue {
		if bv, ok := enumByVal[d.Enum]; ok && d.Enum != "" {
			enumByTag[d.Tag] = bv
		}
	}
}

// tagEnumValues returns the Tag Enumeration (KMIP 2.1 §11.56) as a set, for
// Enumeration items whose value is a tag (Attribute Reference, Tag).
func tagEnumValues() []EnumValue {
	vals := make([]EnumValue, 0, len(tagDefs)+len(tagAliases))
	for _, d := range tagDefs {
		vals = append(vals, EnumValue{Name: d.Name, Value: uint32(d.Tag)})
	}
	for _, a := range tagAliases {
		vals = append(vals, EnumValue{Name: a.Name, Value: uint32(a.Tag)})
	}
	return vals
}

// LookupTag returns the registry entry of a tag.
func LookupTag(t Tag) (*TagDef, bool) { d, ok := tagByValue[t]; return d, ok }

// TagByName returns the tag with the given XML-encoding name ("UniqueIdentifier").
// Hex forms ("0x420094") are accepted too.
func TagByName(name string) (Tag, bool) {
	if d, ok := tagByName[name]; ok {
		return d.Tag, true
	}
	var v uint32
	if _, err := fmt.Sscanf(name, "0x%x", &v); err == nil && v <= 0xFFFFFF {
		return Tag(v), true
	}
	return 0, false
}

// TagBySpecName returns the tag whose specification name is name, case-insensitively:
// the KMIP 1.x Attribute Name "Cryptographic Algorithm" gives TagCryptographicAlgorithm.
func TagBySpecName(name string) (Tag, bool) {
	d, ok := tagBySpec[strings.ToLower(name)]
	if !ok {
		return 0, false
	}
	return d.Tag, true
}

// String returns the tag's XML-encoding name, or 0x-prefixed hex for unknown tags.
func (t Tag) String() string {
	if d, ok := tagByValue[t]; ok {
		return d.Name
	}
	return fmt.Sprintf("0x%06X", uint32(t))
}

// SpecName returns the specification name of a tag ("Cryptographic Algorithm"),
// or its hex form for unknown tags.
func (t Tag) SpecName() string {
	if d, ok := tagByValue[t]; ok {
		return d.SpecName
	}
	return fmt.Sprintf("0x%06X", uint32(t))
}

// enumSetOf returns the enumeration set of an Enumeration or mask tag.
func enumSetOf(t Tag) string {
	if d, ok := tagByValue[t]; ok {
		return d.Enum
	}
	return ""
}

// EnumSet returns the name of the enumeration set used by tag t, if any.
func EnumSet(t Tag) (string, bool) {
	s := enumSetOf(t)
	return s, s != ""
}

// EnumName returns the XML-encoding name of value v of tag t's enumeration.
func EnumName(t Tag, v uint32) (string, bool) {
	n, ok := enumByTag[t][v]
	return n, ok
}

// EnumValueOf returns the value of the named member of tag t's enumeration.
// Hex forms ("0x80000001") are accepted too.
func EnumValueOf(t Tag, name string) (uint32, bool) {
	if v, ok := enumByName[enumSetOf(t)][name]; ok {
		return v, true
	}
	return parseHex32(name)
}

// SetValue returns the value of the named member of an enumeration set by set name.
func SetValue(set, name string) (uint32, bool) {
	v, ok := enumByName[set][name]
	return v, ok
}

// SetName returns the name of value v in an enumeration set by set name.
func SetName(set string, v uint32) (string, bool) {
	n, ok := enumByVal[set][v]
	return n, ok
}

// IsMask reports whether tag t is an Integer bit mask (e.g. Cryptographic Usage Mask).
func IsMask(t Tag) bool {
	d, ok := tagByValue[t]
	return ok && d.Mask
}

// MaskNames renders a mask value as its member names, lowest bit first, with
// any unnamed remainder in hex.
func MaskNames(t Tag, v int32) []string {
	return maskSetNames(enumSetOf(t), uint32(v))
}

// maskSetNames renders v as member names of the mask set, lowest bit first,
// with any unnamed remainder in hex.
func maskSetNames(setName string, v uint32) []string {
	set := enumDefs[setName]
	vals := append([]EnumValue(nil), set...)
	sort.Slice(vals, func(i, j int) bool { return vals[i].Value < vals[j].Value })
	var out []string
	rest := v
	for _, e := range vals {
		if e.Value != 0 && rest&e.Value == e.Value {
			out = append(out, e.Name)
			rest &^= e.Value
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%08X", rest))
	}
	return out
}

// MaskValue parses space- or pipe-separated member names (or hex) into a mask of tag t.
func MaskValue(t Tag, s string) (int32, bool) {
	var v uint32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '|' }) {
		x, ok := enumByName[enumSetOf(t)][f]
		if !ok {
			if x, ok = parseHex32(f); !ok {
				return 0, false
			}
		}
		v |= x
	}
	return int32(v), true
}

// joinMask joins mask member names the way the XML encoding writes them.
func joinMask(names []string) string { return strings.Join(names, " ") }

func parseHex32(s string) (uint32, bool) {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return 0, false
	}
	var v uint32
	if _, err := fmt.Sscanf(s[2:], "%x", &v); err != nil {
		return 0, false
	}
	return v, true
}
