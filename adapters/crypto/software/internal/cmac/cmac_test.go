package cmac

import (
	"bytes"
	"crypto/aes"
	"crypto/des"
	"encoding/hex"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

const msg64 = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"

// NIST SP 800-38B Appendix D.1 / RFC 4493 §4 (AES-128), D.2 (AES-192), D.3 (AES-256).
func TestAES(t *testing.T) {
	m := h(msg64)
	for _, c := range []struct {
		key  string
		n    int
		want string
	}{
		{"2b7e151628aed2a6abf7158809cf4f3c", 0, "bb1d6929e95937287fa37d129b756746"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 40, "dfa66747de9ae63030ca32611497c827"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 64, "51f0bebf7e3b9d92fc49741779363cfe"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", 0, "d17ddf46adaacde531cac483de7a9367"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", 64, "a1d5df0eed790f794d77589659f39a11"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 0, "028962f61b7bf89efc6b551f4667d983"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 64, "e1992190549f6ed5696a2c056c315410"},
	} {
		b, _ := aes.NewCipher(h(c.key))
		got, err := Sum(b, m[:c.n])
		if err != nil || !bytes.Equal(got, h(c.want)) {
			t.Errorf("AES key %s, %d bytes: %x %v, want %s", c.key[:8], c.n, got, err, c.want)
		}
	}
}

// NIST SP 800-38B Appendix D.4 (three-key TDEA).
func TestTDEA(t *testing.T) {
	b, err := des.NewTripleDESCipher(h("8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5"))
	if err != nil {
		t.Fatal(err)
	}
	m := h(msg64)
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, "b7a688e122ffaf95"}, {8, "8e8f293136283797"}, {20, "743ddbe0ce2dc2ed"}, {32, "33e6b1092400eae5"},
	} {
		got, _ := Sum(b, m[:c.n])
		if !bytes.Equal(got, h(c.want)) {
			t.Errorf("TDEA %d bytes: %x, want %s", c.n, got, c.want)
		}
	}
}
