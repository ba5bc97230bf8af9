package kmipparams

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestNewIV(t *testing.T) {
	iv16 := bytes.Repeat([]byte{7}, 16)
	cases := []struct {
		name      string
		ivLength  int
		iv        []byte
		enc       bool
		want, def int
		gotLen    int // the IV length returned
		generated bool
		err       error
	}{
		{"given, checked", 0, iv16, true, 16, 16, 16, false, nil},
		{"given, wrong length", 0, iv16[:12], true, 16, 16, 0, false, ports.ErrInvalidInput},
		{"given, any length", 0, iv16[:5], false, 0, 12, 5, false, nil},
		{"given, IV Length ignored", 64, iv16, false, 16, 16, 16, false, nil},
		{"generated, default", 0, nil, true, 16, 16, 16, true, nil},
		{"generated, GCM default 12", 0, nil, true, 0, 12, 12, true, nil},
		{"generated, IV Length", 128, nil, true, 0, 12, 16, true, nil},
		{"generated, IV Length equal to want", 128, nil, true, 16, 16, 16, true, nil},
		{"IV Length not whole bytes", 100, nil, true, 0, 12, 0, false, ports.ErrInvalidInput},
		{"IV Length against the block", 96, nil, true, 16, 16, 0, false, ports.ErrInvalidInput},
		{"IV Length too long", 1032, nil, true, 0, 12, 0, false, ports.ErrInvalidInput},
		{"IV Length 1024", 1024, nil, true, 0, 12, 128, true, nil},
		{"IV Length negative", -8, nil, true, 0, 12, 0, false, ports.ErrInvalidInput},
		{"decryption without IV", 0, nil, false, 16, 16, 0, false, ports.ErrInvalidInput},
	}
	for _, c := range cases {
		iv, gen, err := NewIV(ports.CryptoParams{IVLength: c.ivLength}, ports.CipherInput{IV: c.iv}, c.enc, c.want, c.def)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || len(iv) != c.gotLen || gen != c.generated {
			t.Errorf("%s: %d-byte IV, generated %v, %v; want %d bytes, generated %v", c.name, len(iv), gen, err, c.gotLen, c.generated)
		}
		if c.iv != nil && !bytes.Equal(iv, c.iv) {
			t.Errorf("%s: the caller's IV was not returned as is", c.name)
		}
	}
	a, _, _ := NewIV(ports.CryptoParams{}, ports.CipherInput{}, true, 16, 16)
	b, _, _ := NewIV(ports.CryptoParams{}, ports.CipherInput{}, true, 16, 16)
	if bytes.Equal(a, b) {
		t.Error("two generated IVs are equal")
	}
}

func TestCTRInitialBlock(t *testing.T) {
	cases := []struct {
		name      string
		counterLn int
		value     int64
		iv        []byte
		enc       bool
		bs        int
		want      string // the block; with a generated nonce, only its counter part
		genLen    int    // bytes of generated nonce
		err       bool
	}{
		// RFC 3686 §6 test vector #1: nonce || IV (12 bytes), 32-bit counter from 1.
		{"RFC 3686 #1", 0, 1, unhex("000000300000000000000000"), true, 16, "00000030000000000000000000000001", 0, false},
		{"Counter Length 32", 32, 1, unhex("006cb6dbc0543b59da48d90b"), false, 16, "006cb6dbc0543b59da48d90b00000001", 0, false},
		{"64-bit counter", 64, 0x0102030405060708, unhex("aabbccddeeff0011"), true, 16, "aabbccddeeff00110102030405060708", 0, false},
		{"8-bit counter, 3DES block", 8, 255, unhex("01020304050607"), true, 8, "01020304050607ff", 0, false},
		{"the IV decides the counter", 0, 2, unhex("0102030405060708090a0b0c0d"), true, 16, "0102030405060708090a0b0c0d000002", 0, false},
		{"generated nonce, 32-bit counter", 0, 5, nil, true, 16, "00000005", 12, false},
		{"generated nonce, Counter Length 64", 64, 5, nil, true, 16, "0000000000000005", 8, false},
		{"decryption needs the nonce", 0, 1, nil, false, 16, "", 0, true},
		{"Counter Length not whole bytes", 20, 1, nil, true, 16, "", 0, true},
		{"Counter Length above 64", 72, 1, nil, true, 16, "", 0, true},
		{"Counter Length the whole block", 64, 1, nil, true, 8, "", 0, true},
		{"IV against Counter Length", 32, 1, unhex("0102030405060708"), true, 16, "", 0, true},
		{"IV leaves more than 8 bytes", 0, 1, unhex("01020304"), true, 16, "", 0, true},
		{"IV leaves nothing", 0, 1, make([]byte, 16), true, 16, "", 0, true},
		{"value too big for the counter", 8, 256, unhex("01020304050607"), true, 8, "", 0, true},
		{"negative value", 0, -1, unhex("000000300000000000000000"), true, 16, "", 0, true},
	}
	for _, c := range cases {
		p := ports.CryptoParams{CounterLength: c.counterLn, InitialCounterValue: c.value, InitialCounterSet: true}
		block, gen, err := CTRInitialBlock(p, ports.CipherInput{IV: c.iv}, c.enc, c.bs)
		if c.err {
			if !errors.Is(err, ports.ErrInvalidInput) {
				t.Errorf("%s: err = %v, want ErrInvalidInput", c.name, err)
			}
			continue
		}
		if err != nil || len(block) != c.bs || len(gen) != c.genLen {
			t.Errorf("%s: block %x, generated %x, %v", c.name, block, gen, err)
			continue
		}
		if got := hex.EncodeToString(block[c.bs-len(c.want)/2:]); got != c.want {
			t.Errorf("%s: block %x, want it to end in %s", c.name, block, c.want)
		}
		if gen != nil && !bytes.Equal(block[:len(gen)], gen) {
			t.Errorf("%s: block %x does not start with the generated nonce %x", c.name, block, gen)
		}
	}
}

func TestGCMTagLength(t *testing.T) {
	cases := []struct {
		name   string
		tagLn  int
		tag    int
		enc    bool
		want   int
		errors bool
	}{
		{"default on encryption", 0, 0, true, 16, false},
		{"Tag Length", 12, 0, true, 12, false},
		{"the tag decides on decryption", 0, 13, false, 13, false},
		{"Tag Length wins over the tag", 16, 12, false, 16, false},
		{"encryption ignores a tag", 0, 8, true, 16, false},
		{"too short", 11, 0, true, 0, true},
		{"too long", 17, 0, true, 0, true},
		{"a short tag on decryption", 0, 4, false, 0, true},
	}
	for _, c := range cases {
		got, err := GCMTagLength(ports.CryptoParams{TagLength: c.tagLn}, ports.CipherInput{Tag: make([]byte, c.tag)}, c.enc)
		if c.errors != errors.Is(err, ports.ErrInvalidInput) || got != c.want {
			t.Errorf("%s: %d, %v; want %d (error %v)", c.name, got, err, c.want, c.errors)
		}
	}
}
