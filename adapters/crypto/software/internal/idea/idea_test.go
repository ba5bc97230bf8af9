package idea

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

// Vectors: the IDEA reference example (Lai's thesis, key 0001..0008) and
// NESSIE's Idea-128-64.verified.test-vectors (sets 1, 2 and 3).
func TestKnownAnswers(t *testing.T) {
	for _, c := range []struct{ key, pt, ct string }{
		{"00010002000300040005000600070008", "0000000100020003", "11fbed2b01986de5"},
		{"80000000000000000000000000000000", "0000000000000000", "b1f5f7f87901370f"},
		{"00000000000000000000000000000001", "0000000000000000", "c57adbde27bc26cf"},
		{"00000000000000000000000000000000", "8000000000000000", "8001000180008000"},
		{"00000000000000000000000000000000", "0000000000000001", "0013fff500120009"},
		{"00000000000000000000000000000000", "0000000000000000", "0001000100000000"},
		{"01010101010101010101010101010101", "0101010101010101", "e3f8aff7a3795615"},
		{"02020202020202020202020202020202", "0202020202020202", "93d8c66f869189b9"},
	} {
		b, err := New(h(c.key))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 8)
		b.Encrypt(got, h(c.pt))
		if !bytes.Equal(got, h(c.ct)) {
			t.Errorf("key %s pt %s: encrypt = %x, want %s", c.key, c.pt, got, c.ct)
		}
		b.Decrypt(got, h(c.ct))
		if !bytes.Equal(got, h(c.pt)) {
			t.Errorf("key %s: decrypt = %x, want %s", c.key, got, c.pt)
		}
	}
}

func TestMulInv(t *testing.T) {
	for x := 0; x < 1<<16; x += 7 {
		if mul(uint16(x), mulInv(uint16(x))) != 1 {
			t.Fatalf("mulInv(%d) wrong", x)
		}
	}
}
