package kmipjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// FuzzDecode: Decode never panics, fails only with ErrInvalid, and whatever
// it accepts encodes back to JSON that decodes to the same TTLV bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"tag":"RequestMessage","value":[{"tag":"BatchCount","type":"Integer","value":1}]}`,
		`{"tag":"CryptographicUsageMask","type":"Integer","value":"Encrypt|Decrypt"}`,
		`{"tag":"Attribute","value":[{"tag":"AttributeName","type":"TextString","value":"Object Type"},{"tag":"AttributeValue","type":"Enumeration","value":"SymmetricKey"}]}`,
		`{"tag":"0x540001","type":"BigInteger","value":"0xff"}`,
		`{"tag":"ActivationDate","type":"DateTime","value":"2024-01-01T00:00:00Z"}`,
		`{"tag":"UsageLimitsTotal","type":"LongInteger","value":"0x8000000000000000"}`,
		`{"tag":"UniqueIdentifier","type":"TextString","value":"a\u00e9\ud83d\ude00\n\/"}`,
	} {
		f.Add([]byte(s))
	}
	lim := ttlv.Limits{MaxDepth: 16, MaxItems: 1000, MaxSize: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := Decode(b, lim)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error without ErrInvalid: %v", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted text that is not JSON: %q", b)
		}
		if s, ok := it.Value.(string); ok && it.Type == kmip.TypeTextString {
			var ref struct{ Value string }
			if err := json.Unmarshal(b, &ref); err != nil || ref.Value != s {
				t.Fatalf("text %q, encoding/json reads %q (%v)", s, ref.Value, err)
			}
		}
		want, err := ttlv.Encode(it)
		if err != nil {
			t.Fatalf("decoded item does not encode as TTLV: %v", err)
		}
		js, err := Append(nil, it)
		if err != nil {
			t.Fatalf("decoded item does not encode as JSON: %v", err)
		}
		back, err := Decode(js, ttlv.Limits{})
		if err != nil {
			t.Fatalf("re-decoding %s: %v", js, err)
		}
		got, _ := ttlv.Encode(back)
		if !bytes.Equal(got, want) {
			t.Fatalf("JSON round trip changed %s into %s", it, back)
		}
	})
}
