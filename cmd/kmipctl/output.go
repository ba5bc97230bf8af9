package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// result is what a command prints: named values in order. A name may repeat
// (several identifiers, several instances of an attribute); JSON output then
// gives it a list.
type result struct {
	rows []row
}

type row struct{ name, value string }

func (r *result) add(name, value string) { r.rows = append(r.rows, row{name, value}) }

// print writes r as aligned "name  value" lines, or as one JSON object whose
// repeated names hold lists.
func (r *result) print(w io.Writer, format string) error {
	if format == "json" {
		obj := map[string]any{}
		var order []string
		for _, x := range r.rows {
			switch prev := obj[x.name].(type) {
			case nil:
				obj[x.name] = x.value
				order = append(order, x.name)
			case string:
				obj[x.name] = []string{prev, x.value}
			case []string:
				obj[x.name] = append(prev, x.value)
			}
		}
		// Keys in the order first seen, for readable diffs.
		var b strings.Builder
		b.WriteString("{")
		for i, k := range order {
			if i > 0 {
				b.WriteString(",")
			}
			kj, _ := json.Marshal(k)
			vj, _ := json.Marshal(obj[k])
			fmt.Fprintf(&b, "\n  %s: %s", kj, vj)
		}
		if len(order) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("}\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, x := range r.rows {
		fmt.Fprintf(tw, "%s\t%s\n", x.name, x.value)
	}
	return tw.Flush()
}

// format renders an item's value for people: enumerations and masks by
// name, byte strings in hex, dates in RFC 3339 (UTC), structures as
// {Field: value, ...}.
func format(it *kmip.Item) string {
	if it == nil {
		return ""
	}
	switch it.Type {
	case kmip.TypeStructure:
		var parts []string
		for _, k := range it.Children() {
			parts = append(parts, k.Tag.String()+": "+format(k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case kmip.TypeEnumeration:
		v, _ := it.AsEnum()
		if n, ok := kmip.EnumName(it.Tag, v); ok {
			return n
		}
		return fmt.Sprintf("0x%08X", v)
	case kmip.TypeInteger:
		v, _ := it.AsInt()
		if kmip.IsMask(it.Tag) {
			return strings.Join(kmip.MaskNames(it.Tag, v), "|")
		}
		return strconv.Itoa(int(v))
	case kmip.TypeLongInteger:
		v, _ := it.AsLong()
		return strconv.FormatInt(v, 10)
	case kmip.TypeInterval:
		v, _ := it.AsInterval()
		return strconv.FormatUint(uint64(v), 10)
	case kmip.TypeBoolean:
		v, _ := it.AsBool()
		return strconv.FormatBool(v)
	case kmip.TypeTextString:
		v, _ := it.AsText()
		return v
	case kmip.TypeByteString:
		v, _ := it.AsBytes()
		return hex.EncodeToString(v)
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		v, _ := it.AsTime()
		return v.UTC().Format(time.RFC3339)
	case kmip.TypeBigInteger:
		v, _ := it.AsBig()
		return v.Text(16)
	}
	return fmt.Sprint(it.Value)
}

// text is the Text String child tag of p, "" without one.
func text(p *kmip.Item, tag kmip.Tag) string {
	s, _ := p.Child(tag).AsText()
	return s
}

// parseHex reads hex, tolerating spaces, colons and a 0x prefix.
func parseHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", ":", "", "\n", "").Replace(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not hex", s)
	}
	return b, nil
}

// readInput reads a file, or standard input for "" and "-".
func (c *connFlags) readInput(path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "" || path == "-" {
		b, err = io.ReadAll(c.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, &statusError{code: exitNoInput, msg: err.Error()}
	}
	return b, nil
}

// writeOutput writes b to a file created 0600, or to standard output for ""
// and "-".
func (c *connFlags) writeOutput(path string, b []byte) error {
	if path == "" || path == "-" {
		_, err := c.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return &statusError{code: exitCantSave, msg: err.Error()}
	}
	return nil
}
