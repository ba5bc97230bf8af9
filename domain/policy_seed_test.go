package domain

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// seedDefaultTable is the "default" policy table of pykmip-server
// ("Reserved Operation Policies"), copied verbatim.
const seedDefaultTable = `
Certificate    Locate                Allow All
Certificate    Check                 Allow All
Certificate    Get                   Allow All
Certificate    Get Attributes        Allow All
Certificate    Get Attribute List    Allow All
Certificate    Add Attribute         Allow Owner
Certificate    Modify Attribute      Allow Owner
Certificate    Delete Attribute      Allow Owner
Certificate    Obtain Lease          Allow All
Certificate    Activate              Allow Owner
Certificate    Revoke                Allow Owner
Certificate    Destroy               Allow Owner
Certificate    Archive               Allow Owner
Certificate    Recover               Allow Owner
Symmetric Key  Rekey                 Allow Owner
Symmetric Key  Rekey Key Pair        Allow Owner
Symmetric Key  Derive Key            Allow Owner
Symmetric Key  Locate                Allow Owner
Symmetric Key  Check                 Allow Owner
Symmetric Key  Get                   Allow Owner
Symmetric Key  Get Attributes        Allow Owner
Symmetric Key  Get Attribute List    Allow Owner
Symmetric Key  Add Attribute         Allow Owner
Symmetric Key  Modify Attribute      Allow Owner
Symmetric Key  Delete Attribute      Allow Owner
Symmetric Key  Obtain Lease          Allow Owner
Symmetric Key  Get Usage Allocation  Allow Owner
Symmetric Key  Activate              Allow Owner
Symmetric Key  Revoke                Allow Owner
Symmetric Key  Destroy               Allow Owner
Symmetric Key  Archive               Allow Owner
Symmetric Key  Recover               Allow Owner
Public Key        Locate                Allow All
Public Key     Check                 Allow All
Public Key     Get                   Allow All
Public Key        Get Attributes        Allow All
Public Key     Get Attribute List    Allow All
Public Key     Add Attribute         Allow Owner
Public Key     Modify Attribute      Allow Owner
Public Key     Delete Attribute      Allow Owner
Public Key     Obtain Lease          Allow All
Public Key     Activate              Allow Owner
Public Key     Revoke                Allow Owner
Public Key     Destroy               Allow Owner
Public Key     Archive               Allow Owner
Public Key     Recover               Allow Owner
Private Key    Rekey                 Allow Owner
Private Key    Rekey Key Pair        Allow Owner
Private Key    Derive Key            Allow Owner
Private Key    Locate                Allow Owner
Private Key    Check                 Allow Owner
Private Key    Get                   Allow Owner
Private Key    Get Attributes        Allow Owner
Private Key    Get Attribute List    Allow Owner
Private Key    Add Attribute         Allow Owner
Private Key    Modify Attribute      Allow Owner
Private Key    Delete Attribute      Allow Owner
Private Key    Obtain Lease          Allow Owner
Private Key    Get Usage Allocation  Allow Owner
Private Key    Activate              Allow Owner
Private Key    Revoke                Allow Owner
Private Key    Destroy               Allow Owner
Private Key    Archive               Allow Owner
Private Key    Recover               Allow Owner
Split Key      Rekey                 Allow Owner
Split Key      Rekey Key Pair        Allow Owner
Split Key      Derive Key            Allow Owner
Split Key      Locate                Allow Owner
Split Key      Check                 Allow Owner
Split Key      Get                   Allow Owner
Split Key      Get Attributes        Allow Owner
Split Key      Get Attribute List    Allow Owner
Split Key      Add Attribute         Allow Owner
Split Key      Modify Attribute      Allow Owner
Split Key      Delete Attribute      Allow Owner
Split Key      Obtain Lease          Allow Owner
Split Key      Get Usage Allocation  Allow Owner
Split Key      Activate              Allow Owner
Split Key      Revoke                Allow Owner
Split Key      Destroy               Allow Owner
Split Key      Archive               Allow Owner
Split Key      Recover               Allow Owner
Template       Locate                Allow Owner
Template       Get                   Allow Owner
Template       Get Attributes        Allow Owner
Template       Get Attribute List    Allow Owner
Template       Add Attribute         Allow Owner
Template       Modify Attribute      Allow Owner
Template       Delete Attribute      Allow Owner
Template       Destroy               Allow Owner
Secret Data    Rekey                 Allow Owner
Secret Data    Rekey Key Pair        Allow Owner
Secret Data    Derive Key            Allow Owner
Secret Data    Locate                Allow Owner
Secret Data    Check                 Allow Owner
Secret Data    Get                   Allow Owner
Secret Data    Get Attributes        Allow Owner
Secret Data    Get Attribute List    Allow Owner
Secret Data    Add Attribute         Allow Owner
Secret Data    Modify                Allow Owner
Secret Data    Delete Attribute      Allow Owner
Secret Data    Obtain Lease          Allow Owner
Secret Data    Get Usage Allocation  Allow Owner
Secret Data    Activate              Allow Owner
Secret Data    Revoke                Allow Owner
Secret Data    Destroy               Allow Owner
Secret Data    Archive               Allow Owner
Secret Data    Recover               Allow Owner
Opaque Data    Rekey                 Allow Owner
Opaque Data    Rekey Key Pair        Allow Owner
Opaque Data    Derive Key            Allow Owner
Opaque Data    Locate                Allow Owner
Opaque Data    Check                 Allow Owner
Opaque Data    Get                   Allow Owner
Opaque Data    Get Attributes        Allow Owner
Opaque Data    Get Attribute List    Allow Owner
Opaque Data    Add Attribute         Allow Owner
Opaque Data    Modify Attribute      Allow Owner
Opaque Data    Delete Attribute      Allow Owner
Opaque Data    Obtain Lease          Allow Owner
Opaque Data    Get Usage Allocation  Allow Owner
Opaque Data    Activate              Allow Owner
Opaque Data    Revoke                Allow Owner
Opaque Data    Destroy               Allow Owner
Opaque Data    Archive               Allow Owner
Opaque Data    Recover               Allow Owner
PGP Key        Rekey                 Allow Owner
PGP Key        Rekey Key Pair        Allow Owner
PGP Key        Derive Key            Allow Owner
PGP Key        Locate                Allow Owner
PGP Key        Check                 Allow Owner
PGP Key        Get                   Allow Owner
PGP Key        Get Attributes        Allow Owner
PGP Key        Get Attribute List    Allow Owner
PGP Key        Add Attribute         Allow Owner
PGP Key        Modify Attribute      Allow Owner
PGP Key        Delete Attribute      Allow Owner
PGP Key        Obtain Lease          Allow Owner
PGP Key        Get Usage Allocation  Allow Owner
PGP Key        Activate              Allow Owner
PGP Key        Revoke                Allow Owner
PGP Key        Destroy               Allow Owner
PGP Key        Archive               Allow Owner
PGP Key        Recover               Allow Owner
`

// seedPublicTable is the "public" policy table, copied verbatim.
const seedPublicTable = `
Template     Locate              Allow All
Template     Get                 Allow All
Template     Get Attributes      Allow All
Template     Get Attribute List  Allow All
Template     Add Attribute       Disallow All
Template     Modify Attribute    Disallow All
Template     Delete Attribute    Disallow All
Template     Destroy             Disallow All
`

// seedObjectTypes and seedOperations map the seed's spellings to enumerations.
var seedObjectTypes = map[string]kmip.ObjectType{
	"Certificate": kmip.ObjectTypeCertificate, "Symmetric Key": kmip.ObjectTypeSymmetricKey,
	"Public Key": kmip.ObjectTypePublicKey, "Private Key": kmip.ObjectTypePrivateKey,
	"Split Key": kmip.ObjectTypeSplitKey, "Template": kmip.ObjectTypeTemplate,
	"Secret Data": kmip.ObjectTypeSecretData, "Opaque Data": kmip.ObjectTypeOpaqueObject,
	"PGP Key": kmip.ObjectTypePGPKey,
}

var seedOperations = map[string]kmip.Operation{
	"Rekey": kmip.OperationReKey, "Rekey Key Pair": kmip.OperationReKeyKeyPair,
	"Derive Key": kmip.OperationDeriveKey, "Locate": kmip.OperationLocate, "Check": kmip.OperationCheck,
	"Get": kmip.OperationGet, "Get Attributes": kmip.OperationGetAttributes,
	"Get Attribute List": kmip.OperationGetAttributeList, "Add Attribute": kmip.OperationAddAttribute,
	"Modify Attribute": kmip.OperationModifyAttribute, "Delete Attribute": kmip.OperationDeleteAttribute,
	"Obtain Lease": kmip.OperationObtainLease, "Get Usage Allocation": kmip.OperationGetUsageAllocation,
	"Activate": kmip.OperationActivate, "Revoke": kmip.OperationRevoke, "Destroy": kmip.OperationDestroy,
	"Archive": kmip.OperationArchive, "Recover": kmip.OperationRecover,
	// The seed's Secret Data row "Modify" is its Modify Attribute row.
	"Modify": kmip.OperationModifyAttribute,
}

var seedPermissions = map[string]Permission{"Allow All": AllowAll, "Allow Owner": AllowOwner, "Disallow All": DisallowAll}

type seedRow struct {
	ot   kmip.ObjectType
	op   kmip.Operation
	perm Permission
}

func parseSeedTable(t *testing.T, table string) []seedRow {
	t.Helper()
	cols := regexp.MustCompile(`\s{2,}`)
	var rows []seedRow
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := cols.Split(strings.TrimSpace(line), -1)
		if len(f) != 3 {
			t.Fatalf("seed row %q: %d columns", line, len(f))
		}
		ot, ok1 := seedObjectTypes[f[0]]
		op, ok2 := seedOperations[f[1]]
		perm, ok3 := seedPermissions[f[2]]
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("seed row %q: unknown name", line)
		}
		rows = append(rows, seedRow{ot, op, perm})
	}
	return rows
}

// checkAgainstSeed verifies that p grants exactly what the seed table says,
// and Disallow All for every pair the table does not list, except the pairs
// extra names (kmipd's documented additions).
func checkAgainstSeed(t *testing.T, p *Policy, rows []seedRow, extra func(ot kmip.ObjectType, op kmip.Operation) (Permission, bool)) {
	t.Helper()
	want := map[[2]uint32]Permission{}
	for _, r := range rows {
		want[[2]uint32{uint32(r.ot), uint32(r.op)}] = r.perm
	}
	alice, bob := Principal{Name: "alice"}, Principal{Name: "bob"}
	for ot := kmip.ObjectType(1); ot <= 0x0A; ot++ {
		for op := kmip.Operation(1); op <= 0x35; op++ {
			w, listed := want[[2]uint32{uint32(ot), uint32(op)}]
			if !listed {
				w = DisallowAll
				if e, ok := extra(ot, op); ok {
					w = e
				}
			}
			if got := p.Permission(alice, uint32(ot), uint32(op)); got != w {
				t.Errorf("%s: %s %s = %s, seed says %s", p.Name, ot, op, got, w)
			}
			// The permission decides: owner always for Allow All and Allow
			// Owner, others only for Allow All, nobody for Disallow All.
			ownerOK := p.Allowed(alice, "alice", uint32(ot), uint32(op)) == nil
			otherOK := p.Allowed(bob, "alice", uint32(ot), uint32(op)) == nil
			if ownerOK != (w != DisallowAll) || otherOK != (w == AllowAll) {
				t.Errorf("%s: %s %s: owner allowed %v, other allowed %v under %s", p.Name, ot, op, ownerOK, otherOK, w)
			}
		}
	}
}

// TestDefaultPolicyIsTheSeedTable checks all 144 rows of the seed's default
// table and that every other pair is Disallow All. kmipd's two additions:
// Set Attribute follows Modify Attribute (as PyKMIP's code does), and KMIP 2.x
// Certificate Request objects are owner-only like the other secret objects.
func TestDefaultPolicyIsTheSeedTable(t *testing.T) {
	rows := parseSeedTable(t, seedDefaultTable)
	if len(rows) != 144 {
		t.Fatalf("seed default table has %d rows, want 144", len(rows))
	}
	p := DefaultPolicy()
	checkAgainstSeed(t, p, rows, func(ot kmip.ObjectType, op kmip.Operation) (Permission, bool) {
		if op == kmip.OperationSetAttribute {
			return p.Permission(Principal{}, uint32(ot), uint32(kmip.OperationModifyAttribute)), true
		}
		if ot == kmip.ObjectTypeCertificateRequest {
			return p.Permission(Principal{}, uint32(kmip.ObjectTypeSymmetricKey), uint32(op)), true
		}
		return 0, false
	})
}

// TestPublicPolicyIsTheSeedTable checks the seed's public table.
func TestPublicPolicyIsTheSeedTable(t *testing.T) {
	rows := parseSeedTable(t, seedPublicTable)
	checkAgainstSeed(t, PublicPolicy(), rows, func(kmip.ObjectType, kmip.Operation) (Permission, bool) { return 0, false })
}

// TestReservedPolicies: "default" and "public" are the two built-in
// policies, returned fresh each time so no caller can alter them.
func TestReservedPolicies(t *testing.T) {
	for _, name := range []string{PolicyDefault, PolicyPublic} {
		p := ReservedPolicy(name)
		if p == nil || p.Name != name || !IsReservedPolicy(name) {
			t.Fatalf("reserved policy %q missing", name)
		}
		p.Preset[uint32(kmip.ObjectTypeTemplate)][uint32(kmip.OperationDestroy)] = AllowAll
		if ReservedPolicy(name).Preset[uint32(kmip.ObjectTypeTemplate)][uint32(kmip.OperationDestroy)] == AllowAll {
			t.Errorf("changing a returned %q policy changed the built-in one", name)
		}
	}
	if ReservedPolicy("example") != nil || IsReservedPolicy("example") || IsReservedPolicy("Default") {
		t.Error("only default and public are reserved (case-sensitive, as in PyKMIP)")
	}
}

// TestSeedAccessControlSentences checks each sentence of the seed's "Access
// Control" and "Policy Files" sections that decides an access.
func TestSeedAccessControlSentences(t *testing.T) {
	cert, sym := uint32(kmip.ObjectTypeCertificate), uint32(kmip.ObjectTypeSymmetricKey)
	get, destroy, locate := uint32(kmip.OperationGet), uint32(kmip.OperationDestroy), uint32(kmip.OperationLocate)
	example := &Policy{Name: "example",
		Preset: Rules{cert: {locate: AllowAll, get: AllowOwner, destroy: DisallowAll}},
		Groups: map[string]Rules{
			"group_A": {cert: {get: AllowAll, destroy: AllowAll}},
			"group_B": {cert: {get: AllowAll, destroy: DisallowAll}},
		}}
	presetOnly := &Policy{Name: "p", Preset: example.Preset}
	groupsOnly := &Policy{Name: "g", Groups: example.Groups}
	noGroupInfo := Principal{Name: "carol"}
	inA := Principal{Name: "carol", Groups: []string{"group_A"}, HasGroupInfo: true}
	inB := Principal{Name: "carol", Groups: []string{"group_B"}, HasGroupInfo: true}
	inBoth := Principal{Name: "carol", Groups: []string{"group_B", "group_A"}, HasGroupInfo: true}
	inNone := Principal{Name: "carol", Groups: []string{"group_C"}, HasGroupInfo: true}
	emptyGroups := Principal{Name: "carol", Groups: nil, HasGroupInfo: true}
	cases := []struct {
		sentence string
		p        *Policy
		who      Principal
		owner    string
		ot, op   uint32
		allowed  bool
	}{
		{"Allow All: any authenticated client, any object of the type", example, noGroupInfo, "alice", cert, locate, true},
		{"Allow Owner: only the client identified as the owner", example, noGroupInfo, "alice", cert, get, false},
		{"Allow Owner: the owner is allowed", example, noGroupInfo, "carol", cert, get, true},
		{"Disallow All: blocks any client, the owner too", example, noGroupInfo, "carol", cert, destroy, false},
		{"a type the policy does not cover is Disallow All", example, noGroupInfo, "carol", sym, get, false},
		{"an operation the policy does not cover is Disallow All", example, noGroupInfo, "carol", cert, uint32(kmip.OperationRevoke), false},
		{"group_A may retrieve certificates", example, inA, "alice", cert, get, true},
		{"group_A may destroy certificates", example, inA, "alice", cert, destroy, true},
		{"group_B may retrieve certificates", example, inB, "alice", cert, get, true},
		{"group_B may not destroy certificates", example, inB, "alice", cert, destroy, false},
		{"both groups: the most permissive permissions", example, inBoth, "alice", cert, destroy, true},
		{"groups are enforced when group info exists, not preset (Locate is only in preset)", example, inA, "alice", cert, locate, false},
		{"group info naming no group of the policy: Disallow All", example, inNone, "carol", cert, get, false},
		{"group info with no groups: Disallow All under a groups policy", example, emptyGroups, "carol", cert, get, false},
		{"no group info: preset enforced", example, noGroupInfo, "alice", cert, locate, true},
		{"group info but only preset defined: preset enforced", presetOnly, inA, "alice", cert, locate, true},
		{"group info but only preset defined: preset Allow Owner", presetOnly, inA, "carol", cert, get, true},
		{"group info (empty) but only preset defined: preset enforced", presetOnly, emptyGroups, "alice", cert, locate, true},
		{"no group info but only groups defined: Disallow All", groupsOnly, noGroupInfo, "carol", cert, get, false},
		{"no group info but only groups defined: Disallow All, even Allow All rules", groupsOnly, noGroupInfo, "carol", cert, destroy, false},
		{"an empty policy allows nothing", &Policy{Name: "empty"}, inA, "carol", cert, get, false},
		{"a missing policy allows nothing", nil, inA, "carol", cert, get, false},
		{"a client without identity is never the owner", presetOnly, Principal{}, "", cert, get, false},
		{"Allow All does not need an identity match", presetOnly, Principal{Name: "x"}, "y", cert, locate, true},
	}
	for _, c := range cases {
		err := c.p.Allowed(c.who, c.owner, c.ot, c.op)
		if (err == nil) != c.allowed {
			t.Errorf("%s: allowed=%v, want %v", c.sentence, err == nil, c.allowed)
		}
	}
	// The Permission values read back as the policy-file spellings.
	for perm, s := range map[Permission]string{AllowAll: "ALLOW_ALL", AllowOwner: "ALLOW_OWNER", DisallowAll: "DISALLOW_ALL"} {
		if perm.String() != s {
			t.Errorf("%d.String() = %q", perm, perm.String())
		}
	}
}
