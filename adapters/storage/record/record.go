// Package record is the stored form of a managed object shared by kmipd's
// storage adapters: a versioned compact binary encoding (binary.go) that
// round-trips a domain.Object exactly, including each kmip.Item's Type and
// the Go type of its Value, plus the index-key helpers those adapters share.
// Records written in the earlier JSON form (version 1) are still read.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Version is the record format version written by Marshal.
const Version = binaryVersion

// jsonVersion is the version of the JSON records earlier kmipd releases wrote.
const jsonVersion = 1

// ErrCorrupt reports a stored record that cannot be decoded.
var ErrCorrupt = errors.New("corrupt stored record")

type objectRec struct {
	V           int       `json:"v"`
	ID          string    `json:"id"`
	Type        uint32    `json:"type"`
	State       uint32    `json:"state"`
	Owner       string    `json:"owner"`
	Policy      string    `json:"policy"`
	InitialDate stamp     `json:"initial_date"`
	Attributes  []attrRec `json:"attributes"`
	Payload     *itemRec  `json:"payload"`
	Revision    uint64    `json:"revision"`
}

// stamp is a time as Unix seconds and nanoseconds: exact for every time.Time,
// unlike RFC 3339 text, which is limited to years 0 to 9999.
type stamp [2]int64

func toStamp(t time.Time) stamp { return stamp{t.Unix(), int64(t.Nanosecond())} }

func (s stamp) time() time.Time { return time.Unix(s[0], s[1]).UTC() }

type attrRec struct {
	Name  string   `json:"n"`
	Index int      `json:"i"`
	Value *itemRec `json:"v"`
}

// itemRec mirrors kmip.Item; V holds the JSON of the Go value its Type
// requires (see valueOf), so that nil and empty slices stay distinct.
type itemRec struct {
	Tag  uint32          `json:"g"`
	Type uint8           `json:"t"`
	V    json.RawMessage `json:"v"`
}

// Marshal encodes obj. Times come back in UTC, with monotonic readings dropped; an Item whose Value does not
// have the Go type its Type requires is refused.
func Marshal(obj *domain.Object) ([]byte, error) { return marshalBinary(obj) }

// marshalJSON encodes obj in the JSON form of format version 1, which
// Unmarshal still reads.
func marshalJSON(obj *domain.Object) ([]byte, error) {
	r := objectRec{
		V:           jsonVersion,
		ID:          obj.ID,
		Type:        obj.Type,
		State:       uint32(obj.State),
		Owner:       obj.Owner,
		Policy:      obj.Policy,
		InitialDate: toStamp(obj.InitialDate),
		Revision:    obj.Revision,
	}
	if obj.Attributes != nil {
		r.Attributes = make([]attrRec, len(obj.Attributes))
		for i, a := range obj.Attributes {
			v, err := fromItem(a.Value)
			if err != nil {
				return nil, fmt.Errorf("record: attribute %q: %w", a.Name, err)
			}
			r.Attributes[i] = attrRec{Name: a.Name, Index: a.Index, Value: v}
		}
	}
	p, err := fromItem(obj.Payload)
	if err != nil {
		return nil, fmt.Errorf("record: payload: %w", err)
	}
	r.Payload = p
	return json.Marshal(&r)
}

// Unmarshal decodes a record written by Marshal, or by an earlier kmipd in
// the JSON form; errors wrap ErrCorrupt.
func Unmarshal(b []byte) (*domain.Object, error) {
	if len(b) > 0 && (b[0] == binaryVersion || b[0] == binaryVersionV2) {
		return unmarshalBinary(b)
	}
	return unmarshalJSON(b)
}

// UnmarshalOwned is Unmarshal for a record handed over to the decoded
// object: its text shares b's memory instead of copying it, so b must never
// change afterwards (byte strings are still copied: they may be).
func UnmarshalOwned(b []byte) (*domain.Object, error) {
	if len(b) > 1 && (b[0] == binaryVersion || b[0] == binaryVersionV2) {
		return decodeBinary(b, unsafe.String(&b[1], len(b)-1))
	}
	return Unmarshal(b)
}

func unmarshalJSON(b []byte) (*domain.Object, error) {
	var r objectRec
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record: %w: %v", ErrCorrupt, err)
	}
	if r.V != jsonVersion {
		return nil, fmt.Errorf("record: %w: format version %d, want %d", ErrCorrupt, r.V, jsonVersion)
	}
	o := &domain.Object{
		ID:          r.ID,
		Type:        r.Type,
		State:       domain.State(r.State),
		Owner:       r.Owner,
		Policy:      r.Policy,
		InitialDate: r.InitialDate.time(),
		Revision:    r.Revision,
	}
	if r.Attributes != nil {
		o.Attributes = make([]domain.Attribute, len(r.Attributes))
		for i, a := range r.Attributes {
			v, err := a.Value.toItem()
			if err != nil {
				return nil, fmt.Errorf("record: %w: attribute %q: %v", ErrCorrupt, a.Name, err)
			}
			o.Attributes[i] = domain.Attribute{Name: a.Name, Index: a.Index, Value: v}
		}
	}
	p, err := r.Payload.toItem()
	if err != nil {
		return nil, fmt.Errorf("record: %w: payload: %v", ErrCorrupt, err)
	}
	o.Payload = p
	return o, nil
}

func fromItem(it *kmip.Item) (*itemRec, error) {
	if it == nil {
		return nil, nil
	}
	var v any
	ok := true
	switch it.Type {
	case kmip.TypeStructure:
		var kids []*kmip.Item
		if kids, ok = it.Value.([]*kmip.Item); ok && kids != nil {
			recs := make([]*itemRec, len(kids))
			for i, k := range kids {
				if k == nil {
					return nil, fmt.Errorf("%s: nil child", it.Tag)
				}
				r, err := fromItem(k)
				if err != nil {
					return nil, err
				}
				recs[i] = r
			}
			v = recs
		} else {
			v = []*itemRec(nil)
		}
	case kmip.TypeInteger:
		v, ok = it.Value.(int32)
	case kmip.TypeLongInteger:
		v, ok = it.Value.(int64)
	case kmip.TypeBigInteger:
		var b *big.Int
		if b, ok = it.Value.(*big.Int); ok && b != nil {
			v = b.Text(16)
		} else {
			v = nil
		}
	case kmip.TypeEnumeration, kmip.TypeInterval:
		v, ok = it.Value.(uint32)
	case kmip.TypeBoolean:
		v, ok = it.Value.(bool)
	case kmip.TypeTextString:
		v, ok = it.Value.(string)
	case kmip.TypeByteString:
		v, ok = it.Value.([]byte)
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		var t time.Time
		t, ok = it.Value.(time.Time)
		v = toStamp(t)
	default:
		return nil, fmt.Errorf("%s: unknown item type %s", it.Tag, it.Type)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %s item holds a %T", it.Tag, it.Type, it.Value)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", it.Tag, err)
	}
	return &itemRec{Tag: uint32(it.Tag), Type: uint8(it.Type), V: raw}, nil
}

func (r *itemRec) toItem() (*kmip.Item, error) {
	if r == nil {
		return nil, nil
	}
	it := &kmip.Item{Tag: kmip.Tag(r.Tag), Type: kmip.Type(r.Type)}
	var err error
	switch it.Type {
	case kmip.TypeStructure:
		var recs []*itemRec
		if err = json.Unmarshal(r.V, &recs); err == nil && recs != nil {
			kids := make([]*kmip.Item, len(recs))
			for i, k := range recs {
				if k == nil {
					return nil, fmt.Errorf("%s: nil child", it.Tag)
				}
				if kids[i], err = k.toItem(); err != nil {
					return nil, err
				}
			}
			it.Value = kids
		} else {
			it.Value = []*kmip.Item(nil)
		}
	case kmip.TypeInteger:
		it.Value, err = decode[int32](r.V)
	case kmip.TypeLongInteger:
		it.Value, err = decode[int64](r.V)
	case kmip.TypeBigInteger:
		var s *string
		if s, err = decode[*string](r.V); err == nil {
			var b *big.Int
			if s != nil {
				var ok bool
				if b, ok = new(big.Int).SetString(*s, 16); !ok {
					err = errors.New("bad big integer") // the value may be key material
				}
			}
			it.Value = b
		}
	case kmip.TypeEnumeration, kmip.TypeInterval:
		it.Value, err = decode[uint32](r.V)
	case kmip.TypeBoolean:
		it.Value, err = decode[bool](r.V)
	case kmip.TypeTextString:
		it.Value, err = decode[string](r.V)
	case kmip.TypeByteString:
		it.Value, err = decode[[]byte](r.V)
	case kmip.TypeDateTime, kmip.TypeDateTimeExtended:
		var t stamp
		t, err = decode[stamp](r.V)
		it.Value = t.time()
	default:
		return nil, fmt.Errorf("%s: unknown item type %s", it.Tag, it.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", it.Tag, err)
	}
	return it, nil
}

func decode[T any](raw json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

// MaxTermKey is the longest index key stored verbatim; TermKey hashes longer ones.
const MaxTermKey = 256

// digestPrefix starts the stored form of a hashed index key.
const digestPrefix = "#sha256:"

// TermKey returns the form of an index key (domain.IndexTerm.Key) that
// storage adapters keep: the key itself when short, otherwise a SHA-256
// digest of it, so that index entries stay small while equal keys still map
// to equal stored keys. Short keys that begin like a digest are hashed too,
// so that distinct keys never share a stored form (raw keys such as an owner
// or a policy name could otherwise imitate the digest of a long key).
func TermKey(key string) string {
	if len(key) <= MaxTermKey && !strings.HasPrefix(key, digestPrefix) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return digestPrefix + hex.EncodeToString(sum[:])
}

// Term is an index entry as adapters store it.
type Term struct{ Name, Key string }

// Terms returns the distinct stored index terms of obj (TermKey applied),
// in the order IndexTerms gives them.
func Terms(obj *domain.Object) []Term {
	src := obj.IndexTerms()
	out := make([]Term, 0, len(src))
	seen := make(map[Term]bool, len(src))
	for _, t := range src {
		k := Term{t.Name, TermKey(t.Key)}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Diff returns the terms in after but not before (added) and in before but
// not after (removed).
func Diff(before, after []Term) (added, removed []Term) {
	in := func(ts []Term) map[Term]bool {
		m := make(map[Term]bool, len(ts))
		for _, t := range ts {
			m[t] = true
		}
		return m
	}
	b, a := in(before), in(after)
	for _, t := range after {
		if !b[t] {
			added = append(added, t)
		}
	}
	for _, t := range before {
		if !a[t] {
			removed = append(removed, t)
		}
	}
	return added, removed
}

// Change is what an update of a stored object writes: its new record and
// revision, and the index entries to add and to remove.
type Change struct {
	Body           []byte
	Revision       uint64
	Added, Removed []Term
	// Scrub is true when the update dropped the payload (the key material)
	// the old record held, as Destroy does, or replaced it otherwise than by
	// resealing it under the same wrapped data key (SealedPayload): the
	// store should then leave no copy of the old record in its files that
	// it can avoid.
	Scrub bool
}

// Apply runs fn on a copy of old, a stored object, and returns what storing
// the result changes, with Revision set to old's plus one (ports.Store
// Update). It returns fn's error as is, and refuses a change of identifier.
func Apply(old *domain.Object, fn func(obj *domain.Object) error) (Change, error) {
	obj := old.Clone()
	if err := fn(obj); err != nil {
		return Change{}, err
	}
	if obj.ID != old.ID {
		return Change{}, fmt.Errorf("record: update of %q changed the object identifier", old.ID)
	}
	obj.Revision = old.Revision + 1
	body, err := Marshal(obj)
	if err != nil {
		return Change{}, err
	}
	added, removed := Diff(Terms(old), Terms(obj))
	scrub := old.Payload != nil && (obj.Payload == nil || leavesSecret(old.Payload, obj.Payload))
	return Change{Body: body, Revision: obj.Revision, Added: added, Removed: removed, Scrub: scrub}, nil
}

// broad lists the pseudo-attributes whose values most objects share.
var broad = map[string]bool{
	domain.IndexObjectType:  true,
	domain.IndexState:       true,
	domain.IndexOwner:       true,
	domain.IndexPolicy:      true,
	domain.IndexAccess:      true,
	domain.IndexOwnerAccess: true,
	domain.IndexStorage:     true,
	domain.IndexUsageBit:    true,
}

// Broad reports whether many objects are likely to share the term (object
// type, state, owner, policy and the derived terms), so that a query should
// not be driven from it when a more selective one is at hand.
func Broad(t Term) bool { return broad[t.Name] }

// PlanAny returns a Locate query's groups (ports.LocateQuery.Any) in stored
// form, each without repeats, in the order given.
func PlanAny(groups [][]domain.IndexTerm) [][]Term {
	out := make([][]Term, len(groups))
	for i, g := range groups {
		out[i] = make([]Term, 0, len(g))
		for _, t := range g {
			rt := Term{Name: t.Name, Key: TermKey(t.Key)}
			if !slices.Contains(out[i], rt) {
				out[i] = append(out[i], rt)
			}
		}
	}
	return out
}

// Plan returns a Locate query's terms in stored form, without repeats, the
// likely selective ones (attribute values such as a Name) before the broad
// ones (object type, state, owner, policy), so that an adapter driving an
// intersection from the first term reads few index entries.
func Plan(terms []domain.IndexTerm) []Term {
	out := make([]Term, 0, len(terms))
	for _, t := range terms {
		rt := Term{Name: t.Name, Key: TermKey(t.Key)}
		if !slices.Contains(out, rt) {
			out = append(out, rt)
		}
	}
	slices.SortStableFunc(out, func(a, b Term) int {
		switch {
		case broad[a.Name] == broad[b.Name]:
			return 0
		case broad[a.Name]:
			return 1
		}
		return -1
	})
	return out
}

// ErrNoID refuses to store an object without a Unique Identifier.
var ErrNoID = errors.New("empty object identifier")

// ForCreate returns what a store writes for a new object: its body and its
// index terms. It refuses an object without an identifier.
func ForCreate(obj *domain.Object) (body []byte, terms []Term, err error) {
	if obj.ID == "" {
		return nil, nil, ErrNoID
	}
	if body, err = Marshal(obj); err != nil {
		return nil, nil, err
	}
	return body, Terms(obj), nil
}

// SealedPayload is the tag of a payload sealed at rest (adapters/storage/sealed):
// a Structure whose first child names the KEK and holds the wrapped data
// key, and whose other children hold the ciphertext.
const SealedPayload = kmip.Tag(0x54FFE5)

// leavesSecret reports whether replacing payload old by new leaves in the
// old record something secret to scrub: a clear payload that changed, or a
// sealed one whose wrapped data key changed (rewrapped under a new KEK, or
// sealed anew). An envelope resealed under the same wrapped data key leaves
// only ciphertext of that key behind.
func leavesSecret(old, new *kmip.Item) bool {
	if old.Equal(new) {
		return false
	}
	if old.Tag != SealedPayload || new.Tag != SealedPayload {
		return true
	}
	ok, nk := old.Children(), new.Children()
	return len(ok) == 0 || len(nk) == 0 || !ok[0].Equal(nk[0])
}
