package app

// Helpers shared by the app tests: principals and versions, request
// builders, and the calls that send a request and check its result.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var (
	alice = domain.Principal{Name: "alice"}
	bob   = domain.Principal{Name: "bob"}
	v14   = version{1, 4}
	v21   = version{2, 1}
)

// newService is a Service over an empty in-memory store, fakeCrypto and a
// clock fixed at 2026-11-29 12:00 UTC.
func newService(t *testing.T) *Service {
	t.Helper()
	return New(Config{Store: newMemStore(), Crypto: fakeCrypto{},
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
}

// msg builds a request message of version v holding copies of items; in a
// multi-item batch each copy that lacks a Unique Batch Item ID gets one
// numbered by its position. The items themselves are left unchanged, so a
// test may send them again and tests may run in parallel.
func msg(v version, items ...*kmip.Item) *kmip.Item {
	m := kmip.Struct(kmip.TagRequestMessage, kmip.Struct(kmip.TagRequestHeader,
		kmip.Struct(kmip.TagProtocolVersion,
			kmip.Int(kmip.TagProtocolVersionMajor, v.major), kmip.Int(kmip.TagProtocolVersionMinor, v.minor)),
		kmip.Int(kmip.TagBatchCount, int32(len(items)))))
	for i, it := range items {
		it = it.Clone()
		if len(items) > 1 && it.Child(kmip.TagUniqueBatchItemID) == nil {
			it.Add(kmip.Bytes(kmip.TagUniqueBatchItemID, []byte(fmt.Sprintf("item-%d", i+1))))
		}
		m.Add(it)
	}
	return m
}

// rawMsg builds a request message without msg's automatic batch item IDs.
func rawMsg(v version, items ...*kmip.Item) *kmip.Item {
	m := msg(v)
	m.Child(kmip.TagRequestHeader).Child(kmip.TagBatchCount).Value = int32(len(items))
	return m.Add(items...)
}

// withID gives a batch item a Unique Batch Item ID.
func withID(item *kmip.Item, id string) *kmip.Item {
	return item.Add(kmip.Bytes(kmip.TagUniqueBatchItemID, []byte(id)))
}

// batchItem is a request Batch Item of operation op with the given payload fields.
func batchItem(op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(op)),
		kmip.Struct(kmip.TagRequestPayload, payload...))
}

// attribute1x is a KMIP 1.x Attribute structure: name and a copy of v as
// its Attribute Value (v itself is not changed).
func attribute1x(name string, v *kmip.Item) *kmip.Item {
	v = v.Clone()
	v.Tag = kmip.TagAttributeValue
	return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, name), v)
}

// uidItem is a Unique Identifier field.
func uidItem(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

// nameItem is a Name of type Uninterpreted Text String.
func nameItem(n string) *kmip.Item {
	return kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, n),
		kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))
}

// aesCreate14 is a KMIP 1.4 Create of an AES key.
func aesCreate14(bits int32, name string) *kmip.Item {
	ta := kmip.Struct(kmip.TagTemplateAttribute,
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		attribute1x("Cryptographic Length", kmip.Int(0, bits)),
		attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))))
	if name != "" {
		ta.Add(attribute1x("Name", nameItem(name)))
	}
	return batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), ta)
}

// aesCreate21 is a KMIP 2.1 Create of an AES key.
func aesCreate21(bits int32, name string) *kmip.Item {
	as := kmip.Struct(kmip.TagAttributes,
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, bits),
		kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt)))
	if name != "" {
		as.Add(nameItem(name))
	}
	return batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), as)
}

// attrsFor returns the attribute container of version v holding the given
// attributes (each a value item carrying its own tag).
func attrsFor(v version, vals ...*kmip.Item) *kmip.Item {
	if v.major >= 2 {
		return kmip.Struct(kmip.TagAttributes, vals...)
	}
	box := kmip.Struct(kmip.TagTemplateAttribute)
	for _, val := range vals {
		box.Add(attribute1x(val.Tag.SpecName(), val))
	}
	return box
}

// result is what one response Batch Item says.
type result struct {
	status  kmip.ResultStatus
	reason  kmip.ResultReason
	payload *kmip.Item
}

// send handles request message m as principal who and returns the response
// with the result of each of its Batch Items.
func send(t *testing.T, s *Service, who domain.Principal, m *kmip.Item) (*kmip.Item, []result) {
	t.Helper()
	resp := s.HandleMessage(ports.WithPeer(context.Background(), who), m)
	if resp == nil || resp.Tag != kmip.TagResponseMessage {
		t.Fatalf("bad response %v", resp)
	}
	var out []result
	for _, b := range resp.ChildrenOf(kmip.TagBatchItem) {
		st, _ := b.Child(kmip.TagResultStatus).AsEnum()
		rr, _ := b.Child(kmip.TagResultReason).AsEnum()
		out = append(out, result{kmip.ResultStatus(st), kmip.ResultReason(rr), b.Child(kmip.TagResponsePayload)})
	}
	return resp, out
}

// one sends a single-item request and returns its result.
func sendOne(t *testing.T, s *Service, who domain.Principal, v version, item *kmip.Item) result {
	t.Helper()
	_, rs := send(t, s, who, msg(v, item))
	if len(rs) != 1 {
		t.Fatalf("want 1 batch item, got %d", len(rs))
	}
	return rs[0]
}

// mustOK fails the test unless r succeeded, and returns its payload.
func mustOK(t *testing.T, r result) *kmip.Item {
	t.Helper()
	if r.status != kmip.ResultStatusSuccess {
		t.Fatalf("operation failed: %s", r.reason)
	}
	return r.payload
}

// mustFail fails the test unless r failed with Result Reason want.
func mustFail(t *testing.T, r result, want kmip.ResultReason) {
	t.Helper()
	if r.status != kmip.ResultStatusOperationFailed || r.reason != want {
		t.Fatalf("got status %s reason %s, want failure %s", r.status, r.reason, want)
	}
}

// createdID fails the test unless r succeeded with a Unique Identifier, and returns it.
func createdID(t *testing.T, r result) string {
	t.Helper()
	id, ok := mustOK(t, r).Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		t.Fatal("no Unique Identifier in response")
	}
	return id
}

// state reads object id's State through Get Attributes in version v.
func state(t *testing.T, s *Service, v version, id string) domain.State {
	t.Helper()
	var p *kmip.Item
	if v.major >= 2 {
		p = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagState)))))
		st, _ := p.Path(kmip.TagAttributes, kmip.TagState).AsEnum()
		return domain.State(st)
	}
	p = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id), kmip.Text(kmip.TagAttributeName, "State"))))
	st, _ := p.Path(kmip.TagAttribute, kmip.TagAttributeValue).AsEnum()
	return domain.State(st)
}

// attrs14 returns the KMIP 1.4 Get Attributes answer as name → values.
func attrs14(t *testing.T, s *Service, id string) map[string][]*kmip.Item {
	t.Helper()
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGetAttributes, uidItem(id))))
	out := map[string][]*kmip.Item{}
	for _, a := range p.ChildrenOf(kmip.TagAttribute) {
		n, _ := a.Child(kmip.TagAttributeName).AsText()
		out[n] = append(out[n], a.Child(kmip.TagAttributeValue))
	}
	return out
}

// attrs21 returns the KMIP 2.1 Get Attributes answer as tag → values.
func attrs21(t *testing.T, s *Service, id string) map[kmip.Tag][]*kmip.Item {
	t.Helper()
	p := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGetAttributes, uidItem(id))))
	out := map[kmip.Tag][]*kmip.Item{}
	for _, a := range p.Child(kmip.TagAttributes).Children() {
		out[a.Tag] = append(out[a.Tag], a)
	}
	return out
}

func storedObj(t *testing.T, s *Service, id string) *domain.Object {
	t.Helper()
	o, err := s.cfg.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// msg leaves the items it is given unchanged, so one item may appear twice
// in a batch, be sent again, or be shared by tests running in parallel.
func TestMsgLeavesItemsUnchanged(t *testing.T) {
	t.Parallel()
	s := newService(t)
	q := batchItem(kmip.OperationQuery)
	_, rs := send(t, s, alice, msg(v14, q, q))
	if len(rs) != 2 {
		t.Fatalf("%d results for the same item twice, want 2 (distinct Unique Batch Item IDs)", len(rs))
	}
	for _, r := range rs {
		mustOK(t, r)
	}
	if q.Child(kmip.TagUniqueBatchItemID) != nil {
		t.Fatal("msg added a Unique Batch Item ID to the caller's item")
	}
}
