package x931

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
)

// reference computes n X9.31 A.2.4 blocks straight from the definition
// (NIST 2005, §3: I = E_K(DT), R = E_K(I xor V), V = E_K(R xor I)), DT
// incremented by one per block as in the RNGVS.
func reference(t *testing.T, key []byte, v, dt [16]byte, n int) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for range n {
		i := make([]byte, 16)
		b.Encrypt(i, dt[:])
		x := make([]byte, 16)
		for k := range x {
			x[k] = i[k] ^ v[k]
		}
		r := make([]byte, 16)
		b.Encrypt(r, x)
		for k := range x {
			x[k] = r[k] ^ i[k]
		}
		b.Encrypt(v[:], x)
		out = append(out, r...)
		incrementDT(&dt)
	}
	return out
}

func TestFixedMatchesDefinition(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	var v, dt [16]byte
	copy(v[:], bytes.Repeat([]byte{0x80}, 16))
	dt[15] = 0xfe // the counter carries into byte 14 on the third block
	g, err := NewFixed(key, v, dt)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 16*5)
	if _, err := g.Read(got); err != nil {
		t.Fatal(err)
	}
	if want := reference(t, key, v, dt, 5); !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	// A short read consumes a whole block; the next read starts a new one.
	g2, _ := NewFixed(key, v, dt)
	a := make([]byte, 5)
	b := make([]byte, 16)
	g2.Read(a)
	g2.Read(b)
	if !bytes.Equal(a, got[:5]) || !bytes.Equal(b, got[16:32]) {
		t.Fatalf("partial reads: %x %x", a, b)
	}
}

func TestIncrementDTCarries(t *testing.T) {
	var dt [16]byte
	for k := 8; k < 16; k++ {
		dt[k] = 0xff
	}
	incrementDT(&dt)
	if dt[7] != 1 || dt[15] != 0 || dt[8] != 0 {
		t.Fatalf("got %x", dt)
	}
}

func TestNewFixedRejectsShortKey(t *testing.T) {
	if _, err := NewFixed(make([]byte, 16), [16]byte{}, [16]byte{}); err == nil {
		t.Fatal("AES-128 key accepted")
	}
}

type countingReader struct{ calls int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	for i := range p {
		p[i] = byte(c.calls + i)
	}
	return len(p), nil
}

func TestReseedsAfterBound(t *testing.T) {
	src := &countingReader{}
	g := &Generator{entropy: src}
	buf := make([]byte, 16)
	for range ReseedBlocks {
		if _, err := g.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if src.calls != 1 {
		t.Fatalf("reseeded %d times within the bound", src.calls)
	}
	g.Read(buf)
	if src.calls != 2 {
		t.Fatalf("calls = %d after the bound, want 2", src.calls)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestEntropyFailureIsReported(t *testing.T) {
	g := &Generator{entropy: failingReader{}}
	if _, err := g.Read(make([]byte, 8)); err == nil {
		t.Fatal("no error without entropy")
	}
}

func TestConcurrentOutputsDiffer(t *testing.T) {
	g := New()
	const workers, per = 8, 200
	out := make([][]byte, workers*per)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				b := make([]byte, 16)
				if _, err := g.Read(b); err != nil {
					t.Error(err)
					return
				}
				out[w*per+i] = b
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, b := range out {
		if seen[string(b)] {
			t.Fatalf("repeated block %x", b)
		}
		seen[string(b)] = true
	}
}
