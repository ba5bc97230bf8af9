package attacker

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// modeParams is a Cryptographic Parameters structure with the given mode
// and any further fields.
func modeParams(m kmip.BlockCipherMode, more ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagCryptographicParameters, append([]*kmip.Item{kmip.Enum(kmip.TagBlockCipherMode, uint32(m))}, more...)...)
}

// TestEncryptIsNotDecrypt: with "encrypt_only" bob may Encrypt with
// alice's key but not Decrypt. In the stream-like modes, encrypting her
// ciphertext under her IV/nonce would return her plaintext, so bob may not
// choose the IV/Counter/Nonce at all; without one, his encryption runs
// under an IV the server generates.
func TestEncryptIsNotDecrypt(t *testing.T) {
	tg := start(t, harness.Options{})
	key := createAES(t, tg.alice, "encrypt_only", kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt)
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(key))
	secret := []byte("alice's plaintext, 32 bytes long")
	for _, c := range []struct {
		mode kmip.BlockCipherMode
		iv   []byte
	}{
		{kmip.BlockCipherModeCTR, bytes.Repeat([]byte{0x11}, 16)},
		{kmip.BlockCipherModeOFB, bytes.Repeat([]byte{0x22}, 16)},
		{kmip.BlockCipherModeCFB, bytes.Repeat([]byte{0x33}, 16)},
		{kmip.BlockCipherModeGCM, bytes.Repeat([]byte{0x44}, 12)},
	} {
		iv := kmip.Bytes(kmip.TagIVCounterNonce, c.iv)
		ct := harness.Call(t, tg.alice, kmip.OperationEncrypt, uid(key), modeParams(c.mode), kmip.Bytes(kmip.TagData, secret), iv)
		ciphertext := harness.Field(t, ct, kmip.TagData)
		out, err := tg.bob.Call(kmip.OperationEncrypt, uid(key), modeParams(c.mode), kmip.Bytes(kmip.TagData, ciphertext), iv.Clone())
		if err == nil {
			d, _ := out.Child(kmip.TagData).AsBytes()
			t.Errorf("%s: bob encrypted under alice's IV (recovered her plaintext: %v)", c.mode, bytes.Equal(d, secret))
		} else if reason(err) != kmip.ResultReasonPermissionDenied {
			t.Errorf("%s: bob's Encrypt with alice's IV: %v, want Permission Denied", c.mode, err)
		}
		out = harness.Call(t, tg.bob, kmip.OperationEncrypt, uid(key), modeParams(c.mode), kmip.Bytes(kmip.TagData, ciphertext))
		if d := harness.Field(t, out, kmip.TagData); bytes.Equal(d, secret) {
			t.Errorf("%s: bob's Encrypt without an IV returned alice's plaintext", c.mode)
		}
		if gen := harness.Field(t, out, kmip.TagIVCounterNonce); bytes.Equal(gen, c.iv) {
			t.Errorf("%s: the server generated alice's IV", c.mode)
		}
	}
}

// TestRequestCannotOverrideKeyParams: a key's Cryptographic Parameters bind
// every request on it, the owner's included: no client IV where they say
// Random IV, no ECB on a GCM key, no other tag length.
func TestRequestCannotOverrideKeyParams(t *testing.T) {
	tg := start(t, harness.Options{})
	mask := kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt
	randomIV := createAES(t, tg.alice, "shared", mask, kmipclient.Attribute("Cryptographic Parameters",
		modeParams(kmip.BlockCipherModeCBC, kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)), kmip.Bool(kmip.TagRandomIV, true))))
	gcm := createAES(t, tg.alice, "shared", mask, kmipclient.Attribute("Cryptographic Parameters",
		modeParams(kmip.BlockCipherModeGCM, kmip.Int(kmip.TagTagLength, 16))))
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(randomIV))
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(gcm))
	msg := kmip.Bytes(kmip.TagData, []byte("sixteen byte msg"))
	for _, who := range []struct {
		name string
		c    *kmipclient.Client
	}{{"bob", tg.bob}, {"alice", tg.alice}} {
		if _, err := who.c.Call(kmip.OperationEncrypt, uid(randomIV), modeParams(kmip.BlockCipherModeCBC), msg.Clone(),
			kmip.Bytes(kmip.TagIVCounterNonce, make([]byte, 16))); err == nil {
			t.Errorf("%s chose the IV on a Random IV key", who.name)
		}
		out := harness.Call(t, who.c, kmip.OperationEncrypt, uid(randomIV), msg.Clone())
		if len(harness.Field(t, out, kmip.TagIVCounterNonce)) != 16 {
			t.Errorf("%s: no generated IV on a Random IV key", who.name)
		}
		for _, r := range []struct {
			name   string
			target string
			p      *kmip.Item
		}{
			{"ECB on a GCM key", gcm, modeParams(kmip.BlockCipherModeECB)},
			{"another tag length", gcm, modeParams(kmip.BlockCipherModeGCM, kmip.Int(kmip.TagTagLength, 12))},
			{"CTR on a GCM key", gcm, modeParams(kmip.BlockCipherModeCTR)},
			{"ECB without Random IV on a CBC Random IV key", randomIV, modeParams(kmip.BlockCipherModeECB, kmip.Bool(kmip.TagRandomIV, false))},
		} {
			if _, err := who.c.Call(kmip.OperationEncrypt, uid(r.target), r.p, msg.Clone()); reason(err) != kmip.ResultReasonPermissionDenied {
				t.Errorf("%s, %s: %v, want Permission Denied", who.name, r.name, err)
			}
		}
	}
}
