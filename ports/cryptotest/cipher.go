package cryptotest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func modeParams(mode kmip.BlockCipherMode, pad kmip.PaddingMethod) ports.CryptoParams {
	return ports.CryptoParams{BlockCipherMode: uint32(mode), PaddingMethod: uint32(pad)}
}

func exerciseCipher(t *testing.T, e ports.CryptoEngine, c ports.Cipher) {
	ctx := context.Background()
	msg := []byte("The KMIP contract suite: 45 bytes of message.")

	t.Run("KnownAnswerAESCBC", func(t *testing.T) {
		// NIST SP 800-38A F.2.1, first block.
		key := knownKey(kmip.CryptographicAlgorithmAES, unhex("2b7e151628aed2a6abf7158809cf4f3c"))
		out, err := c.Encrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, 0),
			ports.CipherInput{Data: unhex("6bc1bee22e409f96e93d7e117393172a"), IV: unhex("000102030405060708090a0b0c0d0e0f")})
		if unsupported(t, err, "AES-CBC on given key material") {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkHex(t, "AES-128-CBC", out.Data, "7649abac8119b246cee98e9b12e9197d")
	})

	t.Run("RoundTrips", func(t *testing.T) {
		for _, kc := range []struct {
			alg    kmip.CryptographicAlgorithm
			length int
		}{
			{kmip.CryptographicAlgorithmAES, 128}, {kmip.CryptographicAlgorithmAES, 256}, {kmip.CryptographicAlgorithmDES3, 192},
			{kmip.CryptographicAlgorithmCamellia, 192}, {kmip.CryptographicAlgorithmBlowfish, 128},
			{kmip.CryptographicAlgorithmCAST5, 128}, {kmip.CryptographicAlgorithmIDEA, 128},
		} {
			key, ok := newSymmetric(t, e, kc.alg, kc.length)
			if !ok {
				continue
			}
			for _, mc := range []struct {
				mode kmip.BlockCipherMode
				pad  kmip.PaddingMethod
			}{
				{kmip.BlockCipherModeECB, kmip.PaddingMethodPKCS5}, {kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5},
				{kmip.BlockCipherModeCFB, 0}, {kmip.BlockCipherModeOFB, 0}, {kmip.BlockCipherModeCTR, 0},
			} {
				p := modeParams(mc.mode, mc.pad)
				p.RandomIV = true
				ct, err := c.Encrypt(ctx, key, p, ports.CipherInput{Data: msg})
				if unsupported(t, err, "%s-%s", kc.alg, mc.mode) {
					continue
				}
				if err != nil {
					t.Errorf("%s-%d %s encrypt: %v", kc.alg, kc.length, mc.mode, err)
					continue
				}
				if mc.mode != kmip.BlockCipherModeECB && len(ct.IV) == 0 {
					t.Errorf("%s %s: no generated IV returned", kc.alg, mc.mode)
				}
				if bytes.Contains(ct.Data, msg[:16]) {
					t.Errorf("%s %s: ciphertext contains the plaintext", kc.alg, mc.mode)
				}
				pt, err := c.Decrypt(ctx, key, p, ports.CipherInput{Data: ct.Data, IV: ct.IV})
				if err != nil || !bytes.Equal(pt.Data, msg) {
					t.Errorf("%s-%d %s round trip: %q %v", kc.alg, kc.length, mc.mode, pt.Data, err)
				}
			}
		}
	})

	t.Run("StreamCiphers", func(t *testing.T) {
		for _, alg := range []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmRC4, kmip.CryptographicAlgorithmChaCha20} {
			length := 128
			if alg == kmip.CryptographicAlgorithmChaCha20 {
				length = 256
			}
			key, ok := newSymmetric(t, e, alg, length)
			if !ok {
				continue
			}
			ct, err := c.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: msg})
			if unsupported(t, err, "%s", alg) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			pt, err := c.Decrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: ct.Data, IV: ct.IV})
			if err != nil || !bytes.Equal(pt.Data, msg) {
				t.Errorf("%s round trip: %q %v", alg, pt.Data, err)
			}
		}
	})

	t.Run("AEAD", func(t *testing.T) {
		for _, kc := range []struct {
			alg    kmip.CryptographicAlgorithm
			length int
			p      ports.CryptoParams
		}{
			{kmip.CryptographicAlgorithmAES, 256, modeParams(kmip.BlockCipherModeGCM, 0)},
			{kmip.CryptographicAlgorithmChaCha20Poly1305, 256, ports.CryptoParams{}},
		} {
			key, ok := newSymmetric(t, e, kc.alg, kc.length)
			if !ok {
				continue
			}
			aad := []byte("header")
			ct, err := c.Encrypt(ctx, key, kc.p, ports.CipherInput{Data: msg, AAD: aad})
			if unsupported(t, err, "%s AEAD", kc.alg) {
				continue
			}
			if err != nil || len(ct.Tag) != 16 || len(ct.IV) == 0 {
				t.Fatalf("%s: tag %x, IV %x, %v", kc.alg, ct.Tag, ct.IV, err)
			}
			pt, err := c.Decrypt(ctx, key, kc.p, ports.CipherInput{Data: ct.Data, IV: ct.IV, AAD: aad, Tag: ct.Tag})
			if err != nil || !bytes.Equal(pt.Data, msg) {
				t.Errorf("%s round trip: %v", kc.alg, err)
			}
			bad := append([]byte{}, ct.Tag...)
			bad[0] ^= 1
			if _, err := c.Decrypt(ctx, key, kc.p, ports.CipherInput{Data: ct.Data, IV: ct.IV, AAD: aad, Tag: bad}); !errors.Is(err, ports.ErrCryptoFailure) {
				t.Errorf("%s with a wrong tag: %v, want ErrCryptoFailure", kc.alg, err)
			}
			if _, err := c.Decrypt(ctx, key, kc.p, ports.CipherInput{Data: ct.Data, IV: ct.IV, AAD: []byte("other"), Tag: ct.Tag}); !errors.Is(err, ports.ErrCryptoFailure) {
				t.Errorf("%s with other AAD: %v, want ErrCryptoFailure", kc.alg, err)
			}
		}
	})

	t.Run("Streaming", func(t *testing.T) {
		key, ok := newSymmetric(t, e, kmip.CryptographicAlgorithmAES, 128)
		if !ok {
			return
		}
		p := modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5)
		iv := bytes.Repeat([]byte{7}, 16)
		whole, err := c.Encrypt(ctx, key, p, ports.CipherInput{Data: msg, IV: iv})
		if err != nil {
			t.Fatal(err)
		}
		first, err := c.Encrypt(ctx, key, p, ports.CipherInput{Data: msg[:20], IV: iv, Partial: true})
		if unsupported(t, err, "streaming AES-CBC") {
			return
		}
		if err != nil || first.State == nil {
			t.Fatalf("first part: state %x, %v", first.State, err)
		}
		if len(key.Material) > 0 && bytes.Contains(first.State, key.Material) {
			t.Error("streaming State holds the key")
		}
		last, err := c.Encrypt(ctx, key, p, ports.CipherInput{Data: msg[20:], State: first.State})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(first.Data, last.Data...); !bytes.Equal(got, whole.Data) {
			t.Errorf("streamed ciphertext %x, want %x", got, whole.Data)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		key, ok := newSymmetric(t, e, kmip.CryptographicAlgorithmAES, 128)
		if !ok {
			return
		}
		iv := make([]byte, 16)
		cases := map[string]func() error{
			"data not a multiple of the block size": func() error {
				_, err := c.Encrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone), ports.CipherInput{Data: msg, IV: iv})
				return err
			},
			"IV of the wrong length": func() error {
				_, err := c.Encrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: msg, IV: iv[:5]})
				return err
			},
			"decryption without an IV": func() error {
				_, err := c.Decrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: make([]byte, 32)})
				return err
			},
			"bad padding": func() error {
				ct, err := c.Encrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone), ports.CipherInput{Data: make([]byte, 32), IV: iv})
				if err != nil {
					return err
				}
				// The plaintext is all zeros, so its last byte, the
				// PKCS#5 pad count, is 0: never valid.
				_, err = c.Decrypt(ctx, key, modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5), ports.CipherInput{Data: ct.Data, IV: iv})
				return err
			},
		}
		for name, f := range cases {
			if err := f(); !errors.Is(err, ports.ErrInvalidInput) {
				t.Errorf("%s: %v, want ErrInvalidInput", name, err)
			}
		}
	})
}
