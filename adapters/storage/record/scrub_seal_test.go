package record_test

import (
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports/storetest"
)

// Change.Scrub asks the store to scrub the old record whenever it held
// something secret the new one does not: a clear payload dropped or
// replaced (by a sealed one, as kmipd seal migrate does), or a sealed one
// whose wrapped data key changed (rotation); not when only the ciphertext
// under the same wrapped key changed.
func TestScrubWhenSecretLeaves(t *testing.T) {
	sealedP := func(key, box string) *kmip.Item {
		return kmip.Struct(record.SealedPayload, kmip.Bytes(0x54FFE6, []byte(key)), kmip.Bytes(0x54FFE7, []byte(box)))
	}
	clearP := storetest.Sample("x").Payload
	cases := []struct {
		name     string
		old, new *kmip.Item
		want     bool
	}{
		{"clear dropped", clearP, nil, true},
		{"clear sealed (migrate)", clearP, sealedP("k1", "b1"), true},
		{"clear replaced", clearP, kmip.Struct(kmip.TagSymmetricKey), true},
		{"clear unchanged", clearP, clearP.Clone(), false},
		{"sealed dropped", sealedP("k1", "b1"), nil, true},
		{"resealed, same wrapped key", sealedP("k1", "b1"), sealedP("k1", "b2"), false},
		{"rewrapped (rotation)", sealedP("k1", "b1"), sealedP("k2", "b2"), true},
		{"no payload", nil, nil, false},
	}
	for _, c := range cases {
		old := storetest.Sample("x")
		old.Payload = c.old
		ch, err := record.Apply(old, func(o *domain.Object) error { o.Payload = c.new.Clone(); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if ch.Scrub != c.want {
			t.Errorf("%s: Scrub = %v, want %v", c.name, ch.Scrub, c.want)
		}
	}
}
