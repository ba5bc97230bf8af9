package software

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// NIST SP 800-38A Appendix F, AES-128 (F.1.1, F.2.1, F.3.13, F.4.1, F.5.1)
// and AES-256 (F.1.5, F.2.5).
const sp80038aPlain = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"

func TestSP80038A(t *testing.T) {
	k128 := unhex("2b7e151628aed2a6abf7158809cf4f3c")
	k256 := unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
	iv := unhex("000102030405060708090a0b0c0d0e0f")
	for _, c := range []struct {
		name string
		key  []byte
		mode kmip.BlockCipherMode
		iv   []byte
		want string
	}{
		{"ECB-AES128", k128, kmip.BlockCipherModeECB, nil, "3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf 43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4"},
		{"CBC-AES128", k128, kmip.BlockCipherModeCBC, iv, "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2 73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7"},
		{"CFB128-AES128", k128, kmip.BlockCipherModeCFB, iv, "3b3fd92eb72dad20333449f8e83cfb4a c8a64537a0b3a93fcde3cdad9f1ce58b 26751f67a3cbb140b1808cf187a4f4df c04b05357c5d1c0eeac4c66f9ff7f2e6"},
		{"OFB-AES128", k128, kmip.BlockCipherModeOFB, iv, "3b3fd92eb72dad20333449f8e83cfb4a 7789508d16918f03f53c52dac54ed825 9740051e9c5fecf64344f7a82260edcc 304c6528f659c77866a510d9c1d6ae5e"},
		{"CTR-AES128", k128, kmip.BlockCipherModeCTR, unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff 5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee"},
		{"ECB-AES256", k256, kmip.BlockCipherModeECB, nil, "f3eed1bdb5d2a03c064b5a7e3db181f8 591ccb10d410ed26dc5ba74a31362870 b6ed21b99ca6f4f9f153e7b1beafed1d 23304b7a39f9f3ff067d8d8f9e24ecc7"},
		{"CBC-AES256", k256, kmip.BlockCipherModeCBC, iv, "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d 39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := New()
			key := symKey(kmip.CryptographicAlgorithmAES, c.key)
			p := params(c.mode, 0)
			out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: unhex(sp80038aPlain), IV: c.iv})
			if err != nil {
				t.Fatal(err)
			}
			mustEqualHex(t, "ciphertext", out.Data, c.want)
			if out.IV != nil {
				t.Error("engine returned an IV the client gave")
			}
			back, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: unhex(c.want), IV: c.iv})
			if err != nil {
				t.Fatal(err)
			}
			mustEqualHex(t, "plaintext", back.Data, sp80038aPlain)
			// Streaming in uneven parts gives the same bytes.
			got := streamed(t, e, key, p, unhex(sp80038aPlain), c.iv, []int{5, 16, 17, 3}, true)
			mustEqualHex(t, "streamed ciphertext", got, c.want)
			got = streamed(t, e, key, p, unhex(c.want), c.iv, []int{31, 1, 16}, false)
			mustEqualHex(t, "streamed plaintext", got, sp80038aPlain)
		})
	}
}

// streamed runs data through Encrypt (or Decrypt) in parts of the given
// sizes (the rest goes in the final part) and returns the joined output.
// It also checks that no State holds the key.
func streamed(t *testing.T, e *Engine, key ports.KeyHandle, p ports.CryptoParams, data, iv []byte, parts []int, enc bool) []byte {
	t.Helper()
	op := e.Decrypt
	if enc {
		op = e.Encrypt
	}
	var out, state []byte
	for _, n := range parts {
		n = min(n, len(data))
		in := ports.CipherInput{Data: data[:n], Partial: true, State: state}
		if state == nil {
			in.IV = iv
		}
		res, err := op(ctx, key, p, in)
		if err != nil {
			t.Fatalf("part of %d bytes: %v", n, err)
		}
		if len(res.State) == 0 {
			t.Fatal("a partial result carries no State")
		}
		if bytes.Contains(res.State, key.Material) {
			t.Fatal("State contains the key")
		}
		out = append(out, res.Data...)
		state, data = res.State, data[n:]
	}
	res, err := op(ctx, key, p, ports.CipherInput{Data: data, State: state})
	if err != nil {
		t.Fatalf("final part: %v", err)
	}
	if res.State != nil {
		t.Error("final part returned a State")
	}
	return append(out, res.Data...)
}

func TestPKCS5Padding(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, unhex("2b7e151628aed2a6abf7158809cf4f3c"))
	p := params(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5)
	iv := unhex("000102030405060708090a0b0c0d0e0f")
	// A full block of plaintext gains a full block of padding: the first
	// block is SP 800-38A's, the second is 16 bytes of 0x10 chained on it.
	out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: unhex("6bc1bee22e409f96e93d7e117393172a"), IV: iv})
	if err != nil || len(out.Data) != 32 {
		t.Fatalf("%x %v", out.Data, err)
	}
	mustEqualHex(t, "first block", out.Data[:16], "7649abac8119b246cee98e9b12e9197d")
	for _, n := range []int{0, 1, 15, 16, 17, 33} {
		for _, pad := range []kmip.PaddingMethod{kmip.PaddingMethodPKCS5, kmip.PaddingMethodANSIX9_23, kmip.PaddingMethodISO10126} {
			p := params(kmip.BlockCipherModeCBC, pad)
			msg := bytes.Repeat([]byte{0xa5}, n)
			ct, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: msg, IV: iv})
			if err != nil || len(ct.Data) != (n/16+1)*16 {
				t.Fatalf("%s %d bytes: %d bytes, %v", pad, n, len(ct.Data), err)
			}
			pt, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: ct.Data, IV: iv})
			if err != nil || !bytes.Equal(pt.Data, msg) {
				t.Fatalf("%s %d bytes: round trip %x %v", pad, n, pt.Data, err)
			}
			if n == 33 {
				s := streamed(t, e, key, p, ct.Data, iv, []int{16, 16}, false)
				if !bytes.Equal(s, msg) {
					t.Errorf("%s: streamed decrypt %x", pad, s)
				}
			}
		}
	}
	// Bad padding, wrong sizes and a missing IV are ErrInvalidInput.
	bad, _ := e.Encrypt(ctx, key, params(kmip.BlockCipherModeCBC, 0), ports.CipherInput{Data: make([]byte, 16), IV: iv})
	for name, f := range map[string]func() error{
		"bad padding": func() error {
			_, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: bad.Data, IV: iv})
			return err
		},
		"partial block, no padding": func() error {
			_, err := e.Encrypt(ctx, key, params(kmip.BlockCipherModeCBC, 0), ports.CipherInput{Data: make([]byte, 15), IV: iv})
			return err
		},
		"short IV": func() error {
			_, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 16), IV: iv[:8]})
			return err
		},
		"decrypt without IV": func() error {
			_, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 16)})
			return err
		},
		"no mode": func() error {
			_, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: make([]byte, 16)})
			return err
		},
		"garbage state": func() error {
			_, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 16), State: []byte("not a state at all")})
			return err
		},
	} {
		if err := f(); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if _, err := e.Encrypt(ctx, key, params(kmip.BlockCipherModeXTS, 0), ports.CipherInput{Data: make([]byte, 32), IV: iv}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("XTS: %v, want ErrUnsupported", err)
	}
}

func TestGeneratedIV(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16))
	p := params(kmip.BlockCipherModeCBC, kmip.PaddingMethodPKCS5)
	p.RandomIV = true
	out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: []byte("hello")})
	if err != nil || len(out.IV) != 16 {
		t.Fatalf("generated IV %x, %v", out.IV, err)
	}
	back, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: out.Data, IV: out.IV})
	if err != nil || string(back.Data) != "hello" {
		t.Fatalf("%q %v", back.Data, err)
	}
}

// The GCM specification's test cases 2 and 4 (McGrew and Viega, as in NIST
// CAVP gcmEncryptExtIV128).
func TestGCM(t *testing.T) {
	e := New()
	p := params(kmip.BlockCipherModeGCM, 0)
	zero := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16))
	out, err := e.Encrypt(ctx, zero, p, ports.CipherInput{Data: make([]byte, 16), IV: make([]byte, 12)})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "TC2 ciphertext", out.Data, "0388dace60b6a392f328c2b971b2fe78")
	mustEqualHex(t, "TC2 tag", out.Tag, "ab6e47d42cec13bdf53a67b21257bddf")

	key := symKey(kmip.CryptographicAlgorithmAES, unhex("feffe9928665731c6d6a8f9467308308"))
	pt := unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
	aad := unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
	iv := unhex("cafebabefacedbaddecaf888")
	const ct = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
	const tag = "5bc94fbc3221a5db94fae95ae7121a47"
	out, err = e.Encrypt(ctx, key, p, ports.CipherInput{Data: pt, IV: iv, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "TC4 ciphertext", out.Data, ct)
	mustEqualHex(t, "TC4 tag", out.Tag, tag)
	back, err := e.Decrypt(ctx, key, p, ports.CipherInput{Data: unhex(ct), IV: iv, AAD: aad, Tag: unhex(tag)})
	if err != nil || !bytes.Equal(back.Data, pt) {
		t.Fatalf("TC4 decrypt: %x %v", back.Data, err)
	}
	// Truncated tags (Tag Length 12): the prefix of the full tag.
	p12 := p
	p12.TagLength = 12
	out, _ = e.Encrypt(ctx, key, p12, ports.CipherInput{Data: pt, IV: iv, AAD: aad})
	mustEqualHex(t, "12-byte tag", out.Tag, tag[:24])
	if back, err := e.Decrypt(ctx, key, p12, ports.CipherInput{Data: unhex(ct), IV: iv, AAD: aad, Tag: unhex(tag[:24])}); err != nil || !bytes.Equal(back.Data, pt) {
		t.Fatalf("12-byte tag decrypt: %v", err)
	}
	// A wrong tag, wrong AAD or tampered ciphertext is ErrCryptoFailure.
	badTag := unhex(tag)
	badTag[0] ^= 1
	for name, in := range map[string]ports.CipherInput{
		"tag":        {Data: unhex(ct), IV: iv, AAD: aad, Tag: badTag},
		"aad":        {Data: unhex(ct), IV: iv, AAD: aad[1:], Tag: unhex(tag)},
		"ciphertext": {Data: append([]byte{0}, unhex(ct)[1:]...), IV: iv, AAD: aad, Tag: unhex(tag)},
	} {
		if _, err := e.Decrypt(ctx, key, p, in); !errors.Is(err, ports.ErrCryptoFailure) {
			t.Errorf("bad %s: %v, want ErrCryptoFailure", name, err)
		}
	}
	badTag12 := badTag[:12]
	if _, err := e.Decrypt(ctx, key, p12, ports.CipherInput{Data: unhex(ct), IV: iv, AAD: aad, Tag: badTag12}); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Errorf("bad 12-byte tag: %v", err)
	}
	// Tag lengths outside 12..16 are refused (streaming: gcmstream_test.go).
	for _, n := range []int{1, 8, 17, 32} {
		pn := p
		pn.TagLength = n
		if _, err := e.Encrypt(ctx, key, pn, ports.CipherInput{Data: pt, IV: iv}); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("tag length %d: %v", n, err)
		}
	}
	// A generated nonce is 12 bytes and returned.
	out, err = e.Encrypt(ctx, key, p, ports.CipherInput{Data: pt})
	if err != nil || len(out.IV) != 12 {
		t.Fatalf("generated nonce %x %v", out.IV, err)
	}
}

func TestDES(t *testing.T) {
	e := New()
	// NIST SP 800-67 Rev. 1 Appendix B (three-key TDEA, ECB; the example's
	// plaintext is "The qufck brown fox jump").
	k3 := symKey(kmip.CryptographicAlgorithmDES3, unhex("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123"))
	out, err := e.Encrypt(ctx, k3, params(kmip.BlockCipherModeECB, 0), ports.CipherInput{Data: []byte("The qufck brown fox jump")})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "TDEA", out.Data, "A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900")
	// Two-key 3DES is K1 K2 K1; one-key 3DES is single DES.
	k2 := symKey(kmip.CryptographicAlgorithmDES3, unhex("0123456789ABCDEF 23456789ABCDEF01"))
	k2as3 := symKey(kmip.CryptographicAlgorithmDES3, unhex("0123456789ABCDEF 23456789ABCDEF01 0123456789ABCDEF"))
	a, _ := e.Encrypt(ctx, k2, params(kmip.BlockCipherModeECB, 0), ports.CipherInput{Data: make([]byte, 8)})
	b, _ := e.Encrypt(ctx, k2as3, params(kmip.BlockCipherModeECB, 0), ports.CipherInput{Data: make([]byte, 8)})
	if !bytes.Equal(a.Data, b.Data) || len(a.Data) != 8 {
		t.Errorf("two-key 3DES %x != %x", a.Data, b.Data)
	}
	// FIPS 46 worked example (key 133457799BBCDFF1).
	for _, alg := range []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmDES, kmip.CryptographicAlgorithmDES3} {
		out, err = e.Encrypt(ctx, symKey(alg, unhex("133457799BBCDFF1")), params(kmip.BlockCipherModeECB, 0), ports.CipherInput{Data: unhex("0123456789ABCDEF")})
		if err != nil {
			t.Fatal(err)
		}
		mustEqualHex(t, alg.String()+" single key", out.Data, "85E813540F0AB405")
	}
}

// Block cipher known answers: Schneier's Blowfish ECB vectors, RFC 3713
// Camellia, RFC 2144 Appendix B.1 CAST5, the IDEA reference example.
func TestOtherBlockCiphers(t *testing.T) {
	e := New()
	ecb := params(kmip.BlockCipherModeECB, 0)
	for _, c := range []struct {
		alg          kmip.CryptographicAlgorithm
		key, pt, out string
	}{
		{kmip.CryptographicAlgorithmBlowfish, "0000000000000000", "0000000000000000", "4EF997456198DD78"},
		{kmip.CryptographicAlgorithmBlowfish, "FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFF", "51866FD5B85ECB8A"},
		{kmip.CryptographicAlgorithmBlowfish, "3000000000000000", "1000000000000001", "7D856F9A613063F2"},
		{kmip.CryptographicAlgorithmBlowfish, "0123456789ABCDEF", "1111111111111111", "61F9C3802281B096"},
		{kmip.CryptographicAlgorithmCamellia, "0123456789abcdeffedcba9876543210", "0123456789abcdeffedcba9876543210", "67673138549669730857065648eabe43"},
		{kmip.CryptographicAlgorithmCamellia, "0123456789abcdeffedcba98765432100011223344556677", "0123456789abcdeffedcba9876543210", "b4993401b3e996f84ee5cee7d79b09b9"},
		{kmip.CryptographicAlgorithmCamellia, "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", "0123456789abcdeffedcba9876543210", "9acc237dff16d76c20ef7c919e3a7509"},
		{kmip.CryptographicAlgorithmCAST5, "0123456712345678234567893456789A", "0123456789ABCDEF", "238B4FE5847E44B2"},
		{kmip.CryptographicAlgorithmIDEA, "00010002000300040005000600070008", "0000000100020003", "11fbed2b01986de5"},
	} {
		key := symKey(c.alg, unhex(c.key))
		out, err := e.Encrypt(ctx, key, ecb, ports.CipherInput{Data: unhex(c.pt)})
		if err != nil {
			t.Errorf("%s: %v", c.alg, err)
			continue
		}
		mustEqualHex(t, c.alg.String()+" key "+c.key, out.Data, c.out)
		back, err := e.Decrypt(ctx, key, ecb, ports.CipherInput{Data: out.Data})
		if err != nil || !bytes.Equal(back.Data, unhex(c.pt)) {
			t.Errorf("%s decrypt: %x %v", c.alg, back.Data, err)
		}
	}
	// Camellia-128-CBC (cross-checked with OpenSSL).
	out, err := e.Encrypt(ctx, symKey(kmip.CryptographicAlgorithmCamellia, unhex("2b7e151628aed2a6abf7158809cf4f3c")),
		params(kmip.BlockCipherModeCBC, 0), ports.CipherInput{Data: unhex(sp80038aPlain)[:32], IV: unhex("000102030405060708090a0b0c0d0e0f")})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "Camellia-128-CBC", out.Data, "1607cf494b36bbf00daeb0b503c831aba2f2cf671629ef7840c5a5dfb5074887")
	// RFC 2144 12-round CAST5 (keys of 80 bits or less) is not available.
	if _, err := e.Encrypt(ctx, symKey(kmip.CryptographicAlgorithmCAST5, unhex("01234567123456782345")), ecb, ports.CipherInput{Data: make([]byte, 8)}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("80-bit CAST5: %v, want ErrUnsupported", err)
	}
}

// RFC 6229 (RC4, 40-bit key 0102030405, keystream offset 0).
func TestRC4(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmRC4, unhex("0102030405"))
	out, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "RC4 keystream", out.Data, "b2396305f03dc027ccc3524a0a1118a8 6982944f18fc82d589c403a47a0d0919")
	if _, err := e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: make([]byte, 32), Partial: true}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("streaming RC4: %v", err)
	}
}

const sunscreen = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."

// RFC 8439 §2.4.2 (ChaCha20) and §2.8.2 (ChaCha20-Poly1305).
func TestChaCha20(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmChaCha20, unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	const want = "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d"
	nonce := unhex("000000000000004a00000000")
	p := ports.CryptoParams{InitialCounterValue: 1, InitialCounterSet: true}
	out, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: []byte(sunscreen), IV: nonce})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "ChaCha20", out.Data, want)
	// The 16-byte form carries the counter (little-endian) before the nonce.
	out, _ = e.Encrypt(ctx, key, ports.CryptoParams{}, ports.CipherInput{Data: []byte(sunscreen), IV: append([]byte{1, 0, 0, 0}, nonce...)})
	mustEqualHex(t, "ChaCha20, 16-byte IV", out.Data, want)
	got := streamed(t, e, key, p, []byte(sunscreen), nonce, []int{10, 64, 1}, true)
	mustEqualHex(t, "ChaCha20 streamed", got, want)

	aeadKey := symKey(kmip.CryptographicAlgorithmChaCha20Poly1305, unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
	iv := unhex("070000004041424344454647")
	aad := unhex("50515253c0c1c2c3c4c5c6c7")
	out, err = e.Encrypt(ctx, aeadKey, ports.CryptoParams{}, ports.CipherInput{Data: []byte(sunscreen), IV: iv, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "AEAD ciphertext", out.Data, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116")
	mustEqualHex(t, "AEAD tag", out.Tag, "1ae10b594f09e26a7e902ecbd0600691")
	back, err := e.Decrypt(ctx, aeadKey, ports.CryptoParams{}, ports.CipherInput{Data: out.Data, IV: iv, AAD: aad, Tag: out.Tag})
	if err != nil || string(back.Data) != sunscreen {
		t.Fatalf("AEAD decrypt: %v", err)
	}
	out.Tag[3] ^= 0x40
	if _, err := e.Decrypt(ctx, aeadKey, ports.CryptoParams{}, ports.CipherInput{Data: out.Data, IV: iv, AAD: aad, Tag: out.Tag}); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Errorf("bad Poly1305 tag: %v", err)
	}
	// A ChaCha20 key used in AEAD mode is ChaCha20-Poly1305.
	out2, err := e.Encrypt(ctx, symKey(kmip.CryptographicAlgorithmChaCha20, aeadKey.Material), ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeAEAD)}, ports.CipherInput{Data: []byte(sunscreen), IV: iv, AAD: aad})
	if err != nil || !bytes.Equal(out2.Data, out.Data) {
		t.Errorf("ChaCha20 key in AEAD mode: %v", err)
	}
}

func TestAlgorithmMismatch(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16))
	p := params(kmip.BlockCipherModeECB, 0)
	p.CryptographicAlgorithm = uint32(kmip.CryptographicAlgorithmCamellia)
	if _, err := e.Encrypt(ctx, key, p, ports.CipherInput{Data: make([]byte, 16)}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("AES key used as Camellia: %v", err)
	}
	if _, err := e.Encrypt(ctx, symKey(kmip.CryptographicAlgorithmAES, make([]byte, 15)), params(kmip.BlockCipherModeECB, 0), ports.CipherInput{Data: make([]byte, 16)}); !errors.Is(err, ports.ErrInvalidLength) {
		t.Errorf("15-byte AES key: %v", err)
	}
}

// The AES-GCM exchanges of the OASIS conformance case CS-BC-M-GCM-1-14.
func TestGCMConformance(t *testing.T) {
	e := New()
	key := symKey(kmip.CryptographicAlgorithmAES, make([]byte, 16))
	p := params(kmip.BlockCipherModeGCM, 0)
	p.TagLength = 16
	zeroIV := make([]byte, 12)
	ct := unhex("0388dace60b6a392f328c2b971b2fe78")
	tag := unhex("ab6e47d42cec13bdf53a67b21257bddf")
	for name, c := range map[string]struct {
		in      ports.CipherInput
		tagLen  int
		failure bool
	}{
		"good":            {ports.CipherInput{Data: ct, IV: zeroIV, Tag: tag}, 16, false},
		"bad tag":         {ports.CipherInput{Data: ct, IV: zeroIV, Tag: unhex("006e47d42cec13bdf53a67b21257bddf")}, 16, true},
		"bad IV":          {ports.CipherInput{Data: ct, IV: unhex("ff0000000000000000000000"), Tag: tag}, 16, true},
		"bad ciphertext":  {ports.CipherInput{Data: unhex("ff88dace60b6a392f328c2b971b2fe78"), IV: zeroIV, Tag: tag}, 16, true},
		"12-byte tag":     {ports.CipherInput{Data: ct, IV: zeroIV, Tag: tag[:12]}, 12, false},
		"bad 12-byte tag": {ports.CipherInput{Data: ct, IV: zeroIV, Tag: unhex("ab6e47d42cec13bdf53a67b3")}, 12, true},
	} {
		pc := p
		pc.TagLength = c.tagLen
		out, err := e.Decrypt(ctx, key, pc, c.in)
		switch {
		case c.failure && !errors.Is(err, ports.ErrCryptoFailure):
			t.Errorf("%s: %v, want ErrCryptoFailure", name, err)
		case !c.failure && (err != nil || !bytes.Equal(out.Data, make([]byte, 16))):
			t.Errorf("%s: %x %v", name, out.Data, err)
		}
	}
}
