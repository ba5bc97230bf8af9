package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// The operation table's since versions are the ones the KMIP registry gives
// the Operation enumeration, so Query lists an operation exactly in the
// versions that define it.
func TestOperationTableSinceMatchesRegistry(t *testing.T) {
	t.Parallel()
	for op := range operations {
		for _, v := range supportedVersions {
			if got, want := opIn(op, v), enumIn(kmip.TagOperation, uint32(op), v); got != want {
				t.Errorf("%s in %s: table says %v, registry %v", op, v, got, want)
			}
		}
	}
}

// Each KMIP 2.x Unique Identifier enumeration value names one operation's
// identifier (KMIP 2.1 §11.58), and that operation sets the ID Placeholder.
func TestOperationTableUIDEnums(t *testing.T) {
	t.Parallel()
	seen := map[kmip.UniqueIdentifier]kmip.Operation{}
	for op, spec := range operations {
		if spec.uidEnum == 0 {
			continue
		}
		if other, dup := seen[spec.uidEnum]; dup {
			t.Errorf("%s and %s both claim Unique Identifier %s", op, other, spec.uidEnum)
		}
		seen[spec.uidEnum] = op
		if spec.placeholder == keepsPlaceholder {
			t.Errorf("%s names a Unique Identifier enumeration but keeps the ID Placeholder", op)
		}
		if got, _ := uidEnumOp(spec.uidEnum); got != op {
			t.Errorf("Unique Identifier %s resolves to %s, want %s", spec.uidEnum, got, op)
		}
	}
}
