package software

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math"
	"math/big"
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

// TestPBKDF2WorkBounded: the Iteration Count is client-chosen; an unbounded
// one lets one request burn a CPU core for hours.
func TestPBKDF2WorkBounded(t *testing.T) {
	e := New()
	base := ports.KeyHandle{ObjectType: uint32(kmip.ObjectTypeSecretData), Material: []byte("password")}
	for name, spec := range map[string]ports.DeriveSpec{
		"MaxInt iterations":            {Iterations: math.MaxInt, Length: 256},
		"2^31 iterations":              {Iterations: 1 << 31, Length: 160},
		"many iterations, many blocks": {Iterations: 1 << 20, Length: 8 << 20},
	} {
		spec.Method = uint32(kmip.DerivationMethodPBKDF2)
		spec.Base = base
		spec.Salt = []byte("salt")
		if _, err := e.DeriveKey(ctx, spec); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	// A strong but reasonable count still works.
	k, err := e.DeriveKey(ctx, ports.DeriveSpec{Method: uint32(kmip.DerivationMethodPBKDF2), Base: base, Salt: []byte("salt"), Iterations: 600_000, Length: 256,
		Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}})
	if err != nil || len(k.Material) != 32 {
		t.Errorf("600000 iterations: %d bytes, %v", len(k.Material), err)
	}
}

// TestPSSExplicitZeroSalt: Go's rsa.PSSOptions reads SaltLength 0 as "as
// large as possible", so a client asking for a zero-length salt got a
// maximum-length one (random, and unverifiable by a verifier that checks
// the salt length). A zero-salt PSS signature is deterministic.
func TestPSSExplicitZeroSalt(t *testing.T) {
	e := New()
	priv := ports.KeyHandle{ID: "rsa", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmRSA),
		Length: 2048, Format: uint32(kmip.KeyFormatTypePKCS_1), Material: unhex(pyRSAPrivPKCS1)}
	p := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256), SaltLength: 0, SaltLengthSet: true}
	a, errA := e.Sign(ctx, priv, p, []byte("abc"), false)
	b, errB := e.Sign(ctx, priv, p, []byte("abc"), false)
	if errors.Is(errA, ports.ErrUnsupported) && errors.Is(errB, ports.ErrUnsupported) {
		return
	}
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !bytes.Equal(a, b) {
		t.Error("two PSS signatures with a zero-length salt differ: the salt was not empty")
	}
}

// TestRSAModulusCapped: a client can register an RSA public key of any size,
// and crypto/rsa has no upper bound: a 262144-bit modulus costs seconds per
// Verify, a 4-Mbit one most of an hour. Keys above 16384 bits (OpenSSL's
// limit) are refused before any RSA operation.
func TestRSAModulusCapped(t *testing.T) {
	e := New()
	n := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 16384+8), big.NewInt(1))
	der := x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: n, E: 65537})
	for _, format := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_1, kmip.KeyFormatTypeX_509} {
		material := der
		if format == kmip.KeyFormatTypeX_509 {
			var err error
			if material, err = x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537}); err != nil {
				t.Fatal(err)
			}
		}
		pub := ports.KeyHandle{ID: "big", ObjectType: uint32(kmip.ObjectTypePublicKey), Algorithm: uint32(kmip.CryptographicAlgorithmRSA),
			Format: uint32(format), Material: material}
		sigParams := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
		if _, err := e.Verify(ctx, pub, sigParams, []byte("abc"), false, make([]byte, len(n.Bytes()))); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("%s: Verify with a %d-bit key: %v, want ErrInvalidLength", format, n.BitLen(), err)
		}
		encParams := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5)}
		if _, err := e.Encrypt(ctx, pub, encParams, ports.CipherInput{Data: []byte("abc")}); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("%s: Encrypt with a %d-bit key: %v, want ErrInvalidLength", format, n.BitLen(), err)
		}
		if _, err := e.WrapKey(ctx, pub, ports.CryptoParams{}, ports.KeyHandle{Material: []byte("k")}); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("%s: WrapKey with a %d-bit key: %v, want ErrInvalidLength", format, n.BitLen(), err)
		}
	}
	// Material far beyond any key is refused before parsing.
	huge := ports.KeyHandle{ID: "huge", ObjectType: uint32(kmip.ObjectTypePublicKey), Algorithm: uint32(kmip.CryptographicAlgorithmRSA),
		Format: uint32(kmip.KeyFormatTypePKCS_1), Material: make([]byte, 1<<20)}
	if _, err := e.Verify(ctx, huge, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, []byte("abc"), false, nil); !errors.Is(err, ports.ErrInvalidInput) && !errors.Is(err, ports.ErrInvalidLength) {
		t.Errorf("1 MiB of key material: %v", err)
	}
}

// TestEd25519RawPrivateKeyConsistent: a 64-byte raw Ed25519 private key is
// seed || public key, and crypto/ed25519 signs with the public half as
// given. An inconsistent one must be refused: its signatures verify under
// no key the seed yields, and signing one seed under two public halves is
// the known way to recover the private scalar.
func TestEd25519RawPrivateKeyConsistent(t *testing.T) {
	seed := bytes.Repeat([]byte{1}, ed25519.SeedSize)
	good := ed25519.NewKeyFromSeed(seed)
	bad := append(append([]byte{}, seed...), bytes.Repeat([]byte{2}, 32)...)
	handle := func(m []byte) ports.KeyHandle {
		return ports.KeyHandle{ID: "ed", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmEd25519),
			Format: uint32(kmip.KeyFormatTypeRaw), Material: m}
	}
	e := New()
	sig, err := e.Sign(ctx, handle(good), ports.CryptoParams{}, []byte("x"), false)
	if err != nil || !ed25519.Verify(good.Public().(ed25519.PublicKey), []byte("x"), sig) {
		t.Fatalf("consistent key: %v", err)
	}
	if _, err := e.Sign(ctx, handle(bad), ports.CryptoParams{}, []byte("x"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("inconsistent seed and public key: %v, want ErrInvalidInput", err)
	}
}

// TestKeyWrapWith64BitBlockCipher: AES Key Wrap needs a 128-bit block
// cipher; a 3DES or Blowfish wrapping key is an algorithm the engine lacks
// for wrapping (ErrUnsupported, as the port says), not bad input.
func TestKeyWrapWith64BitBlockCipher(t *testing.T) {
	e := New()
	target := ports.KeyHandle{ID: "t", Material: bytes.Repeat([]byte{7}, 16)}
	for _, kek := range []ports.KeyHandle{
		symKey(kmip.CryptographicAlgorithmDES3, bytes.Repeat([]byte{0x13}, 24)),
		symKey(kmip.CryptographicAlgorithmBlowfish, bytes.Repeat([]byte{0x13}, 16)),
	} {
		for _, mode := range []kmip.BlockCipherMode{kmip.BlockCipherModeNISTKeyWrap, kmip.BlockCipherModeAESKeyWrapPadding} {
			p := params(mode, 0)
			if _, err := e.WrapKey(ctx, kek, p, target); !errors.Is(err, ports.ErrUnsupported) {
				t.Errorf("%s %s wrap: %v, want ErrUnsupported", kmip.CryptographicAlgorithm(kek.Algorithm), mode, err)
			}
			if _, err := e.UnwrapKey(ctx, kek, p, make([]byte, 24)); !errors.Is(err, ports.ErrUnsupported) {
				t.Errorf("%s %s unwrap: %v, want ErrUnsupported", kmip.CryptographicAlgorithm(kek.Algorithm), mode, err)
			}
		}
	}
}

// TestChaCha20GeneratedLongIV: asked for a 128-bit IV (IV Length 128), the
// engine generates counter || nonce and must return all of it, so that the
// returned IV decrypts what it encrypted.
func TestChaCha20GeneratedLongIV(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmChaCha20, bytes.Repeat([]byte{1}, 32))
	msg := bytes.Repeat([]byte("chacha"), 30)
	for _, bits := range []int{96, 128} {
		p := ports.CryptoParams{IVLength: bits, RandomIV: true}
		ct, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: msg})
		if err != nil {
			t.Fatalf("IV Length %d: %v", bits, err)
		}
		if len(ct.IV) != bits/8 {
			t.Errorf("IV Length %d: returned a %d-byte IV", bits, len(ct.IV))
		}
		pt, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: ct.Data, IV: ct.IV})
		if err != nil || !bytes.Equal(pt.Data, msg) {
			t.Errorf("IV Length %d: the returned IV does not decrypt (%v)", bits, err)
		}
	}
}
