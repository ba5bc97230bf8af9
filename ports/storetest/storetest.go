// Package storetest is the contract suite every ports.Store adapter must
// pass: an adapter's test calls Exercise with a function that opens its store
// at a path, Faults with one that also takes a ports.Creation, and
// BenchCreate, BenchGet, BenchLocateByName and BenchLocateByNameN for
// benchmarks.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Opener opens the store kept at path, creating it when missing. The suite
// calls it again with the same path after Close to check persistence.
type Opener func(path string) (ports.Store, error)

// Exercise runs the whole contract against stores opened by open, each
// subtest on a fresh path inside t.TempDir().
func Exercise(t *testing.T, open Opener) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"GetMissing", testGetMissing},
		{"CreateExisting", testCreateExisting},
		{"CreateEmptyID", testCreateEmptyID},
		{"Update", testUpdate},
		{"UpdateFnError", testUpdateFnError},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateKeepsID", testUpdateKeepsID},
		{"Delete", testDelete},
		{"DeleteIf", testDeleteIf},
		{"DeleteIfRace", testDeleteIfRace},
		{"UsedIdentifiers", testUsedIdentifiers},
		{"LocateEachTerm", testLocateEachTerm},
		{"LocateConjunctions", testLocateConjunctions},
		{"LocateOddKeys", testLocateOddKeys},
		{"LocateDigestLookalike", testLocateDigestLookalike},
		{"LocateManyTerms", testLocateManyTerms},
		{"LocateAll", testLocateAll},
		{"LocateOrder", testLocateOrder},
		{"LocatePaging", testLocatePaging},
		{"LocateAny", testLocateAny},
		{"LocateAnyWide", testLocateAnyWide},
		{"DerivedTerms", testDerivedTerms},
		{"CreateAll", testCreateAll},
		{"IndexFollowsUpdates", testIndexFollowsUpdates},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Copies", testCopies},
		{"Persistence", testPersistence},
		{"Closed", testClosed},
		{"ContextCanceled", testContextCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openAt opens a store at path and closes it when the test ends.
func openAt(t testing.TB, open Opener, path string) ports.Store {
	t.Helper()
	s, err := open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fresh opens a store at a new path and returns it with that path.
func fresh(t testing.TB, open Opener) (ports.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store")
	return openAt(t, open, path), path
}

// Custom attribute values (KMIP 1.4 §3.41) carry the Attribute Value tag.
func custom(v *kmip.Item) *kmip.Item {
	v.Tag = kmip.TagAttributeValue
	return v
}

func name(v string) *kmip.Item {
	return kmip.Struct(kmip.TagName,
		kmip.Text(kmip.TagNameValue, v),
		kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))
}

// Sample returns a symmetric key object with identifier id whose attributes
// use every KMIP item type, edge values included; adapters' own tests may use
// it as a realistic object.
func Sample(id string) *domain.Object {
	bigNeg, _ := new(big.Int).SetString("-123456789abcdef0123456789abcdef", 16)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	o := &domain.Object{
		ID:          id,
		Type:        uint32(kmip.ObjectTypeSymmetricKey),
		State:       domain.Active,
		Owner:       "alice",
		Policy:      "default",
		InitialDate: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		Payload: kmip.Struct(kmip.TagSymmetricKey,
			kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, key)),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 256))),
		Revision: 0,
	}
	o.SetAttr("Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)))
	o.SetAttr("Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, 256))
	o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, 12))
	o.AddAttr("Name", name("sample-"+id))
	o.AddAttr("Name", name("second name of "+id))
	o.SetAttr("Activation Date", kmip.DateTime(kmip.TagActivationDate, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)))
	o.SetAttr("Fresh", kmip.Bool(kmip.TagFresh, true))
	o.SetAttr("Lease Time", kmip.Interval(kmip.TagLeaseTime, 3600))
	o.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, "ops@example.com"))
	o.AddAttr("Object Group", kmip.Text(kmip.TagObjectGroup, "g1"))
	o.AddAttr("Object Group", kmip.Text(kmip.TagObjectGroup, "g2"))
	o.SetAttr("Cryptographic Parameters", kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, 1)))
	o.SetAttr("x-long", custom(kmip.Long(0, math.MinInt64)))
	o.SetAttr("x-long-max", custom(kmip.Long(0, math.MaxInt64)))
	o.SetAttr("x-int-min", custom(kmip.Int(0, math.MinInt32)))
	o.SetAttr("x-enum-max", custom(kmip.Enum(0, math.MaxUint32)))
	o.SetAttr("x-big", custom(kmip.Big(0, bigNeg)))
	o.SetAttr("x-big-zero", custom(kmip.Big(0, new(big.Int))))
	o.SetAttr("x-false", custom(kmip.Bool(0, false)))
	o.SetAttr("x-text", custom(kmip.Text(0, "a\x00b ünïcødé \"quoted\" \\")))
	o.SetAttr("x-empty-text", custom(kmip.Text(0, "")))
	o.SetAttr("x-bytes", custom(kmip.Bytes(0, []byte{0, 1, 2, 0xfe, 0xff})))
	o.SetAttr("x-empty-bytes", custom(kmip.Bytes(0, []byte{})))
	o.SetAttr("x-ext", custom(kmip.DateTimeExt(0, time.Date(2025, 12, 31, 23, 59, 59, 999999000, time.UTC))))
	o.SetAttr("x-epoch", custom(kmip.DateTime(0, time.Unix(0, 0))))
	o.SetAttr("x-empty-struct", custom(kmip.Struct(0)))
	o.SetAttr("x-nested", custom(kmip.Struct(0,
		kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "deep"),
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Interval(kmip.TagLeaseTime, 0))))))
	o.SetAttr("x-long-text", custom(kmip.Text(0, strings.Repeat("long value ", 100))))
	return o
}

// population returns n varied objects for Locate tests.
func population(n int) []*domain.Object {
	types := []uint32{uint32(kmip.ObjectTypeSymmetricKey), uint32(kmip.ObjectTypeSecretData), uint32(kmip.ObjectTypeOpaqueObject)}
	owners := []string{"alice", "bob", "carol", "dave"}
	objs := make([]*domain.Object, n)
	for i := range objs {
		o := &domain.Object{
			ID:          fmt.Sprintf("obj-%03d", i),
			Type:        types[i%3],
			State:       domain.Active,
			Owner:       owners[i%4],
			Policy:      "default",
			InitialDate: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC),
		}
		if i%2 == 1 {
			o.State = domain.PreActive
		}
		if i%5 == 4 {
			o.Policy = "restricted"
		}
		o.AddAttr("Name", name(fmt.Sprintf("name-%d", i%5)))
		if i%7 == 0 {
			o.AddAttr("Name", name("lucky"))
		}
		if o.Type == uint32(kmip.ObjectTypeSymmetricKey) {
			o.SetAttr("Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)))
			o.SetAttr("Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, int32(128<<(i%2))))
		}
		if i%3 == 0 {
			o.SetAttr("x-flag", custom(kmip.Bool(0, i%2 == 0)))
		}
		if i%4 == 0 {
			o.SetAttr("Activation Date", kmip.DateTime(kmip.TagActivationDate, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
		}
		o.SetAttr("x-serial", custom(kmip.Long(0, int64(i)*1_000_000_007)))
		objs[i] = o
	}
	return objs
}

// createAll stores objs in a shuffled order.
// updateBoth applies fn to the stored object id through s.Update and to
// the matching expected object in objs, so that checks can compare them.
func updateBoth(t testing.TB, s ports.Store, objs []*domain.Object, id string, fn func(*domain.Object)) {
	t.Helper()
	if err := s.Update(context.Background(), id, func(o *domain.Object) error { fn(o); return nil }); err != nil {
		t.Fatalf("Update(%s): %v", id, err)
	}
	for _, o := range objs {
		if o.ID == id {
			fn(o)
		}
	}
}

func createAll(t testing.TB, s ports.Store, objs []*domain.Object) {
	t.Helper()
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(objs))
	for _, i := range order {
		if err := s.Create(context.Background(), objs[i].Clone()); err != nil {
			t.Fatalf("Create(%s): %v", objs[i].ID, err)
		}
	}
}

// matching lists, in ascending order, the identifiers of the objects having every term.
func matching(objs []*domain.Object, terms ...domain.IndexTerm) []string {
	var ids []string
	for _, o := range objs {
		have := o.IndexTerms()
		ok := true
		for _, want := range terms {
			if !slices.Contains(have, want) {
				ok = false
				break
			}
		}
		if ok {
			ids = append(ids, o.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func locate(t testing.TB, s ports.Store, q ports.LocateQuery) []string {
	t.Helper()
	ids, err := s.Locate(context.Background(), q)
	if err != nil {
		t.Fatalf("Locate(%+v): %v", q, err)
	}
	return ids
}

func checkLocate(t testing.TB, s ports.Store, want []string, terms ...domain.IndexTerm) {
	t.Helper()
	got := locate(t, s, ports.LocateQuery{Terms: terms})
	if !equalIDs(got, want) {
		t.Errorf("Locate(%q) = %q, want %q", terms, got, want)
	}
}

func equalIDs(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

func get(t testing.TB, s ports.Store, id string) *domain.Object {
	t.Helper()
	o, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return o
}

func mustCreate(t testing.TB, s ports.Store, o *domain.Object) {
	t.Helper()
	if err := s.Create(context.Background(), o); err != nil {
		t.Fatalf("Create(%s): %v", o.ID, err)
	}
}

// checkSame fails the test unless got equals want field by field, each item
// with the same tag, type, Go value type and value (times in the same instant
// and location; nil and empty byte strings and structures are alike).
func checkSame(t testing.TB, got, want *domain.Object) {
	t.Helper()
	g, w := dumpObject(got), dumpObject(want)
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("object %s differs at line %d:\n got: %s\nwant: %s", want.ID, i, gl, wl)
		}
	}
}

func dumpObject(o *domain.Object) []string {
	if o == nil {
		return []string{"<nil object>"}
	}
	lines := []string{
		"ID " + o.ID,
		fmt.Sprintf("Type %d", o.Type),
		fmt.Sprintf("State %d", o.State),
		"Owner " + o.Owner,
		"Policy " + o.Policy,
		"InitialDate " + dumpTime(o.InitialDate),
		fmt.Sprintf("Revision %d", o.Revision),
		"KeyRef " + o.KeyRef,
		fmt.Sprintf("Attributes %d", len(o.Attributes)),
	}
	for _, a := range o.Attributes {
		lines = append(lines, fmt.Sprintf("Attribute %q[%d]", a.Name, a.Index))
		lines = dumpItem(lines, "  ", a.Value)
	}
	lines = append(lines, "Payload")
	return dumpItem(lines, "  ", o.Payload)
}

func dumpTime(t time.Time) string {
	return t.Format(time.RFC3339Nano) + " " + t.Location().String()
}

func dumpItem(lines []string, indent string, it *kmip.Item) []string {
	if it == nil {
		return append(lines, indent+"<nil>")
	}
	var v string
	switch x := it.Value.(type) {
	case []*kmip.Item:
		lines = append(lines, fmt.Sprintf("%s%06X %s %T len=%d", indent, uint32(it.Tag), it.Type, x, len(x)))
		for _, c := range x {
			lines = dumpItem(lines, indent+"  ", c)
		}
		return lines
	case []byte:
		v = fmt.Sprintf("%x", x)
	case *big.Int:
		if x != nil {
			v = x.Text(16)
		}
	case time.Time:
		v = dumpTime(x)
	default:
		v = fmt.Sprintf("%#v", x)
	}
	return append(lines, fmt.Sprintf("%s%06X %s %T %s", indent, uint32(it.Tag), it.Type, it.Value, v))
}

func testRoundTrip(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	want := Sample("round-trip")
	want.Revision = 7
	if err := s.Create(context.Background(), want.Clone()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	checkSame(t, get(t, s, "round-trip"), want)

	// An HSM key: no Key Value, the engine's reference instead; an update
	// keeps the reference.
	kept := Sample("kept")
	kept.KeyRef = "secret/00ff"
	kept.Payload.Child(kmip.TagKeyBlock).Value = []*kmip.Item{
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 256)}
	mustCreate(t, s, kept.Clone())
	checkSame(t, get(t, s, "kept"), kept)
	if err := s.Update(context.Background(), "kept", func(o *domain.Object) error {
		o.Owner = "bob"
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := get(t, s, "kept"); got.KeyRef != kept.KeyRef || got.Owner != "bob" {
		t.Fatalf("after Update: KeyRef %q owner %q, want %q bob", got.KeyRef, got.Owner, kept.KeyRef)
	}

	// A bare object: no attributes, no payload, zero times.
	bare := &domain.Object{ID: "bare", Type: uint32(kmip.ObjectTypeOpaqueObject), State: domain.Destroyed}
	mustCreate(t, s, bare.Clone())
	checkSame(t, get(t, s, "bare"), bare)
}

func testGetMissing(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	mustCreate(t, s, Sample("present"))
	for _, id := range []string{"absent", "presen", "present2", ""} {
		if _, err := s.Get(context.Background(), id); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
		}
	}
}

func testCreateExisting(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	first := Sample("dup")
	mustCreate(t, s, first.Clone())
	second := Sample("dup")
	second.Owner = "mallory"
	second.SetAttr("Name", name("other"))
	if err := s.Create(context.Background(), second); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("second Create error = %v, want ErrExists", err)
	}
	checkSame(t, get(t, s, "dup"), first)
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "mallory"})
	checkLocate(t, s, nil, domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("other"))})
}

func testCreateEmptyID(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	if err := s.Create(context.Background(), Sample("")); err == nil {
		t.Fatal("Create with an empty identifier succeeded")
	}
	if ids := locate(t, s, ports.LocateQuery{}); len(ids) != 0 {
		t.Fatalf("Locate after refused Create = %q, want none", ids)
	}
}

func testUpdate(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	orig := Sample("u")
	orig.Revision = 3
	mustCreate(t, s, orig.Clone())
	calls := 0
	err := s.Update(context.Background(), "u", func(o *domain.Object) error {
		calls++
		checkSame(t, o, orig)
		o.State = domain.Deactivated
		o.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, "new@example.com"))
		o.DeleteAttr("Fresh")
		o.Payload = nil
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times, want 1", calls)
	}
	want := orig.Clone()
	want.State = domain.Deactivated
	want.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, "new@example.com"))
	want.DeleteAttr("Fresh")
	want.Payload = nil
	want.Revision = 4
	checkSame(t, get(t, s, "u"), want)

	// The store owns Revision: a value fn sets is replaced.
	if err := s.Update(context.Background(), "u", func(o *domain.Object) error { o.Revision = 100; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := get(t, s, "u").Revision; got != 5 {
		t.Fatalf("Revision = %d, want 5", got)
	}
}

func testUpdateFnError(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	orig := Sample("fe")
	mustCreate(t, s, orig.Clone())
	errVeto := errors.New("vetoed")
	err := s.Update(context.Background(), "fe", func(o *domain.Object) error {
		o.State = domain.Compromised
		o.Owner = "mallory"
		o.SetAttr("Name", name("renamed"))
		return fmt.Errorf("wrapped: %w", errVeto)
	})
	if !errors.Is(err, errVeto) {
		t.Fatalf("Update error = %v, want the fn's error", err)
	}
	checkSame(t, get(t, s, "fe"), orig)
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "mallory"})
	checkLocate(t, s, nil, domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("renamed"))})
	checkLocate(t, s, []string{"fe"}, domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))})
}

func testUpdateMissing(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	called := false
	err := s.Update(context.Background(), "nope", func(*domain.Object) error { called = true; return nil })
	if !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Update error = %v, want ErrNotFound", err)
	}
	if called {
		t.Fatal("fn was called for a missing object")
	}
}

func testUpdateKeepsID(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	orig := Sample("keep")
	mustCreate(t, s, orig.Clone())
	err := s.Update(context.Background(), "keep", func(o *domain.Object) error { o.ID = "other"; o.Owner = "x"; return nil })
	if err == nil {
		t.Fatal("Update that changed the identifier succeeded")
	}
	checkSame(t, get(t, s, "keep"), orig)
	if _, err := s.Get(context.Background(), "other"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get(other) error = %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	mustCreate(t, s, Sample("d1"))
	mustCreate(t, s, Sample("d2"))
	if err := s.Delete(context.Background(), "d1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(context.Background(), "d1"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(context.Background(), "d1"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("second Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Update(context.Background(), "d1", func(*domain.Object) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Update after Delete error = %v, want ErrNotFound", err)
	}
	// Every index entry of d1 is gone; d2's remain.
	for _, term := range Sample("d1").IndexTerms() {
		want := []string{"d2"}
		if !slices.Contains(Sample("d2").IndexTerms(), term) {
			want = nil
		}
		checkLocate(t, s, want, term)
	}
	checkLocate(t, s, []string{"d2"})
	// The identifier is never used again (issue 12.8): a client must not
	// take over the identifier of another client's deleted object.
	again := Sample("d1")
	again.Owner = "bob"
	if err := s.Create(context.Background(), again); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("Create of a deleted identifier: %v, want ErrExists", err)
	}
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "bob"})
}

func testLocateEachTerm(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(30)
	createAll(t, s, objs)
	seen := map[domain.IndexTerm]bool{}
	for _, o := range objs {
		for _, term := range o.IndexTerms() {
			if !seen[term] {
				seen[term] = true
				checkLocate(t, s, matching(objs, term), term)
			}
		}
	}
	// Terms that match nothing: unknown values, a known value under another name.
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "zed"})
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexOwner, Key: "alic"})
	checkLocate(t, s, nil, domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("name-"))})
	checkLocate(t, s, nil, domain.IndexTerm{Name: "Contact Information", Key: "t:alice"})
	checkLocate(t, s, nil, domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Destroyed))})
}

func testLocateConjunctions(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(30)
	createAll(t, s, objs)
	sym := domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeSymmetricKey))}
	active := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))}
	alice := domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"}
	lucky := domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name("lucky"))}
	aes := domain.IndexTerm{Name: "Cryptographic Algorithm", Key: domain.EnumKey(uint32(kmip.CryptographicAlgorithmAES))}
	len256 := domain.IndexTerm{Name: "Cryptographic Length", Key: domain.IndexKey(kmip.Int(kmip.TagCryptographicLength, 256))}
	queries := [][]domain.IndexTerm{
		{sym, active},
		{active, sym},
		{sym, active, alice},
		{aes, len256},
		{aes, len256, active},
		{lucky, sym},
		{lucky, active, alice},
		{alice, alice},
		{sym, domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeSecretData))}},
	}
	// Every pair of terms of a few objects.
	for _, o := range []*domain.Object{objs[0], objs[7], objs[13]} {
		terms := o.IndexTerms()
		for i := range terms {
			for j := i + 1; j < len(terms); j++ {
				queries = append(queries, []domain.IndexTerm{terms[i], terms[j]})
			}
		}
		queries = append(queries, terms)
	}
	for _, q := range queries {
		checkLocate(t, s, matching(objs, q...), q...)
	}
	if got := matching(objs, sym, active, alice); len(got) == 0 {
		t.Fatal("test population has no active symmetric key of alice")
	}
}

// testLocateOddKeys stores names, keys and identifiers that are prefixes of
// one another or hold NUL bytes, which a naive separator-joined index key
// would confuse.
func testLocateOddKeys(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	var objs []*domain.Object
	add := func(id, attr, text string) {
		o := &domain.Object{ID: id, Owner: "o"}
		o.AddAttr(attr, custom(kmip.Text(0, text)))
		objs = append(objs, o)
	}
	add("p1", "x-a", "v")
	add("p2", "x-a", "v\x00p1")
	add("p3", "x-a", "v\x00")
	add("p3\x00", "x-a", "v")
	add("p4", "x-a\x00t:v", "w")
	add("p5", "x-a", "vv")
	add("p", "x-a", "")
	add("p6", "x-", "at:v")
	add("p7", "x-a", strings.Repeat("long ", 100)+"1")
	add("p8", "x-a", strings.Repeat("long ", 100)+"2")
	add("p9", "x-a", "\xff\xfe not UTF-8")
	add("p9\xff", "x-\xc3", "v")
	createAll(t, s, objs)
	for _, o := range objs {
		for _, term := range o.IndexTerms() {
			checkLocate(t, s, matching(objs, term), term)
		}
	}
	checkLocate(t, s, nil, domain.IndexTerm{Name: "x-a", Key: "t:v\x00"}, domain.IndexTerm{Name: "x-a", Key: "t:v"})
	checkLocate(t, s, []string{"p1", "p3\x00"}, domain.IndexTerm{Name: "x-a", Key: "t:v"})
}

// testLocateDigestLookalike stores, as raw index keys (owner and policy are
// taken verbatim), short strings shaped like the digest adapters may keep in
// place of a long key, and checks that each matches only itself.
func testLocateDigestLookalike(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	long := strings.Repeat("policy ", 60)
	sum := sha256.Sum256([]byte(long))
	var objs []*domain.Object
	for i, policy := range []string{
		long,
		"#sha256:" + hex.EncodeToString(sum[:]),
		"sha256:" + hex.EncodeToString(sum[:]),
		hex.EncodeToString(sum[:]),
		"#sha256:" + base64.StdEncoding.EncodeToString(sum[:]),
	} {
		objs = append(objs, &domain.Object{ID: fmt.Sprintf("l%d", i), Owner: policy, Policy: policy})
	}
	createAll(t, s, objs)
	for _, o := range objs {
		checkLocate(t, s, []string{o.ID}, domain.IndexTerm{Name: domain.IndexPolicy, Key: o.Policy})
		checkLocate(t, s, []string{o.ID}, domain.IndexTerm{Name: domain.IndexOwner, Key: o.Owner},
			domain.IndexTerm{Name: domain.IndexPolicy, Key: o.Policy})
	}
}

// testLocateManyTerms runs conjunctions of more terms than a backend may join
// in one query (SQLite joins at most 64 tables).
func testLocateManyTerms(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	const n = 70 // with the 4 pseudo-attributes' terms, more than 64
	var objs []*domain.Object
	for i := range 4 {
		o := &domain.Object{ID: fmt.Sprintf("m%d", i), Owner: "o"}
		for a := range n {
			v := int32(a)
			if a == n-1-i { // each object differs from the others in one attribute
				v = -1
			}
			o.SetAttr(fmt.Sprintf("x-%03d", a), custom(kmip.Int(0, v)))
		}
		objs = append(objs, o)
	}
	common := &domain.Object{ID: "m-all", Owner: "o"}
	for a := range n {
		common.SetAttr(fmt.Sprintf("x-%03d", a), custom(kmip.Int(0, int32(a))))
	}
	objs = append(objs, common)
	createAll(t, s, objs)
	for _, o := range objs {
		terms := o.IndexTerms()
		checkLocate(t, s, matching(objs, terms...), terms...)
	}
	terms := common.IndexTerms()
	slices.Reverse(terms)
	terms = terms[2:] // m0 and m1 match too
	want := matching(objs, terms...)
	if len(want) != 3 {
		t.Fatalf("population matches %q", want)
	}
	var got []string
	for after := ""; len(got) <= len(want); {
		ids := locate(t, s, ports.LocateQuery{Terms: terms, After: after, Limit: 2})
		if len(ids) == 0 {
			break
		}
		got = append(got, ids...)
		after = ids[len(ids)-1]
	}
	if !equalIDs(got, want) {
		t.Errorf("%d terms, pages of 2 gave %q, want %q", len(terms), got, want)
	}
}

func testLocateAll(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	if ids := locate(t, s, ports.LocateQuery{}); len(ids) != 0 {
		t.Fatalf("Locate on an empty store = %q", ids)
	}
	objs := population(12)
	createAll(t, s, objs)
	checkLocate(t, s, matching(objs))
	if got := locate(t, s, ports.LocateQuery{Terms: []domain.IndexTerm{}}); !equalIDs(got, matching(objs)) {
		t.Fatalf("Locate(empty terms) = %q", got)
	}
}

func testLocateOrder(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	ids := []string{"b", "a", "aa", "A", "Z", "a-1", "a0", "é", "z", "0", "a\x7f", "~", "ab", "a b"}
	for _, id := range ids {
		o := Sample(id)
		mustCreate(t, s, o)
	}
	want := slices.Clone(ids)
	sort.Strings(want)
	checkLocate(t, s, want)
	checkLocate(t, s, want, domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"})
	checkLocate(t, s, want, domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"},
		domain.IndexTerm{Name: "Object Group", Key: "t:g1"})
}

func testLocatePaging(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(30)
	createAll(t, s, objs)
	active := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))}
	sym := domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeSymmetricKey))}
	for _, terms := range [][]domain.IndexTerm{nil, {active}, {active, sym}} {
		want := matching(objs, terms...)
		for _, limit := range []int{1, 2, 3, 7, len(want), len(want) + 1} {
			var got []string
			after := ""
			for page := 0; ; page++ {
				if page > len(want)+1 {
					t.Fatalf("terms %q limit %d: paging does not end", terms, limit)
				}
				ids := locate(t, s, ports.LocateQuery{Terms: terms, After: after, Limit: limit})
				if len(ids) > limit {
					t.Fatalf("terms %q limit %d: page of %d", terms, limit, len(ids))
				}
				if len(ids) == 0 {
					break
				}
				got = append(got, ids...)
				after = ids[len(ids)-1]
			}
			if !equalIDs(got, want) {
				t.Errorf("terms %q limit %d: pages gave %q, want %q", terms, limit, got, want)
			}
		}
		// After need not be a stored identifier.
		var tail []string
		for _, id := range want {
			if id > "obj-010a" {
				tail = append(tail, id)
			}
		}
		if got := locate(t, s, ports.LocateQuery{Terms: terms, After: "obj-010a"}); !equalIDs(got, tail) {
			t.Errorf("terms %q after obj-010a = %q, want %q", terms, got, tail)
		}
		if got := locate(t, s, ports.LocateQuery{Terms: terms, After: "obj-999"}); len(got) != 0 {
			t.Errorf("terms %q after the last id = %q", terms, got)
		}
	}
}

func testIndexFollowsUpdates(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	objs := population(6)
	createAll(t, s, objs)
	stateTerm := func(st domain.State) domain.IndexTerm {
		return domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(st))}
	}
	nameTerm := func(n string) domain.IndexTerm {
		return domain.IndexTerm{Name: "Name", Key: domain.IndexKey(name(n))}
	}
	update := func(id string, fn func(*domain.Object)) { t.Helper(); updateBoth(t, s, objs, id, fn) }
	update("obj-000", func(o *domain.Object) { o.State = domain.Deactivated })
	checkLocate(t, s, matching(objs, stateTerm(domain.Active)), stateTerm(domain.Active))
	checkLocate(t, s, []string{"obj-000"}, stateTerm(domain.Deactivated))

	update("obj-000", func(o *domain.Object) { o.DeleteAttr("Name") })
	checkLocate(t, s, nil, nameTerm("lucky"))
	checkLocate(t, s, matching(objs, nameTerm("name-0")), nameTerm("name-0"))

	update("obj-001", func(o *domain.Object) { o.AddAttr("Name", name("lucky")); o.Owner = "erin" })
	checkLocate(t, s, []string{"obj-001"}, nameTerm("lucky"))
	checkLocate(t, s, []string{"obj-001"}, domain.IndexTerm{Name: domain.IndexOwner, Key: "erin"})
	checkLocate(t, s, matching(objs, domain.IndexTerm{Name: domain.IndexOwner, Key: "bob"}),
		domain.IndexTerm{Name: domain.IndexOwner, Key: "bob"})

	update("obj-002", func(o *domain.Object) {
		o.SetAttr("x-serial", custom(kmip.Long(0, 42)))
		o.Policy = "special"
	})
	for _, o := range objs {
		for _, term := range o.IndexTerms() {
			checkLocate(t, s, matching(objs, term), term)
		}
	}
	checkLocate(t, s, nil, domain.IndexTerm{Name: "x-serial", Key: domain.IndexKey(kmip.Long(0, 2*1_000_000_007))})
	checkLocate(t, s, []string{"obj-002"}, domain.IndexTerm{Name: domain.IndexPolicy, Key: "special"})
}

func testConcurrentCreates(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	const workers, each = 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+workers)
	var winners atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				o := Sample(fmt.Sprintf("c-%02d-%02d", w, i))
				if err := s.Create(context.Background(), o); err != nil {
					errs <- fmt.Errorf("Create(%s): %w", o.ID, err)
				}
			}
		})
		wg.Go(func() {
			switch err := s.Create(context.Background(), Sample("contended")); {
			case err == nil:
				winners.Add(1)
			case !errors.Is(err, ports.ErrExists):
				errs <- fmt.Errorf("contended Create: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := winners.Load(); n != 1 {
		t.Fatalf("%d concurrent Creates of one identifier succeeded, want 1", n)
	}
	var want []string
	for w := range workers {
		for i := range each {
			want = append(want, fmt.Sprintf("c-%02d-%02d", w, i))
		}
	}
	want = append(want, "contended")
	sort.Strings(want)
	checkLocate(t, s, want)
	checkLocate(t, s, want, domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"})
	checkSame(t, get(t, s, "c-07-13"), Sample("c-07-13"))
}

func testConcurrentUpdates(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	counter := func(v int32) *kmip.Item { return custom(kmip.Int(0, v)) }
	for _, id := range []string{"n1", "n2"} {
		o := Sample(id)
		o.SetAttr("x-counter", counter(0))
		mustCreate(t, s, o)
	}
	const workers = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		for _, id := range []string{"n1", "n2"} {
			wg.Go(func() {
				err := s.Update(context.Background(), id, func(o *domain.Object) error {
					v, ok := o.Attr("x-counter").AsInt()
					if !ok {
						return errors.New("x-counter missing")
					}
					o.SetAttr("x-counter", counter(v+1))
					if w%10 == 9 && id == "n2" {
						return errVetoed // these requests write nothing
					}
					return nil
				})
				if err != nil && !errors.Is(err, errVetoed) {
					errs <- fmt.Errorf("Update(%s): %w", id, err)
				}
			})
		}
		wg.Go(func() {
			// Readers run beside the writers and never see a torn object.
			o, err := s.Get(context.Background(), "n1")
			if err != nil {
				errs <- fmt.Errorf("get: %w", err)
				return
			}
			if v, _ := o.Attr("x-counter").AsInt(); uint64(v) != o.Revision {
				errs <- fmt.Errorf("get saw counter %d at revision %d", v, o.Revision)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for id, want := range map[string]int32{"n1": workers, "n2": workers - workers/10} {
		o := get(t, s, id)
		if v, _ := o.Attr("x-counter").AsInt(); v != want || o.Revision != uint64(want) {
			t.Errorf("%s: counter %d revision %d after %d increments", id, v, o.Revision, want)
		}
		checkLocate(t, s, []string{id}, domain.IndexTerm{Name: "x-counter", Key: domain.IndexKey(counter(want))},
			domain.IndexTerm{Name: "Contact Information", Key: "t:ops@example.com"})
		checkLocate(t, s, nil, domain.IndexTerm{Name: "x-counter", Key: domain.IndexKey(counter(want - 1))})
	}
}

var errVetoed = errors.New("vetoed by the test")

func testCopies(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	want := Sample("copy")
	in := want.Clone()
	mustCreate(t, s, in)
	// Changing what was passed to Create does not change the store.
	in.Owner = "mallory"
	in.Attributes[0].Value.Value = uint32(99)
	in.Payload.Children()[0].Children()[1].Children()[0].Value.([]byte)[0] ^= 0xff
	checkSame(t, get(t, s, "copy"), want)

	// Nor does changing what Get returned.
	got := get(t, s, "copy")
	got.State = domain.Compromised
	got.Attributes = got.Attributes[:1]
	got.Payload.Children()[0].Children()[1].Children()[0].Value.([]byte)[0] ^= 0xff
	checkSame(t, get(t, s, "copy"), want)

	// Nor does keeping and changing the object fn was given.
	var kept *domain.Object
	if err := s.Update(context.Background(), "copy", func(o *domain.Object) error { kept = o; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	kept.Owner = "mallory"
	want.Revision++
	checkSame(t, get(t, s, "copy"), want)
}

func testPersistence(t *testing.T, open Opener) {
	path := filepath.Join(t.TempDir(), "store")
	s, err := open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	objs := population(8)
	createAll(t, s, objs)
	if err := s.Update(context.Background(), "obj-003", func(o *domain.Object) error {
		o.State = domain.Deactivated
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	objs[3].State = domain.Deactivated
	objs[3].Revision = 1
	if err := s.Delete(context.Background(), "obj-005"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	objs = slices.Delete(objs, 5, 6)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, open, path)
	for _, o := range objs {
		checkSame(t, get(t, s, o.ID), o)
	}
	if _, err := s.Get(context.Background(), "obj-005"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("deleted object after reopen: %v", err)
	}
	checkLocate(t, s, matching(objs))
	for _, o := range objs {
		for _, term := range o.IndexTerms() {
			checkLocate(t, s, matching(objs, term), term)
		}
	}
	// The reopened store takes writes.
	mustCreate(t, s, Sample("after-reopen"))
}

func testClosed(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	mustCreate(t, s, Sample("c"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ports.ErrClosed) {
			t.Errorf("%s on a closed store: error = %v, want ErrClosed", op, err)
		}
	}
	check("Create", s.Create(ctx, Sample("d")))
	_, err := s.Get(ctx, "c")
	check("Get", err)
	check("Update", s.Update(ctx, "c", func(*domain.Object) error { return nil }))
	check("Delete", s.Delete(ctx, "c"))
	check("DeleteIf", s.DeleteIf(ctx, "c", 0))
	_, err = s.Locate(ctx, ports.LocateQuery{})
	check("Locate", err)
	if err := s.Close(); err != nil && !errors.Is(err, ports.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func testContextCanceled(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	orig := Sample("kept")
	mustCreate(t, s, orig.Clone())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error = %v, want context.Canceled", op, err)
		}
	}
	check("Create", s.Create(ctx, Sample("new")))
	if _, err := s.Get(context.Background(), "new"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Create with a canceled context wrote the object (Get error %v)", err)
	}
	check("Update", s.Update(ctx, "kept", func(o *domain.Object) error { o.Owner = "mallory"; return nil }))
	check("Delete", s.Delete(ctx, "kept"))
	check("DeleteIf", s.DeleteIf(ctx, "kept", 0))
	_, err := s.Get(ctx, "kept")
	check("Get", err)
	_, err = s.Locate(ctx, ports.LocateQuery{})
	check("Locate", err)
	checkSame(t, get(t, s, "kept"), orig)
	checkLocate(t, s, []string{"kept"})

	// Requests canceled while others are writing: each either fully happens
	// or returns the context's error and writes nothing.
	var wg sync.WaitGroup
	type result struct {
		id  string
		err error
	}
	results := make(chan result, 40)
	for i := range 40 {
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() {
			id := fmt.Sprintf("race-%02d", i)
			results <- result{id, s.Create(ctx, Sample(id))}
		})
		if i%2 == 0 {
			cancel()
		} else {
			defer cancel()
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		_, err := s.Get(context.Background(), r.id)
		switch {
		case r.err == nil && err != nil:
			t.Errorf("%s: acknowledged Create, then Get: %v", r.id, err)
		case r.err != nil && !errors.Is(r.err, context.Canceled):
			t.Errorf("%s: Create: %v", r.id, r.err)
		case r.err != nil && !errors.Is(err, ports.ErrNotFound):
			t.Errorf("%s: Create returned %v but the object was written (Get error %v)", r.id, r.err, err)
		}
	}
}

// BenchCreate measures Create of Sample objects; with parallelism > 0 it runs
// parallelism×GOMAXPROCS goroutines (b.RunParallel) so that group commit shows.
func BenchCreate(b *testing.B, open Opener, parallelism int) {
	s, _ := fresh(b, open)
	var n atomic.Int64
	tmpl := Sample("bench")
	b.ReportAllocs()
	b.ResetTimer()
	if parallelism <= 0 {
		for b.Loop() {
			o := tmpl.Clone()
			o.ID = fmt.Sprintf("bench-%09d", n.Add(1))
			if err := s.Create(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o := tmpl.Clone()
				o.ID = fmt.Sprintf("bench-%09d", n.Add(1))
				if err := s.Create(context.Background(), o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// populate creates n Sample objects named "bench-%06d" using concurrent writers.
func populate(b *testing.B, s ports.Store, n int) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if err := s.Create(context.Background(), Sample(fmt.Sprintf("bench-%06d", i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// BenchGet measures Get of random objects among 1000 stored ones.
func BenchGet(b *testing.B, open Opener) {
	s, _ := fresh(b, open)
	const n = 1000
	populate(b, s, n)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			if _, err := s.Get(context.Background(), fmt.Sprintf("bench-%06d", r.IntN(n))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchLocateByName measures Locate by Name plus Object Type and State among
// 1000 stored objects.
func BenchLocateByName(b *testing.B, open Opener) {
	s, _ := fresh(b, open)
	const n = 1000
	populate(b, s, n)
	typ := domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(kmip.ObjectTypeSymmetricKey))}
	state := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			id := fmt.Sprintf("bench-%06d", r.IntN(n))
			q := ports.LocateQuery{Terms: []domain.IndexTerm{
				{Name: "Name", Key: domain.IndexKey(name("sample-" + id))}, typ, state,
			}}
			ids, err := s.Locate(context.Background(), q)
			if err != nil || len(ids) != 1 || ids[0] != id {
				b.Errorf("Locate(%s) = %q, %v", id, ids, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
