package kmip

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sharedDir returns ../shared beside the repository root, skipping the test if absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "conformance")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance cases not found at %s: CI must run them", shared)
		}
		t.Skipf("conformance cases not found at %s", shared)
	}
	return shared
}

// xmlElem is one element of a conformance file with the attributes we check.
type xmlElem struct {
	name, typ, value string
	children         []*xmlElem
}

func parseXMLFile(t *testing.T, path string) *xmlElem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	root := &xmlElem{}
	stack := []*xmlElem{root}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &xmlElem{name: tok.Name.Local}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "type":
					e.typ = a.Value
				case "value":
					e.value = a.Value
				}
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return root
}

// wrapperElems are the file and message-sequence elements of the conformance
// files, which are not KMIP tags.
var wrapperElems = map[string]bool{"KMIP": true}

func isVariable(v string) bool { return strings.HasPrefix(v, "$") }

func isCustomAttr(name string) bool {
	return strings.HasPrefix(name, "x-") || strings.HasPrefix(name, "y-") ||
		strings.HasPrefix(name, "X-") || strings.HasPrefix(name, "Y-")
}

// TestConformanceNamesResolve checks that every element name, enumeration
// value, mask value and attribute name of the OASIS conformance cases resolves
// in the registry.
func TestConformanceNamesResolve(t *testing.T) {
	shared := sharedDir(t)
	files, err := filepath.Glob(filepath.Join(shared, "conformance", "*", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	problems := map[string][]string{} // problem -> files
	report := func(file, msg string) {
		problems[msg] = append(problems[msg], filepath.Base(file))
	}
	checked := 0
	for _, file := range files {
		root := parseXMLFile(t, file)
		// vendor reports whether a structure holds a KMIP 2.x vendor attribute,
		// whose Attribute Name is the vendor's own.
		vendor := func(parent *xmlElem) bool {
			if parent == nil {
				return false
			}
			for _, s := range parent.children {
				if s.name == "VendorIdentification" {
					return true
				}
			}
			return false
		}
		var walk func(parent, e *xmlElem)
		walk = func(parent, e *xmlElem) {
			for _, c := range e.children {
				walk(e, c)
			}
			if e == root || wrapperElems[e.name] {
				return
			}
			tag, ok := TagByName(e.name)
			if !ok {
				report(file, "element "+e.name)
				return
			}
			checked++
			if isVariable(e.value) {
				return
			}
			// Attribute values take their enumeration from the sibling Attribute Name.
			valueTag := tag
			if tag == TagAttributeValue && vendor(parent) {
				return
			}
			if tag == TagAttributeValue && parent != nil {
				for _, s := range parent.children {
					if s.name == "AttributeName" {
						if isCustomAttr(s.value) {
							return
						}
						at, ok := TagBySpecName(s.value)
						if !ok {
							return // reported for the AttributeName element itself
						}
						valueTag = at
					}
				}
			}
			switch e.typ {
			case "Enumeration":
				if _, ok := EnumValueOf(valueTag, e.value); !ok {
					report(file, "enumeration "+e.name+"("+valueTag.String()+")="+e.value)
				}
			case "Integer":
				if e.value == "" || isNumeric(e.value) {
					return
				}
				if !IsMask(valueTag) {
					report(file, "not a mask tag "+e.name+"("+valueTag.String()+")="+e.value)
					return
				}
				if _, ok := MaskValue(valueTag, e.value); !ok {
					report(file, "mask "+e.name+"("+valueTag.String()+")="+e.value)
				}
			case "TextString":
				if tag == TagAttributeName && !isCustomAttr(e.value) && !vendor(parent) {
					if _, ok := TagBySpecName(e.value); !ok {
						report(file, "attribute name "+e.value)
					}
				}
			}
			if e.typ != "" {
				typ, ok := TypeByName(e.typ)
				if !ok {
					report(file, "type "+e.typ)
				}
				if d, _ := LookupTag(tag); d.Type != 0 && d.Type != typ {
					report(file, "type of "+e.name+": registry "+d.Type.String()+", file "+e.typ)
				}
			} else if d, _ := LookupTag(tag); d.Type != 0 && d.Type != TypeStructure {
				report(file, "structure "+e.name+" typed "+d.Type.String())
			}
		}
		walk(nil, root)
	}
	if checked < 1000 {
		t.Errorf("only %d elements checked", checked)
	}
	var keys []string
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fs := problems[k]
		if len(fs) > 3 {
			fs = append(fs[:3], "...")
		}
		t.Errorf("unresolved %s (in %s)", k, strings.Join(fs, ", "))
	}
}

func isNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if strings.HasPrefix(s, "0x") {
		return len(s) > 2
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pykmipDump prints every enumeration of Debian's PyKMIP as JSON:
// {"ClassName": {"MEMBER_NAME": value}}.
const pykmipDump = `
import enum, json
from kmip.core import enums
out = {}
for n in dir(enums):
    c = getattr(enums, n)
    if isinstance(c, type) and issubclass(c, enum.Enum):
        vals = {}
        for m in c:
            v = m.value
            if isinstance(v, tuple):
                v = v[0]
            if isinstance(v, int):
                vals[m.name] = v
        out[n] = vals
print(json.dumps(out))
`

// pykmipSet maps PyKMIP enumeration classes to registry sets where the names differ.
var pykmipSet = map[string]string{
	"PKCS11Function":   "PKCS_11Function",
	"PKCS11ReturnCode": "PKCS_11ReturnCode",
}

// pykmipKnownDifferences lists every disagreement with PyKMIP, keyed by
// "Set.NAME" (PyKMIP's member name, normalised), with the reason the registry
// differs; the registry follows the KMIP 1.4 and 2.1 texts. The test fails if an
// entry stops being a difference, so the list stays exact.
var pykmipKnownDifferences = map[string]string{
	// Values PyKMIP has that neither specification names.
	"Tags.DEFAULT":                      "0x420000 is (Unused) in both specs",
	"Tags.RESERVED":                     "0x420137 is (Reserved) in KMIP 2.1 §11.56",
	"OpaqueDataType.NONE":               "0x80000000 is a PyKMIP extension value",
	"ProfileName.SUITEBMINLOS128CLIENT": "0x118 is (Reserved) in KMIP 2.1 §11.41 and absent from 1.4",
	"ProfileName.SUITEBMINLOS128SERVER": "0x119 is (Reserved) in KMIP 2.1 §11.41 and absent from 1.4",
	"ProfileName.SUITEBMINLOS192CLIENT": "0x11A is (Reserved) in KMIP 2.1 §11.41 and absent from 1.4",
	"ProfileName.SUITEBMINLOS192SERVER": "0x11B is (Reserved) in KMIP 2.1 §11.41 and absent from 1.4",
	// Same value, other name: PyKMIP's Python identifiers versus the XML names.
	"CryptographicAlgorithm.TRIPLEDES":         "the spec's 3DES is DES3 in the XML encoding",
	"CryptographicUsageMask.CONTENTCOMMITMENT": "the spec name is Content Commitment (Non Repudiation)",
	"ObjectType.OPAQUEDATA":                    "the spec name is Opaque Object",
	"RecommendedCurve.SECP191K1":               "PyKMIP typo: value 0x17 is SECP192K1",
}

// normName reduces a name to upper-case letters and digits, so that
// "SHA_256" (XML) and "SHA_256" (PyKMIP), "PreActive" and "PRE_ACTIVE" meet.
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestPyKMIPCrossCheck compares tag and enumeration values with Debian's PyKMIP
// for every name both know.
func TestPyKMIPCrossCheck(t *testing.T) {
	out, err := exec.Command("/usr/bin/python3", "-c", pykmipDump).Output()
	if err != nil {
		t.Skipf("PyKMIP not importable by /usr/bin/python3: %v", err)
	}
	var py map[string]map[string]int64
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	compare := func(set string, ours map[string]uint32, theirs map[string]int64) (matched int) {
		named := map[uint32]bool{}
		for _, v := range ours {
			named[v] = true
		}
		for name, v := range theirs {
			key := set + "." + normName(name)
			seen[key] = true
			ov, ok := ours[normName(name)]
			if !ok {
				// A name only PyKMIP spells this way: the value must still be ours,
				// under the specification's name, or be a listed difference.
				if _, listed := pykmipKnownDifferences[key]; !listed {
					if named[uint32(v)] {
						t.Errorf("%s: PyKMIP name %s for 0x%X is not a registry name of that value", set, name, v)
					} else {
						t.Errorf("%s: PyKMIP value %s=0x%X missing from the registry", set, name, v)
					}
				}
				continue
			}
			if uint32(v) == ov {
				matched++
				if _, listed := pykmipKnownDifferences[key]; listed {
					t.Errorf("%s is listed as a known difference but agrees", key)
				}
				continue
			}
			if _, listed := pykmipKnownDifferences[key]; listed {
				continue
			}
			t.Errorf("%s: PyKMIP %s=0x%X, registry 0x%X", set, name, v, ov)
		}
		return matched
	}
	// Tags.
	ours := map[string]uint32{}
	for _, d := range tagDefs {
		ours[normName(d.Name)] = uint32(d.Tag)
	}
	if n := compare("Tags", ours, py["Tags"]); n < 250 {
		t.Errorf("only %d tags matched PyKMIP by name", n)
	}
	total, sets := 0, 0
	for class, vals := range py {
		set := class
		if s, ok := pykmipSet[class]; ok {
			set = s
		}
		defs, ok := enumDefs[set]
		if !ok || class == "Tags" {
			continue
		}
		ours := map[string]uint32{}
		for _, v := range defs {
			ours[normName(v.Name)] = v.Value
		}
		total += compare(set, ours, vals)
		sets++
	}
	if sets < 40 || total < 500 {
		t.Errorf("only %d sets and %d values matched PyKMIP by name", sets, total)
	}
	for key := range pykmipKnownDifferences {
		if !seen[key] {
			t.Errorf("known difference %s no longer in PyKMIP", key)
		}
	}
}

// TestRoundTrips checks that every tag, enumeration value and mask member
// prints as a name that parses back to it.
func TestRoundTrips(t *testing.T) {
	for _, d := range tagDefs {
		if got, ok := TagByName(d.Tag.String()); !ok || got != d.Tag {
			t.Errorf("TagByName(%q) = %v, %v; want %v", d.Tag.String(), got, ok, d.Tag)
		}
		if got, ok := TagBySpecName(d.SpecName); !ok || got != d.Tag {
			t.Errorf("TagBySpecName(%q) = %v, %v", d.SpecName, got, ok)
		}
		if d.Enum != "" {
			if _, ok := enumDefs[d.Enum]; !ok {
				t.Errorf("tag %s uses unknown set %s", d.Name, d.Enum)
			}
		}
		if d.Mask != (d.Enum != "" && d.Type == TypeInteger && isMaskSet(d.Enum)) {
			t.Errorf("tag %s: Mask=%v but set %q type %v", d.Name, d.Mask, d.Enum, d.Type)
		}
	}
	for _, a := range tagAliases {
		if got, ok := TagByName(a.Name); !ok || got != a.Tag {
			t.Errorf("alias %q does not resolve to %v", a.Name, a.Tag)
		}
	}
	if s := Tag(0x540001).String(); s != "0x540001" {
		t.Errorf("extension tag prints %q", s)
	}
	if got, ok := TagByName("0x540001"); !ok || got != 0x540001 {
		t.Errorf("TagByName(hex) = %v, %v", got, ok)
	}
	for _, d := range tagDefs {
		if d.Enum == "" || d.Mask {
			continue
		}
		for _, v := range enumDefs[d.Enum] {
			n, ok := EnumName(d.Tag, v.Value)
			if !ok {
				t.Errorf("EnumName(%s, 0x%X) not found", d.Name, v.Value)
				continue
			}
			if back, ok := EnumValueOf(d.Tag, n); !ok || back != v.Value {
				t.Errorf("EnumValueOf(%s, %q) = 0x%X, %v; want 0x%X", d.Name, n, back, ok, v.Value)
			}
			if back, ok := EnumValueOf(d.Tag, v.Name); !ok || back != v.Value {
				t.Errorf("EnumValueOf(%s, %q) = 0x%X, %v; want 0x%X", d.Name, v.Name, back, ok, v.Value)
			}
		}
	}
	for _, d := range tagDefs {
		if !d.Mask {
			continue
		}
		var all uint32
		for _, v := range enumDefs[d.Enum] {
			all |= v.Value
			names := MaskNames(d.Tag, int32(v.Value))
			if len(names) != 1 || names[0] != v.Name {
				t.Errorf("MaskNames(%s, 0x%X) = %v, want [%s]", d.Name, v.Value, names, v.Name)
			}
		}
		for _, m := range []uint32{all, all | 0x40000000, 0x40000000, 0} {
			s := strings.Join(MaskNames(d.Tag, int32(m)), " ")
			got, ok := MaskValue(d.Tag, s)
			if !ok || uint32(got) != m {
				t.Errorf("MaskValue(%s, %q) = 0x%X, %v; want 0x%X", d.Name, s, got, ok, m)
			}
		}
	}
	if _, ok := MaskValue(TagCryptographicUsageMask, "Encrypt Nonsense"); ok {
		t.Error("MaskValue accepted an unknown member")
	}
}

func isMaskSet(set string) bool {
	switch set {
	case "CryptographicUsageMask", "StorageStatusMask", "ProtectionStorageMask":
		return true
	}
	return false
}

// TestGeneratedConstants spot-checks constants against the specification tables.
func TestGeneratedConstants(t *testing.T) {
	cases := []struct {
		got, want uint32
		name      string
	}{
		{uint32(TagUniqueIdentifier), 0x420094, "TagUniqueIdentifier"},
		{uint32(TagBatchItem), 0x42000F, "TagBatchItem"},
		{uint32(TagProtocolVersionMajor), 0x42006A, "TagProtocolVersionMajor"},
		{uint32(TagMaskGeneratorHashingAlgorithm), 0x420102, "TagMaskGeneratorHashingAlgorithm"},
		{uint32(ObjectTypeSymmetricKey), 2, "ObjectTypeSymmetricKey"},
		{uint32(ObjectTypeTemplate), 6, "ObjectTypeTemplate"},
		{uint32(ObjectTypeCertificateRequest), 0x0A, "ObjectTypeCertificateRequest"},
		{uint32(StatePreActive), 1, "StatePreActive"},
		{uint32(CryptographicAlgorithmDES3), 2, "CryptographicAlgorithmDES3"},
		{uint32(CryptographicAlgorithmAES), 3, "CryptographicAlgorithmAES"},
		{uint32(CryptographicAlgorithmHMAC_SHA256), 9, "CryptographicAlgorithmHMAC_SHA256"},
		{uint32(HashingAlgorithmSHA_256), 6, "HashingAlgorithmSHA_256"},
		{uint32(ResultReasonItemNotFound), 1, "ResultReasonItemNotFound"},
		{uint32(ResultStatusOperationFailed), 1, "ResultStatusOperationFailed"},
		{uint32(OperationCreate), 1, "OperationCreate"},
		{uint32(KeyFormatTypeTransparentRSAPrivateKey), 0x0A, "KeyFormatTypeTransparentRSAPrivateKey"},
		{uint32(KeyFormatTypePKCS_1), 3, "KeyFormatTypePKCS_1"},
		{uint32(CertificateTypeX_509), 1, "CertificateTypeX_509"},
		{uint32(NameTypeUninterpretedTextString), 1, "NameTypeUninterpretedTextString"},
		{uint32(ProfileNameTapeLibraryServerKMIPV1_2), 0x0C, "ProfileNameTapeLibraryServerKMIPV1_2"},
		{uint32(SplitKeyMethodPolynomialSharingGF2_8), 4, "SplitKeyMethodPolynomialSharingGF2_8"},
		{uint32(CryptographicUsageMaskEncrypt), 4, "CryptographicUsageMaskEncrypt"},
		{uint32(StorageStatusMaskArchivalStorage), 2, "StorageStatusMaskArchivalStorage"},
		{uint32(PKCS_11FunctionC_GetInfo), 3, "PKCS_11FunctionC_GetInfo"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = 0x%X, want 0x%X", c.name, c.got, c.want)
		}
	}
	if s := ObjectTypeSymmetricKey.String(); s != "SymmetricKey" {
		t.Errorf("ObjectTypeSymmetricKey.String() = %q", s)
	}
	if s := ObjectType(0x80000001).String(); s != "0x80000001" {
		t.Errorf("extension ObjectType prints %q", s)
	}
	if s := (CryptographicUsageMaskEncrypt | CryptographicUsageMaskDecrypt).String(); s != "Encrypt Decrypt" {
		t.Errorf("usage mask prints %q", s)
	}
	if d, _ := LookupTag(TagCryptographicAlgorithm); d.Type != TypeEnumeration || d.Enum != "CryptographicAlgorithm" || d.SpecName != "Cryptographic Algorithm" {
		t.Errorf("Cryptographic Algorithm entry %+v", *d)
	}
	if d, _ := LookupTag(TagCryptographicUsageMask); d.Type != TypeInteger || !d.Mask {
		t.Errorf("Cryptographic Usage Mask entry %+v", *d)
	}
	if d, _ := LookupTag(TagMaskGeneratorHashingAlgorithm); d.Enum != "HashingAlgorithm" {
		t.Errorf("Mask Generator Hashing Algorithm entry %+v", *d)
	}
	if v, ok := EnumValueOf(TagAttributeReference, "CryptographicAlgorithm"); !ok || v != uint32(TagCryptographicAlgorithm) {
		t.Errorf("Attribute Reference by tag name = 0x%X, %v", v, ok)
	}
	if tag, ok := TagBySpecName("x-custom"); ok {
		t.Errorf("TagBySpecName(x-custom) = %v", tag)
	}
}
