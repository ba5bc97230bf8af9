package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// The cryptographic operations arrived in KMIP 1.2 and Re-key Key Pair in
// 1.1 (KMIP 1.2 §1, 1.1 §1): older clients are answered Operation Not
// Supported, newer ones are served.
func TestOperationsGatedByVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		op    kmip.Operation
		v     version
		known bool
	}{
		{kmip.OperationEncrypt, version{1, 1}, false},
		{kmip.OperationEncrypt, version{1, 2}, true},
		{kmip.OperationHash, version{1, 0}, false},
		{kmip.OperationCreateSplitKey, version{1, 2}, true},
		{kmip.OperationReKeyKeyPair, version{1, 0}, false},
		{kmip.OperationReKeyKeyPair, version{1, 1}, true},
		{kmip.OperationSign, version{2, 0}, true},
		{kmip.OperationGet, version{1, 0}, true},
		{kmip.OperationPing, version{2, 0}, false},
		{kmip.OperationPing, version{2, 1}, true},
	}
	for _, c := range cases {
		if got := opIn(c.op, c.v); got != c.known {
			t.Errorf("%s in %d.%d: got %v, want %v", c.op, c.v.major, c.v.minor, got, c.known)
		}
	}
}
