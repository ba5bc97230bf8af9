package keywrap

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"errors"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// RFC 3394 §4.1–4.6.
func TestRFC3394(t *testing.T) {
	for _, c := range []struct{ kek, key, want string }{
		{"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF", "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{"000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF0001020304050607", "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF0001020304050607", "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		b, _ := aes.NewCipher(h(c.kek))
		got, err := Wrap(b, h(c.key))
		if err != nil || !bytes.Equal(got, h(c.want)) {
			t.Errorf("wrap with %d-byte KEK: %X %v, want %s", len(c.kek)/2, got, err, c.want)
		}
		back, err := Unwrap(b, h(c.want))
		if err != nil || !bytes.Equal(back, h(c.key)) {
			t.Errorf("unwrap: %X %v", back, err)
		}
		bad := h(c.want)
		bad[5] ^= 1
		if _, err := Unwrap(b, bad); !errors.Is(err, ErrIntegrity) {
			t.Errorf("tampered unwrap: %v", err)
		}
	}
}

// RFC 5649 §6.
func TestRFC5649(t *testing.T) {
	kek := h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	b, _ := aes.NewCipher(kek)
	for _, c := range []struct{ key, want string }{
		{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	} {
		got, err := WrapPad(b, h(c.key))
		if err != nil || !bytes.Equal(got, h(c.want)) {
			t.Errorf("wrap %s: %x %v, want %s", c.key, got, err, c.want)
		}
		back, err := UnwrapPad(b, h(c.want))
		if err != nil || !bytes.Equal(back, h(c.key)) {
			t.Errorf("unwrap: %x %v", back, err)
		}
		bad := h(c.want)
		bad[len(bad)-1] ^= 1
		if _, err := UnwrapPad(b, bad); !errors.Is(err, ErrIntegrity) {
			t.Errorf("tampered unwrap: %v", err)
		}
	}
}

func TestInputLengths(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	if _, err := Wrap(b, make([]byte, 12)); !errors.Is(err, ErrInputLength) {
		t.Errorf("12-byte KW input: %v", err)
	}
	if _, err := Unwrap(b, make([]byte, 20)); !errors.Is(err, ErrInputLength) {
		t.Errorf("20-byte KW unwrap: %v", err)
	}
	if _, err := WrapPad(b, nil); !errors.Is(err, ErrInputLength) {
		t.Errorf("empty KWP input: %v", err)
	}
}
