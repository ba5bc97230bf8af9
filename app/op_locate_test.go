package app

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// countingStore counts the objects Locate loads.
type countingStore struct {
	ports.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, id string) (*domain.Object, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, id)
}

// testPolicies holds the reserved policies and "shared", which lets anyone
// Locate and Get symmetric keys.
type testPolicies struct{}

func (testPolicies) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	if name == "shared" {
		return &domain.Policy{Name: "shared", Preset: domain.Rules{
			uint32(kmip.ObjectTypeSymmetricKey): {uint32(kmip.OperationLocate): domain.AllowAll},
			uint32(kmip.ObjectTypeSecretData):   {uint32(kmip.OperationLocate): domain.AllowOwner},
		}}, true
	}
	p := domain.ReservedPolicy(name)
	return p, p != nil
}

// listedPolicies is testPolicies with the listing capability.
type listedPolicies struct{ testPolicies }

func (listedPolicies) Names() []string { return []string{"shared"} }

// locateWorld stores objects of several owners and policies directly.
func locateWorld(t *testing.T, policies ports.PolicySource) (*Service, *countingStore) {
	t.Helper()
	store := &countingStore{Store: newMemStore()}
	s := New(Config{Store: store, Crypto: fakeCrypto{}, Policies: policies,
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
	add := func(id, owner, policy string, typ kmip.ObjectType, st domain.State, fn func(o *domain.Object)) {
		o := &domain.Object{ID: id, Type: uint32(typ), State: st, Owner: owner, Policy: policy,
			InitialDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		o.AddAttrOf(kmip.TagName, nameItem("k"))
		if fn != nil {
			fn(o)
		}
		if err := store.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	sym, secret := kmip.ObjectTypeSymmetricKey, kmip.ObjectTypeSecretData
	usage := func(m kmip.CryptographicUsageMask) func(*domain.Object) {
		return func(o *domain.Object) {
			o.SetAttrOf(kmip.TagCryptographicUsageMask, kmip.Int(kmip.TagCryptographicUsageMask, int32(m)))
		}
	}
	add("a1", "alice", "default", sym, domain.Active, usage(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))
	add("a2", "alice", "default", sym, domain.PreActive, usage(kmip.CryptographicUsageMaskEncrypt))
	add("a3", "alice", "shared", sym, domain.Active, func(o *domain.Object) {
		o.AddAttrOf(kmip.TagObjectGroup, kmip.Text(kmip.TagObjectGroup, "g"))
		o.SetAttrOf(kmip.TagFresh, kmip.Bool(kmip.TagFresh, false))
	})
	add("a4", "alice", "shared", secret, domain.Active, func(o *domain.Object) {
		o.AddAttrOf(kmip.TagObjectGroup, kmip.Text(kmip.TagObjectGroup, "g"))
		o.SetAttrOf(kmip.TagFresh, kmip.Bool(kmip.TagFresh, true))
	})
	add("a5", "alice", "default", sym, domain.Destroyed, nil)
	add("a6", "alice", "unknown-policy", sym, domain.Active, nil)
	add("b1", "bob", "default", sym, domain.Active, func(o *domain.Object) {
		o.SetAttrOf(kmip.TagUsageLimits, kmip.Struct(kmip.TagUsageLimits,
			kmip.Long(kmip.TagUsageLimitsTotal, 100), kmip.Long(kmip.TagUsageLimitsCount, 50),
			kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject))))
	})
	add("b2", "bob", "shared", secret, domain.Compromised, nil)
	add("b3", "bob", "default", sym, domain.Compromised, nil)
	return s, store
}

// locateIDs sends a KMIP 2.1 Locate and returns Located Items and the identifiers.
func locateAs(t *testing.T, s *Service, who domain.Principal, fields ...*kmip.Item) (int, []string) {
	t.Helper()
	var attrs []*kmip.Item
	var rest []*kmip.Item
	for _, f := range fields {
		switch f.Tag {
		case kmip.TagMaximumItems, kmip.TagOffsetItems, kmip.TagStorageStatusMask, kmip.TagObjectGroupMember:
			rest = append(rest, f)
		default:
			attrs = append(attrs, f)
		}
	}
	payload := append(rest, kmip.Struct(kmip.TagAttributes, attrs...))
	out := mustOK(t, sendOne(t, s, who, v21, batchItem(kmip.OperationLocate, payload...)))
	n, _ := out.Child(kmip.TagLocatedItems).AsInt()
	var ids []string
	for _, it := range out.ChildrenOf(kmip.TagUniqueIdentifier) {
		id, _ := it.AsText()
		ids = append(ids, id)
	}
	return int(n), ids
}

func TestLocateCriteria(t *testing.T) {
	t.Parallel()
	for _, listed := range []bool{true, false} {
		t.Run(fmt.Sprintf("listed=%v", listed), func(t *testing.T) {
			var policies ports.PolicySource = testPolicies{}
			if listed {
				policies = listedPolicies{}
			}
			s, _ := locateWorld(t, policies)
			online := kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskOnLineStorage))
			both := kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskOnLineStorage|kmip.StorageStatusMaskDestroyedStorage))
			destroyed := kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskDestroyedStorage))
			group := kmip.Text(kmip.TagObjectGroup, "g")
			cases := []struct {
				name   string
				who    domain.Principal
				fields []*kmip.Item
				n      int
				want   []string
			}{
				{"alice all", alice, nil, 4, []string{"a4", "a3", "a2", "a1"}},
				{"alice by name", alice, []*kmip.Item{nameItem("k")}, 4, []string{"a4", "a3", "a2", "a1"}},
				{"bob sees shared keys of others", bob, []*kmip.Item{nameItem("k")}, 4, []string{"b3", "b2", "b1", "a3"}},
				{"bob explicit on-line", bob, []*kmip.Item{online}, 4, []string{"b3", "b2", "b1", "a3"}},
				{"alice destroyed too", alice, []*kmip.Item{both}, 5, []string{"a5", "a4", "a3", "a2", "a1"}},
				{"alice destroyed only", alice, []*kmip.Item{destroyed}, 1, []string{"a5"}},
				{"nobody", domain.Principal{}, nil, 1, []string{"a3"}},
				{"offset and maximum", alice, []*kmip.Item{kmip.Int(kmip.TagOffsetItems, 1), kmip.Int(kmip.TagMaximumItems, 2)}, 4, []string{"a3", "a2"}},
				{"offset past the end", alice, []*kmip.Item{kmip.Int(kmip.TagOffsetItems, 9)}, 4, nil},
				{"maximum zero", alice, []*kmip.Item{kmip.Int(kmip.TagMaximumItems, 0)}, 4, nil},
				{"usage mask bits", alice, []*kmip.Item{kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt))}, 2, []string{"a2", "a1"}},
				{"usage mask all bits", alice, []*kmip.Item{kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))}, 1, []string{"a1"}},
				{"state active", alice, []*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StateActive))}, 3, []string{"a4", "a3", "a1"}},
				{"state pre-active", alice, []*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StatePreActive))}, 1, []string{"a2"}},
				{"state compromised", bob, []*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StateCompromised))}, 2, []string{"b3", "b2"}},
				{"group", alice, []*kmip.Item{group}, 2, []string{"a4", "a3"}},
				{"group fresh", alice, []*kmip.Item{group, kmip.Enum(kmip.TagObjectGroupMember, uint32(kmip.ObjectGroupMemberGroupMemberFresh))}, 1, []string{"a4"}},
				{"group default", alice, []*kmip.Item{group, kmip.Enum(kmip.TagObjectGroupMember, uint32(kmip.ObjectGroupMemberGroupMemberDefault))}, 2, []string{"a4"}},
				{"usage limits at least", bob, []*kmip.Item{kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, 100), kmip.Long(kmip.TagUsageLimitsCount, 10))}, 1, []string{"b1"}},
				{"usage limits more", bob, []*kmip.Item{kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, 101))}, 0, nil},
				{"unique identifier of another's", bob, []*kmip.Item{kmip.Text(kmip.TagUniqueIdentifier, "a1")}, 0, nil},
				{"unique identifier shared", bob, []*kmip.Item{kmip.Text(kmip.TagUniqueIdentifier, "a3")}, 1, []string{"a3"}},
			}
			for _, tc := range cases {
				n, ids := locateAs(t, s, tc.who, tc.fields...)
				if n != tc.n || !slices.Equal(ids, tc.want) {
					t.Errorf("%s: Located Items %d, %q; want %d, %q", tc.name, n, ids, tc.n, tc.want)
				}
			}
		})
	}
}

// TestLocateLoadsNoCandidate checks that access, storage status, name and
// group filters are answered by the store's index: Locate loads no object
// when the policy source can list its policies.
func TestLocateLoadsNoCandidate(t *testing.T) {
	t.Parallel()
	s, store := locateWorld(t, listedPolicies{})
	for _, who := range []domain.Principal{alice, bob, {Name: "carol"}} {
		locateAs(t, s, who, nameItem("k"))
		locateAs(t, s, who, nameItem("k"),
			kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskOnLineStorage|kmip.StorageStatusMaskDestroyedStorage)))
		locateAs(t, s, who, kmip.Text(kmip.TagObjectGroup, "g"), kmip.Int(kmip.TagMaximumItems, 1))
	}
	if n := store.gets.Load(); n != 0 {
		t.Errorf("Locate loaded %d objects, want none", n)
	}
}

// TestLocateChecksUnindexedTermsOnCandidates: stores do not index usage-mask
// bits, algorithms, flags or the like (domain.Indexed), so Locate checks
// them on the candidates the indexed filters select, and loads no other
// object: here the two members of group g that alice may locate.
func TestLocateChecksUnindexedTermsOnCandidates(t *testing.T) {
	s, store := locateWorld(t, listedPolicies{})
	group := kmip.Text(kmip.TagObjectGroup, "g")
	fresh := kmip.Enum(kmip.TagObjectGroupMember, uint32(kmip.ObjectGroupMemberGroupMemberFresh))
	for _, tc := range []struct {
		name   string
		fields []*kmip.Item
		want   []string
	}{
		{"group fresh", []*kmip.Item{group, fresh}, []string{"a4"}},
		{"group and not fresh", []*kmip.Item{group, kmip.Bool(kmip.TagFresh, false)}, []string{"a3"}},
		{"group and usage mask", []*kmip.Item{group, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt))}, nil},
		{"group and object type", []*kmip.Item{group, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData))}, []string{"a4"}},
	} {
		before := store.gets.Load()
		n, ids := locateAs(t, s, alice, tc.fields...)
		if n != len(tc.want) || !slices.Equal(ids, tc.want) {
			t.Errorf("%s: Located Items %d, %q; want %q", tc.name, n, ids, tc.want)
		}
		if loaded := store.gets.Load() - before; loaded > 2 {
			t.Errorf("%s: Locate loaded %d objects, want at most the group's 2", tc.name, loaded)
		}
	}
}

// TestLocateByCustomAndVendorAttributes finds objects by a KMIP 1.x custom
// attribute and by a KMIP 2.x Vendor Attribute, through the service.
func TestLocateByCustomAndVendorAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	create := aesCreate14(128, "")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(attribute1x("x-dept", kmip.Text(0, "payments")))
	id := createdID(t, sendOne(t, s, alice, v14, create))
	createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("x-dept", kmip.Text(0, "payments")))))
	if ids := out.ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 1 || ids[0].Value != id {
		t.Errorf("Locate by x-dept = %v, want %s", ids, id)
	}
	vendor := func(v string) *kmip.Item {
		return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "x"),
			kmip.Text(kmip.TagAttributeName, "dept"), kmip.Text(kmip.TagAttributeValue, v))
	}
	out = mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes, vendor("payments")))))
	if ids := out.ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 1 || ids[0].Value != id {
		t.Errorf("Locate by Vendor Attribute x/dept = %v, want %s", ids, id)
	}
	if n, _ := out.Child(kmip.TagLocatedItems).AsInt(); n != 1 {
		t.Errorf("Located Items %d, want 1", n)
	}
	out = mustOK(t, sendOne(t, s, bob, v21, batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes, vendor("payments")))))
	if ids := out.ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 0 {
		t.Errorf("bob located alice's key: %v", ids)
	}
}

// TestLocateEffectiveStateAndArchive checks that a State filter sees the
// state the object's dates give it, and that archived objects are found
// only in Archival Storage (KMIP 1.4 §4.9, §3.22).
func TestLocateEffectiveStateAndArchive(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s := New(Config{Store: store, Crypto: fakeCrypto{}, Policies: listedPolicies{}, Clock: fixedClock{now}})
	add := func(id string, st domain.State, fn func(o *domain.Object)) {
		o := &domain.Object{ID: id, Type: uint32(kmip.ObjectTypeSymmetricKey), State: st, Owner: "alice", Policy: "default"}
		fn(o)
		if err := store.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	add("due", domain.PreActive, func(o *domain.Object) {
		o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, now.Add(-time.Hour)))
	})
	add("later", domain.PreActive, func(o *domain.Object) {
		o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, now.Add(time.Hour)))
	})
	add("over", domain.Active, func(o *domain.Object) {
		o.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, now.Add(-time.Hour)))
	})
	add("kept", domain.Active, func(o *domain.Object) {
		o.SetAttrOf(kmip.TagArchiveDate, kmip.DateTime(kmip.TagArchiveDate, now.Add(-time.Hour)))
	})
	archival := kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskArchivalStorage))
	for _, tc := range []struct {
		fields []*kmip.Item
		want   []string
	}{
		{[]*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StateActive))}, []string{"due"}},
		{[]*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StatePreActive))}, []string{"later"}},
		{[]*kmip.Item{kmip.Enum(kmip.TagState, uint32(kmip.StateDeactivated))}, []string{"over"}},
		{nil, []string{"over", "later", "due"}}, // newest first
		{[]*kmip.Item{archival}, []string{"kept"}},
		{[]*kmip.Item{archival, kmip.Enum(kmip.TagState, uint32(kmip.StateActive))}, []string{"kept"}},
	} {
		if _, ids := locateAs(t, s, alice, tc.fields...); !slices.Equal(ids, tc.want) {
			t.Errorf("Locate(%v) = %q, want %q", tc.fields, ids, tc.want)
		}
	}
}

func TestLocateByUniqueIdentifier(t *testing.T) {
	t.Parallel()
	s := newService(t)
	// Names are unique (KMIP 1.4 §3.2): the two keys share an Object Group.
	u := attribute1x("Object Group", kmip.Text(0, "u"))
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("u", u)))
	createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", u.Clone())))
	find := func(items ...*kmip.Item) int {
		return len(mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, items...))).ChildrenOf(kmip.TagUniqueIdentifier))
	}
	if n := find(attribute1x("Unique Identifier", kmip.Text(0, id))); n != 1 {
		t.Errorf("by id: %d", n)
	}
	if n := find(attribute1x("Unique Identifier", kmip.Text(0, id)), attribute1x("Name", nameItem("other"))); n != 0 {
		t.Errorf("by id and a name it lacks: %d", n)
	}
	if n := find(attribute1x("Unique Identifier", kmip.Text(0, "nope"))); n != 0 {
		t.Errorf("by unknown id: %d", n)
	}
	// Destroyed objects are not on-line: Locate finds them only when asked.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	if n := find(attribute1x("Unique Identifier", kmip.Text(0, id))); n != 0 {
		t.Errorf("destroyed object located by default")
	}
	if n := find(u.Clone()); n != 1 {
		t.Errorf("by group after destroying one of two: %d", n)
	}
	if n := find(attribute1x("Unique Identifier", kmip.Text(0, id)), kmip.Int(kmip.TagStorageStatusMask, int32(kmip.StorageStatusMaskDestroyedStorage))); n != 1 {
		t.Errorf("destroyed object not located with the Destroyed storage mask")
	}
}

// KMIP 1.4 §4.9: a date attribute given twice in Locate is a range, and
// Initial Date is a filter like any other (OASIS BL-M-4-21).
func TestLocateDateRanges(t *testing.T) {
	t.Parallel()
	s := newService(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	reg := func(stop time.Time) string {
		return createdID(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
			kmip.Struct(kmip.TagAttributes, kmip.DateTime(kmip.TagProtectStopDate, stop)),
			kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
				kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
					kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("pw"))))))))
	}
	inside := reg(now.Add(-10 * day))
	reg(now.Add(-40 * day))
	locate := func(filters ...*kmip.Item) []*kmip.Item {
		return mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLocate, kmip.Struct(kmip.TagAttributes, filters...)))).ChildrenOf(kmip.TagUniqueIdentifier)
	}
	ids := locate(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
		kmip.DateTime(kmip.TagProtectStopDate, now.Add(-20*day)), kmip.DateTime(kmip.TagProtectStopDate, now))
	if len(ids) != 1 {
		t.Fatalf("range matched %d objects, want 1", len(ids))
	}
	if id, _ := ids[0].AsText(); id != inside {
		t.Errorf("range matched the wrong object")
	}
	if n := len(locate(kmip.DateTime(kmip.TagInitialDate, now))); n != 2 {
		t.Errorf("Initial Date filter matched %d objects, want 2", n)
	}
	if n := len(locate(kmip.DateTime(kmip.TagInitialDate, now.Add(time.Second)))); n != 0 {
		t.Errorf("Initial Date filter of another second matched %d objects", n)
	}
}

// TestLocateNewestFirstEveryVersion: Locate answers the most recently
// created object first (KMIP 2.1 §6.1.29; the reference server does so at
// every version, and PyKMIP's tests page with Offset/Maximum Items on it),
// Maximum Items and Offset Items counting from the newest, also before 1.3.
func TestLocateNewestFirstEveryVersion(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		s := newService(t)
		var made []string // oldest first
		for i := 0; i < 4; i++ {
			made = append(made, createdID(t, sendOne(t, s, alice, v, aesCreateInGroup(v, "order"))))
		}
		name := kmip.Text(kmip.TagObjectGroup, "order")
		newest := []string{made[3], made[2], made[1], made[0]}
		if got := locateIDsAt(t, s, v, nil, name); !slices.Equal(got, newest) {
			t.Errorf("%s: Locate answered %q, want newest first %q", v, got, newest)
		}
		if got := locateIDsAt(t, s, v, []*kmip.Item{kmip.Int(kmip.TagMaximumItems, 1)}, name); !slices.Equal(got, newest[:1]) {
			t.Errorf("%s: Maximum Items 1 answered %q, want the newest %q", v, got, newest[:1])
		}
		if v.atLeast(1, 3) {
			got := locateIDsAt(t, s, v, []*kmip.Item{kmip.Int(kmip.TagOffsetItems, 1), kmip.Int(kmip.TagMaximumItems, 2)}, name)
			if !slices.Equal(got, newest[1:3]) {
				t.Errorf("%s: Offset 1, Maximum 2 answered %q, want %q", v, got, newest[1:3])
			}
		}
	}
}

// TestLocateByStateAndDatesAfterRevoke: after Revoke, Locate finds the
// revoked keys by their new State (Deactivated for Cessation of Operation,
// Compromised for Key Compromise; KMIP 1.4 §4.20) and by the dates Revoke
// set (Deactivation Date, Compromise Date ranges; §4.9 "inside or at a limit
// of the range"), newest first, at every version.
func TestLocateByStateAndDatesAfterRevoke(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		s, clk := newClockedService(t)
		create := func() string {
			id := createdID(t, sendOne(t, s, alice, v, aesCreateInGroup(v, "fleet")))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(id))))
			return id
		}
		revoke := func(id string, code kmip.RevocationReasonCode) {
			r := kmip.Struct(kmip.TagRevocationReason, kmip.Enum(kmip.TagRevocationReasonCode, uint32(code)))
			var extra []*kmip.Item
			if code == kmip.RevocationReasonCodeKeyCompromise {
				extra = append(extra, kmip.DateTime(kmip.TagCompromiseOccurrenceDate, clk.Now().Add(-time.Hour)))
			}
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRevoke, append([]*kmip.Item{uidItem(id), r}, extra...)...)))
		}
		kept, retired1, retired2, leaked := create(), create(), create(), create()
		clk.advance(time.Hour)
		t1 := clk.Now()
		revoke(retired1, kmip.RevocationReasonCodeCessationOfOperation)
		clk.advance(time.Hour)
		revoke(retired2, kmip.RevocationReasonCodeSuperseded)
		revoke(leaked, kmip.RevocationReasonCodeKeyCompromise)
		t2 := clk.Now()
		state := func(st kmip.State) *kmip.Item { return kmip.Enum(kmip.TagState, uint32(st)) }
		for _, c := range []struct {
			name  string
			attrs []*kmip.Item
			want  []string
		}{
			{"active", []*kmip.Item{state(kmip.StateActive)}, []string{kept}},
			{"deactivated", []*kmip.Item{state(kmip.StateDeactivated)}, []string{retired2, retired1}},
			{"compromised", []*kmip.Item{state(kmip.StateCompromised)}, []string{leaked}},
			{"deactivated at t1", []*kmip.Item{kmip.DateTime(kmip.TagDeactivationDate, t1)}, []string{retired1}},
			{"deactivated t1..t2", []*kmip.Item{kmip.DateTime(kmip.TagDeactivationDate, t1), kmip.DateTime(kmip.TagDeactivationDate, t2)}, []string{retired2, retired1}},
			{"compromised t1..t2", []*kmip.Item{kmip.DateTime(kmip.TagCompromiseDate, t1), kmip.DateTime(kmip.TagCompromiseDate, t2)}, []string{leaked}},
			{"deactivated and in the group", []*kmip.Item{state(kmip.StateDeactivated), kmip.Text(kmip.TagObjectGroup, "fleet")}, []string{retired2, retired1}},
		} {
			if got := locateIDsAt(t, s, v, nil, c.attrs...); !slices.Equal(got, c.want) {
				t.Errorf("%s %s: Locate answered %q, want %q", v, c.name, got, c.want)
			}
		}
	}
}
