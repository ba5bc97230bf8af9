package app

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

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

// TestQueryCapabilities checks the server-describing Query functions
// (KMIP 1.4 §4.25, KMIP 2.1 §6.1.40).
func TestQueryCapabilities(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	q := func(v version, fs ...kmip.QueryFunction) *kmip.Item {
		var items []*kmip.Item
		for _, f := range fs {
			items = append(items, kmip.Enum(kmip.TagQueryFunction, uint32(f)))
		}
		return mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery, items...)))
	}
	p := q(v14, kmip.QueryFunctionQueryCapabilities)
	ci := p.Child(kmip.TagCapabilityInformation)
	for tag, want := range map[kmip.Tag]bool{kmip.TagStreamingCapability: true, kmip.TagAsynchronousCapability: true,
		kmip.TagAttestationCapability: false, kmip.TagBatchUndoCapability: true, kmip.TagBatchContinueCapability: true} {
		if got, ok := ci.Child(tag).AsBool(); !ok || got != want {
			t.Errorf("%s = %v, want %v", tag, got, want)
		}
	}
	p = q(v14, kmip.QueryFunctionQueryRNGs)
	if a, _ := p.Path(kmip.TagRNGParameters, kmip.TagRNGAlgorithm).AsEnum(); a != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Errorf("RNG Algorithm %d", a)
	}
	p = q(v14, kmip.QueryFunctionQueryProfiles)
	if n := len(p.ChildrenOf(kmip.TagProfileInformation)); n == 0 {
		t.Error("no profiles for 1.4")
	}
	for _, pi := range p.ChildrenOf(kmip.TagProfileInformation) {
		if pi.Child(kmip.TagProfileVersion) != nil {
			t.Error("Profile Version sent to a KMIP 1.4 client")
		}
	}
	p = q(v21, kmip.QueryFunctionQueryProfiles)
	for _, pi := range p.ChildrenOf(kmip.TagProfileInformation) {
		if maj, _ := pi.Path(kmip.TagProfileVersion, kmip.TagProfileVersionMajor).AsInt(); maj != 2 {
			t.Error("2.1 profile without Profile Version 2.x")
		}
	}
	p = q(v21, kmip.QueryFunctionQueryStorageProtectionMasks)
	if m, _ := p.Path(kmip.TagProtectionStorageMasks, kmip.TagProtectionStorageMask).AsInt(); m != int32(kmip.ProtectionStorageMaskSoftware) {
		t.Errorf("Protection Storage Mask %d", m)
	}
	// Nothing to list, and functions newer than the request's version, give an empty payload.
	p = q(v21, kmip.QueryFunctionQueryApplicationNamespaces, kmip.QueryFunctionQueryExtensionList, kmip.QueryFunctionQueryExtensionMap,
		kmip.QueryFunctionQueryAttestationTypes, kmip.QueryFunctionQueryValidations, kmip.QueryFunctionQueryClientRegistrationMethods,
		kmip.QueryFunctionQueryDefaultsInformation)
	if n := len(p.Children()); n != 0 {
		t.Errorf("%d items for functions kmipd has nothing to list for", n)
	}
	if n := len(q(version{1, 2}, kmip.QueryFunctionQueryCapabilities).Children()); n != 0 {
		t.Errorf("KMIP 1.2 client got %d items for Query Capabilities (new in 1.3)", n)
	}
	ops := map[uint32]bool{}
	for _, o := range q(v14, kmip.QueryFunctionQueryOperations).ChildrenOf(kmip.TagOperation) {
		v, _ := o.AsEnum()
		ops[v] = true
	}
	for _, op := range []kmip.Operation{kmip.OperationReKey, kmip.OperationCheck, kmip.OperationArchive, kmip.OperationRecover,
		kmip.OperationObtainLease, kmip.OperationGetUsageAllocation, kmip.OperationPoll, kmip.OperationCancel} {
		if !ops[uint32(op)] {
			t.Errorf("Query Operations misses %s", op)
		}
	}
}

// TestClaimedProfilesHaveEvidence: every profile Query reports has all its
// OASIS test cases in test/conformance/expected-pass.txt, which CI enforces.
func TestClaimedProfilesHaveEvidence(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../test/conformance/expected-pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	passing := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		passing[strings.TrimSpace(sc.Text())] = true
	}
	for _, p := range claimedProfiles {
		if len(p.cases) == 0 {
			t.Errorf("profile %s is claimed without test cases", p.name)
		}
		for _, c := range p.cases {
			if !passing[c] {
				t.Errorf("profile %s is claimed but its case %s is not in expected-pass.txt", p.name, c)
			}
		}
	}
}

// Query lists the cryptographic operations from the route table.
func TestQueryListsCryptoOperations(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))))
	have := map[uint32]bool{}
	for _, op := range out.ChildrenOf(kmip.TagOperation) {
		v, _ := op.AsEnum()
		have[v] = true
	}
	for _, op := range []kmip.Operation{kmip.OperationCreateKeyPair, kmip.OperationReKeyKeyPair, kmip.OperationDeriveKey,
		kmip.OperationEncrypt, kmip.OperationDecrypt, kmip.OperationSign, kmip.OperationSignatureVerify, kmip.OperationMAC,
		kmip.OperationMACVerify, kmip.OperationRNGRetrieve, kmip.OperationRNGSeed, kmip.OperationHash} {
		if !have[uint32(op)] {
			t.Errorf("Query does not list %s", op)
		}
	}
}

// Query RNGs lists every generator the engine names; keys still report the
// key generator.
func TestQueryRNGsListsEngineGenerators(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: listingCrypto{}})
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryRNGs)))))
	rs := p.ChildrenOf(kmip.TagRNGParameters)
	if len(rs) != 2 {
		t.Fatalf("%d RNG Parameters, want 2", len(rs))
	}
	if a, _ := rs[0].Child(kmip.TagRNGAlgorithm).AsEnum(); a != uint32(kmip.RNGAlgorithmANSIX9_31) {
		t.Errorf("first RNG %d, want ANSI X9.31", a)
	}
	if a, _ := rs[1].Child(kmip.TagRNGAlgorithm).AsEnum(); a != uint32(kmip.RNGAlgorithmUnspecified) || len(rs[1].Children()) != 1 {
		t.Errorf("second RNG %v, want Unspecified alone", rs[1])
	}
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	if got := attrs21(t, s, id)[kmip.TagRandomNumberGenerator]; len(got) != 1 || !got[0].Equal(x931Want) {
		t.Fatalf("RNG %v, want %v", got, x931Want)
	}
}
