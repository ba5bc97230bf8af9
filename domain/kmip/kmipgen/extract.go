package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file is the -extract mode: it reads the two specification texts
// (KMIP 1.4 and KMIP 2.1, converted from HTML to text) and writes spec.json.
// The text tables look like
//
//	| Object Type          <- table title (enumerations) or header cells
//
//	| Name
//	| Value
//
//	| Certificate
//	| 00000001
//
// i.e. one cell per line starting with "| ", rows separated by blank lines.

var (
	headingRE = regexp.MustCompile(`^((?:9\.1\.3\.[23]|1[12])\.\d+|9\.1\.3\.[123]|1[12])(?:\s+(.*))?$`)
	hex8RE    = regexp.MustCompile(`^[0-9A-Fa-f]{8}$`)
	hex6RE    = regexp.MustCompile(`^[0-9A-Fa-f]{6}$`)
	seeRE     = regexp.MustCompile(`see\s+(?:Section\s+)?(9\.1\.3\.[23]\.\d+)`)
)

// textTable is one table of the spec text: the section it appears in and its rows of cells.
type textTable struct {
	section string // e.g. "9.1.3.2.13" or "11.34"
	heading string // e.g. "Cryptographic Algorithm Enumeration"
	line    int
	rows    [][]string
}

func cleanCell(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\t', '\u2009', '\u202f':
			return ' '
		case '\ufffd':
			return -1
		case '\u2013', '\u2014', '\u2011', '\u2010':
			return '-'
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// readTables splits a spec text into its pipe tables.
func readTables(path string, fromLine int) ([]textTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var (
		tables  []textTable
		cur     *textTable
		row     []string
		section string
		heading string
	)
	flushRow := func() {
		if len(row) > 0 && cur != nil {
			cur.rows = append(cur.rows, row)
		}
		row = nil
	}
	flushTable := func() {
		flushRow()
		if cur != nil && len(cur.rows) > 0 {
			tables = append(tables, *cur)
		}
		cur = nil
	}
	for i := fromLine; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \r")
		t := cleanCell(l)
		switch {
		case strings.HasPrefix(l, "|"):
			if cur == nil {
				cur = &textTable{section: section, heading: heading, line: i + 1}
			}
			row = append(row, cleanCell(strings.TrimPrefix(l, "|")))
		case t == "":
			flushRow()
		default:
			if len(row) > 0 {
				// A text line right after a cell, with no blank line between, continues that cell.
				row[len(row)-1] = cleanCell(row[len(row)-1] + " " + t)
				continue
			}
			flushTable()
			if m := headingRE.FindStringSubmatch(t); m != nil {
				section = m[1]
				heading = m[2]
				for j := i + 1; j < len(lines) && cleanCell(lines[j]) != "" && !strings.HasPrefix(lines[j], "|"); j++ {
					heading = cleanCell(heading + " " + lines[j])
				}
			}
		}
	}
	flushTable()
	return tables, nil
}

// findLine returns the index of the first line equal to s after from, or -1.
func findLine(path, s string, after int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for i, l := range strings.Split(string(b), "\n") {
		if i > after && strings.TrimSpace(l) == s {
			return i
		}
	}
	return -1
}

// specSource is one specification text and the fixes its tables need.
type specSource struct {
	version string
	file    string
	// start is a line that follows the table of contents.
	start string
	// setBySection names the set of an enumeration table where the table's
	// title is wrong in the text (copy-paste errors of the original).
	setBySection map[string]string
}

// setAliases maps table titles to the set names used by the registry.
var setAliases = map[string]string{
	"Batch Error Continuation":       "BatchErrorContinuationOption",
	"Object Group Member Option":     "ObjectGroupMember",
	"Destroy Action Type":            "DestroyAction",
	"Profile Name Type":              "ProfileName",
	"Unique Identifier Enumerations": "UniqueIdentifier",
	"NIST Key Type Enumeration":      "NISTKeyType",
	"Recommended Curve Enumeration":  "RecommendedCurve",
}

func extract(refDir string) (*specFile, error) {
	sources := []specSource{
		{version: "1.4", file: refDir + "/kmip-spec-v1.4.txt", start: "1 Introduction"},
		{version: "2.1", file: refDir + "/kmip-spec-v2.1.txt", start: "1 Introduction", setBySection: map[string]string{
			"11.19": "EndpointRole",
			"11.51": "RotateNameType",
			"11.57": "TicketType",
		}},
	}
	out := &specFile{
		Sources: []string{
			"KMIP 1.4 (OASIS Standard, 22 November 2017) §9.1.3.1 Tags, §9.1.3.2 Enumerations, §9.1.3.3 Bit Masks, §2-§3 object and attribute tables",
			"KMIP 2.1 (OASIS Standard, 14 December 2020) §11 Enumerations, §11.56 Tag Enumeration, §12 Bit Masks, §2-§7 object and attribute tables",
		},
	}
	type tagInfo struct {
		spec  map[string]string // version -> spec name
		types map[string]map[string]bool
		enum  map[string]bool
	}
	tags := map[uint32]*tagInfo{}
	sets := map[string]*enumSet{}
	var setOrder []string
	bySection := map[string]map[string]string{} // version -> section -> set
	var allTables = map[string][]textTable{}

	for _, src := range sources {
		// Skip the table of contents: start after the second occurrence of the start line.
		first := findLine(src.file, src.start, -1)
		if first < 0 {
			// TOC lines carry page numbers; try a prefix match instead.
			first = 0
		}
		tables, err := readTables(src.file, first+1)
		if err != nil {
			return nil, err
		}
		allTables[src.version] = tables
		bySection[src.version] = map[string]string{}
		for _, tb := range tables {
			if len(tb.rows) < 3 || len(tb.rows[0]) != 1 || len(tb.rows[1]) != 2 {
				continue
			}
			h := tb.rows[1]
			if !(h[0] == "Name" || h[0] == "Object") || !strings.HasSuffix(h[1], "Value") {
				continue
			}
			title := tb.rows[0][0]
			if title == "Tag" {
				for _, r := range tb.rows[2:] {
					// Values may carry a note: "420014 (deprecated as of version 1.1)",
					// and the later rows of the 2.1 table a prefix: "0x42016A".
					if len(r) == 2 {
						r = []string{r[0], strings.TrimPrefix(r[1], "0x")}
					}
					if len(r) != 2 || len(r[1]) < 6 || !hex6RE.MatchString(r[1][:6]) || len(r[1]) > 6 && r[1][6] != ' ' || strings.HasPrefix(r[0], "(") || r[0] == "Reserved" || r[0] == "Extensions" {
						continue
					}
					v, _ := strconv.ParseUint(r[1][:6], 16, 32)
					ti := tags[uint32(v)]
					if ti == nil {
						ti = &tagInfo{spec: map[string]string{}, types: map[string]map[string]bool{}, enum: map[string]bool{}}
						tags[uint32(v)] = ti
					}
					ti.spec[src.version] = r[0]
				}
				continue
			}
			set := setAliases[title]
			if set == "" {
				set = NormalizeName(title)
			}
			if s, ok := src.setBySection[tb.section]; ok {
				set = s
			}
			mask := strings.HasPrefix(tb.section, "9.1.3.3.") || strings.HasPrefix(tb.section, "12.")
			bySection[src.version][tb.section] = set
			es := sets[set]
			if es == nil {
				es = &enumSet{Name: set, Mask: mask}
				sets[set] = es
				setOrder = append(setOrder, set)
			}
			es.Refs = append(es.Refs, fmt.Sprintf("KMIP %s §%s", src.version, tb.section))
			for _, r := range tb.rows[2:] {
				// Values may carry a note: "00000006 (deprecated)".
				if len(r) != 2 || len(r[1]) < 8 || !hex8RE.MatchString(r[1][:8]) || len(r[1]) > 8 && r[1][8] != ' ' {
					continue
				}
				if r[0] == "Reserved" || strings.HasPrefix(r[0], "(") {
					continue // a withdrawn value, not a name
				}
				v, _ := strconv.ParseUint(r[1][:8], 16, 32)
				es.add(src.version, r[0], uint32(v))
			}
		}
	}

	// Names: 2.1 wins, a different 1.4 name is kept as an alias.
	specToTag := map[string]uint32{}
	var vals []uint32
	for v, ti := range tags {
		vals = append(vals, v)
		for _, n := range ti.spec {
			specToTag[strings.ToLower(n)] = v
		}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })

	// Types and enumeration sets from the object, attribute and message tables.
	for _, src := range sources {
		for _, tb := range allTables[src.version] {
			if len(tb.rows) < 2 || len(tb.rows[0]) < 2 || tb.rows[0][1] != "Encoding" {
				continue
			}
			for _, r := range tb.rows[1:] {
				if len(r) < 2 {
					continue
				}
				name := strings.TrimSpace(strings.TrimSuffix(r[0], "*"))
				v, ok := specToTag[strings.ToLower(name)]
				if !ok {
					continue
				}
				typ := encodingType(r[1])
				if typ == "" {
					continue
				}
				ti := tags[v]
				if ti.types[typ] == nil {
					ti.types[typ] = map[string]bool{}
				}
				ti.types[typ][src.version] = true
				if m := seeRE.FindStringSubmatch(r[1]); m != nil && (typ == "Enumeration" || typ == "Integer") {
					if set, ok := bySection[src.version][m[1]]; ok {
						ti.enum[set] = true
					}
				}
			}
		}
	}

	for _, v := range vals {
		ti := tags[v]
		td := tagEntry{Value: fmt.Sprintf("0x%06X", v)}
		td.Spec = ti.spec["2.1"]
		if td.Spec == "" {
			td.Spec = ti.spec["1.4"]
		}
		for _, ver := range []string{"1.4", "2.1"} {
			if _, ok := ti.spec[ver]; ok {
				td.Versions = append(td.Versions, ver)
			}
		}
		td.Name = NormalizeName(td.Spec)
		if old := ti.spec["1.4"]; old != "" && old != td.Spec {
			td.Aliases = append(td.Aliases, alias{Name: NormalizeName(old), Spec: old})
		}
		// A type counts when the spec gives only one for the tag.
		if len(ti.types) == 1 {
			for t := range ti.types {
				td.Type = t
			}
		} else if len(ti.types) > 1 {
			var ts []string
			for t, vs := range ti.types {
				var vv []string
				for x := range vs {
					vv = append(vv, x)
				}
				sort.Strings(vv)
				ts = append(ts, t+"@"+strings.Join(vv, ","))
			}
			sort.Strings(ts)
			td.TypesSeen = ts
		}
		if td.Type == "*" {
			td.Type = ""
			td.TypesSeen = []string{"several"}
		}
		if len(ti.enum) == 1 {
			for e := range ti.enum {
				td.Enum = e
			}
		}
		out.Tags = append(out.Tags, td)
	}
	sort.Strings(setOrder)
	for _, s := range setOrder {
		es := sets[s]
		// By value; for a value with several names the KMIP 2.1 name comes first,
		// so that it is the one printed.
		sort.SliceStable(es.Values, func(i, j int) bool {
			a, b := es.Values[i], es.Values[j]
			if a.value() != b.value() {
				return a.value() < b.value()
			}
			return contains(a.Versions, "2.1") && !contains(b.Versions, "2.1")
		})
		out.Enums = append(out.Enums, *es)
	}
	return out, nil
}

func (es *enumSet) add(version, spec string, v uint32) {
	if fixed, ok := valueTextFixes[spec]; ok {
		spec = fixed
	}
	name := NormalizeName(spec)
	for i := range es.Values {
		e := &es.Values[i]
		if e.Name == name {
			if !contains(e.Versions, version) {
				e.Versions = append(e.Versions, version)
			}
			if e.value() != v {
				// 2.1 wins.
				if version == "2.1" {
					e.Value = fmt.Sprintf("0x%08X", v)
					e.Spec = spec
				}
			}
			return
		}
	}
	es.Values = append(es.Values, enumEntry{Name: name, Spec: spec, Value: fmt.Sprintf("0x%08X", v), Versions: []string{version}})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// encodingType maps the Encoding column of a spec table to an XML type name.
func encodingType(enc string) string {
	e := strings.ToLower(enc)
	// "Text String, Enumeration or Integer": the tag has several types.
	n := 0
	for _, w := range []string{"structure", "text string", "byte string", "integer", "enumeration", "boolean", "date-time", "interval"} {
		if strings.Contains(e, w) && !strings.Contains(e, "long integer") && !strings.Contains(e, "big integer") {
			n++
		}
	}
	if n > 1 {
		return "*"
	}
	for _, p := range []struct{ prefix, typ string }{
		{"structure", "Structure"},
		{"text string", "TextString"},
		{"byte string", "ByteString"},
		{"bytestring", "ByteString"},
		{"long integer", "LongInteger"},
		{"big integer", "BigInteger"},
		{"integer", "Integer"},
		{"enumeration", "Enumeration"},
		{"boolean", "Boolean"},
		{"date-time extended", "DateTimeExtended"},
		{"date time extended", "DateTimeExtended"},
		{"date-time", "DateTime"},
		{"date time", "DateTime"},
		{"interval", "Interval"},
	} {
		if strings.HasPrefix(e, p.prefix) {
			return p.typ
		}
	}
	return ""
}
