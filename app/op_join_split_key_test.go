package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Parts registered with a Split Key Threshold below 1 do not join: a
// Cryptographic Failure, not a server fault (the interpolation would index
// below its parts).
func TestJoinRefusesThresholdBelowOne(t *testing.T) {
	t.Parallel()
	part := func(id int32) *kmip.Item {
		return kmip.Struct(kmip.TagSplitKey,
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagKeyPartIdentifier, id),
			kmip.Int(kmip.TagSplitKeyThreshold, 0),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingGF2_8)),
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte{1, 2, 3, 4}))))
	}
	_, err := join([]*kmip.Item{part(1), part(2)})
	if reason, _, _ := resultFor(err, v14); err == nil || reason != kmip.ResultReasonCryptographicFailure {
		t.Fatalf("join with threshold 0: %v (%v), want Cryptographic Failure", err, reason)
	}
}
