package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestQueryShreddingAlgorithm: Query's Capability Information reports
// cryptographic shredding exactly when the store seals key material.
func TestQueryShreddingAlgorithm(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		s := New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, SealedAtRest: sealed,
			Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
		p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationQuery,
			kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryCapabilities)))))
		want := kmip.ShreddingAlgorithmUnspecified
		if sealed {
			want = kmip.ShreddingAlgorithmCryptographic
		}
		got, ok := p.Path(kmip.TagCapabilityInformation, kmip.TagShreddingAlgorithm).AsEnum()
		if !ok || got != uint32(want) {
			t.Errorf("sealed %v: Shredding Algorithm %d, want %d", sealed, got, want)
		}
	}
}
