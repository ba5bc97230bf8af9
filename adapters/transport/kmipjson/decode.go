package kmipjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
		// encoding/json would silently replace the bad bytes.
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(b)), lim: lim}
	p.dec.UseNumber()
	root, err := p.item(1)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
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

// parser turns the JSON token stream into untyped kmipxml Nodes, counting
// items and nesting as it goes.
type parser struct {
	dec   *json.Decoder
	lim   ttlv.Limits
	items int
}

func (p *parser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return t, nil
}

// item reads one {"tag":..., "type":..., "value":...} object at depth.
func (p *parser) item(depth int) (*kmipxml.Node, error) {
	if depth > p.lim.MaxDepth {
		return nil, fmt.Errorf("%w: items nested deeper than %d", ErrInvalid, p.lim.MaxDepth)
	}
	if p.items++; p.items > p.lim.MaxItems {
		return nil, fmt.Errorf("%w: more than %d items", ErrInvalid, p.lim.MaxItems)
	}
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, fmt.Errorf("%w: want an item object, found %v", ErrInvalid, t)
	}
	var (
		tag, typ      string
		seen          = map[string]bool{}
		scalar        json.Token
		kids          []*kmipxml.Node
		isArray, hasV bool
	)
	for p.dec.More() {
		kt, err := p.token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		if seen[key] {
			return nil, fmt.Errorf("%w: key %q repeated", ErrInvalid, key)
		}
		seen[key] = true
		switch key {
		case "tag", "type", "name":
			vt, err := p.token()
			if err != nil {
				return nil, err
			}
			s, ok := vt.(string)
			if !ok {
				return nil, fmt.Errorf("%w: %q must be a string", ErrInvalid, key)
			}
			switch key {
			case "tag":
				tag = s
			case "type":
				typ = s
			}
			// "name" is informative only, as in the XML encoding.
		case "value":
			hasV = true
			vt, err := p.token()
			if err != nil {
				return nil, err
			}
			switch vt {
			case json.Delim('['):
				isArray = true
				kids = []*kmipxml.Node{}
				for p.dec.More() {
					k, err := p.item(depth + 1)
					if err != nil {
						return nil, err
					}
					kids = append(kids, k)
				}
				if _, err := p.token(); err != nil { // the closing ']'
					return nil, err
				}
			case json.Delim('{'):
				return nil, fmt.Errorf("%w: a value must be an array or a scalar, not an object", ErrInvalid)
			default:
				scalar = vt
			}
		default:
			return nil, fmt.Errorf("%w: unknown key %q", ErrInvalid, key)
		}
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, err
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
