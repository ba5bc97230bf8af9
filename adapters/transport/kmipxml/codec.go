package kmipxml

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Decode reads one KMIP XML message (or any single item) from r and types it.
// The document must hold exactly one top-level item, optionally inside a
// non-KMIP wrapper element.
func Decode(r io.Reader) (*kmip.Item, error) { return DecodeLimited(r, MaxDepth, 0) }

// DecodeLimited is Decode with the TTLV decoder's bounds, checked while the
// document is read: no element nested deeper than maxDepth (the root is
// depth 1; MaxDepth when maxDepth is not in 1..MaxDepth) and, when
// maxItems is positive, at most maxItems elements.
func DecodeLimited(r io.Reader, maxDepth, maxItems int) (*kmip.Item, error) {
	nodes, err := parse(r, maxDepth, maxItems)
	if err != nil {
		return nil, err
	}
	if len(nodes) != 1 {
		return nil, fmt.Errorf("%w: want one top-level item, found %d", ErrInvalid, len(nodes))
	}
	return nodes[0].Item()
}

// Encode writes it to w as indented KMIP XML (two spaces a level), ending
// with a newline. It fails, writing nothing useful, if an item's Value does
// not have the Go type its Type requires.
func Encode(w io.Writer, it *kmip.Item) error {
	bw := bufio.NewWriter(w)
	if err := encodeItem(bw, it, it.Tag, 0); err != nil {
		return err
	}
	return bw.Flush()
}

func encodeItem(w *bufio.Writer, it *kmip.Item, set kmip.Tag, depth int) error {
	if it == nil {
		return fmt.Errorf("%w: nil item", ErrInvalid)
	}
	if depth >= MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrInvalid, MaxDepth)
	}
	indent := strings.Repeat("  ", depth)
	name := it.Tag.String()
	open := name
	if _, known := kmip.LookupTag(it.Tag); !known {
		name = ttlvElement
		open = fmt.Sprintf("%s tag=\"0x%06X\"", ttlvElement, uint32(it.Tag))
	}
	if it.Type == kmip.TypeStructure {
		kids, ok := it.Value.([]*kmip.Item)
		if !ok {
			return fmt.Errorf("%w: %s: Structure with a %T value", ErrInvalid, it.Tag, it.Value)
		}
		if len(kids) == 0 {
			fmt.Fprintf(w, "%s<%s/>\n", indent, open)
			return nil
		}
		fmt.Fprintf(w, "%s<%s>\n", indent, open)
		attrSet := attributeSetOfItem(it)
		for _, k := range kids {
			cs := k.Tag
			if k.Tag == kmip.TagAttributeValue {
				cs = attrSet
			}
			if err := encodeItem(w, k, cs, depth+1); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%s</%s>\n", indent, name)
		return nil
	}
	v, err := FormatLeaf(it, set)
	if err != nil {
		return err
	}
	if !xmlChars(v) {
		// xml.EscapeText would replace the character: refuse rather than alter.
		return fmt.Errorf("%w: %s: value holds a character XML 1.0 cannot represent", ErrInvalid, it.Tag)
	}
	fmt.Fprintf(w, "%s<%s type=\"%s\" value=\"", indent, open, it.Type)
	if err := xml.EscapeText(w, []byte(v)); err != nil {
		return err
	}
	w.WriteString("\"/>\n")
	return nil
}

// xmlChars reports whether s is valid UTF-8 of characters XML 1.0 allows
// (its Char production: tab, newline, carriage return, and U+0020 up,
// without surrogates, U+FFFE and U+FFFF).
func xmlChars(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			return false // invalid UTF-8
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}
