//go:build cgo

// Package hsm runs the real binary on a SoftHSM2 token for what the PyKMIP
// interop test (test/interop/hsm_test.go) cannot express.
package hsm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestHSMExtractableGet: with crypto.pkcs11.extractable = true, Get of a
// token key returns material that decrypts what the token encrypted, and
// Get with a Key Wrapping Specification naming another token key returns
// the key wrapped (AES key wrap, RFC 3394, run in the token) — unwrapped
// here with the wrapping key's own exported material.
func TestHSMExtractableGet(t *testing.T) {
	const pin = "27182818"
	tok := softhsm.Setup(t, "kmipd-extract", pin)
	srv := harness.Start(t, harness.HSMOptions(tok, "extractable = true"))
	c := srv.Dial(t, "alice", 1, 4)
	newKey := func(mask kmip.CryptographicUsageMask) *kmip.Item {
		p := harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, mask, "")...)
		id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
		uid := kmip.Text(kmip.TagUniqueIdentifier, id)
		harness.Call(t, c, kmip.OperationActivate, uid)
		return uid
	}
	material := func(p *kmip.Item) []byte {
		b, ok := p.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if !ok {
			t.Fatalf("no key material in %v", p)
		}
		return b
	}
	target := newKey(kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt)
	wrapper := newKey(kmip.CryptographicUsageMaskWrapKey | kmip.CryptographicUsageMaskUnwrapKey)

	cbc := kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodNone)))
	iv := bytes.Repeat([]byte{3}, 16)
	msg := []byte("two AES blocks, thirty-two bytes")
	ct := harness.Field(t, harness.Call(t, c, kmip.OperationEncrypt, target, cbc, kmip.Bytes(kmip.TagIVCounterNonce, iv), kmip.Bytes(kmip.TagData, msg)), kmip.TagData)

	key := material(harness.Call(t, c, kmip.OperationGet, target))
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	if !bytes.Equal(plain, msg) {
		t.Fatal("the exported key does not decrypt what the token encrypted")
	}

	spec := kmip.Struct(kmip.TagKeyWrappingSpecification,
		kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
		kmip.Struct(kmip.TagEncryptionKeyInformation, wrapper,
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeNISTKeyWrap)))),
		kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))
	// No Encoding: the Key Material itself is the wrapped key (KMIP 1.4 §2.1.5).
	wrapped := material(harness.Call(t, c, kmip.OperationGet, target, spec))
	kek := material(harness.Call(t, c, kmip.OperationGet, wrapper))
	if got := unwrapRFC3394(t, kek, wrapped); !bytes.Equal(got, key) {
		t.Fatal("the wrapped key does not unwrap to the key")
	}
}

// unwrapRFC3394 is AES key unwrap (RFC 3394 §2.2.2) with the default IV.
func unwrapRFC3394(t *testing.T, kek, wrapped []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil || len(wrapped)%8 != 0 || len(wrapped) < 24 {
		t.Fatalf("cannot unwrap %d bytes: %v", len(wrapped), err)
	}
	n := len(wrapped)/8 - 1
	a := bytes.Clone(wrapped[:8])
	r := bytes.Clone(wrapped[8:])
	buf := make([]byte, 16)
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			tt := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a)^tt)
			copy(buf[8:], r[(i-1)*8:i*8])
			block.Decrypt(buf, buf)
			copy(a, buf[:8])
			copy(r[(i-1)*8:i*8], buf[8:])
		}
	}
	if !bytes.Equal(a, bytes.Repeat([]byte{0xA6}, 8)) {
		t.Fatal("key unwrap integrity check failed")
	}
	return r
}
