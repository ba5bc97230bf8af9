package codec

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// CheckFields passes what the version defines (a nil error, not a nil
// *Error), reads a Template-Attribute in place of Attributes, and names the
// problem of a removed field, a removed attribute, a tag newer than 2.0 and
// both attribute forms at once.
func TestCheckFields(t *testing.T) {
	v20, v21 := Version{2, 0}, Version{2, 1}
	attrs := kmip.Struct(kmip.TagAttributes, kmip.Int(kmip.TagCryptographicLength, 128))
	ta := kmip.Struct(kmip.TagTemplateAttribute)
	payload := func(kids ...*kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagRequestPayload, kids...) }
	for _, tc := range []struct {
		name string
		v    Version
		p    *kmip.Item
		want Problem // 0: accepted
	}{
		{"2.x attributes", v21, payload(attrs.Clone()), 0},
		{"1.x request", Version{1, 4}, payload(ta.Clone(), kmip.Int(kmip.TagAttributeIndex, 0)), 0},
		{"Template-Attribute alone", v21, payload(ta.Clone()), 0},
		{"both forms", v21, payload(attrs.Clone(), ta.Clone()), RemovedField},
		{"Attribute Index", v21, payload(kmip.Int(kmip.TagAttributeIndex, 0)), RemovedField},
		{"removed attribute", v21, payload(kmip.Struct(kmip.TagAttributes, kmip.Text(kmip.TagOperationPolicyName, "default"))), RemovedAttribute},
		{"2.1 tag at 2.0", v20, payload(kmip.Struct(kmip.TagAttributes, kmip.Bool(kmip.TagRotateAutomatic, true))), UnknownTag},
		{"2.1 tag at 2.1", v21, payload(kmip.Struct(kmip.TagAttributes, kmip.Bool(kmip.TagRotateAutomatic, true))), 0},
	} {
		err := CheckFields(tc.v, tc.p)
		if tc.want == 0 {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tc.name, err)
			}
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce == nil || ce.Problem != tc.want {
			t.Errorf("%s: %v, want problem %d", tc.name, err, tc.want)
		}
	}
}
