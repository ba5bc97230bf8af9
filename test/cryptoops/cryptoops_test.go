// Package cryptoops runs the cryptographic KMIP operations in-process:
// app.New with the real software engine and a real SQLite or bbolt store,
// checking results against Go's standard library where it can.
package cryptoops

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var alice = domain.Principal{Name: "alice"}

// env is one service on one store, speaking one protocol version.
type env struct {
	t          *testing.T
	s          *app.Service
	major, min int32
}

func (e *env) v2() bool { return e.major >= 2 }

// stores opens each real store in a fresh directory.
func stores(t *testing.T) map[string]ports.Store {
	t.Helper()
	dir := t.TempDir()
	sq, err := sqlite.Open(filepath.Join(dir, "k.sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := bolt.Open(filepath.Join(dir, "k.bolt"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close(); bb.Close() })
	return map[string]ports.Store{"sqlite": sq, "bbolt": bb}
}

// each runs fn for every store and for KMIP 1.4 and 2.1.
func each(t *testing.T, fn func(e *env)) {
	for name, st := range stores(t) {
		for _, v := range [][2]int32{{1, 4}, {2, 1}} {
			t.Run(fmt.Sprintf("%s/%d.%d", name, v[0], v[1]), func(t *testing.T) {
				s := app.New(app.Config{Store: st, Crypto: software.New()})
				fn(&env{t: t, s: s, major: v[0], min: v[1]})
			})
		}
	}
}

// do sends one operation and returns its payload, failing the test on error.
func (e *env) do(op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	e.t.Helper()
	p, reason := e.try(op, payload...)
	if p == nil {
		e.t.Fatalf("%s failed: %s", op, reason)
	}
	return p
}

// try sends one operation and returns its payload, or nil and the reason.
func (e *env) try(op kmip.Operation, payload ...*kmip.Item) (*kmip.Item, kmip.ResultReason) {
	e.t.Helper()
	req := kmip.Struct(kmip.TagRequestMessage,
		kmip.Struct(kmip.TagRequestHeader,
			kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, e.major), kmip.Int(kmip.TagProtocolVersionMinor, e.min)),
			kmip.Int(kmip.TagBatchCount, 1)),
		kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(op)), kmip.Struct(kmip.TagRequestPayload, payload...)))
	resp := e.s.HandleMessage(ports.WithPeer(context.Background(), alice), req)
	bi := resp.Child(kmip.TagBatchItem)
	if st, _ := bi.Child(kmip.TagResultStatus).AsEnum(); st != uint32(kmip.ResultStatusSuccess) {
		r, _ := bi.Child(kmip.TagResultReason).AsEnum()
		return nil, kmip.ResultReason(r)
	}
	return bi.Child(kmip.TagResponsePayload), 0
}

// attrs is the version's attribute container holding vals (each with its own tag).
func (e *env) attrs(tag1x kmip.Tag, vals ...*kmip.Item) *kmip.Item {
	if e.v2() {
		tag := kmip.TagAttributes
		switch tag1x {
		case kmip.TagCommonTemplateAttribute:
			tag = kmip.TagCommonAttributes
		case kmip.TagPrivateKeyTemplateAttribute:
			tag = kmip.TagPrivateKeyAttributes
		case kmip.TagPublicKeyTemplateAttribute:
			tag = kmip.TagPublicKeyAttributes
		}
		return kmip.Struct(tag, vals...)
	}
	box := kmip.Struct(tag1x)
	for _, v := range vals {
		av := v.Clone()
		av.Tag = kmip.TagAttributeValue
		box.Add(kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, v.Tag.SpecName()), av))
	}
	return box
}

func mask(bits ...kmip.CryptographicUsageMask) *kmip.Item {
	var m int32
	for _, b := range bits {
		m |= int32(b)
	}
	return kmip.Int(kmip.TagCryptographicUsageMask, m)
}

func algItem(a kmip.CryptographicAlgorithm) *kmip.Item {
	return kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(a))
}

func active() *kmip.Item { return kmip.DateTime(kmip.TagActivationDate, time.Now().Add(-time.Hour)) }

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func text(t *testing.T, p *kmip.Item, tag kmip.Tag) string {
	t.Helper()
	s, ok := p.Child(tag).AsText()
	if !ok {
		t.Fatalf("no %s in %v", tag.SpecName(), p)
	}
	return s
}

func bytesOf(t *testing.T, p *kmip.Item, tag kmip.Tag) []byte {
	t.Helper()
	b, ok := p.Child(tag).AsBytes()
	if !ok {
		t.Fatalf("no %s in %v", tag.SpecName(), p)
	}
	return b
}

// symKey creates an active symmetric key and returns its ID and material.
func (e *env) symKey(alg kmip.CryptographicAlgorithm, bits int32, m *kmip.Item) (string, []byte) {
	e.t.Helper()
	id := text(e.t, e.do(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		e.attrs(kmip.TagTemplateAttribute, algItem(alg), kmip.Int(kmip.TagCryptographicLength, bits), m, active())), kmip.TagUniqueIdentifier)
	return id, e.material(id)
}

func (e *env) material(id string) []byte {
	e.t.Helper()
	got := e.do(kmip.OperationGet, uid(id))
	for _, ch := range got.Children() {
		if b, ok := ch.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); ok {
			return b
		}
	}
	e.t.Fatalf("no key material for %s", id)
	return nil
}

func params(kv ...any) *kmip.Item {
	p := kmip.Struct(kmip.TagCryptographicParameters)
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case uint32:
			p.Add(kmip.Enum(kv[i].(kmip.Tag), v))
		case int32:
			p.Add(kmip.Int(kv[i].(kmip.Tag), v))
		case bool:
			p.Add(kmip.Bool(kv[i].(kmip.Tag), v))
		}
	}
	return p
}

func mode(m kmip.BlockCipherMode) (kmip.Tag, uint32) { return kmip.TagBlockCipherMode, uint32(m) }

func TestSymmetricCiphers(t *testing.T) {
	each(t, func(e *env) {
		plain := []byte("sixteen byte blk and then some more text for the modes...")
		for _, bits := range []int32{128, 192, 256} {
			id, key := e.symKey(kmip.CryptographicAlgorithmAES, bits, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt))
			block, _ := aes.NewCipher(key)
			iv := bytes.Repeat([]byte{9}, 16)
			// CBC with PKCS#5 and a client IV: the same as crypto/cipher.
			cbc := params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC), kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))
			ct := bytesOf(e.t, e.do(kmip.OperationEncrypt, uid(id), cbc, kmip.Bytes(kmip.TagData, plain), kmip.Bytes(kmip.TagIVCounterNonce, iv)), kmip.TagData)
			pad := 16 - len(plain)%16
			want := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(want, want)
			if !bytes.Equal(ct, want) {
				e.t.Fatalf("AES-%d-CBC differs from crypto/cipher", bits)
			}
			back := bytesOf(e.t, e.do(kmip.OperationDecrypt, uid(id), cbc.Clone(), kmip.Bytes(kmip.TagData, ct), kmip.Bytes(kmip.TagIVCounterNonce, iv)), kmip.TagData)
			if !bytes.Equal(back, plain) {
				e.t.Fatalf("AES-%d-CBC round trip", bits)
			}
			// CTR with a generated counter block, which the response returns.
			ctr := params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCTR), kmip.TagRandomIV, true)
			out := e.do(kmip.OperationEncrypt, uid(id), ctr, kmip.Bytes(kmip.TagData, plain))
			gen := bytesOf(e.t, out, kmip.TagIVCounterNonce)
			wantCTR := make([]byte, len(plain))
			cipher.NewCTR(block, gen).XORKeyStream(wantCTR, plain)
			if !bytes.Equal(bytesOf(e.t, out, kmip.TagData), wantCTR) {
				e.t.Fatalf("AES-%d-CTR differs from crypto/cipher", bits)
			}
			// GCM with AAD and tag.
			nonce := bytes.Repeat([]byte{3}, 12)
			gcmP := params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM), kmip.TagTagLength, int32(16))
			out = e.do(kmip.OperationEncrypt, uid(id), gcmP, kmip.Bytes(kmip.TagData, plain), kmip.Bytes(kmip.TagIVCounterNonce, nonce),
				kmip.Bytes(kmip.TagAuthenticatedEncryptionAdditionalData, []byte("aad")))
			aead, _ := cipher.NewGCM(block)
			sealed := aead.Seal(nil, nonce, plain, []byte("aad"))
			if !bytes.Equal(bytesOf(e.t, out, kmip.TagData), sealed[:len(plain)]) || !bytes.Equal(bytesOf(e.t, out, kmip.TagAuthenticatedEncryptionTag), sealed[len(plain):]) {
				e.t.Fatalf("AES-%d-GCM differs from crypto/cipher", bits)
			}
			badTag := append([]byte(nil), sealed[len(plain):]...)
			badTag[0] ^= 0xff
			if _, r := e.try(kmip.OperationDecrypt, uid(id), gcmP.Clone(), kmip.Bytes(kmip.TagData, sealed[:len(plain)]), kmip.Bytes(kmip.TagIVCounterNonce, nonce),
				kmip.Bytes(kmip.TagAuthenticatedEncryptionAdditionalData, []byte("aad")), kmip.Bytes(kmip.TagAuthenticatedEncryptionTag, badTag)); r != kmip.ResultReasonCryptographicFailure {
				e.t.Fatalf("a bad GCM tag gave %s", r)
			}
		}
		// 3DES in ECB (no padding, whole blocks).
		id, _ := e.symKey(kmip.CryptographicAlgorithmDES3, 168, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt))
		ecb := params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeECB))
		ct := bytesOf(e.t, e.do(kmip.OperationEncrypt, uid(id), ecb, kmip.Bytes(kmip.TagData, plain[:16])), kmip.TagData)
		if back := bytesOf(e.t, e.do(kmip.OperationDecrypt, uid(id), ecb.Clone(), kmip.Bytes(kmip.TagData, ct)), kmip.TagData); !bytes.Equal(back, plain[:16]) {
			e.t.Fatal("3DES-ECB round trip")
		}
	})
}

// A streamed CBC encryption equals the one-shot result, and the Correlation
// Value never carries the key.
func TestStreamedCBC(t *testing.T) {
	each(t, func(e *env) {
		id, key := e.symKey(kmip.CryptographicAlgorithmAES, 256, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt))
		plain := bytes.Repeat([]byte("0123456789"), 10)
		iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{1}, 16))
		cbc := params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC), kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))
		whole := bytesOf(e.t, e.do(kmip.OperationEncrypt, uid(id), cbc, iv, kmip.Bytes(kmip.TagData, plain)), kmip.TagData)
		var got []byte
		var cv []byte
		for i, part := range [][]byte{plain[:7], plain[7:40], plain[40:41], plain[41:]} {
			req := []*kmip.Item{uid(id), cbc.Clone(), kmip.Bytes(kmip.TagData, part)}
			switch i {
			case 0:
				req = append(req, iv.Clone(), kmip.Bool(kmip.TagInitIndicator, true))
			case 3:
				req = append(req, kmip.Bytes(kmip.TagCorrelationValue, cv), kmip.Bool(kmip.TagFinalIndicator, true))
			default:
				req = append(req, kmip.Bytes(kmip.TagCorrelationValue, cv))
			}
			out := e.do(kmip.OperationEncrypt, req...)
			if d, ok := out.Child(kmip.TagData).AsBytes(); ok {
				got = append(got, d...)
			}
			if i < 3 {
				cv = bytesOf(e.t, out, kmip.TagCorrelationValue)
				if bytes.Contains(cv, key) {
					e.t.Fatal("the Correlation Value contains the key")
				}
			}
		}
		if !bytes.Equal(got, whole) {
			e.t.Fatal("streamed CBC differs from one-shot")
		}
	})
}

// keyPair creates an active key pair and returns the private and public IDs.
func (e *env) keyPair(alg kmip.CryptographicAlgorithm, bits int32, privMask, pubMask *kmip.Item, extra ...*kmip.Item) (string, string) {
	e.t.Helper()
	common := append([]*kmip.Item{algItem(alg), kmip.Int(kmip.TagCryptographicLength, bits), active()}, extra...)
	out := e.do(kmip.OperationCreateKeyPair, e.attrs(kmip.TagCommonTemplateAttribute, common...),
		e.attrs(kmip.TagPrivateKeyTemplateAttribute, privMask), e.attrs(kmip.TagPublicKeyTemplateAttribute, pubMask))
	return text(e.t, out, kmip.TagPrivateKeyUniqueIdentifier), text(e.t, out, kmip.TagPublicKeyUniqueIdentifier)
}

func (e *env) sign(priv string, p *kmip.Item, msg []byte) []byte {
	e.t.Helper()
	return bytesOf(e.t, e.do(kmip.OperationSign, uid(priv), p, kmip.Bytes(kmip.TagData, msg)), kmip.TagSignatureData)
}

func (e *env) verify(pub string, p *kmip.Item, msg, sig []byte) bool {
	e.t.Helper()
	out := e.do(kmip.OperationSignatureVerify, uid(pub), p, kmip.Bytes(kmip.TagData, msg), kmip.Bytes(kmip.TagSignatureData, sig))
	v, _ := out.Child(kmip.TagValidityIndicator).AsEnum()
	return v == uint32(kmip.ValidityIndicatorValid)
}

func TestSignatures(t *testing.T) {
	each(t, func(e *env) {
		msg := []byte("signed statement")
		digest := sha256.Sum256(msg)
		signM, verifyM := mask(kmip.CryptographicUsageMaskSign), mask(kmip.CryptographicUsageMaskVerify)

		// RSA PKCS#1 v1.5 and PSS, checked with crypto/rsa.
		priv, pub := e.keyPair(kmip.CryptographicAlgorithmRSA, 2048, signM, verifyM)
		rsaPub, err := x509.ParsePKCS1PublicKey(e.material(pub))
		if err != nil {
			e.t.Fatalf("public key is not PKCS#1: %v", err)
		}
		v15 := params(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS1V1_5), kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))
		sig := e.sign(priv, v15, msg)
		if rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], sig) != nil || !e.verify(pub, v15.Clone(), msg, sig) || e.verify(pub, v15.Clone(), []byte("other"), sig) {
			e.t.Fatal("RSA PKCS#1 v1.5 signature")
		}
		pss := params(kmip.TagDigitalSignatureAlgorithm, uint32(kmip.DigitalSignatureAlgorithmRSASSA_PSS), kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))
		sig = e.sign(priv, pss, msg)
		if rsa.VerifyPSS(rsaPub, crypto.SHA256, digest[:], sig, nil) != nil || !e.verify(pub, pss.Clone(), msg, sig) {
			e.t.Fatal("RSA-PSS signature")
		}
		// Digested Data.
		dsig := bytesOf(e.t, e.do(kmip.OperationSign, uid(priv), v15.Clone(), kmip.Bytes(kmip.TagDigestedData, digest[:])), kmip.TagSignatureData)
		if rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], dsig) != nil {
			e.t.Fatal("RSA signature of Digested Data")
		}

		// ECDSA P-256, checked with crypto/ecdsa.
		for _, alg := range []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmEC} {
			priv, pub = e.keyPair(alg, 256, signM, verifyM)
			ecP := params(kmip.TagDigitalSignatureAlgorithm, uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256))
			sig = e.sign(priv, ecP, msg)
			k, err := x509.ParsePKIXPublicKey(e.material(pub))
			if err != nil {
				e.t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(k.(*ecdsa.PublicKey), digest[:], sig) || !e.verify(pub, ecP.Clone(), msg, sig) || e.verify(pub, ecP.Clone(), []byte("x"), sig) {
				e.t.Fatalf("%s signature", alg)
			}
		}

		// Ed25519, checked with crypto/ed25519.
		priv, pub = e.keyPair(kmip.CryptographicAlgorithmEd25519, 256, signM, verifyM)
		sig = e.sign(priv, nil, msg)
		k, err := x509.ParsePKIXPublicKey(e.material(pub))
		if err != nil {
			e.t.Fatal(err)
		}
		if !ed25519.Verify(k.(ed25519.PublicKey), msg, sig) || !e.verify(pub, nil, msg, sig) {
			e.t.Fatal("Ed25519 signature")
		}
	})
}

func TestRSAEncryption(t *testing.T) {
	each(t, func(e *env) {
		priv, pub := e.keyPair(kmip.CryptographicAlgorithmRSA, 2048, mask(kmip.CryptographicUsageMaskDecrypt), mask(kmip.CryptographicUsageMaskEncrypt))
		oaep := params(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodOAEP), kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))
		ct := bytesOf(e.t, e.do(kmip.OperationEncrypt, uid(pub), oaep, kmip.Bytes(kmip.TagData, []byte("for the private key"))), kmip.TagData)
		back := bytesOf(e.t, e.do(kmip.OperationDecrypt, uid(priv), oaep.Clone(), kmip.Bytes(kmip.TagData, ct)), kmip.TagData)
		if string(back) != "for the private key" {
			e.t.Fatal("RSA-OAEP round trip")
		}
	})
}

func TestMACs(t *testing.T) {
	each(t, func(e *env) {
		mm := mask(kmip.CryptographicUsageMaskMACGenerate, kmip.CryptographicUsageMaskMACVerify)
		id, key := e.symKey(kmip.CryptographicAlgorithmHMAC_SHA256, 256, mm)
		m := bytesOf(e.t, e.do(kmip.OperationMAC, uid(id), kmip.Bytes(kmip.TagData, []byte("data"))), kmip.TagMACData)
		h := hmac.New(sha256.New, key)
		h.Write([]byte("data"))
		if !bytes.Equal(m, h.Sum(nil)) {
			e.t.Fatal("HMAC-SHA256 differs from crypto/hmac")
		}
		out := e.do(kmip.OperationMACVerify, uid(id), kmip.Bytes(kmip.TagData, []byte("data")), kmip.Bytes(kmip.TagMACData, m))
		if v, _ := out.Child(kmip.TagValidityIndicator).AsEnum(); v != uint32(kmip.ValidityIndicatorValid) {
			e.t.Fatal("MAC Verify of a good MAC")
		}
		out = e.do(kmip.OperationMACVerify, uid(id), kmip.Bytes(kmip.TagData, []byte("datA")), kmip.Bytes(kmip.TagMACData, m))
		if v, _ := out.Child(kmip.TagValidityIndicator).AsEnum(); v != uint32(kmip.ValidityIndicatorInvalid) {
			e.t.Fatal("MAC Verify of a bad MAC")
		}
		// CMAC with an AES key (RFC 4493 example 2 checks the engine itself; here the app path).
		aesID, _ := e.symKey(kmip.CryptographicAlgorithmAES, 128, mm)
		cm := bytesOf(e.t, e.do(kmip.OperationMAC, uid(aesID), kmip.Bytes(kmip.TagData, []byte("data"))), kmip.TagMACData)
		if len(cm) != 16 {
			e.t.Fatalf("AES-CMAC length %d", len(cm))
		}
	})
}

func TestDeriveKeyReal(t *testing.T) {
	each(t, func(e *env) {
		base, key := e.symKey(kmip.CryptographicAlgorithmAES, 256, mask(kmip.CryptographicUsageMaskDeriveKey))
		out := e.do(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), uid(base),
			kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
			kmip.Struct(kmip.TagDerivationParameters, params(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)),
				kmip.Bytes(kmip.TagDerivationData, []byte("label"))),
			e.attrs(kmip.TagTemplateAttribute, algItem(kmip.CryptographicAlgorithmAES), kmip.Int(kmip.TagCryptographicLength, 128),
				mask(kmip.CryptographicUsageMaskEncrypt)))
		derived := e.material(text(e.t, out, kmip.TagUniqueIdentifier))
		h := hmac.New(sha256.New, key)
		h.Write([]byte("label"))
		if !bytes.Equal(derived, h.Sum(nil)[:16]) {
			e.t.Fatal("HMAC derivation differs from crypto/hmac")
		}
		// HASH derivation.
		out = e.do(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), uid(base),
			kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHASH)),
			kmip.Struct(kmip.TagDerivationParameters, params(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
			e.attrs(kmip.TagTemplateAttribute, algItem(kmip.CryptographicAlgorithmAES), kmip.Int(kmip.TagCryptographicLength, 128),
				mask(kmip.CryptographicUsageMaskEncrypt)))
		sum := sha256.Sum256(key)
		if !bytes.Equal(e.material(text(e.t, out, kmip.TagUniqueIdentifier)), sum[:16]) {
			e.t.Fatal("HASH derivation differs from SHA-256 of the key")
		}
	})
}

// Get wraps with AES Key Wrap; registering the wrapped key and asking for it
// Not Wrapped gives the original back through the engine's unwrap.
func TestWrapAndUnwrap(t *testing.T) {
	each(t, func(e *env) {
		kek, _ := e.symKey(kmip.CryptographicAlgorithmAES, 256, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey))
		target, clear := e.symKey(kmip.CryptographicAlgorithmAES, 128, mask(kmip.CryptographicUsageMaskEncrypt))
		info := kmip.Struct(kmip.TagEncryptionKeyInformation, uid(kek), params(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeNISTKeyWrap)))
		got := e.do(kmip.OperationGet, uid(target), kmip.Struct(kmip.TagKeyWrappingSpecification,
			kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)), info,
			kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))))
		sk := got.Child(kmip.TagSymmetricKey)
		wrapped, _ := sk.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if len(wrapped) != len(clear)+8 {
			e.t.Fatalf("AES Key Wrap output is %d bytes", len(wrapped))
		}
		reg := e.do(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			e.attrs(kmip.TagTemplateAttribute, mask(kmip.CryptographicUsageMaskEncrypt)), sk)
		id := text(e.t, reg, kmip.TagUniqueIdentifier)
		back := e.do(kmip.OperationGet, uid(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)))
		if m, _ := back.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(m, clear) {
			e.t.Fatal("unwrapping the registered key did not give the original")
		}
		asReg := e.do(kmip.OperationGet, uid(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeAsRegistered)))
		if !asReg.Child(kmip.TagSymmetricKey).Equal(sk) {
			e.t.Fatal("the wrapped key was not stored as given")
		}
	})
}

func TestHashAndRNG(t *testing.T) {
	each(t, func(e *env) {
		out := e.do(kmip.OperationHash, params(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)), kmip.Bytes(kmip.TagData, []byte("abc")))
		sum := sha256.Sum256([]byte("abc"))
		if !bytes.Equal(bytesOf(e.t, out, kmip.TagData), sum[:]) {
			e.t.Fatal("Hash differs from crypto/sha256")
		}
		a := bytesOf(e.t, e.do(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 32)), kmip.TagData)
		b := bytesOf(e.t, e.do(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 32)), kmip.TagData)
		if len(a) != 32 || bytes.Equal(a, b) {
			e.t.Fatal("RNG Retrieve")
		}
		e.do(kmip.OperationRNGSeed, kmip.Bytes(kmip.TagData, []byte("some entropy")))
	})
}
