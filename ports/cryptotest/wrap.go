package cryptotest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func exerciseWrapper(t *testing.T, e ports.CryptoEngine, w ports.KeyWrapper) {
	ctx := context.Background()
	kw := modeParams(kmip.BlockCipherModeNISTKeyWrap, 0)
	t.Run("KnownAnswerRFC3394", func(t *testing.T) {
		kek := knownKey(kmip.CryptographicAlgorithmAES, unhex("000102030405060708090a0b0c0d0e0f"))
		target := knownKey(kmip.CryptographicAlgorithmAES, unhex("00112233445566778899aabbccddeeff"))
		got, err := w.WrapKey(ctx, kek, kw, target)
		if unsupported(t, err, "AES key wrap on given key material") {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkHex(t, "RFC 3394 §4.1", got, "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5")
	})
	t.Run("AESRoundTrips", func(t *testing.T) {
		kek, ok := newSymmetric(t, e, kmip.CryptographicAlgorithmAES, 256)
		if !ok {
			return
		}
		for _, c := range []struct {
			p      ports.CryptoParams
			target []byte
		}{
			{kw, bytes.Repeat([]byte{0x42}, 32)},
			{modeParams(kmip.BlockCipherModeAESKeyWrapPadding, 0), bytes.Repeat([]byte{0x42}, 21)},
		} {
			wrapped, err := w.WrapKey(ctx, kek, c.p, ports.KeyHandle{ID: "target", Material: c.target})
			if unsupported(t, err, "wrapping in mode %s", kmip.BlockCipherMode(c.p.BlockCipherMode)) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := w.UnwrapKey(ctx, kek, c.p, wrapped)
			if err != nil || !bytes.Equal(back, c.target) {
				t.Errorf("%s round trip: %x %v", kmip.BlockCipherMode(c.p.BlockCipherMode), back, err)
			}
			wrapped[len(wrapped)-1] ^= 1
			if _, err := w.UnwrapKey(ctx, kek, c.p, wrapped); !errors.Is(err, ports.ErrCryptoFailure) {
				t.Errorf("%s tampered: %v, want ErrCryptoFailure", kmip.BlockCipherMode(c.p.BlockCipherMode), err)
			}
		}
	})
	t.Run("RSAOAEP", func(t *testing.T) {
		g, ok := e.(ports.KeyPairGenerator)
		if !ok {
			t.Skip("no key pair generator")
		}
		priv, pub, ok := newPair(t, g, "RSA-2048", pairSpecs[0].spec)
		if !ok {
			return
		}
		p := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
		target := bytes.Repeat([]byte{0x24}, 32)
		wrapped, err := w.WrapKey(ctx, pub, p, ports.KeyHandle{ID: "target", Material: target})
		if unsupported(t, err, "RSA-OAEP wrapping") {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		back, err := w.UnwrapKey(ctx, priv, p, wrapped)
		if err != nil || !bytes.Equal(back, target) {
			t.Errorf("RSA-OAEP round trip: %v", err)
		}
	})
}
