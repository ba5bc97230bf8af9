package cryptotest

import (
	"bytes"
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func exerciseMACer(t *testing.T, e ports.CryptoEngine, m ports.MACer) {
	ctx := context.Background()
	t.Run("KnownAnswers", func(t *testing.T) {
		for _, c := range []struct {
			name string
			key  ports.KeyHandle
			data []byte
			want string
		}{
			// RFC 4231 test case 1.
			{"HMAC-SHA256", knownKey(kmip.CryptographicAlgorithmHMAC_SHA256, bytes.Repeat([]byte{0x0b}, 20)), []byte("Hi There"),
				"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
			// NIST SP 800-38B D.1 example 2.
			{"CMAC-AES128", knownKey(kmip.CryptographicAlgorithmAES, unhex("2b7e151628aed2a6abf7158809cf4f3c")), unhex("6bc1bee22e409f96e93d7e117393172a"),
				"070a16b46b4d4144f79bdd9dd04a287c"},
		} {
			mac, err := m.MAC(ctx, c.key, ports.CryptoParams{}, c.data)
			if unsupported(t, err, "%s on given key material", c.name) {
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			checkHex(t, c.name, mac, c.want)
		}
	})
	t.Run("Verify", func(t *testing.T) {
		for _, kc := range []struct {
			alg    kmip.CryptographicAlgorithm
			length int
		}{
			{kmip.CryptographicAlgorithmHMAC_SHA1, 160}, {kmip.CryptographicAlgorithmHMAC_SHA256, 256},
			{kmip.CryptographicAlgorithmHMAC_SHA512, 512}, {kmip.CryptographicAlgorithmAES, 256}, {kmip.CryptographicAlgorithmDES3, 192},
		} {
			key, ok := newSymmetric(t, e, kc.alg, kc.length)
			if !ok {
				continue
			}
			data := []byte("data to authenticate")
			mac, err := m.MAC(ctx, key, ports.CryptoParams{}, data)
			if unsupported(t, err, "MAC with %s", kc.alg) {
				continue
			}
			if err != nil {
				t.Errorf("MAC with %s: %v", kc.alg, err)
				continue
			}
			if ok, err := m.VerifyMAC(ctx, key, ports.CryptoParams{}, data, mac); !ok || err != nil {
				t.Errorf("%s: own MAC does not verify (%v)", kc.alg, err)
			}
			if ok, err := m.VerifyMAC(ctx, key, ports.CryptoParams{}, []byte("other data"), mac); ok || err != nil {
				t.Errorf("%s: MAC verifies other data (%v %v)", kc.alg, ok, err)
			}
		}
	})
}
