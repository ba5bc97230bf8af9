package record_test

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports/storetest"
)

// sameObject reports whether two objects are equal field by field, items
// compared with sameItem.
func sameObject(t *testing.T, got, want *domain.Object) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.State != want.State || got.Owner != want.Owner ||
		got.Policy != want.Policy || !got.InitialDate.Equal(want.InitialDate) ||
		got.InitialDate.Location() != time.UTC || got.Revision != want.Revision || got.KeyRef != want.KeyRef {
		t.Fatalf("fields: got %+v, want %+v", got, want)
	}
	if (got.Attributes == nil) != (want.Attributes == nil) || len(got.Attributes) != len(want.Attributes) {
		t.Fatalf("attributes: got %d (nil %v), want %d (nil %v)", len(got.Attributes), got.Attributes == nil,
			len(want.Attributes), want.Attributes == nil)
	}
	for i, a := range want.Attributes {
		g := got.Attributes[i]
		if g.Name != a.Name || g.Index != a.Index || !sameItem(g.Value, a.Value) {
			t.Fatalf("attribute %q[%d]: got %v, want %v", a.Name, a.Index, g.Value, a.Value)
		}
	}
	if !sameItem(got.Payload, want.Payload) {
		t.Fatalf("payload: got %v, want %v", got.Payload, want.Payload)
	}
}

// edgeSample is storetest.Sample plus the values an encoding gets wrong most
// easily.
func edgeSample() *domain.Object {
	o := storetest.Sample("id-\x00-é")
	o.Revision = math.MaxUint64
	o.InitialDate = time.Date(-5, 1, 1, 0, 0, 0, 1, time.UTC)
	huge := new(big.Int).Lsh(big.NewInt(1), 4100)
	for _, it := range []*kmip.Item{
		kmip.Bytes(kmip.TagAttributeValue, nil),
		kmip.Bytes(kmip.TagAttributeValue, []byte{}),
		kmip.Bytes(kmip.TagAttributeValue, []byte{0, 0xff}),
		{Tag: kmip.TagAttributeValue, Type: kmip.TypeStructure, Value: []*kmip.Item(nil)},
		{Tag: kmip.TagAttributeValue, Type: kmip.TypeStructure, Value: []*kmip.Item{}},
		{Tag: kmip.TagAttributeValue, Type: kmip.TypeBigInteger, Value: (*big.Int)(nil)},
		kmip.Big(kmip.TagAttributeValue, huge),
		kmip.Big(kmip.TagAttributeValue, new(big.Int).Neg(huge)),
		kmip.Big(kmip.TagAttributeValue, big.NewInt(-1)),
		kmip.Text(kmip.TagAttributeValue, ""),
		kmip.Text(kmip.TagAttributeValue, "\xff not UTF-8"),
		kmip.DateTime(kmip.TagAttributeValue, time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)),
		{Tag: kmip.TagAttributeValue, Type: kmip.TypeDateTimeExtended, Value: time.Unix(-1, 999_999_999).UTC()},
		kmip.Long(kmip.Tag(math.MaxUint32), math.MinInt64),
		kmip.Int(kmip.TagAttributeValue, math.MaxInt32),
		nil,
	} {
		o.AddAttr("x-edge", it)
	}
	o.Attributes = append(o.Attributes, domain.Attribute{Name: "x-neg-index", Index: -3,
		Value: kmip.Bool(kmip.TagAttributeValue, true)})
	return o
}

func TestBinaryRoundTrip(t *testing.T) {
	for _, want := range []*domain.Object{
		edgeSample(),
		{ID: "bare"},
		{ID: "empty attributes", Attributes: []domain.Attribute{}},
	} {
		b, err := record.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != record.Version {
			t.Fatalf("record starts with %#x, want version %d", b[0], record.Version)
		}
		got, err := record.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, got, want)
		owned, err := record.UnmarshalOwned(bytes.Clone(b))
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, owned, want)
	}
}

// TestReadsJSONRecords: records stored by earlier releases (JSON, version 1)
// decode to the object the binary form of the same object decodes to.
func TestReadsJSONRecords(t *testing.T) {
	o := storetest.Sample("old")
	o.AddAttr("x-nil-bytes", kmip.Bytes(kmip.TagAttributeValue, nil))
	o.AddAttr("x-empty-bytes", kmip.Bytes(kmip.TagAttributeValue, []byte{}))
	o.AddAttr("x-nil-value", nil)
	j, err := record.MarshalJSON(o)
	if err != nil || j[0] != '{' {
		t.Fatalf("MarshalJSON: %q, %v", j, err)
	}
	fromJSON, err := record.Unmarshal(j)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, fromJSON, o)
	// A record as version 1 wrote it, byte for byte.
	old := `{"v":1,"id":"k","type":2,"state":2,"owner":"alice","policy":"default","initial_date":[1714979289,5],` +
		`"attributes":[{"n":"Name","i":0,"v":{"g":4325459,"t":1,"v":[{"g":4325461,"t":7,"v":"n1"},{"g":4325460,"t":5,"v":1}]}}],` +
		`"payload":{"g":4325487,"t":8,"v":"AAE="},"revision":3}`
	got, err := record.Unmarshal([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	want := &domain.Object{ID: "k", Type: 2, State: domain.Active, Owner: "alice", Policy: "default",
		InitialDate: time.Unix(1714979289, 5).UTC(), Revision: 3,
		Attributes: []domain.Attribute{{Name: "Name", Value: kmip.Struct(kmip.TagName,
			kmip.Text(kmip.TagNameValue, "n1"), kmip.Enum(kmip.TagNameType, 1))}},
		Payload: kmip.Bytes(kmip.Tag(4325487), []byte{0, 1})}
	sameObject(t, got, want)
}

// randItem builds a random item of any type, depth bounded.
func randItem(r *rand.Rand, depth int) *kmip.Item {
	tag := kmip.Tag(r.Uint32())
	types := []kmip.Type{kmip.TypeStructure, kmip.TypeInteger, kmip.TypeLongInteger, kmip.TypeBigInteger,
		kmip.TypeEnumeration, kmip.TypeBoolean, kmip.TypeTextString, kmip.TypeByteString, kmip.TypeDateTime,
		kmip.TypeInterval, kmip.TypeDateTimeExtended}
	typ := types[r.IntN(len(types))]
	if depth > 4 && typ == kmip.TypeStructure {
		typ = kmip.TypeInteger
	}
	it := &kmip.Item{Tag: tag, Type: typ}
	randBytes := func() []byte {
		if r.IntN(5) == 0 {
			return nil
		}
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	switch typ {
	case kmip.TypeStructure:
		if r.IntN(6) == 0 {
			it.Value = []*kmip.Item(nil)
			break
		}
		kids := make([]*kmip.Item, r.IntN(5))
		for i := range kids {
			kids[i] = randItem(r, depth+1)
		}
		it.Value = kids
	case kmip.TypeInteger:
		it.Value = int32(r.Uint32())
	case kmip.TypeLongInteger:
		it.Value = int64(r.Uint64())
	case kmip.TypeBigInteger:
		if r.IntN(6) == 0 {
			it.Value = (*big.Int)(nil)
			break
		}
		v := new(big.Int).SetBytes(randBytes())
		if r.IntN(2) == 0 {
			v.Neg(v)
		}
		it.Value = v
	case kmip.TypeEnumeration, kmip.TypeInterval:
		it.Value = r.Uint32()
	case kmip.TypeBoolean:
		it.Value = r.IntN(2) == 0
	case kmip.TypeTextString:
		it.Value = string(randBytes())
	case kmip.TypeByteString:
		it.Value = randBytes()
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		it.Value = time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).UTC()
	}
	return it
}

func randObject(r *rand.Rand) *domain.Object {
	o := &domain.Object{ID: string(rune(r.IntN(0x10000))) + "id", Type: r.Uint32(), State: domain.State(r.Uint32()),
		Owner: "o", Policy: "p", InitialDate: time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).UTC(),
		Revision: r.Uint64()}
	if r.IntN(8) != 0 {
		o.Attributes = []domain.Attribute{}
		for i := range r.IntN(12) {
			v := randItem(r, 0)
			if r.IntN(20) == 0 {
				v = nil
			}
			o.Attributes = append(o.Attributes, domain.Attribute{Name: "a", Index: i - 2, Value: v})
		}
	}
	if r.IntN(4) != 0 {
		o.Payload = randItem(r, 0)
	}
	return o
}

// TestRandomRoundTrip round-trips random objects holding every item type
// through the binary form.
func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		want := randObject(r)
		b, err := record.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := record.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, got, want)
		owned, err := record.UnmarshalOwned(bytes.Clone(b))
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, owned, want)
	}
}

// UnmarshalOwned shares the record's memory for text only: the decoded key
// material is a copy, which may be changed (or cleared) without touching
// the record; a truncated record is still ErrCorrupt.
func TestUnmarshalOwnedCopiesByteStrings(t *testing.T) {
	b, err := record.Marshal(storetest.Sample("owned"))
	if err != nil {
		t.Fatal(err)
	}
	keep := bytes.Clone(b)
	got, err := record.UnmarshalOwned(b)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := got.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if len(m) == 0 {
		t.Fatal("no key material decoded")
	}
	clear(m)
	if !bytes.Equal(b, keep) {
		t.Fatal("clearing the decoded key material changed the record")
	}
	for n := 1; n < len(keep); n++ {
		if _, err := record.UnmarshalOwned(bytes.Clone(keep[:n])); !errors.Is(err, record.ErrCorrupt) {
			t.Fatalf("record cut to %d of %d bytes: error %v, want ErrCorrupt", n, len(keep), err)
		}
	}
}

// TestBinaryCorrupt: every truncation of a record and every bad length or
// tag byte is reported as ErrCorrupt, never a panic or a wrong object.
func TestBinaryCorrupt(t *testing.T) {
	b, err := record.Marshal(edgeSample())
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n < len(b); n++ {
		if _, err := record.Unmarshal(b[:n]); !errors.Is(err, record.ErrCorrupt) {
			t.Fatalf("record cut to %d of %d bytes: error %v, want ErrCorrupt", n, len(b), err)
		}
	}
	if _, err := record.Unmarshal(append(bytes.Clone(b), 0)); !errors.Is(err, record.ErrCorrupt) {
		t.Errorf("trailing byte: error %v, want ErrCorrupt", err)
	}
	for _, bad := range [][]byte{
		{record.Version},
		{record.Version, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // huge ID length
		// A bare object whose payload is an item of unknown type 0x42.
		{record.Version, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x42},
		// ... whose payload item has presence byte 7.
		{record.Version, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7},
		// ... whose attribute count exceeds the bytes left.
		{record.Version, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0},
		// ... whose InitialDate has -1 nanoseconds.
		{record.Version, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
	} {
		if _, err := record.Unmarshal(bad); !errors.Is(err, record.ErrCorrupt) {
			t.Errorf("Unmarshal(% x): error %v, want ErrCorrupt", bad, err)
		}
	}
}

// TestBinaryCopies: a decoded object shares no memory with the record, which
// bbolt may reuse after its transaction.
func TestBinaryCopies(t *testing.T) {
	b, err := record.Marshal(storetest.Sample("copy"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	sameObject(t, got, storetest.Sample("copy"))
}

// FuzzUnmarshal: decoding arbitrary bytes fails cleanly or yields an object
// that encodes back to the same record.
func FuzzUnmarshal(f *testing.F) {
	for _, o := range []*domain.Object{edgeSample(), {ID: "bare"}, storetest.Sample("f")} {
		b, err := record.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"id":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := record.Unmarshal(b)
		if err != nil {
			if !errors.Is(err, record.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := record.Marshal(o)
		if err != nil {
			t.Fatalf("decoded object does not encode: %v", err)
		}
		back, err := record.Unmarshal(again)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, back, o)
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, f := range []struct {
		name    string
		marshal func(*domain.Object) ([]byte, error)
	}{{"json", record.MarshalJSON}, {"binary", record.Marshal}} {
		body, err := f.marshal(storetest.Sample("bench-object-identifier"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := record.Unmarshal(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	obj := storetest.Sample("bench-object-identifier")
	for _, f := range []struct {
		name    string
		marshal func(*domain.Object) ([]byte, error)
	}{{"json", record.MarshalJSON}, {"binary", record.Marshal}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.marshal(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A decoded structure's children share one allocation with the others':
// adding a child to one structure leaves every other item as it was.
func TestDecodedStructuresDoNotShareChildren(t *testing.T) {
	o := storetest.Sample("kids")
	body, err := record.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got.Payload.Children() {
		it.Add(kmip.Text(kmip.TagComment, "added"))
	}
	got.Payload.Add(kmip.Text(kmip.TagComment, "added"))
	for _, a := range got.Attributes {
		if a.Value.Type == kmip.TypeStructure {
			a.Value.Add(kmip.Text(kmip.TagComment, "added"))
		}
	}
	want, err := record.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(it *kmip.Item) {
		var walk func(*kmip.Item)
		walk = func(it *kmip.Item) {
			kids := it.Children()
			if len(kids) > 0 && kids[len(kids)-1].Tag == kmip.TagComment {
				it.Value = kids[:len(kids)-1]
			}
			for _, k := range it.Children() {
				walk(k)
			}
		}
		walk(it)
	}
	strip(got.Payload)
	for _, a := range got.Attributes {
		strip(a.Value)
	}
	sameObject(t, got, want)
}
