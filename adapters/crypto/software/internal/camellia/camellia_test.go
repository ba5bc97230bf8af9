package camellia

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// RFC 3713 Appendix A.
func TestRFC3713(t *testing.T) {
	pt := h("0123456789abcdeffedcba9876543210")
	for _, c := range []struct{ key, ct string }{
		{"0123456789abcdeffedcba9876543210", "67673138549669730857065648eabe43"},
		{"0123456789abcdeffedcba98765432100011223344556677", "b4993401b3e996f84ee5cee7d79b09b9"},
		{"0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", "9acc237dff16d76c20ef7c919e3a7509"},
	} {
		b, err := New(h(c.key))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 16)
		b.Encrypt(got, pt)
		if !bytes.Equal(got, h(c.ct)) {
			t.Errorf("key %s: encrypt = %x, want %s", c.key, got, c.ct)
		}
		b.Decrypt(got, h(c.ct))
		if !bytes.Equal(got, pt) {
			t.Errorf("key %s: decrypt = %x", c.key, got)
		}
	}
}

func TestKeySize(t *testing.T) {
	if _, err := New(make([]byte, 20)); err == nil {
		t.Error("20-byte key accepted")
	}
}
