package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestCodecErrorsGetTheirReasonAndNameTheField checks that a request the
// codec cannot decode is answered with the Result Reason of its problem
// (codecProblems) and a message naming the field at fault.
func TestCodecErrorsGetTheirReasonAndNameTheField(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	noName := aesCreate14(128, "")
	noName.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).
		Add(kmip.Struct(kmip.TagAttribute, kmip.Int(kmip.TagAttributeValue, 1)))
	reKeyTemplate := batchItem(kmip.OperationReKey, uidItem(id),
		kmip.Struct(kmip.TagTemplateAttribute, nameItem("some template")))
	cases := []struct {
		name   string
		v      version
		item   *kmip.Item
		reason kmip.ResultReason
		msg    string
	}{
		{"attribute without a name", v14, noName, kmip.ResultReasonInvalidField,
			"Template-Attribute: Attribute 4: no Attribute Name"},
		{"Template reference in a Re-key", v14, reKeyTemplate, kmip.ResultReasonFeatureNotSupported,
			"Template-Attribute: Template references are not supported here"},
		{"1.x name asked twice", v14, batchItem(kmip.OperationGetAttributes, uidItem(id),
			kmip.Text(kmip.TagAttributeName, "State"), kmip.Text(kmip.TagAttributeName, "State")),
			kmip.ResultReasonInvalidMessage, `Attribute Name: attribute "State" is requested more than once`},
		{"Add Attribute without a value", v14, batchItem(kmip.OperationAddAttribute, uidItem(id),
			kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, "x-note"))),
			kmip.ResultReasonMissingData, "Attribute Value: Add Attribute needs a value"},
		{"2.x Template object type", v21, batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate))),
			kmip.ResultReasonInvalidObjectType, "Object Type: unknown Object Type 6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, rs := send(t, s, alice, msg(tc.v, tc.item))
			mustFail(t, rs[0], tc.reason)
			got, _ := resp.Child(kmip.TagBatchItem).Child(kmip.TagResultMessage).AsText()
			if got != tc.msg {
				t.Fatalf("Result Message %q, want %q", got, tc.msg)
			}
		})
	}
}
