package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// cryptoFake adds every optional capability to fakeCrypto with toy
// algorithms whose results the tests can predict: the cipher XORs with the
// key stream HMAC(key, IV||counter), so streamed and one-shot results agree
// and a wrong IV or key shows; "signatures" are HMACs under the pair's shared
// toy material. The real engine runs in test/cryptoops.
type cryptoFake struct{ fakeCrypto }

var (
	_ ports.Cipher           = cryptoFake{}
	_ ports.Signer           = cryptoFake{}
	_ ports.MACer            = cryptoFake{}
	_ ports.KeyPairGenerator = cryptoFake{}
	_ ports.Deriver          = cryptoFake{}
	_ ports.Hasher           = cryptoFake{}
	_ ports.RandomSeeder     = cryptoFake{}
	_ ports.KeyWrapper       = cryptoFake{}
)

// fakeIV is the IV the fake generates.
var fakeIV = bytes.Repeat([]byte{0xA5}, 16)

func keystream(key, iv []byte, off, n int) []byte {
	out := make([]byte, 0, n)
	for block := off / 32; len(out) < n+off%32; block++ {
		m := hmac.New(sha256.New, key)
		m.Write(iv)
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(block)))
		out = append(out, m.Sum(nil)...)
	}
	return out[off%32 : off%32+n]
}

// xorStream runs the toy cipher; State is IV || 8-byte offset.
func (cryptoFake) xorStream(key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	var out ports.CipherOutput
	iv, off := in.IV, 0
	if in.State != nil {
		if len(in.State) < 8 {
			return out, ports.ErrInvalidInput
		}
		iv, off = in.State[:len(in.State)-8], int(binary.BigEndian.Uint64(in.State[len(in.State)-8:]))
	} else if needsIV(p.BlockCipherMode) && iv == nil {
		if !enc {
			return out, ports.ErrInvalidInput
		}
		iv, out.IV = fakeIV, fakeIV
	}
	if p.BlockCipherMode == uint32(kmip.BlockCipherModeXTS) {
		return out, ports.ErrUnsupported
	}
	ks := keystream(key.Material, iv, off, len(in.Data))
	out.Data = make([]byte, len(in.Data))
	for i := range in.Data {
		out.Data[i] = in.Data[i] ^ ks[i]
	}
	if in.Partial {
		out.State = binary.BigEndian.AppendUint64(append([]byte(nil), iv...), uint64(off+len(in.Data)))
	}
	if p.BlockCipherMode == uint32(kmip.BlockCipherModeGCM) && !in.Partial {
		var plain []byte
		if enc {
			plain = in.Data
		} else {
			plain = out.Data
		}
		m := hmac.New(sha256.New, key.Material)
		m.Write(in.AAD)
		m.Write(plain)
		tag := m.Sum(nil)[:16]
		if enc {
			out.Tag = tag
		} else if !hmac.Equal(tag, in.Tag) {
			return ports.CipherOutput{}, ports.ErrCryptoFailure
		}
	}
	return out, nil
}

func (f cryptoFake) Encrypt(_ context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return f.xorStream(key, p, in, true)
}

func (f cryptoFake) Decrypt(_ context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return f.xorStream(key, p, in, false)
}

func toyMAC(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func (cryptoFake) Sign(_ context.Context, key ports.KeyHandle, _ ports.CryptoParams, data []byte, digested bool) ([]byte, error) {
	if !digested {
		sum := sha256.Sum256(data)
		data = sum[:]
	}
	return toyMAC(key.Material, data), nil
}

func (f cryptoFake) Verify(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool, sig []byte) (bool, error) {
	want, _ := f.Sign(ctx, key, p, data, digested)
	return hmac.Equal(want, sig), nil
}

func (cryptoFake) MAC(_ context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte) ([]byte, error) {
	if p.HashingAlgorithm != 0 && p.HashingAlgorithm != uint32(kmip.HashingAlgorithmSHA_256) {
		return nil, ports.ErrUnsupported
	}
	return toyMAC(key.Material, data), nil
}

func (f cryptoFake) VerifyMAC(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data, mac []byte) (bool, error) {
	want, err := f.MAC(ctx, key, p, data)
	return err == nil && hmac.Equal(want, mac), err
}

// GenerateKeyPair gives both halves the same toy material, so that the
// toy signature verifies with the public key.
func (cryptoFake) GenerateKeyPair(_ context.Context, s ports.KeyPairSpec) (ports.KeyPair, error) {
	switch kmip.CryptographicAlgorithm(s.Algorithm) {
	case kmip.CryptographicAlgorithmRSA:
		if s.Length < 1024 {
			return ports.KeyPair{}, ports.ErrInvalidLength
		}
	case kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmEd25519:
	default:
		return ports.KeyPair{}, ports.ErrUnsupported
	}
	m := []byte("pair:" + s.PrivateID)
	return ports.KeyPair{
		Private: ports.Key{Material: m, Format: uint32(kmip.KeyFormatTypePKCS_8)},
		Public:  ports.Key{Material: m, Format: uint32(kmip.KeyFormatTypeX_509)},
	}, nil
}

func (cryptoFake) DeriveKey(_ context.Context, s ports.DeriveSpec) (ports.Key, error) {
	if s.Method != uint32(kmip.DerivationMethodHASH) && s.Method != uint32(kmip.DerivationMethodHMAC) {
		return ports.Key{}, ports.ErrUnsupported
	}
	out := toyMAC(s.Base.Material, s.Data)
	if s.Length/8 > len(out) {
		return ports.Key{}, ports.ErrInvalidLength
	}
	return ports.Key{Material: out[:s.Length/8]}, nil
}

func (cryptoFake) Hash(_ context.Context, alg uint32, data []byte) ([]byte, error) {
	if alg != uint32(kmip.HashingAlgorithmSHA_256) {
		return nil, ports.ErrUnsupported
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

func (cryptoFake) SeedRandom(_ context.Context, seed []byte) (int, error) { return len(seed), nil }

func xorWith(key, data []byte) []byte {
	out := make([]byte, len(data))
	for i := range data {
		out[i] = data[i] ^ key[i%len(key)] ^ 0x5C
	}
	return out
}

func (cryptoFake) WrapKey(_ context.Context, w ports.KeyHandle, _ ports.CryptoParams, target ports.KeyHandle) ([]byte, error) {
	return xorWith(w.Material, target.Material), nil
}

func (cryptoFake) UnwrapKey(_ context.Context, w ports.KeyHandle, _ ports.CryptoParams, wrapped []byte) ([]byte, error) {
	return xorWith(w.Material, wrapped), nil
}

// testNow is newService's clock.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func newCryptoService() *Service {
	return New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
}
