package kmip

import (
	"errors"
	"math/big"
	"testing"
	"time"
)

// Every item type survives AppendTTLV then ParseTTLV; every truncation and
// a corrupted padding byte are refused, never a panic.
func TestParseTTLVRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 123456000).UTC()
	it := Struct(TagBatchItem,
		Enum(TagOperation, uint32(OperationLocate)),
		Struct(TagResponsePayload,
			Int(TagLocatedItems, 2), Long(TagUsageLimitsTotal, -5), Big(TagModulus, big.NewInt(-129)),
			Big(TagPublicExponent, big.NewInt(65537)), Bool(TagFresh, true), Text(TagUniqueIdentifier, "ü-1"),
			Bytes(TagAsynchronousCorrelationValue, []byte{1, 2, 3}), DateTime(TagActivationDate, now.Truncate(time.Second)),
			DateTimeExt(TagTimeStamp, now), Interval(TagLeaseTime, 60), Struct(TagAttributes)))
	b, err := AppendTTLV(nil, it)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTTLV(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(it) {
		t.Fatalf("round trip changed the item:\n%s\n%s", got, it)
	}
	for n := range len(b) {
		if _, err := ParseTTLV(b[:n]); !errors.Is(err, ErrUnparsable) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := ParseTTLV(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	bool1 := []byte{0x42, 0x00, 0x08, byte(TypeBoolean), 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2}
	if _, err := ParseTTLV(bool1); err == nil {
		t.Fatal("Boolean 2 accepted")
	}
	pad := []byte{0x42, 0x00, 0x08, byte(TypeTextString), 0, 0, 0, 1, 'a', 0, 0, 1, 0, 0, 0, 0}
	if _, err := ParseTTLV(pad); err == nil {
		t.Fatal("non-zero padding accepted")
	}
}
