package kmipjson

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Decode reads one KMIP JSON item (a whole message, typically) from b and
// types it. It applies the TTLV decoder's limits: lim's zero fields take
// ttlv.DefaultLimits' values, MaxDepth is also capped at kmipxml.MaxDepth,
// and a b longer than MaxSize, nested deeper than MaxDepth objects, or
// holding more than MaxItems items is refused before it is typed. Every
// error wraps ErrInvalid.
func Decode(b []byte, lim ttlv.Limits) (*kmip.Item, error) {
	lim = effective(lim)
	if len(b) > lim.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(b), lim.MaxSize)
	}
	if !utf8.Valid(b) {
		// JSON text is UTF-8 (RFC 8259 §8.1).
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	p := &parser{lex: lexer{b: b}, lim: lim}
	root, err := p.item(1)
	if err != nil {
		return nil, err
	}
	if p.lex.ws() != 0 {
		return nil, fmt.Errorf("%w: data after the top-level item", ErrInvalid)
	}
	it, err := root.Item()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), kmipxml.ErrInvalid.Error()+": "))
	}
	return it, nil
}

// effective fills lim's zero fields from ttlv.DefaultLimits and caps the
// depth at what kmipxml's typing accepts.
func effective(lim ttlv.Limits) ttlv.Limits {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = ttlv.DefaultLimits.MaxDepth
	}
	lim.MaxDepth = min(lim.MaxDepth, kmipxml.MaxDepth)
	if lim.MaxItems <= 0 {
		lim.MaxItems = ttlv.DefaultLimits.MaxItems
	}
	if lim.MaxSize <= 0 {
		lim.MaxSize = ttlv.DefaultLimits.MaxSize
	}
	return lim
}

// parser turns the JSON text into untyped kmipxml Nodes, counting items
// and nesting as it goes.
type parser struct {
	lex   lexer
	lim   ttlv.Limits
	items int
}

// itemKeys are the keys of an item object.
var itemKeys = [...]string{"tag", "type", "name", "value"}

// item reads one {"tag":..., "type":..., "value":...} object at depth.
func (p *parser) item(depth int) (*kmipxml.Node, error) {
	if depth > p.lim.MaxDepth {
		return nil, fmt.Errorf("%w: items nested deeper than %d", ErrInvalid, p.lim.MaxDepth)
	}
	if p.items++; p.items > p.lim.MaxItems {
		return nil, fmt.Errorf("%w: more than %d items", ErrInvalid, p.lim.MaxItems)
	}
	l := &p.lex
	if err := l.expect('{'); err != nil {
		return nil, err
	}
	var (
		tag, typ      string
		seen          [len(itemKeys)]bool
		scalar        json.Token
		kids          []*kmipxml.Node
		isArray, hasV bool
	)
	for first := true; !l.next('}'); first = false {
		if !first {
			if err := l.expect(','); err != nil {
				return nil, err
			}
		}
		key, err := l.str()
		if err != nil {
			return nil, err
		}
		k := slices.Index(itemKeys[:], key)
		if k < 0 {
			return nil, fmt.Errorf("%w: unknown key %q", ErrInvalid, truncate(key))
		}
		if seen[k] {
			return nil, fmt.Errorf("%w: key %q repeated", ErrInvalid, key)
		}
		seen[k] = true
		if err := l.expect(':'); err != nil {
			return nil, err
		}
		if key != "value" {
			s, err := l.str()
			if err != nil {
				return nil, fmt.Errorf("%w: %q must be a string", ErrInvalid, key)
			}
			switch key {
			case "tag":
				tag = s
			case "type":
				typ = s
			}
			// "name" is informative only, as in the XML encoding.
			continue
		}
		hasV = true
		switch l.ws() {
		case '[':
			l.pos++
			isArray = true
			kids = []*kmipxml.Node{}
			for firstKid := true; !l.next(']'); firstKid = false {
				if !firstKid {
					if err := l.expect(','); err != nil {
						return nil, err
					}
				}
				k, err := p.item(depth + 1)
				if err != nil {
					return nil, err
				}
				kids = append(kids, k)
			}
		case '{':
			return nil, fmt.Errorf("%w: a value must be an array or a scalar, not an object", ErrInvalid)
		default:
			if scalar, err = l.scalar(); err != nil {
				return nil, err
			}
		}
	}
	return newNode(tag, typ, hasV, isArray, kids, scalar)
}

// newNode checks one decoded object and builds its Node: the value in the
// string form kmipxml.ParseLeaf reads.
func newNode(tag, typ string, hasValue, isArray bool, kids []*kmipxml.Node, scalar json.Token) (*kmipxml.Node, error) {
	if tag == "" {
		return nil, fmt.Errorf("%w: item without a tag", ErrInvalid)
	}
	t, ok := parseTag(tag)
	if !ok {
		return nil, fmt.Errorf("%w: unknown tag %q", ErrInvalid, truncate(tag))
	}
	n := &kmipxml.Node{Tag: t, Type: kmip.TypeStructure}
	if typ != "" {
		if n.Type, ok = kmip.TypeByName(typ); !ok {
			return nil, fmt.Errorf("%w: %s has unknown type %q", ErrInvalid, t, truncate(typ))
		}
	} else if !isArray {
		return nil, fmt.Errorf("%w: %s has no type", ErrInvalid, t)
	}
	switch {
	case !hasValue:
		return nil, fmt.Errorf("%w: %s has no value", ErrInvalid, t)
	case n.Type == kmip.TypeStructure && !isArray:
		return nil, fmt.Errorf("%w: Structure %s needs an array value", ErrInvalid, t)
	case n.Type == kmip.TypeStructure:
		n.Children = kids
		return n, nil
	case isArray:
		return nil, fmt.Errorf("%w: %s of type %s has an array value", ErrInvalid, t, n.Type)
	}
	v, err := leafString(n.Type, scalar)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, t, err)
	}
	n.Value = v
	return n, nil
}

// leafString converts a JSON scalar to the text kmipxml.ParseLeaf parses for
// typ, refusing the JSON kinds the profile does not allow for it.
func leafString(typ kmip.Type, v json.Token) (string, error) {
	switch x := v.(type) {
	case string:
		if typ == kmip.TypeBigInteger && !strings.HasPrefix(x, "0x") && !strings.HasPrefix(x, "0X") {
			return "", fmt.Errorf("BigInteger must be a \"0x\" hex string")
		}
		return x, nil
	case json.Number:
		switch typ {
		case kmip.TypeInteger, kmip.TypeLongInteger, kmip.TypeInterval:
			return string(x), nil
		case kmip.TypeEnumeration, kmip.TypeDateTimeExtended:
			u, err := strconv.ParseUint(string(x), 10, 64)
			if err != nil || (typ == kmip.TypeEnumeration && u > 0xFFFFFFFF) {
				return "", fmt.Errorf("bad %s %s", typ, truncate(string(x)))
			}
			return fmt.Sprintf("0x%X", u), nil
		}
	case bool:
		if typ == kmip.TypeBoolean {
			return strconv.FormatBool(x), nil
		}
	}
	return "", fmt.Errorf("a %s cannot be the JSON value %s", typ, describe(v))
}

func describe(v json.Token) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "true/false"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// parseTag reads a tag name or a "0x42xxxx" / "0x54xxxx" hex tag.
func parseTag(s string) (kmip.Tag, bool) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		if len(s) != 8 {
			return 0, false
		}
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil || (v>>16 != 0x42 && v>>16 != 0x54) {
			return 0, false
		}
		return kmip.Tag(v), true
	}
	return kmip.TagByName(s)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
