package software

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// gcmCases are test cases 1-6 of the GCM specification (McGrew and Viega),
// AES-128: 96-bit IVs, a 64-bit IV (case 5) and a 480-bit IV (case 6).
var gcmCases = []struct{ name, key, iv, aad, pt, ct, tag string }{
	{"TC1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
	{"TC2", "00000000000000000000000000000000", "000000000000000000000000", "", "00000000000000000000000000000000",
		"0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
	{"TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		"4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		"5bc94fbc3221a5db94fae95ae7121a47"},
	{"TC5", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbad", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
		"3612d2e79e3b0785561be14aaca2fccb"},
	{"TC6", "feffe9928665731c6d6a8f9467308308",
		"9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
		"619cc5aefffe0bfa462af43c1699d050"},
}

// streamGCM runs data through e in the parts cuts gives (offsets), AAD and
// IV on the first part, tag on the last, and returns the joined output and
// the tag.
func streamGCM(t *testing.T, enc bool, key ports.KeyHandle, p ports.CryptoParams, iv, aad, data, tag []byte, cuts []int) ([]byte, []byte, error) {
	t.Helper()
	e := New()
	var (
		out   []byte
		state []byte
		prev  int
	)
	cuts = append(cuts, len(data))
	for i, c := range cuts {
		in := ports.CipherInput{Data: data[prev:c], State: state, Partial: i < len(cuts)-1}
		if i == 0 {
			in.IV, in.AAD = iv, aad
		}
		if !in.Partial && !enc {
			in.Tag = tag
		}
		var (
			o   ports.CipherOutput
			err error
		)
		if enc {
			o, err = e.Encrypt(ctx, key, p, in)
		} else {
			o, err = e.Decrypt(ctx, key, p, in)
		}
		if err != nil {
			return nil, nil, err
		}
		if in.Partial && o.State == nil {
			t.Fatal("a partial part returned no state")
		}
		out = append(out, o.Data...)
		state, prev = o.State, c
		if !in.Partial {
			return out, o.Tag, nil
		}
	}
	panic("unreachable")
}

func randomCuts(r *rand.Rand, n int) []int {
	var cuts []int
	for c := 0; ; {
		c += r.IntN(40)
		if c >= n {
			return cuts
		}
		cuts = append(cuts, c)
	}
}

func TestGCMStreamKnownAnswers(t *testing.T) {
	p := params(kmip.BlockCipherModeGCM, 0)
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range gcmCases {
		key := symKey(kmip.CryptographicAlgorithmAES, unhex(tc.key))
		iv, aad, pt := unhex(tc.iv), unhex(tc.aad), unhex(tc.pt)
		for range 20 {
			cuts := randomCuts(r, len(pt))
			ct, tag, err := streamGCM(t, true, key, p, iv, aad, pt, nil, cuts)
			if err != nil {
				t.Fatalf("%s %v: %v", tc.name, cuts, err)
			}
			mustEqualHex(t, tc.name+" ciphertext", ct, tc.ct)
			mustEqualHex(t, tc.name+" tag", tag, tc.tag)
			back, _, err := streamGCM(t, false, key, p, iv, aad, ct, tag, randomCuts(r, len(ct)))
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("%s: decrypt %x %v", tc.name, back, err)
			}
		}
	}
}

// Streamed GCM equals crypto/cipher's GCM for random keys, nonces, AAD,
// lengths, splits and tag lengths.
func TestGCMStreamMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	for i := range 300 {
		kb := rnd([]int{16, 24, 32}[i%3])
		ivLen := []int{12, 8, 1, 16, 60}[i%5]
		iv, aad, pt := rnd(ivLen), rnd(r.IntN(50)), rnd(r.IntN(300))
		tagLen := 12 + r.IntN(5)
		b, _ := aes.NewCipher(kb)
		aead, err := cipher.NewGCMWithNonceSize(b, ivLen)
		if err != nil {
			t.Fatal(err)
		}
		sealed := aead.Seal(nil, iv, pt, aad)
		p := params(kmip.BlockCipherModeGCM, 0)
		p.TagLength = tagLen
		key := symKey(kmip.CryptographicAlgorithmAES, kb)
		ct, tag, err := streamGCM(t, true, key, p, iv, aad, pt, nil, randomCuts(r, len(pt)))
		if err != nil || !bytes.Equal(ct, sealed[:len(pt)]) || !bytes.Equal(tag, sealed[len(pt):len(pt)+tagLen]) {
			t.Fatalf("case %d: streamed %x %x %v, stdlib %x", i, ct, tag, err, sealed)
		}
		back, _, err := streamGCM(t, false, key, p, iv, aad, ct, tag, randomCuts(r, len(ct)))
		if err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("case %d: decrypt %v", i, err)
		}
		bad := bytes.Clone(tag)
		bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
		if _, _, err := streamGCM(t, false, key, p, iv, aad, ct, bad, randomCuts(r, len(ct))); !errors.Is(err, ports.ErrCryptoFailure) {
			t.Fatalf("case %d: bad tag: %v, want ErrCryptoFailure", i, err)
		}
	}
}

func TestGCMStreamRefusals(t *testing.T) {
	e := New()
	p := params(kmip.BlockCipherModeGCM, 0)
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16))
	first, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 20), IV: make([]byte, 12), Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Data) != 16 {
		t.Fatalf("partial part returned %d bytes, want the whole block only", len(first.Data))
	}
	// AAD after the first part, a changed tag length, the other direction
	// or a damaged state are refused.
	if _, err := e.Encrypt(ctx, key, p, ports.CipherInput{AAD: []byte("late"), State: first.State}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("late AAD: %v", err)
	}
	p12 := p
	p12.TagLength = 12
	p13 := p
	p13.TagLength = 13
	s12, err := e.Encrypt(ctx, key, p12, ports.CipherInput{IV: make([]byte, 12), Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Encrypt(ctx, key, p13, ports.CipherInput{State: s12.State}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("changed tag length: %v", err)
	}
	if _, err := e.Decrypt(ctx, key, p, ports.CipherInput{State: first.State}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("decrypt with an encryption state: %v", err)
	}
	for i := range 16 + gcmStateLen { // header and GCM state; the buffered input may be any length
		if _, err := e.Encrypt(ctx, key, p, ports.CipherInput{State: first.State[:i]}); err == nil {
			t.Fatalf("state truncated to %d bytes accepted", i)
		}
	}
}
