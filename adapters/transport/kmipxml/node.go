// Package kmipxml is the KMIP XML message encoding (KMIP Profiles 1.4 §5.4,
// KMIP Profiles 2.1 §5.4 "XML Encoding"): one element per TTLV item, named
// after the tag's XML name (or <TTLV tag="0x54xxxx"> for tags the registry
// does not know), with type= and value= attributes; Structures carry no type
// attribute and hold their children as nested elements.
//
// Values are written as the profile says: Enumerations by name (hex
// "0x0000000A" when unnamed), mask Integers as space-separated names, Byte
// Strings and Big Integers in hex, Date-Times in ISO 8601, Intervals,
// Integers and Long Integers in decimal. Attribute Value items of KMIP 1.x
// take their enumeration or mask set from the sibling Attribute Name.
//
// Decoding happens in two steps so that callers (the conformance runner) can
// see raw values such as "$UNIQUE_IDENTIFIER_0" before typing: Parse builds an
// untyped Node tree, and Node.Item (or ItemWith, with a LeafHook) turns it into
// a kmip.Item tree. Decode does both.
package kmipxml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kmipd/kmipd/domain/kmip"
)

// ErrInvalid reports XML that is not a valid KMIP XML encoding: an unknown
// element name, a bad type, or a value that does not parse for its type.
var ErrInvalid = errors.New("kmipxml: invalid KMIP XML")

// MaxDepth is the deepest element nesting Parse accepts; the root is depth 1.
const MaxDepth = 64

// ttlvElement is the element name the profile uses for items whose tag has no
// name, with the tag in a tag="0x54xxxx" attribute.
const ttlvElement = "TTLV"

// Node is one element of the XML encoding before typing: the tag, the item
// type named by the type attribute (TypeStructure when absent), the raw value
// attribute, and the child elements in document order.
type Node struct {
	Tag      kmip.Tag
	Type     kmip.Type
	Value    string
	Children []*Node
}

// Child returns the first direct child with the given tag, or nil.
func (n *Node) Child(tag kmip.Tag) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// Clone returns a deep copy of the node tree.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := &Node{Tag: n.Tag, Type: n.Type, Value: n.Value}
	if n.Children != nil {
		c.Children = make([]*Node, len(n.Children))
		for i, k := range n.Children {
			c.Children[i] = k.Clone()
		}
	}
	return c
}

// Walk calls fn for n and every descendant, parents first.
func (n *Node) Walk(fn func(*Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Children {
		c.Walk(fn)
	}
}

// Parse reads every top-level KMIP element of r, in order, as untyped
// Node trees. A root element that is not a KMIP tag (such as the <KMIP>
// wrapper of the OASIS test-case files) is a container: its child elements
// are returned instead. Comments, processing instructions and whitespace are
// skipped, as is text directly inside a wrapper; text inside a KMIP element is an error.
func Parse(r io.Reader) ([]*Node, error) { return parse(r, MaxDepth, 0) }

// parse is Parse with a nesting bound (MaxDepth when not in 1..MaxDepth) and, when maxItems
// is positive, a bound on the number of elements read.
func parse(r io.Reader, maxDepth, maxItems int) ([]*Node, error) {
	if maxDepth <= 0 || maxDepth > MaxDepth {
		maxDepth = MaxDepth
	}
	items := 0
	d := xml.NewDecoder(r)
	var (
		out     []*Node
		stack   []*Node
		wrapper = 0 // depth of open non-KMIP wrapper elements at the root
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if len(stack) > 0 || wrapper > 0 {
				return nil, fmt.Errorf("%w: unexpected end of document", ErrInvalid)
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && wrapper == 0 && !isItemElement(t) {
				wrapper++
				continue
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("%w: nesting deeper than %d", ErrInvalid, maxDepth)
			}
			if items++; maxItems > 0 && items > maxItems {
				return nil, fmt.Errorf("%w: more than %d items", ErrInvalid, maxItems)
			}
			n, err := startNode(t)
			if err != nil {
				return nil, err
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				if p.Type != kmip.TypeStructure {
					return nil, fmt.Errorf("%w: %s of type %s has child elements", ErrInvalid, p.Tag, p.Type)
				}
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				wrapper--
				continue
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				out = append(out, n)
			}
		case xml.CharData:
			if len(stack) > 0 && strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("%w: unexpected text %q", ErrInvalid, truncate(string(t), 40))
			}
		}
	}
}

// isItemElement reports whether a root element names a KMIP item.
func isItemElement(t xml.StartElement) bool {
	if t.Name.Local == ttlvElement {
		return true
	}
	_, ok := kmip.TagByName(t.Name.Local)
	return ok && !strings.HasPrefix(t.Name.Local, "0x")
}

// startNode builds a Node from an element's name and attributes.
func startNode(t xml.StartElement) (*Node, error) {
	n := &Node{Type: kmip.TypeStructure}
	var tagAttr, typeAttr string
	hasValue := false
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "tag":
			tagAttr = a.Value
		case "type":
			typeAttr = a.Value
		case "value":
			n.Value, hasValue = a.Value, true
		case "name":
			// Informative only (the profile allows a name next to tag=).
		default:
			return nil, fmt.Errorf("%w: element %s has unknown attribute %q", ErrInvalid, t.Name.Local, a.Name.Local)
		}
	}
	switch {
	case t.Name.Local == ttlvElement:
		tag, ok := parseTag(tagAttr)
		if !ok {
			return nil, fmt.Errorf("%w: TTLV element needs a tag=\"0x42xxxx\" or \"0x54xxxx\" attribute, got %q", ErrInvalid, tagAttr)
		}
		n.Tag = tag
	default:
		tag, ok := kmip.TagByName(t.Name.Local)
		if !ok {
			return nil, fmt.Errorf("%w: unknown element %q", ErrInvalid, t.Name.Local)
		}
		n.Tag = tag
		if tagAttr != "" {
			if tt, ok := parseTag(tagAttr); !ok || tt != tag {
				return nil, fmt.Errorf("%w: element %s has tag=%q, which is not its tag", ErrInvalid, t.Name.Local, tagAttr)
			}
		}
	}
	if typeAttr != "" {
		typ, ok := kmip.TypeByName(typeAttr)
		if !ok {
			return nil, fmt.Errorf("%w: %s has unknown type %q", ErrInvalid, n.Tag, typeAttr)
		}
		n.Type = typ
	}
	if n.Type == kmip.TypeStructure && hasValue {
		return nil, fmt.Errorf("%w: structure %s has a value attribute", ErrInvalid, n.Tag)
	}
	if n.Type != kmip.TypeStructure && !hasValue {
		return nil, fmt.Errorf("%w: %s of type %s has no value attribute", ErrInvalid, n.Tag, n.Type)
	}
	return n, nil
}

// parseTag parses a 0x-prefixed tag of the 0x42xxxx or 0x54xxxx ranges.
func parseTag(s string) (kmip.Tag, bool) {
	if len(s) != 8 || (s[:2] != "0x" && s[:2] != "0X") {
		return 0, false
	}
	v, ok := parseHexUint(s[2:], 32)
	if !ok || (v>>16 != 0x42 && v>>16 != 0x54) {
		return 0, false
	}
	return kmip.Tag(v), true
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
