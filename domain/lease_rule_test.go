package domain

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Lease Time (KMIP 1.4 §3.20): set and modified by the server only, on
// Managed Cryptographic Objects.
func TestLeaseTimeRule(t *testing.T) {
	r, ok := AttrRuleFor("Lease Time")
	if !ok {
		t.Fatal("no rule")
	}
	if r.ClientSets || r.ClientModifies || r.ClientDeletes || r.Multi {
		t.Fatalf("client may touch Lease Time: %+v", r)
	}
	for _, ot := range []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePublicKey, kmip.ObjectTypePrivateKey,
		kmip.ObjectTypeSplitKey, kmip.ObjectTypeCertificate, kmip.ObjectTypeSecretData, kmip.ObjectTypePGPKey,
		kmip.ObjectTypeTemplate, kmip.ObjectTypeOpaqueObject} {
		if got, want := r.AppliesToType(uint32(ot)), HasLifecycle(uint32(ot)); got != want {
			t.Errorf("%s: applies %v, want %v", ot, got, want)
		}
	}
}
