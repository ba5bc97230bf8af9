package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// queriedOps returns the operations a Query Operations at v lists.
func queriedOps(t *testing.T, s *Service, v version) map[kmip.Operation]bool {
	t.Helper()
	out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))))
	have := map[kmip.Operation]bool{}
	for _, it := range out.ChildrenOf(kmip.TagOperation) {
		e, _ := it.AsEnum()
		have[kmip.Operation(e)] = true
	}
	return have
}

// TestPingAnswersEmptyAt21Only: Ping (KMIP 2.1 §6.1.36) answers an empty
// payload at 2.1, is Operation Not Supported at 2.0 and 1.4, which do not
// define it, and Query lists it at 2.1 only.
func TestPingAnswersEmptyAt21Only(t *testing.T) {
	t.Parallel()
	s := newService(t)
	p := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationPing)))
	if p == nil || p.Tag != kmip.TagResponsePayload || len(p.Children()) != 0 {
		t.Fatalf("Ping answered %v, want an empty Response Payload", p)
	}
	for _, v := range []version{v14, v20} {
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationPing)), kmip.ResultReasonOperationNotSupported)
		if queriedOps(t, s, v)[kmip.OperationPing] {
			t.Errorf("Query at %s lists Ping", v)
		}
	}
	if !queriedOps(t, s, v21)[kmip.OperationPing] {
		t.Errorf("Query at 2.1 does not list Ping")
	}
}
