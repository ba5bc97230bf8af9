package kmipxml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzDecode: DecodeLimited never panics, fails only with ErrInvalid, and
// what it accepts encodes back to XML that decodes to an equal item (or is
// refused by the encoder, never altered).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`<RequestMessage><BatchCount type="Integer" value="1"/></RequestMessage>`,
		`<Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="Encrypt Decrypt"/></Attribute>`,
		`<TTLV tag="0x540001" type="BigInteger" value="00ff"/>`,
		`<KMIP><ActivationDate type="DateTime" value="2024-01-01T00:00:00+00:00"/></KMIP>`,
		`<UniqueIdentifier type="TextString" value="a&#xA;b&amp;"/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := DecodeLimited(bytes.NewReader(b), 16, 1000)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error without ErrInvalid: %v", err)
			}
			return
		}
		var out strings.Builder
		if err := Encode(&out, it); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode: %v", err)
			}
			return
		}
		back, err := Decode(strings.NewReader(out.String()))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out.String(), err)
		}
		if !back.Equal(it) {
			t.Fatalf("XML round trip changed %s into %s", it, back)
		}
	})
}
