package cryptotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// portError reports whether err is nil or one of the crypto port's
// sentinels, which the application maps to a Result Reason.
func portError(err error) bool {
	return err == nil || errors.Is(err, ports.ErrUnsupported) || errors.Is(err, ports.ErrInvalidLength) ||
		errors.Is(err, ports.ErrInvalidInput) || errors.Is(err, ports.ErrCryptoFailure)
}

// noPanic runs f and turns a panic into a test error: a client's bytes must
// never crash the server.
func noPanic(t *testing.T, what string, f func() error) {
	t.Helper()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
				t.Errorf("%s: %v", what, err)
			}
		}()
		return f()
	}()
	if err != nil && !portError(err) && !bytes.HasPrefix([]byte(err.Error()), []byte("panic: ")) {
		t.Errorf("%s: %v is none of the port's errors", what, err)
	}
}

// exerciseHostileCipher feeds a Cipher what a hostile client can send: a
// tampered or foreign streaming State (the Correlation Value travels through
// the client), empty data, empty and oversized IVs and tags, Tag Length 0,
// a key with no material. Every answer must be a port error or a result,
// never a panic.
func exerciseHostileCipher(t *testing.T, e ports.CryptoEngine, c ports.Cipher) {
	ctx := context.Background()
	key, ok := newSymmetric(t, e, kmip.CryptographicAlgorithmAES, 128)
	if !ok {
		return
	}
	cbc := modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5)
	iv := bytes.Repeat([]byte{9}, 16)
	first, err := c.Encrypt(ctx, key, cbc, ports.CipherInput{Data: make([]byte, 20), IV: iv, Partial: true})
	if err == nil && first.State != nil {
		states := map[string][]byte{
			"empty":       {},
			"one byte":    first.State[:1],
			"truncated":   first.State[:len(first.State)/2],
			"extended":    append(append([]byte{}, first.State...), bytes.Repeat([]byte{0xff}, 300)...),
			"all 0xff":    bytes.Repeat([]byte{0xff}, len(first.State)),
			"all zero":    make([]byte, len(first.State)),
			"random junk": []byte("not a state at all, just the client's bytes"),
		}
		for i := range first.State {
			flipped := append([]byte{}, first.State...)
			flipped[i] ^= 0xa5
			states[fmt.Sprintf("byte %d flipped", i)] = flipped
		}
		for name, st := range states {
			for _, partial := range []bool{false, true} {
				noPanic(t, "encrypt with State "+name, func() error {
					_, err := c.Encrypt(ctx, key, cbc, ports.CipherInput{Data: make([]byte, 40), State: st, Partial: partial})
					return err
				})
			}
			noPanic(t, "decrypt with an encryption State "+name, func() error {
				_, err := c.Decrypt(ctx, key, cbc, ports.CipherInput{Data: make([]byte, 32), State: st})
				return err
			})
		}
		// A State from one mode continued in another, or with another key.
		for _, p := range []ports.CryptoParams{modeParams(kmip.BlockCipherModeECB, kmip.PaddingMethodPKCS5),
			modeParams(kmip.BlockCipherModeCTR, 0), modeParams(kmip.BlockCipherModeGCM, 0), modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone)} {
			noPanic(t, fmt.Sprintf("CBC State continued as %s", kmip.BlockCipherMode(p.BlockCipherMode)), func() error {
				_, err := c.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 16), State: first.State})
				if err == nil {
					t.Errorf("a CBC State continued as %s was accepted", kmip.BlockCipherMode(p.BlockCipherMode))
				}
				return err
			})
		}
		if other, ok := newSymmetric(t, e, kmip.CryptographicAlgorithmDES3, 192); ok {
			noPanic(t, "AES State continued with a 3DES key", func() error {
				_, err := c.Encrypt(ctx, other, cbc, ports.CipherInput{Data: make([]byte, 16), State: first.State})
				return err
			})
		}
	}
	for _, p := range []ports.CryptoParams{
		modeParams(kmip.BlockCipherModeECB, kmip.PaddingMethodPKCS5), modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5),
		modeParams(kmip.BlockCipherModeCBC, kmip.PaddingMethodNone), modeParams(kmip.BlockCipherModeCTR, 0),
		modeParams(kmip.BlockCipherModeCFB, 0), modeParams(kmip.BlockCipherModeOFB, 0), modeParams(kmip.BlockCipherModeGCM, 0),
		{BlockCipherMode: uint32(kmip.BlockCipherModeGCM), TagLength: 0}, {BlockCipherMode: uint32(kmip.BlockCipherModeGCM), TagLength: -1},
		{BlockCipherMode: uint32(kmip.BlockCipherModeGCM), IVLength: -8}, {BlockCipherMode: uint32(kmip.BlockCipherModeGCM), IVLength: 1 << 30},
		{BlockCipherMode: uint32(kmip.BlockCipherModeCTR), IVLength: 1 << 30, InitialCounterValue: -1, InitialCounterSet: true},
		{BlockCipherMode: 0x7fff}, {PaddingMethod: 0x7fff, BlockCipherMode: uint32(kmip.BlockCipherModeCBC)},
	} {
		name := fmt.Sprintf("%s %+v", kmip.BlockCipherMode(p.BlockCipherMode), p)
		for _, in := range []ports.CipherInput{
			{}, {Data: []byte{}}, {Data: []byte{1}, IV: []byte{}}, {Data: make([]byte, 16), IV: make([]byte, 4096)},
			{Data: make([]byte, 16), IV: iv, Tag: []byte{}}, {Data: make([]byte, 16), IV: iv, Tag: make([]byte, 4096)},
			{Data: make([]byte, 31), IV: iv, Tag: make([]byte, 16)},
		} {
			noPanic(t, "encrypt "+name, func() error { _, err := c.Encrypt(ctx, key, p, in); return err })
			noPanic(t, "decrypt "+name, func() error { _, err := c.Decrypt(ctx, key, p, in); return err })
		}
	}
	for name, k := range map[string]ports.KeyHandle{
		"no material":     {ID: "none", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: 128},
		"short material":  knownKey(kmip.CryptographicAlgorithmAES, []byte{1, 2, 3}),
		"no algorithm":    {ID: "noalg", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Material: make([]byte, 16)},
		"RSA, no key":     {ID: "rsa", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Material: []byte{0x30, 0x03, 0x02, 0x01, 0x00}},
		"3DES, odd bytes": knownKey(kmip.CryptographicAlgorithmDES3, make([]byte, 17)),
	} {
		for _, p := range []ports.CryptoParams{cbc, modeParams(kmip.BlockCipherModeGCM, 0), {PaddingMethod: uint32(kmip.PaddingMethodOAEP)}} {
			noPanic(t, "encrypt with a key of "+name, func() error {
				_, err := c.Encrypt(ctx, k, p, ports.CipherInput{Data: make([]byte, 16), IV: iv})
				if err == nil {
					t.Errorf("a key of %s encrypted", name)
				}
				return err
			})
		}
	}
}
