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
		p := mustOK(t, sendOne(t, s, alice, tc.v, batchItem(kmip.OperationQuery,
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

// Query Profiles claims the HTTPS, JSON and XML Server profiles exactly when
// kmipd serves KMIP over HTTPS (Config.ServesHTTPS): at 1.4 their KMIP v1.4
// names, at 2.1 the generic names (KMIP 2.1 §6.1.40: the profiles "the
// server supports").
func TestQueryProfilesClaimHTTPSOnlyWhenServed(t *testing.T) {
	names := map[version][]kmip.ProfileName{
		v14: {kmip.ProfileNameHTTPSServerKMIPV1_4, kmip.ProfileNameJSONServerKMIPV1_4, kmip.ProfileNameXMLServerKMIPV1_4},
		v21: {kmip.ProfileNameHTTPSServer, kmip.ProfileNameJSONServer, kmip.ProfileNameXMLServer},
	}
	for _, serves := range []bool{false, true} {
		s := New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, ServesHTTPS: serves})
		for v, want := range names {
			p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery,
				kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryProfiles)))))
			listed := map[kmip.ProfileName]bool{}
			for _, it := range p.ChildrenOf(kmip.TagProfileInformation) {
				n, _ := it.Child(kmip.TagProfileName).AsEnum()
				listed[kmip.ProfileName(n)] = true
			}
			for _, n := range want {
				if listed[n] != serves {
					t.Errorf("ServesHTTPS %v, KMIP %d.%d: profile %s listed %v", serves, v.major, v.minor, n, listed[n])
				}
			}
		}
	}
}
