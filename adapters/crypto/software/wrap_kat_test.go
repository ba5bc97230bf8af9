package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RFC 3394 §4.1 and RFC 5649 §6 through the engine, and RSA key transport.
func TestKeyWrap(t *testing.T) {
	e := New()
	kek := symKey(kmip.CryptographicAlgorithmAES, unhex("000102030405060708090A0B0C0D0E0F"))
	target := ports.KeyHandle{ID: "t", Material: unhex("00112233445566778899AABBCCDDEEFF")}
	for _, mode := range []kmip.BlockCipherMode{0, kmip.BlockCipherModeNISTKeyWrap} {
		w, err := e.WrapKey(ctx, kek, params(mode, 0), target)
		if err != nil {
			t.Fatal(err)
		}
		mustEqualHex(t, "RFC 3394 wrap", w, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
		back, err := e.UnwrapKey(ctx, kek, params(mode, 0), w)
		if err != nil || !bytes.Equal(back, target.Material) {
			t.Errorf("unwrap: %x %v", back, err)
		}
		w[3] ^= 1
		if _, err := e.UnwrapKey(ctx, kek, params(mode, 0), w); !errors.Is(err, ports.ErrCryptoFailure) {
			t.Errorf("tampered unwrap: %v, want ErrCryptoFailure", err)
		}
	}
	kwp := params(kmip.BlockCipherModeAESKeyWrapPadding, 0)
	kek2 := symKey(kmip.CryptographicAlgorithmAES, unhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"))
	w, err := e.WrapKey(ctx, kek2, kwp, ports.KeyHandle{Material: unhex("466f7250617369")})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "RFC 5649 wrap", w, "afbeb0f07dfbf5419200f2ccb50bb24f")
	if _, err := e.UnwrapKey(ctx, kek, kwp, w); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Errorf("unwrap with the wrong key: %v, want ErrCryptoFailure", err)
	}
	if _, err := e.WrapKey(ctx, kek, params(kmip.BlockCipherModeNISTKeyWrap, 0), ports.KeyHandle{Material: make([]byte, 12)}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("12 bytes with RFC 3394: %v, want ErrInvalidInput", err)
	}
	if _, err := e.WrapKey(ctx, kek, params(kmip.BlockCipherModeCBC, 0), target); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("CBC wrapping: %v, want ErrUnsupported", err)
	}

	priv, pub := pyRSA()
	for _, p := range []ports.CryptoParams{
		{},
		{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)},
		{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5)},
	} {
		w, err := e.WrapKey(ctx, pub, p, target)
		if err != nil {
			t.Fatal(err)
		}
		back, err := e.UnwrapKey(ctx, priv, p, w)
		if err != nil || !bytes.Equal(back, target.Material) {
			t.Errorf("RSA %+v: %x %v", p, back, err)
		}
		for i := range w {
			w[i] = 0xff // above the modulus: always refused
		}
		if _, err := e.UnwrapKey(ctx, priv, p, w); !errors.Is(err, ports.ErrCryptoFailure) {
			t.Errorf("RSA tampered unwrap: %v", err)
		}
	}
}
