package software

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// The original ChaCha20 (64-bit nonce) keystream vectors of
// draft-agl-tls-chacha20poly1305-04 §7, as CS-BC-M-CHACHA20-1/2/3-21 use them.
func TestChaCha20EightByteNonce(t *testing.T) {
	e := New()
	zero := make([]byte, 32)
	one := make([]byte, 32)
	one[31] = 1
	for _, tc := range []struct {
		name       string
		key, nonce []byte
		n          int
		want       string
	}{
		{"TV1", zero, make([]byte, 8), 64, "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"},
		{"TV2", one, make([]byte, 8), 64, "4540f05a9f1fb296d7736e7b208e3c96eb4fe1834688d2604f450952ed432d41bbe2a0b6ea7566d2a5d1e7e20d42af2c53d792b1c43fea817e9ad275ae546963"},
		{"TV3", zero, unhex("0000000000000001"), 60, "de9cba7bf3d69ef5e786dc63973f653a0b49e015adbff7134fcb7df137821031e85a050278a7084527214f73efc7fa5b5277062eb7a0433e445f41e3"},
		{"TV4", zero, unhex("0100000000000000"), 64, "ef3fdfd6c61578fbf5cf35bd3dd33b8009631634d21e42ac33960bd138e50d32111e4caf237ee53ca8ad6426194a88545ddc497a0b466e7d6bbdb0041b2f586b"},
	} {
		key := symKey(kmip.CryptographicAlgorithmChaCha20, tc.key)
		p := ports.CryptoParams{}
		out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, tc.n), IV: tc.nonce})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		mustEqualHex(t, tc.name, out.Data, tc.want)
		back, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: out.Data, IV: tc.nonce})
		if err != nil || len(back.Data) != tc.n || back.Data[0] != 0 {
			t.Fatalf("%s decrypt: %x %v", tc.name, back.Data, err)
		}
		// Streamed in parts, the same keystream.
		first, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 10), IV: tc.nonce, Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		last, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, tc.n-10), State: first.State})
		if err != nil {
			t.Fatal(err)
		}
		mustEqualHex(t, tc.name+" streamed", append(first.Data, last.Data...), tc.want)
	}
	// A 64-bit counter beyond 2^32 is refused rather than wrapped.
	p := ports.CryptoParams{InitialCounterSet: true, InitialCounterValue: 1 << 32}
	if _, err := e.Encrypt(ctx, symKey(kmip.CryptographicAlgorithmChaCha20, zero), p, ports.CipherInput{Data: []byte{0}, IV: make([]byte, 8)}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Fatalf("counter 2^32: %v", err)
	}
}

// RFC 8439 §2.8.2 with the tag truncated to 12 bytes (CS-BC-M-CHACHA20POLY1305-1-21).
func TestChaChaPolyTruncatedTag(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmChaCha20Poly1305, unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
	nonce := unhex("070000004041424344454647")
	aad := unhex("50515253c0c1c2c3c4c5c6c7")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	const fullTag = "1ae10b594f09e26a7e902ecbd0600691"
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeAEAD)}
	out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: pt, IV: nonce, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "full tag", out.Tag, fullTag)
	p12 := p
	p12.TagLength = 12
	short, err := e.Encrypt(ctx, key, p12, ports.CipherInput{Data: pt, IV: nonce, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "12-byte tag", short.Tag, fullTag[:24])
	back, err := e.Decrypt(ctx, key, p12, ports.CipherInput{Data: out.Data, IV: nonce, AAD: aad, Tag: short.Tag})
	if err != nil || string(back.Data) != string(pt) {
		t.Fatalf("decrypt with a 12-byte tag: %q %v", back.Data, err)
	}
	bad := append([]byte{}, short.Tag...)
	bad[11] ^= 1
	if _, err := e.Decrypt(ctx, key, p12, ports.CipherInput{Data: out.Data, IV: nonce, AAD: aad, Tag: bad}); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Fatalf("bad 12-byte tag: %v", err)
	}
	if _, err := e.Decrypt(ctx, key, p12, ports.CipherInput{Data: out.Data, IV: nonce, AAD: aad[1:], Tag: short.Tag}); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Fatalf("bad AAD with a 12-byte tag: %v", err)
	}
	for _, n := range []int{1, 11, 17, 32} {
		pn := p
		pn.TagLength = n
		if _, err := e.Encrypt(ctx, key, pn, ports.CipherInput{Data: pt, IV: nonce}); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("tag length %d: %v", n, err)
		}
	}
}
