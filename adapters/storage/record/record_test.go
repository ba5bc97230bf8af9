package record_test

import (
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports/storetest"
)

// sameItem reports whether two items are equal with identical Go value types
// throughout, nil and empty slices told apart.
func sameItem(a, b *kmip.Item) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Tag != b.Tag || a.Type != b.Type || reflect.TypeOf(a.Value) != reflect.TypeOf(b.Value) {
		return false
	}
	switch x := a.Value.(type) {
	case []*kmip.Item:
		y := b.Value.([]*kmip.Item)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameItem(x[i], y[i]) {
				return false
			}
		}
		return true
	case []byte:
		y := b.Value.([]byte)
		return (x == nil) == (y == nil) && string(x) == string(y)
	case *big.Int:
		y := b.Value.(*big.Int)
		return (x == nil) == (y == nil) && (x == nil || x.Cmp(y) == 0)
	case time.Time:
		y := b.Value.(time.Time)
		return x.Equal(y) && y.Location() == time.UTC
	}
	return a.Value == b.Value
}

func TestRoundTrip(t *testing.T) {
	want := storetest.Sample("id-1")
	want.Revision = 42
	want.AddAttr("x-nil-bytes", kmip.Bytes(kmip.TagAttributeValue, nil))
	want.AddAttr("x-nil-struct", &kmip.Item{Tag: kmip.TagAttributeValue, Type: kmip.TypeStructure, Value: []*kmip.Item(nil)})
	want.AddAttr("x-nil-big", &kmip.Item{Tag: kmip.TagAttributeValue, Type: kmip.TypeBigInteger, Value: (*big.Int)(nil)})
	want.AddAttr("x-far-future", kmip.DateTime(kmip.TagAttributeValue, time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)))
	want.AddAttr("x-nil-value", nil)
	b, err := record.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Type != want.Type || got.State != want.State || got.Owner != want.Owner ||
		got.Policy != want.Policy || got.InitialDate != want.InitialDate || got.Revision != want.Revision {
		t.Fatalf("fields: got %+v", got)
	}
	if len(got.Attributes) != len(want.Attributes) {
		t.Fatalf("%d attributes, want %d", len(got.Attributes), len(want.Attributes))
	}
	for i, a := range want.Attributes {
		g := got.Attributes[i]
		if g.Name != a.Name || g.Index != a.Index || !sameItem(g.Value, a.Value) {
			t.Errorf("attribute %q[%d]: got %v, want %v", a.Name, a.Index, g.Value, a.Value)
		}
	}
	if !sameItem(got.Payload, want.Payload) {
		t.Errorf("payload differs")
	}

	// Nil and empty attribute lists stay apart; a nil payload stays nil.
	for _, attrs := range [][]domain.Attribute{nil, {}} {
		b, err := record.Marshal(&domain.Object{ID: "x", Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		got, err := record.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if (got.Attributes == nil) != (attrs == nil) || got.Payload != nil || !got.InitialDate.IsZero() {
			t.Errorf("bare object %+v came back as %+v", attrs, got)
		}
	}
}

func TestMarshalRefusesMistypedItems(t *testing.T) {
	for _, it := range []*kmip.Item{
		{Tag: kmip.TagCryptographicLength, Type: kmip.TypeInteger, Value: int64(256)},
		{Tag: kmip.TagCryptographicAlgorithm, Type: kmip.TypeEnumeration, Value: 3},
		{Tag: kmip.TagName, Type: kmip.TypeStructure, Value: "x"},
		{Tag: kmip.TagName, Type: kmip.Type(0x42), Value: "x"},
		kmip.Struct(kmip.TagName, &kmip.Item{Tag: kmip.TagNameValue, Type: kmip.TypeTextString, Value: []byte("x")}),
	} {
		o := &domain.Object{ID: "x"}
		o.SetAttr("a", it)
		if _, err := record.Marshal(o); err == nil {
			t.Errorf("Marshal accepted %s item holding %T", it.Type, it.Value)
		}
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	for _, b := range []string{
		``, `{`, `[]`, `{"v":2,"id":"x"}`, `{"id":"x"}`,
		`{"v":1,"id":"x","payload":{"g":4325376,"t":2,"v":"text"}}`,
		`{"v":1,"id":"x","payload":{"g":4325376,"t":99,"v":1}}`,
		`{"v":1,"id":"x","payload":{"g":4325376,"t":4,"v":"zz"}}`,
		`{"v":1,"id":"x","payload":{"g":4325376,"t":1,"v":[null]}}`,
	} {
		if _, err := record.Unmarshal([]byte(b)); !errors.Is(err, record.ErrCorrupt) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrCorrupt", b, err)
		}
	}
}

// TestCorruptErrorsHideValues checks that decoding errors do not quote stored
// values, which may be key material (a private exponent is a Big Integer).
func TestCorruptErrorsHideValues(t *testing.T) {
	const secret = "5ec7e75ec7e75ec7e7"
	for _, b := range []string{
		`{"v":1,"id":"x","payload":{"g":4325376,"t":4,"v":"` + secret + `zz"}}`,
		`{"v":1,"id":"x","payload":{"g":4325376,"t":8,"v":"` + secret + `!"}}`,
	} {
		_, err := record.Unmarshal([]byte(b))
		if !errors.Is(err, record.ErrCorrupt) || strings.Contains(err.Error(), secret) {
			t.Errorf("Unmarshal error = %v, want ErrCorrupt without the stored value", err)
		}
	}
}

func TestTermKey(t *testing.T) {
	short := strings.Repeat("a", record.MaxTermKey)
	if record.TermKey(short) != short {
		t.Error("short key changed")
	}
	long1, long2 := short+"b", short+"c"
	k1, k2 := record.TermKey(long1), record.TermKey(long2)
	if k1 == k2 || len(k1) > record.MaxTermKey || k1 != record.TermKey(long1) {
		t.Errorf("long keys map to %q and %q", k1, k2)
	}
	// A short key spelled like a digest is not taken for the long key it names.
	if k := record.TermKey(k1); k == k1 || len(k) > record.MaxTermKey {
		t.Errorf("TermKey(%q) = %q", k1, k)
	}
}

func TestPlan(t *testing.T) {
	state := domain.IndexTerm{Name: domain.IndexState, Key: "e:00000002"}
	name := domain.IndexTerm{Name: "Name", Key: "s:x"}
	owner := domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"}
	got := record.Plan([]domain.IndexTerm{state, name, state, owner, name})
	want := []record.Term{{"Name", "s:x"}, {domain.IndexState, "e:00000002"}, {domain.IndexOwner, "alice"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Plan = %q, want %q", got, want)
	}
}

func TestTermsAndDiff(t *testing.T) {
	o := &domain.Object{ID: "x", Owner: "alice"}
	o.AddAttr("Object Group", kmip.Text(kmip.TagObjectGroup, "g"))
	o.AddAttr("Object Group", kmip.Text(kmip.TagObjectGroup, "g")) // same term twice
	before := record.Terms(o)
	if want := len(o.IndexTerms()) - 1; len(before) != want {
		t.Fatalf("Terms = %q, want %d (pseudo-terms, derived terms, one group)", before, want)
	}
	o.Owner = "bob"
	o.DeleteAttr("Object Group")
	added, removed := record.Diff(before, record.Terms(o))
	ownerAccess := func(owner string) record.Term {
		return record.Term{Name: domain.IndexOwnerAccess, Key: domain.OwnerAccessKey(owner, "", 0)}
	}
	if !reflect.DeepEqual(added, []record.Term{{domain.IndexOwner, "bob"}, ownerAccess("bob")}) ||
		!reflect.DeepEqual(removed, []record.Term{{domain.IndexOwner, "alice"}, ownerAccess("alice"), {"Object Group", "t:g"}}) {
		t.Fatalf("Diff: added %q removed %q", added, removed)
	}
}

func TestForCreate(t *testing.T) {
	if _, _, err := record.ForCreate(&domain.Object{}); !errors.Is(err, record.ErrNoID) {
		t.Errorf("object without identifier: %v", err)
	}
	obj := &domain.Object{ID: "a", Owner: "alice"}
	body, terms, err := record.ForCreate(obj)
	if err != nil || len(body) == 0 || len(terms) == 0 {
		t.Fatalf("ForCreate: %d bytes, %d terms, %v", len(body), len(terms), err)
	}
	back, err := record.Unmarshal(body)
	if err != nil || back.ID != "a" || back.Owner != "alice" {
		t.Fatalf("body does not round-trip: %+v, %v", back, err)
	}
}
