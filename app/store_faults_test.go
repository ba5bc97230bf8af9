package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// lostStore refuses every write with the error a store gives once its
// database file was removed or replaced, naming the file as adapters do.
type lostStore struct {
	*memStore
	err error
}

func (l *lostStore) Create(context.Context, *domain.Object) error { return l.err }

// TestStoreFaultsAnswerGeneralFailure checks that a lost store and a full
// one answer General Failure with a message that names no internal path.
func TestStoreFaultsAnswerGeneralFailure(t *testing.T) {
	t.Parallel()
	for _, sentinel := range []error{ports.ErrStoreLost, ports.ErrNoSpace} {
		err := fmt.Errorf("sqlite store /var/lib/kmipd/kmipd.db: %w: the database file was removed", sentinel)
		s := New(Config{Store: &lostStore{newMemStore(), err}, Crypto: fakeCrypto{}})
		resp, rs := send(t, s, alice, msg(v14, aesCreate14(128, "k")))
		mustFail(t, rs[0], kmip.ResultReasonGeneralFailure)
		m, _ := resp.Path(kmip.TagBatchItem, kmip.TagResultMessage).AsText()
		if !strings.Contains(m, "nothing was written") || strings.Contains(m, "/var/lib") {
			t.Errorf("%v: Result Message %q, want one saying nothing was written and naming no path", sentinel, m)
		}
	}
}
