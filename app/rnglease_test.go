package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// x931Crypto is the fake engine describing itself as ANSI X9.31 with AES-256.
type x931Crypto struct{ fakeCrypto }

func (x931Crypto) RNG() ports.RNGInfo {
	return ports.RNGInfo{Algorithm: uint32(kmip.RNGAlgorithmANSIX9_31),
		CryptoAlgorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 256}
}

func newRNGLeaseService(lease time.Duration) *Service {
	return New(Config{Store: newMemStore(), Crypto: x931Crypto{}, LeaseTime: lease,
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
}

var x931Want = kmip.Struct(kmip.TagRandomNumberGenerator,
	kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmANSIX9_31)),
	kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
	kmip.Int(kmip.TagCryptographicLength, 256))

// Generated keys report the generator the engine describes; Query RNGs too.
func TestRNGFromEngine(t *testing.T) {
	t.Parallel()
	s := newRNGLeaseService(0)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	if got := attrs21(t, s, id)[kmip.TagRandomNumberGenerator]; len(got) != 1 || !got[0].Equal(x931Want) {
		t.Fatalf("RNG %v, want %v", got, x931Want)
	}
	// A client naming exactly the server's generator is accepted.
	create := aesCreate21(128, "")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Add(x931Want.Clone())
	mustOK(t, sendOne(t, s, alice, v21, create))
	for _, v := range []version{v14, v21} {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryRNGs)))))
		rp := p.Child(kmip.TagRNGParameters)
		if rp == nil {
			t.Fatalf("%s: no RNG Parameters", v)
		}
		want := x931Want.Clone()
		want.Tag = kmip.TagRNGParameters
		if !rp.Equal(want) {
			t.Fatalf("%s: RNG Parameters %v", v, rp)
		}
	}
	// An engine that describes nothing is Unspecified.
	plain := newService(t)
	id = createdID(t, sendOne(t, plain, alice, v21, aesCreate21(128, "")))
	if a, _ := attrs21(t, plain, id)[kmip.TagRandomNumberGenerator][0].Child(kmip.TagRNGAlgorithm).AsEnum(); a != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Fatalf("undescribed engine reported RNG %d", a)
	}
}

func TestLeaseTime(t *testing.T) {
	t.Parallel()
	s := newRNGLeaseService(time.Hour)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	if lt, ok := attrs21(t, s, id)[kmip.TagLeaseTime][0].AsInterval(); !ok || lt != 3600 {
		t.Fatalf("Lease Time %d %v, want 3600", lt, ok)
	}
	sid := createdID(t, sendOne(t, s, alice, v14, registerSecret(v14)))
	if lt, _ := attrs21(t, s, sid)[kmip.TagLeaseTime][0].AsInterval(); lt != 3600 {
		t.Fatalf("registered object's Lease Time %d", lt)
	}
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationObtainLease, uidItem(id))))
	if lt, _ := p.Child(kmip.TagLeaseTime).AsInterval(); lt != 3600 {
		t.Fatalf("Obtain Lease granted %d", lt)
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(id), kmip.Interval(kmip.TagLeaseTime, 3600))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(id), kmip.Interval(kmip.TagLeaseTime, 3601))), kmip.ResultReasonPermissionDenied)
	// Lease Time is the server's: clients may not set, modify or delete it.
	mustFail(t, sendOne(t, s, alice, v21, registerSecret(v21, kmip.Interval(kmip.TagLeaseTime, 10))), kmip.ResultReasonAttributeReadOnly)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.Interval(kmip.TagLeaseTime, 10)))), kmip.ResultReasonAttributeReadOnly)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Struct(kmip.TagCurrentAttribute, kmip.Interval(kmip.TagLeaseTime, 3600)))), kmip.ResultReasonAttributeReadOnly)

	// Lease time 0: no attribute, Obtain Lease grants no limit.
	s = newRNGLeaseService(0)
	id = createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	if got := attrs21(t, s, id)[kmip.TagLeaseTime]; len(got) != 0 {
		t.Fatalf("Lease Time %v with leases disabled", got)
	}
	p = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationObtainLease, uidItem(id))))
	if lt, _ := p.Child(kmip.TagLeaseTime).AsInterval(); lt != 0 {
		t.Fatalf("Obtain Lease granted %d with leases disabled", lt)
	}
}

func TestLeaseSecondsCaps(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]uint32{0: 0, -time.Second: 0, 1500 * time.Millisecond: 1, time.Hour: 3600, 200 * 365 * 24 * time.Hour: 1<<32 - 1} {
		if got := (&Service{cfg: Config{LeaseTime: d}}).leaseSeconds(); got != want {
			t.Errorf("%v: %d, want %d", d, got, want)
		}
	}
}

// listingCrypto also uses the operating system's generator (for IVs and the like).
type listingCrypto struct{ x931Crypto }

func (c listingCrypto) RNGs() []ports.RNGInfo {
	return []ports.RNGInfo{c.RNG(), {Algorithm: uint32(kmip.RNGAlgorithmUnspecified)}}
}
