package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// KMIP 1.4 §4.21: destroying a Template removes it with all its metadata.
func TestDestroyTemplateRemovesIt(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		kmip.Struct(kmip.TagTemplateAttribute), kmip.Struct(kmip.TagTemplate, attribute1x("Cryptographic Length", kmip.Int(0, 128))))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGetAttributes, uidItem(id))), kmip.ResultReasonItemNotFound)
}
