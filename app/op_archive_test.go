package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestArchiveRecover: an archived object answers Object Archived to every
// operation but Recover (KMIP 1.4 §4.22-4.23, §11).
func TestArchiveRecover(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s, _ := newClockedService(t)
			id := createdID(t, sendOne(t, s, alice, v, aesCreateIn(v, 128, "")))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationArchive, uidItem(id))))
			for _, op := range []kmip.Operation{kmip.OperationGet, kmip.OperationGetAttributes, kmip.OperationActivate,
				kmip.OperationArchive, kmip.OperationReKey, kmip.OperationObtainLease, kmip.OperationCheck, kmip.OperationDestroy} {
				mustFail(t, sendOne(t, s, alice, v, batchItem(op, uidItem(id))), kmip.ResultReasonObjectArchived)
			}
			mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationRecover, uidItem(id))), kmip.ResultReasonPermissionDenied)
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRecover, uidItem(id))))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRecover, uidItem(id)))) // already on-line: nothing to do
		})
	}
}
