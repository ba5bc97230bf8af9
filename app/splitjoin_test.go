package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// randCrypto is fakeCrypto with a real random source, so that split shares
// depend on random polynomial coefficients.
type randCrypto struct{ fakeCrypto }

func (randCrypto) RandomBytes(_ context.Context, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

func TestSplitAndJoin(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: randCrypto{},
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keyID := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
		keyBlock(kmip.KeyFormatTypeRaw, keyBytes(secret),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 256))))))
	// 2^521-1 is a Mersenne prime larger than any 256-bit key.
	p521 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 521), big.NewInt(1))

	materialOf := func(id string) []byte {
		p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
		for _, tag := range []kmip.Tag{kmip.TagSymmetricKey, kmip.TagSplitKey} {
			if b, ok := p.Path(tag, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); ok {
				return b
			}
		}
		t.Fatalf("no key material in %v", p)
		return nil
	}
	split := func(method kmip.SplitKeyMethod, parts, threshold int32, extra ...*kmip.Item) []string {
		payload := append([]*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uidItem(keyID),
			kmip.Int(kmip.TagSplitKeyParts, parts), kmip.Int(kmip.TagSplitKeyThreshold, threshold),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(method))}, extra...)
		out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreateSplitKey, append(payload, kmip.Struct(kmip.TagTemplateAttribute))...)))
		var ids []string
		for _, it := range out.ChildrenOf(kmip.TagUniqueIdentifier) {
			id, _ := it.AsText()
			ids = append(ids, id)
		}
		if len(ids) != int(parts) {
			t.Fatalf("%s: %d parts, want %d", method, len(ids), parts)
		}
		return ids
	}
	join := func(ids ...string) result {
		payload := []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))}
		for _, id := range ids {
			payload = append(payload, uidItem(id))
		}
		return sendOne(t, s, alice, v14, batchItem(kmip.OperationJoinSplitKey, payload...))
	}

	cases := []struct {
		method           kmip.SplitKeyMethod
		parts, threshold int32
		extra            []*kmip.Item
		subsets          [][]int
	}{
		{kmip.SplitKeyMethodXOR, 3, 3, nil, [][]int{{0, 1, 2}, {2, 0, 1}}},
		{kmip.SplitKeyMethodPolynomialSharingGF2_8, 5, 3, nil, [][]int{{0, 2, 4}, {1, 3, 4}, {4, 3, 2, 1, 0}}},
		{kmip.SplitKeyMethodPolynomialSharingGF2_16, 6, 4, nil, [][]int{{0, 1, 2, 3}, {5, 3, 1, 0}}},
		{kmip.SplitKeyMethodPolynomialSharingPrimeField, 4, 2, []*kmip.Item{kmip.Big(kmip.TagPrimeFieldSize, p521)}, [][]int{{0, 3}, {2, 1}}},
	}
	for _, c := range cases {
		ids := split(c.method, c.parts, c.threshold, c.extra...)
		if bytes.Equal(materialOf(ids[0]), secret) || bytes.Equal(materialOf(ids[0]), materialOf(ids[1])) {
			t.Errorf("%s: a share reveals the key", c.method)
		}
		for _, sub := range c.subsets {
			var pick []string
			for _, i := range sub {
				pick = append(pick, ids[i])
			}
			if got := materialOf(createdID(t, join(pick...))); !bytes.Equal(got, secret) {
				t.Errorf("%s: joining parts %v does not give the key back", c.method, sub)
			}
		}
		// Fewer parts than the threshold is a Cryptographic Failure.
		mustFail(t, join(ids[:c.threshold-1]...), kmip.ResultReasonCryptographicFailure)
	}
	// Parts of different splits do not join; nor does a key that is no part.
	a := split(kmip.SplitKeyMethodPolynomialSharingGF2_8, 3, 2)
	b := split(kmip.SplitKeyMethodPolynomialSharingGF2_8, 4, 2)
	mustFail(t, join(a[0], b[1]), kmip.ResultReasonCryptographicFailure)
	mustFail(t, join(a[0], keyID), kmip.ResultReasonIllegalOperation)
	// XOR needs every part.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		uidItem(keyID), kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), kmip.Struct(kmip.TagTemplateAttribute))), kmip.ResultReasonInvalidField)
	// Another owner may neither split nor join.
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationJoinSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		uidItem(a[0]), uidItem(a[1]))), kmip.ResultReasonPermissionDenied)
}

func TestGF256(t *testing.T) {
	t.Parallel()
	// FIPS 197 §4.2: {57}·{83} = {c1}; {57}·{13} = {fe}.
	if gfMul(0x57, 0x83) != 0xc1 || gfMul(0x57, 0x13) != 0xfe {
		t.Fatal("gfMul disagrees with FIPS 197")
	}
	for a := 1; a < 256; a++ {
		if gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("gfInv(%#x) is not an inverse", a)
		}
	}
	// GF(2^16): every non-zero element has an inverse, and multiplication
	// is associative and distributes over addition (XOR) on a sample.
	for a := 1; a < 1<<16; a++ {
		if gf16Mul(uint16(a), gf16Inv(uint16(a))) != 1 {
			t.Fatalf("gf16Inv(%#x) is not an inverse", a)
		}
	}
	for a := uint16(1); a < 2000; a += 7 {
		b, c := a*31+5, a*97+11
		if gf16Mul(gf16Mul(a, b), c) != gf16Mul(a, gf16Mul(b, c)) || gf16Mul(a, b^c) != gf16Mul(a, b)^gf16Mul(a, c) {
			t.Fatalf("GF(2^16) is not a field at %#x", a)
		}
	}
}

// Create Split Key leaves the ID Placeholder at part 1; Join Split Key at
// the joined key (KMIP 1.4 §4.38-4.39).
func TestSplitJoinPlaceholder(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: randCrypto{},
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
	create := batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingGF2_8)),
		kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attribute1x("Cryptographic Length", kmip.Int(0, 128))))
	_, rs := send(t, s, alice, msg(v14, create, batchItem(kmip.OperationGet)))
	if len(rs) != 2 {
		t.Fatalf("%d batch items", len(rs))
	}
	ids := mustOK(t, rs[0]).ChildrenOf(kmip.TagUniqueIdentifier)
	got := mustOK(t, rs[1])
	first, _ := ids[0].AsText()
	if id, _ := got.Child(kmip.TagUniqueIdentifier).AsText(); id != first {
		t.Errorf("Get acted on %s, not part 1", id)
	}
	if n, _ := got.Path(kmip.TagSplitKey, kmip.TagKeyPartIdentifier).AsInt(); n != 1 {
		t.Errorf("placeholder names part %d", n)
	}
}
