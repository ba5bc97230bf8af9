package app

import (
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// TestPollAnswerNamesPolledOperation: a Poll of a finished asynchronous
// operation answers "identical to the response that would have been sent if
// the operation had completed synchronously" (KMIP 1.4 §4.28, 2.1 §6.1.38),
// Operation included: the OASIS cases TC-101-11 (1.1, Archive and Recover)
// and TC-ASYNC-1-21 (2.1, Create) answer it under the polled operation.
// While it runs, Poll answers pending under Poll.
func TestPollAnswerNamesPolledOperation(t *testing.T) {
	for _, tc := range []struct {
		v   version
		ind kmip.AsynchronousIndicator
	}{{version{1, 1}, 0}, {version{1, 2}, 0}, {v14, 0}, {v21, kmip.AsynchronousIndicatorMandatory}} {
		g := newGated(true)
		s, _ := asyncService(t, g, AsyncOptions{}, nil)
		create := aesCreate14(128, "")
		if tc.v.major >= 2 {
			create = aesCreate21(128, "")
		}
		acv := pendingACV(t, sendAsync(t, s, alice, tc.v, tc.ind, create)[0])
		<-g.started
		if op := pollOperation(t, s, tc.v, acv); op != kmip.OperationPoll {
			t.Errorf("%s: pending Poll answered under %s, want Poll", tc.v, op)
		}
		close(g.release)
		pollUntilDone(t, s, alice, tc.v, acv)
		if op := pollOperation(t, s, tc.v, acv); op != kmip.OperationCreate {
			t.Errorf("%s: finished Poll answered under %s, want Create", tc.v, op)
		}
	}
}

// pollOperation polls acv as alice and returns the answer's Operation.
func pollOperation(t *testing.T, s *Service, v version, acv []byte) kmip.Operation {
	t.Helper()
	resp := s.HandleMessage(ports.WithPeer(context.Background(), alice), msg(v, batchItem(kmip.OperationPoll, acvItem(acv))))
	bi := resp.Child(kmip.TagBatchItem)
	op, _ := bi.Child(kmip.TagOperation).AsEnum()
	return kmip.Operation(op)
}
