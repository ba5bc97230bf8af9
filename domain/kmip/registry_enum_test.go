package kmip

import "testing"

// EnumName by tag answers as the lookup through the tag's set name does,
// for every registered tag, every value of its set and one outside it.
func TestEnumNameByTagMatchesSet(t *testing.T) {
	for tag, d := range tagByValue {
		set, _ := EnumSet(tag)
		vals := []uint32{0x7fff_fff0}
		for _, v := range enumDefs[d.Enum] {
			vals = append(vals, v.Value)
		}
		for _, v := range vals {
			gotName, gotOK := EnumName(tag, v)
			wantName, wantOK := SetName(set, v)
			if set == "" {
				wantName, wantOK = "", false
			}
			if gotName != wantName || gotOK != wantOK {
				t.Fatalf("EnumName(%s, %#x) = %q, %v; the set %q gives %q, %v", tag, v, gotName, gotOK, set, wantName, wantOK)
			}
		}
	}
	if _, ok := EnumName(Tag(0x42ffff), 1); ok {
		t.Fatal("an unregistered tag has enumeration names")
	}
}
