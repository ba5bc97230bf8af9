package storetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// matchingQuery lists, in ascending order, the identifiers of the objects
// matching q's Terms and Any (After and Limit ignored).
func matchingQuery(objs []*domain.Object, q ports.LocateQuery) []string {
	var ids []string
next:
	for _, o := range objs {
		have := o.IndexTerms()
		for _, want := range q.Terms {
			if !slices.Contains(have, want) {
				continue next
			}
		}
		for _, g := range q.Any {
			if !slices.ContainsFunc(g, func(t domain.IndexTerm) bool { return slices.Contains(have, t) }) {
				continue next
			}
		}
		ids = append(ids, o.ID)
	}
	sort.Strings(ids)
	return ids
}

// checkQuery checks Locate(q) whole and in pages of every size up to a few.
func checkQuery(t *testing.T, s ports.Store, objs []*domain.Object, q ports.LocateQuery) {
	t.Helper()
	want := matchingQuery(objs, q)
	if got := locate(t, s, q); !equalIDs(got, want) {
		t.Errorf("Locate(%+v) = %q, want %q", q, got, want)
		return
	}
	for _, limit := range []int{1, 2, 5} {
		var got []string
		p := q
		p.Limit = limit
		for page := 0; page <= len(want)+1; page++ {
			ids := locate(t, s, p)
			if len(ids) > limit {
				t.Fatalf("Locate(%+v): page of %d", p, len(ids))
			}
			if len(ids) == 0 {
				break
			}
			got = append(got, ids...)
			p.After = ids[len(ids)-1]
		}
		if !equalIDs(got, want) {
			t.Errorf("Locate(%+v) in pages of %d = %q, want %q", q, limit, got, want)
		}
	}
}

func owner(o string) domain.IndexTerm { return domain.IndexTerm{Name: domain.IndexOwner, Key: o} }

// testLocateAny checks groups of alternative terms alone, with terms, with
// each other, empty, repeated, and with terms of several names in a group.
func testLocateAny(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(40)
	createAll(t, s, objs)
	active := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))}
	sym := domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeSymmetricKey))}
	lucky := domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("lucky"))}
	restricted := domain.IndexTerm{Name: domain.IndexPolicy, Key: "restricted"}
	none := domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("nobody"))}
	queries := []ports.LocateQuery{
		{Any: [][]domain.IndexTerm{{owner("alice")}}},
		{Any: [][]domain.IndexTerm{{owner("alice"), owner("bob")}}},
		{Any: [][]domain.IndexTerm{{owner("alice"), lucky}}},
		{Any: [][]domain.IndexTerm{{owner("alice"), restricted, lucky}}},
		{Any: [][]domain.IndexTerm{{owner("alice"), owner("bob")}, {active}}},
		{Any: [][]domain.IndexTerm{{owner("carol"), restricted}, {lucky, sym}}},
		{Terms: []domain.IndexTerm{lucky}, Any: [][]domain.IndexTerm{{owner("alice"), owner("dave")}}},
		{Terms: []domain.IndexTerm{active}, Any: [][]domain.IndexTerm{{owner("alice"), restricted}}},
		{Terms: []domain.IndexTerm{active, sym}, Any: [][]domain.IndexTerm{{owner("bob"), owner("bob")}, {restricted, active}}},
		{Any: [][]domain.IndexTerm{{none}}},
		{Any: [][]domain.IndexTerm{{none, owner("zed")}}},
		{Any: [][]domain.IndexTerm{{owner("alice")}, {none}}},
		{Terms: []domain.IndexTerm{lucky}, Any: [][]domain.IndexTerm{{owner("alice")}, {}}},
		{Any: [][]domain.IndexTerm{{}}},
		{Terms: []domain.IndexTerm{none}, Any: [][]domain.IndexTerm{{owner("alice")}}},
	}
	for _, q := range queries {
		checkQuery(t, s, objs, q)
	}
	// After need not be a stored identifier.
	q := ports.LocateQuery{Any: [][]domain.IndexTerm{{owner("alice"), owner("carol")}}, After: "obj-020a"}
	var want []string
	for _, id := range matchingQuery(objs, q) {
		if id > q.After {
			want = append(want, id)
		}
	}
	if got := locate(t, s, q); !equalIDs(got, want) {
		t.Errorf("Locate(%+v) = %q, want %q", q, got, want)
	}
}

// testLocateAnyWide runs a group of more alternatives than a backend may
// take in one query part (SQLite compounds at most 500 SELECTs).
func testLocateAnyWide(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(30)
	createAll(t, s, objs)
	var g []domain.IndexTerm
	for i := range 700 {
		g = append(g, owner(fmt.Sprintf("user-%d", i)), domain.IndexTerm{Name: fmt.Sprintf("x-attr-%d", i), Key: "t:v"})
	}
	g = append(g, owner("bob"))
	checkQuery(t, s, objs, ports.LocateQuery{Any: [][]domain.IndexTerm{g}})
	checkQuery(t, s, objs, ports.LocateQuery{Any: [][]domain.IndexTerm{{owner("alice"), owner("bob")}, g}})
	checkQuery(t, s, objs, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: "Name", Key: domain.IndexKey(name("lucky"))}},
		Any: [][]domain.IndexTerm{g}})
}

// testDerivedTerms checks that the derived index terms (access, storage
// status, name values) are found and follow updates. Usage-mask bits are
// search terms stores do not index (domain.Indexed): Locate is not asked
// for them.
func testDerivedTerms(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(12)
	for i, o := range objs {
		o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, int32(i)))
	}
	createAll(t, s, objs)
	nameValue := domain.IndexTerm{Name: domain.IndexNameValue, Key: domain.NameValueKey("name-4")}
	online := domain.IndexTerm{Name: domain.IndexStorage, Key: domain.EnumKey(uint32(kmip.StorageStatusMaskOnLineStorage))}
	destroyed := domain.IndexTerm{Name: domain.IndexStorage, Key: domain.EnumKey(uint32(kmip.StorageStatusMaskDestroyedStorage))}
	symAlice := domain.IndexTerm{Name: domain.IndexOwnerAccess,
		Key: domain.OwnerAccessKey("alice", "default", uint32(kmip.ObjectTypeSymmetricKey))}
	restrictedData := domain.IndexTerm{Name: domain.IndexAccess, Key: domain.AccessKey("restricted", uint32(kmip.ObjectTypeSecretData))}
	check := func() {
		t.Helper()
		for _, q := range []ports.LocateQuery{
			{Terms: []domain.IndexTerm{nameValue}},
			{Terms: []domain.IndexTerm{nameValue}, Any: [][]domain.IndexTerm{{online}}},
			{Terms: []domain.IndexTerm{destroyed}},
			{Any: [][]domain.IndexTerm{{symAlice, restrictedData}}},
			{Any: [][]domain.IndexTerm{{symAlice, restrictedData}, {online}}},
		} {
			checkQuery(t, s, objs, q)
		}
	}
	check()
	update := func(id string, fn func(*domain.Object)) { t.Helper(); updateBoth(t, s, objs, id, fn) }
	update("obj-000", func(o *domain.Object) { o.State = domain.Destroyed })
	update("obj-001", func(o *domain.Object) { o.Policy = "restricted" })
	update("obj-003", func(o *domain.Object) { o.Policy = "default" })
	update("obj-004", func(o *domain.Object) { o.DeleteAttr("Name") })
	update("obj-005", func(o *domain.Object) { o.AddAttr("Name", name("name-4")) })
	check()
	if got := locate(t, s, ports.LocateQuery{Terms: []domain.IndexTerm{nameValue}}); !equalIDs(got, []string{"obj-005", "obj-009"}) {
		t.Errorf("name value after update: %q, want obj-005 and obj-009", got)
	}
	if got := locate(t, s, ports.LocateQuery{Terms: []domain.IndexTerm{destroyed}}); !equalIDs(got, []string{"obj-000"}) {
		t.Errorf("destroyed storage after update: %q, want obj-000", got)
	}
}
