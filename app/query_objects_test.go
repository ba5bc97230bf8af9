package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Query Objects lists Certificate Request at KMIP 2.x, where Register stores
// one (TestRegisterAndGetEveryObjectType) and Certify and Re-certify read it, and
// not at 1.4, which does not define it (KMIP 2.1 §6.1.40: the object types
// "SHALL list all the object types that the server supports").
func TestQueryObjectsListsCertificateRequest(t *testing.T) {
	s := newService(t)
	for _, tc := range []struct {
		v    version
		want bool
	}{{v21, true}, {v14, false}} {
		p := mustOK(t, one(t, s, alice, tc.v, bi(kmip.OperationQuery,
			kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryObjects)))))
		listed := false
		for _, it := range p.ChildrenOf(kmip.TagObjectType) {
			if ot, _ := it.AsEnum(); kmip.ObjectType(ot) == kmip.ObjectTypeCertificateRequest {
				listed = true
			}
		}
		if listed != tc.want {
			t.Errorf("KMIP %d.%d: Query Objects lists Certificate Request: %v, want %v", tc.v.major, tc.v.minor, listed, tc.want)
		}
	}
}
