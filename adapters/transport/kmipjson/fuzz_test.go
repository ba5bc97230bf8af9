package kmipjson

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
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
