package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// TestCTRInitialCounterValue: KMIP's Initial Counter Value is "the starting
// counter value for CTR mode (for [RFC3686] it is 1)". It was ignored: an IV
// shorter than the block was refused, and with a whole-block IV the value
// was silently dropped, so the ciphertext was not the one the client asked
// for. RFC 3686 §6 test vector #1: the IV is nonce || IV (12 bytes), the
// counter 32 bits from 1.
func TestCTRInitialCounterValue(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, unhex("AE6852F8121067CC4BF7A5765577F39E"))
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCTR), InitialCounterValue: 1, InitialCounterSet: true}
	iv := unhex("00000030 0000000000000000")
	out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: []byte("Single block msg"), IV: iv})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "RFC 3686 #1", out.Data, "E4095D4FB7A7B3792D6175A3261311B8")
	// Counter Length says how much of the block the counter takes.
	p32 := p
	p32.CounterLength = 32
	if out, err := e.Decrypt(ctx, key, p32, ports.CipherInput{Data: unhex("E4095D4FB7A7B3792D6175A3261311B8"), IV: iv}); err != nil || string(out.Data) != "Single block msg" {
		t.Errorf("with Counter Length 32: %q %v", out.Data, err)
	}
	// Without an IV, the engine generates the nonce and returns it.
	msg := bytes.Repeat([]byte("ctr"), 20)
	gen, err := e.Encrypt(ctx, key, p32, ports.CipherInput{Data: msg})
	if err != nil || len(gen.IV) != 12 {
		t.Fatalf("generated nonce %x, %v", gen.IV, err)
	}
	if back, err := e.Decrypt(ctx, key, p32, ports.CipherInput{Data: gen.Data, IV: gen.IV}); err != nil || !bytes.Equal(back.Data, msg) {
		t.Errorf("generated nonce round trip: %v", err)
	}
	// A whole-block IV leaves no room for the counter: refused, not ignored.
	for name, c := range map[string]struct {
		p  ports.CryptoParams
		iv []byte
	}{
		"whole-block IV":                 {p, make([]byte, 16)},
		"counter beyond length":          {ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCTR), InitialCounterValue: 1 << 32, InitialCounterSet: true}, iv},
		"negative counter":               {ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCTR), InitialCounterValue: -1, InitialCounterSet: true}, iv},
		"IV and Counter Length disagree": {ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCTR), InitialCounterValue: 1, InitialCounterSet: true, CounterLength: 64}, iv},
	} {
		if _, err := e.Encrypt(ctx, key, c.p, ports.CipherInput{Data: msg, IV: c.iv}); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
}
