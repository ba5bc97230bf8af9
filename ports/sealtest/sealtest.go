// Package sealtest is the contract suite every ports.KEK adapter passes
// (the key-file seal and the PKCS#11 seal).
package sealtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// Opener opens the KEK called name: opening the same name again (as a
// restarted server does) gives the same key, another name another key. It
// closes what it opens when t ends.
type Opener func(t *testing.T, name string) ports.KEK

// Run runs the contract suite.
func Run(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("OtherKEK", func(t *testing.T) { testOtherKEK(t, open) })
	t.Run("Tampered", func(t *testing.T) { testTampered(t, open) })
	t.Run("BadDataKey", func(t *testing.T) { testBadDataKey(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
}

func randomKey(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	k := open(t, "a")
	for _, n := range []int{16, 32, 64} {
		dek := randomKey(t, n)
		w1, err := k.WrapKey(ctx, dek)
		if err != nil {
			t.Fatalf("WrapKey(%d bytes): %v", n, err)
		}
		if bytes.Contains(w1, dek) {
			t.Fatalf("wrapped key holds the data key in clear")
		}
		w2, err := k.WrapKey(ctx, dek)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(w1, w2) {
			t.Errorf("two wraps of one data key are equal: wrapping must be randomized")
		}
		for _, w := range [][]byte{w1, w2} {
			got, err := k.UnwrapKey(ctx, w)
			if err != nil {
				t.Fatalf("UnwrapKey: %v", err)
			}
			if !bytes.Equal(got, dek) {
				t.Fatalf("UnwrapKey gave another key")
			}
		}
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	k := open(t, "a")
	dek := randomKey(t, 32)
	w, err := k.WrapKey(ctx, dek)
	if err != nil {
		t.Fatal(err)
	}
	again := open(t, "a")
	if again.ID() != k.ID() || k.ID() == "" {
		t.Fatalf("reopened KEK ID %q, first %q: want equal and non-empty", again.ID(), k.ID())
	}
	got, err := again.UnwrapKey(ctx, w)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("reopened KEK: UnwrapKey = %v, equal %v", err, bytes.Equal(got, dek))
	}
}

func testOtherKEK(t *testing.T, open Opener) {
	ctx := context.Background()
	a, b := open(t, "a"), open(t, "b")
	if a.ID() == b.ID() {
		t.Fatalf("two KEKs share the ID %q", a.ID())
	}
	w, err := a.WrapKey(ctx, randomKey(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.UnwrapKey(ctx, w); !errors.Is(err, ports.ErrUnwrap) {
		t.Fatalf("another KEK unwrapped: err = %v, want ErrUnwrap", err)
	}
}

func testTampered(t *testing.T, open Opener) {
	ctx := context.Background()
	k := open(t, "a")
	w, err := k.WrapKey(ctx, randomKey(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		bad := bytes.Clone(w)
		bad[i] ^= 0x01
		if _, err := k.UnwrapKey(ctx, bad); !errors.Is(err, ports.ErrUnwrap) {
			t.Fatalf("byte %d flipped: err = %v, want ErrUnwrap", i, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, w[:len(w)-1], append(bytes.Clone(w), 0)} {
		if _, err := k.UnwrapKey(ctx, bad); !errors.Is(err, ports.ErrUnwrap) {
			t.Fatalf("%d-byte input: err = %v, want ErrUnwrap", len(bad), err)
		}
	}
}

func testBadDataKey(t *testing.T, open Opener) {
	ctx := context.Background()
	k := open(t, "a")
	for _, n := range []int{0, 15, 65} {
		if _, err := k.WrapKey(ctx, make([]byte, n)); err == nil {
			t.Errorf("WrapKey accepted a %d-byte data key", n)
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	k := open(t, "a")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				dek := make([]byte, 32)
				rand.Read(dek)
				w, err := k.WrapKey(ctx, dek)
				if err == nil {
					var got []byte
					if got, err = k.UnwrapKey(ctx, w); err == nil && !bytes.Equal(got, dek) {
						err = errors.New("concurrent round trip gave another key")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
