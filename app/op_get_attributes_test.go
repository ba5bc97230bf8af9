package app

import (
	"fmt"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Get Attributes at KMIP 1.x names the Attribute Index of every instance of
// a multi-instance attribute, index 0 included (KMIP 1.4 §2.1.1 lets a
// server omit index 0; the reference server sends it and PyKMIP's upstream
// integration test test_modify_delete_attribute reads it).
func TestGetAttributesNamesMultiInstanceIndex(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 0}, {1, 1}, {1, 2}, {1, 3}, v14} {
		t.Run(fmt.Sprintf("KMIP-%d.%d", v.major, v.minor), func(t *testing.T) {
			s := newService(t)
			id := createdID(t, sendOne(t, s, alice, v, aesCreate14(128, "first")))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationAddAttribute, uidItem(id),
				attribute1x("Name", nameItem("second")))))
			p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id),
				kmip.Text(kmip.TagAttributeName, "Name"))))
			names := p.ChildrenOf(kmip.TagAttribute)
			if len(names) != 2 {
				t.Fatalf("Get Attributes answered %d Names, want 2", len(names))
			}
			for want, a := range names {
				idx := a.Child(kmip.TagAttributeIndex)
				if idx == nil {
					t.Errorf("Name %d came without an Attribute Index", want)
					continue
				}
				if got, _ := idx.AsInt(); got != int32(want) {
					t.Errorf("Name %d has Attribute Index %d", want, got)
				}
			}
		})
	}
}
