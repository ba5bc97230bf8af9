package domain

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Stores keep these keys: the fast formatting must give exactly the keys
// fmt gave, for every width and at the edges of each type.
func TestIndexKeysKeepTheirStoredForm(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 256, math.MaxInt32, math.MinInt32} {
		if got, want := IndexKey(kmip.Int(kmip.TagCryptographicLength, v)), fmt.Sprintf("i:%08x", uint32(v)^0x80000000); got != want {
			t.Errorf("Integer %d: %q, want %q", v, got, want)
		}
	}
	for _, v := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 40} {
		if got, want := IndexKey(kmip.Long(kmip.TagUsageLimitsTotal, v)), fmt.Sprintf("l:%016x", uint64(v)^0x8000000000000000); got != want {
			t.Errorf("Long Integer %d: %q, want %q", v, got, want)
		}
	}
	for _, v := range []uint32{0, 3, 0xabcdef, math.MaxUint32} {
		if got, want := EnumKey(v), fmt.Sprintf("e:%08x", v); got != want {
			t.Errorf("EnumKey(%d) = %q, want %q", v, got, want)
		}
		if got, want := IndexKey(kmip.Interval(kmip.TagLeaseTime, v)), fmt.Sprintf("v:%08x", v); got != want {
			t.Errorf("Interval %d: %q, want %q", v, got, want)
		}
	}
	for _, v := range []time.Time{time.Unix(0, 0), time.Unix(1700000000, 0), time.Unix(-1, 0), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		if got, want := IndexKey(kmip.DateTime(kmip.TagInitialDate, v)), fmt.Sprintf("d:%016x", uint64(v.Unix())^0x8000000000000000); got != want {
			t.Errorf("Date-Time %v: %q, want %q", v, got, want)
		}
	}
}

func BenchmarkIndexKeys(b *testing.B) {
	items := []*kmip.Item{kmip.Int(kmip.TagCryptographicLength, 256), kmip.Enum(kmip.TagCryptographicAlgorithm, 3),
		kmip.DateTime(kmip.TagInitialDate, time.Unix(1700000000, 0)), kmip.Interval(kmip.TagLeaseTime, 3600),
		kmip.Long(kmip.TagUsageLimitsTotal, 12345)}
	b.ReportAllocs()
	for b.Loop() {
		for _, it := range items {
			_ = IndexKey(it)
		}
	}
}
