package app

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// mersenne returns 2^n - 1.
func mersenne(n uint) *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), n), big.NewInt(1))
}

// splitPrimeField is a Create Split Key of a new 128-bit AES key over prime.
func splitPrimeField(prime *big.Int) *kmip.Item {
	return batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
		kmip.Big(kmip.TagPrimeFieldSize, prime),
		kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attribute1x("Cryptographic Length", kmip.Int(0, 128))))
}

// TestPrimeFieldSizeBounded proves a Prime Field Size longer than
// maxPrimeFieldBits is refused as Invalid Field before any primality test,
// on Create Split Key and on Register of a Split Key, while a prime within
// the bound still splits. 2^4423-1 and 2^4253-1 are Mersenne primes.
func TestPrimeFieldSizeBounded(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: randCrypto{},
		Clock: fixedClock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}})
	mustOK(t, sendOne(t, s, alice, v14, splitPrimeField(mersenne(607))))
	for _, p := range []*big.Int{mersenne(4423), mersenne(4253), new(big.Int).Lsh(big.NewInt(1), 65536)} {
		mustFail(t, sendOne(t, s, alice, v14, splitPrimeField(p)), kmip.ResultReasonInvalidField)
		sk := kmip.Struct(kmip.TagSplitKey,
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagKeyPartIdentifier, 1),
			kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
			kmip.Big(kmip.TagPrimeFieldSize, p),
			keyBlock(kmip.KeyFormatTypeRaw, keyBytes(make([]byte, 16)),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128)))
		mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSplitKey, sk)), kmip.ResultReasonInvalidField)
	}
}

// TestPrimeFieldCheckObservesContext proves the primality test does not
// start once the request's deadline has passed.
func TestPrimeFieldCheckObservesContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := checkPrimeField(ctx, mersenne(3217)); !errors.Is(err, context.Canceled) {
		t.Fatalf("checkPrimeField after cancel: %v, want context.Canceled", err)
	}
	if err := checkPrimeField(context.Background(), mersenne(3217)); err != nil {
		t.Fatalf("checkPrimeField(2^3217-1): %v", err)
	}
}

// limitedService is a Service with small attribute limits.
func limitedService() *Service {
	return New(Config{Store: newMemStore(), Crypto: randCrypto{},
		Clock:  fixedClock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)},
		Limits: Limits{MaxAttributeValueSize: 1024, MaxAttributeInstances: 3, MaxObjectAttributesSize: 4096}})
}

// addCustom is an Add Attribute of a custom text attribute in v's form.
func addCustom(v version, id, name, value string) *kmip.Item {
	if v.major >= 2 {
		return batchItem(kmip.OperationAddAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute,
			kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "x"),
				kmip.Text(kmip.TagAttributeName, name), kmip.Text(kmip.TagAttributeValue, value))))
	}
	return batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-"+name, kmip.Text(0, value)))
}

// TestAttributeValueSizeLimit proves one attribute value above
// MaxAttributeValueSize is refused on Add Attribute and on Register, with
// Invalid Field in KMIP 1.4 and Server Limit Exceeded in KMIP 2.1, and that
// the object keeps no part of it.
func TestAttributeValueSizeLimit(t *testing.T) {
	t.Parallel()
	s := limitedService()
	big := string(make([]byte, 2000))
	for _, tc := range []struct {
		v    version
		want kmip.ResultReason
	}{{v14, kmip.ResultReasonInvalidField}, {v21, kmip.ResultReasonServerLimitExceeded}} {
		id := createdID(t, sendOne(t, s, alice, tc.v, registerSecret(tc.v)))
		mustOK(t, sendOne(t, s, alice, tc.v, addCustom(tc.v, id, "small", "fits")))
		mustFail(t, sendOne(t, s, alice, tc.v, addCustom(tc.v, id, "big", big)), tc.want)
		for _, a := range attrs21(t, s, id)[kmip.TagAttribute] {
			if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "big" {
				t.Errorf("%v: the refused value was stored", tc.v)
			}
		}
		mustFail(t, sendOne(t, s, alice, tc.v, registerSecret(tc.v, kmip.Text(kmip.TagContactInformation, big))), tc.want)
	}
}

// TestAttributeInstancesLimit proves the instance after
// MaxAttributeInstances is refused (KMIP 1.4 §11.15: Index Out of Bounds;
// KMIP 2.1: Server Limit Exceeded), and that deleting one makes room.
func TestAttributeInstancesLimit(t *testing.T) {
	t.Parallel()
	s := limitedService()
	for _, tc := range []struct {
		v    version
		want kmip.ResultReason
	}{{v14, kmip.ResultReasonIndexOutOfBounds}, {v21, kmip.ResultReasonServerLimitExceeded}} {
		id := createdID(t, sendOne(t, s, alice, tc.v, registerSecret(tc.v)))
		for i := 0; i < 3; i++ {
			mustOK(t, sendOne(t, s, alice, tc.v, addCustom(tc.v, id, "tag", string(rune('a'+i)))))
		}
		mustFail(t, sendOne(t, s, alice, tc.v, addCustom(tc.v, id, "tag", "d")), tc.want)
		mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "x-tag"))))
		mustOK(t, sendOne(t, s, alice, tc.v, addCustom(tc.v, id, "tag", "d")))
	}
}

// TestObjectAttributesSizeLimit proves an object's attributes cannot grow
// past MaxObjectAttributesSize by adding values each within the value limit
// (Permission Denied in KMIP 1.4, Server Limit Exceeded in 2.1), while an
// object over the limit may still shrink.
func TestObjectAttributesSizeLimit(t *testing.T) {
	t.Parallel()
	s := limitedService()
	value := string(make([]byte, 900))
	for _, tc := range []struct {
		v    version
		want kmip.ResultReason
	}{{v14, kmip.ResultReasonPermissionDenied}, {v21, kmip.ResultReasonServerLimitExceeded}} {
		id := createdID(t, sendOne(t, s, alice, tc.v, registerSecret(tc.v)))
		var refused bool
		for i := 0; i < 10 && !refused; i++ {
			r := sendOne(t, s, alice, tc.v, addCustom(tc.v, id, fmt.Sprintf("n%d", i), value))
			if r.status != kmip.ResultStatusSuccess {
				mustFail(t, r, tc.want)
				refused = true
			}
		}
		if !refused {
			t.Fatalf("%v: ten 900-byte attributes were added under a 4096-byte object limit", tc.v)
		}
		obj, err := s.cfg.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, a := range obj.Attributes {
			total += attrSize(a)
		}
		if total > 4096 {
			t.Errorf("%v: the object's attributes take %d bytes", tc.v, total)
		}
	}
}

// TestAttrLimitsAllowShrinking proves checkAttrLimits refuses only growth:
// an object already past every limit may lose or shrink attributes.
func TestAttrLimitsAllowShrinking(t *testing.T) {
	t.Parallel()
	s := limitedService()
	c := &call{v: v14}
	before := &domain.Object{}
	for i := 0; i < 5; i++ {
		before.AddAttr("x-big", kmip.Text(kmip.TagAttributeValue, fmt.Sprint(i, string(make([]byte, 1500)))))
	}
	after := before.Clone()
	after.Attributes = after.Attributes[1:]
	if err := s.checkAttrLimits(c, before, after); err != nil {
		t.Fatalf("removing an instance from an object over the limits: %v", err)
	}
	after.AddAttr("x-big", kmip.Text(kmip.TagAttributeValue, "small"))
	after.AddAttr("x-big", kmip.Text(kmip.TagAttributeValue, "small2"))
	if err := s.checkAttrLimits(c, before, after); err == nil {
		t.Fatal("growing an object over the instance limit was allowed")
	}
}

// hashPart is a part of a streamed SHA-256 Hash: the first when cv is nil.
func hashPart(cv []byte, b []byte, final bool) *kmip.Item {
	sha := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)))
	item := batchItem(kmip.OperationHash, sha, data(b))
	p := item.Child(kmip.TagRequestPayload)
	if cv == nil {
		p.Add(kmip.Bool(kmip.TagInitIndicator, true))
	} else {
		p.Add(kmip.Bytes(kmip.TagCorrelationValue, cv))
	}
	if final {
		p.Add(kmip.Bool(kmip.TagFinalIndicator, true))
	}
	return item
}

// TestStreamCountLimits proves the open streams are bounded per client and
// in all, counted in the store: two Services on one store (two nodes) share
// the bounds, a refusal is Permission Denied in KMIP 1.4 and Server Limit
// Exceeded in 2.1, and finishing a stream makes room.
func TestStreamCountLimits(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	cfg := Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		Limits: Limits{MaxStreamsPerClient: 2, MaxStreams: 3}}
	node1, node2 := New(cfg), New(cfg)
	open := func(s *Service, who domain.Principal, v version) result {
		return sendOne(t, s, who, v, hashPart(nil, []byte("abc"), false))
	}
	first := bytesOf(t, mustOK(t, open(node1, alice, v14)), kmip.TagCorrelationValue)
	mustOK(t, open(node2, alice, v21))
	mustFail(t, open(node1, alice, v14), kmip.ResultReasonPermissionDenied)
	mustFail(t, open(node2, alice, v21), kmip.ResultReasonServerLimitExceeded)
	mustOK(t, open(node2, bob, v14))
	mustFail(t, open(node1, bob, v14), kmip.ResultReasonPermissionDenied) // three open in all
	// A continued part stays within the bounds it replaces.
	mustOK(t, sendOne(t, node2, alice, v14, hashPart(first, []byte("def"), false)))
	mustOK(t, sendOne(t, node1, alice, v14, hashPart(first, nil, true)))
	mustOK(t, open(node2, bob, v14))
	if n := st.scratchCount(); n != 3 {
		t.Fatalf("%d streams stored, want 3", n)
	}
}

// TestStreamBytesLimits proves the stream state a client keeps is bounded:
// a part whose buffered data would pass the per-client bytes is refused and
// ends its stream, and the bound for all clients holds across clients.
func TestStreamBytesLimits(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		Limits: Limits{MaxStreamBytesPerClient: 1000, MaxStreamBytes: 1500}})
	cv := bytesOf(t, mustOK(t, sendOne(t, s, alice, v21, hashPart(nil, make([]byte, 600), false))), kmip.TagCorrelationValue)
	mustFail(t, sendOne(t, s, alice, v21, hashPart(cv, make([]byte, 600), false)), kmip.ResultReasonServerLimitExceeded)
	mustFail(t, sendOne(t, s, alice, v21, hashPart(cv, nil, true)), kmip.ResultReasonInvalidCorrelationValue)
	mustOK(t, sendOne(t, s, alice, v21, hashPart(nil, make([]byte, 900), false)))
	mustFail(t, sendOne(t, s, bob, v21, hashPart(nil, make([]byte, 900), false)), kmip.ResultReasonServerLimitExceeded)
	mustOK(t, sendOne(t, s, bob, v21, hashPart(nil, make([]byte, 400), false)))
}

// TestSplitKeyLengthBounded proves Create Split Key refuses a key longer
// than maxSplitKeyBytes (a 1 MiB key split 255 ways, threshold 255,
// would be 255 MiB of parts and minutes of field arithmetic) with Invalid
// Field in KMIP 1.4 and Server Limit Exceeded in 2.1, while one within the
// bound splits.
func TestSplitKeyLengthBounded(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: randCrypto{}, Clock: fixedClock{testNow}})
	split := func(v version, bits int32) result {
		box := kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmDES3))),
			attribute1x("Cryptographic Length", kmip.Int(0, bits)))
		if v.major >= 2 {
			box = kmip.Struct(kmip.TagAttributes,
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmDES3)),
				kmip.Int(kmip.TagCryptographicLength, bits))
		}
		return sendOne(t, s, alice, v, batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
			kmip.Int(kmip.TagSplitKeyParts, 255), kmip.Int(kmip.TagSplitKeyThreshold, 255),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingGF2_8)), box))
	}
	mustOK(t, split(v14, 8*maxSplitKeyBytes))
	mustFail(t, split(v14, 8*maxSplitKeyBytes+8), kmip.ResultReasonInvalidField)
	mustFail(t, split(v21, 8*maxSplitKeyBytes+16), kmip.ResultReasonServerLimitExceeded)
}

// TestLocateInternalMaximum proves Locate returns at most MaxLocateItems
// identifiers when Maximum Items is omitted or larger (KMIP 1.4 §4.9 lets
// the server impose an internal maximum), while Located Items counts every
// match and Offset Items reaches the rest.
func TestLocateInternalMaximum(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, Clock: fixedClock{testNow}, Limits: Limits{MaxLocateItems: 3}})
	for i := 0; i < 5; i++ {
		createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	}
	for _, tc := range []struct {
		args []*kmip.Item
		want int
	}{
		{nil, 3},
		{[]*kmip.Item{kmip.Int(kmip.TagMaximumItems, 100)}, 3},
		{[]*kmip.Item{kmip.Int(kmip.TagMaximumItems, 2)}, 2},
		{[]*kmip.Item{kmip.Int(kmip.TagOffsetItems, 3)}, 2},
	} {
		out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, tc.args...)))
		if n := len(out.ChildrenOf(kmip.TagUniqueIdentifier)); n != tc.want {
			t.Errorf("Locate %v: %d identifiers, want %d", tc.args, n, tc.want)
		}
		if n, _ := out.Child(kmip.TagLocatedItems).AsInt(); n != 5 {
			t.Errorf("Locate %v: Located Items %d, want 5", tc.args, n)
		}
	}
}

// TestDeriveBoundedByBaseLinks proves each Derive Key's Derived Key Link on
// its base counts against the base's attribute limits: once the base holds
// MaxAttributeInstances links, a derivation is refused and stores nothing.
func TestDeriveBoundedByBaseLinks(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Limits: Limits{MaxAttributeInstances: 2}})
	base := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskDeriveKey), activeNow())
	derive := func() result {
		return sendOne(t, s, alice, v14, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			uidItem(base), kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
			kmip.Struct(kmip.TagDerivationParameters,
				kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
				kmip.Bytes(kmip.TagDerivationData, []byte("context"))),
			attrsFor(v14, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128), mask(kmip.CryptographicUsageMaskEncrypt))))
	}
	createdID(t, derive())
	createdID(t, derive())
	mustFail(t, derive(), kmip.ResultReasonIndexOutOfBounds)
	if ids, _ := st.Locate(context.Background(), ports.LocateQuery{}); len(ids) != 3 {
		t.Errorf("%d objects after a refused derivation, want 3 (base and two derived)", len(ids))
	}
}

// TestResponseSizeBounded proves the batch items of one response stay under
// MaxResponseSize: the item that would pass it answers Response Too Large
// without its payload, and the batch stops there (its continuation option
// being Stop) or goes on refusing each item that does not fit (Continue).
func TestResponseSizeBounded(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Limits: Limits{MaxResponseSize: 50000}})
	rng := func() *kmip.Item { return batchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 20000)) }
	resp, rs := send(t, s, alice, msg(v14, rng(), rng(), rng(), rng()))
	if len(rs) != 3 || rs[0].status != kmip.ResultStatusSuccess || rs[1].status != kmip.ResultStatusSuccess {
		t.Fatalf("results %+v, want two successes then Response Too Large", rs)
	}
	mustFail(t, rs[2], kmip.ResultReasonResponseTooLarge)
	if rs[2].payload != nil {
		t.Error("the refused item kept its payload")
	}
	if n := kmip.EncodedLen(resp); n > 50000+1024 {
		t.Errorf("response of %d bytes", n)
	}
	m := msg(v14, rng(), rng(), rng(), batchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 16)), rng())
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionContinue)))
	_, rs = send(t, s, alice, m)
	if len(rs) != 5 || rs[1].status != kmip.ResultStatusSuccess || rs[3].status != kmip.ResultStatusSuccess {
		t.Fatalf("Continue: results %+v, want the small fourth item to succeed", rs)
	}
	mustFail(t, rs[2], kmip.ResultReasonResponseTooLarge)
	mustFail(t, rs[4], kmip.ResultReasonResponseTooLarge)
}
