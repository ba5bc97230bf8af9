package software

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Hostile inputs a client controls must give a port error, never a panic or
// minutes of CPU.

// TestChaCha20CounterOverflow: golang.org/x/crypto/chacha20 panics when the
// 32-bit block counter would wrap, and the counter is client-chosen (16-byte
// IV, Initial Counter Value, or an edited streaming State).
func TestChaCha20CounterOverflow(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmChaCha20, bytes.Repeat([]byte{1}, 32))
	nonce := bytes.Repeat([]byte{2}, 12)
	last := []byte{0xff, 0xff, 0xff, 0xff}
	data := make([]byte, 128) // two blocks: the second would need counter 2^32

	// The last block of the counter space is still usable.
	if _, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: data[:64], IV: append(append([]byte{}, last...), nonce...)}); err != nil {
		t.Errorf("one block at counter 2^32-1: %v", err)
	}
	cases := map[string]func() error{
		"16-byte IV": func() error {
			_, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: data, IV: append(append([]byte{}, last...), nonce...)})
			return err
		},
		"Initial Counter Value": func() error {
			p := ports.CryptoParams{InitialCounterValue: math.MaxUint32, InitialCounterSet: true}
			_, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: data, IV: nonce})
			return err
		},
		"Initial Counter Value beyond 32 bits": func() error {
			p := ports.CryptoParams{InitialCounterValue: 1 << 32, InitialCounterSet: true}
			_, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: data, IV: nonce})
			return err
		},
		"negative Initial Counter Value": func() error {
			p := ports.CryptoParams{InitialCounterValue: -1, InitialCounterSet: true}
			_, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: data, IV: nonce})
			return err
		},
		"edited State": func() error {
			first, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: data[:70], IV: nonce, Partial: true})
			if err != nil {
				return err
			}
			st := append([]byte{}, first.State...)
			copy(st[16+12:16+16], last) // the counter after the nonce
			_, err = e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: data, State: st})
			return err
		},
		"partial part exhausting the counter": func() error {
			// The next part would start again at counter 0: keystream reuse.
			_, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: data[:64], IV: append(append([]byte{}, last...), nonce...), Partial: true})
			return err
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			if err := f(); !errors.Is(err, ports.ErrInvalidInput) {
				t.Errorf("got %v, want ErrInvalidInput", err)
			}
		})
	}
}
