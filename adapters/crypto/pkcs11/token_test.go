//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var ctx = context.Background()

// uid is a fresh KMIP-like Unique Identifier, so each test finds its own objects by label.
func uid(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return t.Name() + "-" + hex.EncodeToString(b)
}

func aesSpec(id string, bits int, mask kmip.CryptographicUsageMask) ports.SymmetricKeySpec {
	return ports.SymmetricKeySpec{ID: id, Algorithm: uint32(kmip.CryptographicAlgorithmAES), Length: bits, UsageMask: int32(mask)}
}

func kept(id string, k ports.Key, alg kmip.CryptographicAlgorithm, ot kmip.ObjectType) ports.KeyHandle {
	return ports.KeyHandle{ID: id, ObjectType: uint32(ot), Algorithm: uint32(alg), Ref: k.Ref, Material: k.Material, Format: k.Format}
}

// TestKeyLivesInToken asks the token itself, from a session of the test's
// own, about a key the engine generated: it is there under its Unique
// Identifier, a token object, sensitive, not extractable, and its value
// cannot be read.
func TestKeyLivesInToken(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 256, kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))
	if err != nil {
		t.Fatal(err)
	}
	if k.Ref == "" || len(k.Material) != 0 || !k.NonExtractable {
		t.Fatalf("generated key: Ref %q, %d bytes of material, NonExtractable %v", k.Ref, len(k.Material), k.NonExtractable)
	}
	r := rawSession(t)
	hs := r.findByLabel(t, id)
	if len(hs) != 1 {
		t.Fatalf("%d objects labelled %q in the token, want 1", len(hs), id)
	}
	h := hs[0]
	for _, c := range []struct {
		attr uint
		name string
		want bool
	}{
		{pkcs11.CKA_TOKEN, "CKA_TOKEN", true}, {pkcs11.CKA_PRIVATE, "CKA_PRIVATE", true},
		{pkcs11.CKA_SENSITIVE, "CKA_SENSITIVE", true}, {pkcs11.CKA_EXTRACTABLE, "CKA_EXTRACTABLE", false},
		{pkcs11.CKA_ENCRYPT, "CKA_ENCRYPT", true}, {pkcs11.CKA_DECRYPT, "CKA_DECRYPT", true},
		{pkcs11.CKA_SIGN, "CKA_SIGN", false}, {pkcs11.CKA_WRAP, "CKA_WRAP", false},
	} {
		if got := r.boolAttr(t, h, c.attr); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := r.p.GetAttributeValue(r.s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); !isRV(err, pkcs11.CKR_ATTRIBUTE_SENSITIVE) {
		t.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
	}
	if _, err := e.ExportKey(ctx, ports.KeyHandle{ID: id, Ref: k.Ref}); !errors.Is(err, ports.ErrNotExtractable) {
		t.Errorf("ExportKey of a non-extractable key: %v, want ErrNotExtractable", err)
	}

	// The private half of a key pair too; the public half is a token object.
	kp, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{PrivateID: id + "-priv", PublicID: id + "-pub", Algorithm: uint32(kmip.CryptographicAlgorithmEC), Length: 256})
	if err != nil {
		t.Fatal(err)
	}
	priv, pub := r.findByLabel(t, id+"-priv"), r.findByLabel(t, id+"-pub")
	if len(priv) != 1 || len(pub) != 1 {
		t.Fatalf("key pair objects: %d private, %d public", len(priv), len(pub))
	}
	if !r.boolAttr(t, priv[0], pkcs11.CKA_SENSITIVE) || r.boolAttr(t, priv[0], pkcs11.CKA_EXTRACTABLE) || !r.boolAttr(t, pub[0], pkcs11.CKA_TOKEN) {
		t.Error("private key not sensitive or extractable, or public key not a token object")
	}
	if _, err := x509.ParsePKIXPublicKey(kp.Public.Material); err != nil || kp.Public.Format != uint32(kmip.KeyFormatTypeX_509) || len(kp.Private.Material) != 0 {
		t.Errorf("EC public key material: %v (format %d); private material %d bytes", err, kp.Public.Format, len(kp.Private.Material))
	}
}

// TestExportExtractable: with Extractable, the key's exported bytes decrypt
// what the token encrypted, checked with Go's crypto/aes.
func TestExportExtractable(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Extractable = true })
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 256, 0))
	if err != nil {
		t.Fatal(err)
	}
	if k.NonExtractable {
		t.Error("extractable engine reports the key non-extractable")
	}
	r := rawSession(t)
	hs := r.findByLabel(t, id)
	if len(hs) != 1 || r.boolAttr(t, hs[0], pkcs11.CKA_SENSITIVE) || !r.boolAttr(t, hs[0], pkcs11.CKA_EXTRACTABLE) {
		t.Fatal("the extractable key is not CKA_SENSITIVE false, CKA_EXTRACTABLE true")
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	msg := []byte("exported key bytes decrypt this!")
	iv := bytes.Repeat([]byte{3}, 16)
	ct, err := e.Encrypt(ctx, h, ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCBC), PaddingMethod: uint32(kmip.PaddingMethodNone)}, ports.CipherInput{Data: msg, IV: iv})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.ExportKey(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Material) != 32 || x.Format != uint32(kmip.KeyFormatTypeRaw) {
		t.Fatalf("exported %d bytes in format %d", len(x.Material), x.Format)
	}
	b, err := aes.NewCipher(x.Material)
	if err != nil {
		t.Fatal(err)
	}
	pt := make([]byte, len(ct.Data))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(pt, ct.Data)
	if !bytes.Equal(pt, msg) {
		t.Errorf("Go decrypts the token's ciphertext to %q", pt)
	}

	// Private keys export as PKCS#8, matching the public half.
	for _, spec := range []ports.KeyPairSpec{
		{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 2048},
		{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Curve: uint32(kmip.RecommendedCurveP_384)},
		{Algorithm: uint32(kmip.CryptographicAlgorithmEd25519)},
	} {
		spec.PrivateID, spec.PublicID = id+"-priv", id+"-pub"
		kp, err := e.GenerateKeyPair(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		px, err := e.ExportKey(ctx, ports.KeyHandle{Ref: kp.Private.Ref})
		if err != nil {
			t.Fatal(err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(px.Material)
		if err != nil || px.Format != uint32(kmip.KeyFormatTypePKCS_8) {
			t.Fatalf("exported private key: %v (format %d)", err, px.Format)
		}
		pubx, err := e.ExportKey(ctx, ports.KeyHandle{Ref: kp.Public.Ref})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(pubx.Material)
		if err != nil {
			t.Fatal(err)
		}
		if !priv.(interface{ Public() crypto.PublicKey }).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
			t.Errorf("%s: exported private key does not match the public key", kmip.CryptographicAlgorithm(spec.Algorithm))
		}
	}
}

// TestImportKey: material imported into the token works under its Ref
// and agrees with Go's implementations.
func TestImportKey(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	// NIST SP 800-38A F.2.1.
	key, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	k, err := e.ImportKey(ctx, ports.ImportSpec{ID: id, ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(kmip.CryptographicAlgorithmAES),
		Length: 128, Format: uint32(kmip.KeyFormatTypeRaw), Material: key})
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := hex.DecodeString("6bc1bee22e409f96e93d7e117393172a")
	iv, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	out, err := e.Encrypt(ctx, kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey),
		ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCBC)}, ports.CipherInput{Data: pt, IV: iv})
	if err != nil || hex.EncodeToString(out.Data) != "7649abac8119b246cee98e9b12e9197d" {
		t.Errorf("imported AES key encrypts to %x (%v)", out.Data, err)
	}
	if len(rawSession(t).findByLabel(t, id)) != 1 {
		t.Error("imported key not found in the token by its label")
	}

	digest := sha256.Sum256([]byte("imported"))
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(ek)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	for _, c := range []struct {
		name     string
		alg      kmip.CryptographicAlgorithm
		priv     []byte
		privFmt  kmip.KeyFormatType
		pub      []byte
		pubFmt   kmip.KeyFormatType
		p        ports.CryptoParams
		goVerify func(sig []byte) bool
		goSign   func() []byte
	}{
		{"RSA", kmip.CryptographicAlgorithmRSA, x509.MarshalPKCS1PrivateKey(rk), kmip.KeyFormatTypePKCS_1, x509.MarshalPKCS1PublicKey(&rk.PublicKey), kmip.KeyFormatTypePKCS_1,
			ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)},
			func(sig []byte) bool {
				return rsa.VerifyPSS(&rk.PublicKey, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
			},
			func() []byte {
				s, _ := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
				return s
			}},
		{"EC", kmip.CryptographicAlgorithmEC, p8, kmip.KeyFormatTypePKCS_8, ecPub, kmip.KeyFormatTypeX_509,
			ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)},
			func(sig []byte) bool { return ecdsa.VerifyASN1(&ek.PublicKey, digest[:], sig) },
			func() []byte { s, _ := ecdsa.SignASN1(rand.Reader, ek, digest[:]); return s }},
	} {
		pk, err := e.ImportKey(ctx, ports.ImportSpec{ID: id + c.name, ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(c.alg), Format: uint32(c.privFmt), Material: c.priv})
		if err != nil {
			t.Fatalf("%s private import: %v", c.name, err)
		}
		pubk, err := e.ImportKey(ctx, ports.ImportSpec{ID: id + c.name + "-pub", ObjectType: uint32(kmip.ObjectTypePublicKey), Algorithm: uint32(c.alg), Format: uint32(c.pubFmt), Material: c.pub})
		if err != nil {
			t.Fatalf("%s public import: %v", c.name, err)
		}
		sig, err := e.Sign(ctx, ports.KeyHandle{ID: id, Ref: pk.Ref}, c.p, []byte("imported"), false)
		if err != nil || !c.goVerify(sig) {
			t.Errorf("%s: the token's signature does not verify in Go (%v)", c.name, err)
		}
		if ok, err := e.Verify(ctx, ports.KeyHandle{ID: id, Ref: pubk.Ref}, c.p, []byte("imported"), false, c.goSign()); !ok || err != nil {
			t.Errorf("%s: Go's signature does not verify in the token (%v)", c.name, err)
		}
	}
}

// TestDestroy: DestroyKey removes the token object; a second DestroyKey is
// nil; the Ref then finds nothing: the key material is unavailable, naming
// the key's ID (the stored object may still exist: not ErrNotFound).
func TestDestroy(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 128, 0))
	if err != nil {
		t.Fatal(err)
	}
	r := rawSession(t)
	if len(r.findByLabel(t, id)) != 1 {
		t.Fatal("generated key not in the token")
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	if err := e.DestroyKey(ctx, h); err != nil {
		t.Fatal(err)
	}
	if n := len(r.findByLabel(t, id)); n != 0 {
		t.Errorf("%d objects left in the token after DestroyKey", n)
	}
	if err := e.DestroyKey(ctx, h); err != nil {
		t.Errorf("second DestroyKey: %v, want nil", err)
	}
	if _, err := e.Encrypt(ctx, h, ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeECB)}, ports.CipherInput{Data: make([]byte, 16)}); !errors.Is(err, ports.ErrKeyMaterialUnavailable) || errors.Is(err, ports.ErrNotFound) {
		t.Errorf("encrypting with a destroyed key: %v, want ErrKeyMaterialUnavailable", err)
	} else if kme := (*ports.KeyMaterialError)(nil); !errors.As(err, &kme) || kme.ID != id || kme.Ref != k.Ref {
		t.Errorf("encrypting with a destroyed key: %v, want a KeyMaterialError naming %s and %s", err, id, k.Ref)
	}
	if _, err := e.Encrypt(ctx, ports.KeyHandle{ID: "x", Algorithm: uint32(kmip.CryptographicAlgorithmAES), Ref: "no such ref"},
		ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeECB)}, ports.CipherInput{Data: make([]byte, 16)}); !errors.Is(err, ports.ErrKeyMaterialUnavailable) {
		t.Errorf("encrypting with an unknown Ref: %v, want ErrKeyMaterialUnavailable", err)
	}
}

// TestKeyDeletedBehindTheEngine: a token object deleted by someone else
// (another process, an operator) while the engine has its handle cached is
// reported as the key's material being unavailable, naming the key's ID —
// never as ErrNotFound, which would say the stored object does not exist.
func TestKeyDeletedBehindTheEngine(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 128, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeECB)}
	if _, err := e.Encrypt(ctx, h, p, ports.CipherInput{Data: make([]byte, 16)}); err != nil {
		t.Fatal(err) // the handle is cached now
	}
	r := rawSession(t)
	for _, oh := range r.findByLabel(t, id) {
		if err := r.p.DestroyObject(r.s, oh); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.Encrypt(ctx, h, p, ports.CipherInput{Data: make([]byte, 16)})
	var kme *ports.KeyMaterialError
	if !errors.As(err, &kme) || kme.ID != id || errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("encrypting with a key deleted from the token: %v, want a KeyMaterialError naming %s", err, id)
	}
	if _, err := e.ExportKey(ctx, h); !errors.Is(err, ports.ErrKeyMaterialUnavailable) {
		t.Errorf("exporting a key deleted from the token: %v, want ErrKeyMaterialUnavailable", err)
	}
	if err := e.DestroyKey(ctx, h); err != nil {
		t.Errorf("DestroyKey of a key deleted from the token: %v, want nil", err)
	}
}

// TestRefFromAnotherEngine: a Ref is found by another engine (another kmipd
// node on the same token) that never saw the key.
func TestRefFromAnotherEngine(t *testing.T) {
	a := newEngine(t, nil)
	id := uid(t)
	k, err := a.GenerateSymmetricKey(ctx, aesSpec(id, 128, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeGCM)}
	ct, err := a.Encrypt(ctx, h, p, ports.CipherInput{Data: []byte("node A"), AAD: []byte("aad")})
	if err != nil {
		t.Fatal(err)
	}
	b := newEngine(t, nil)
	pt, err := b.Decrypt(ctx, h, p, ports.CipherInput{Data: ct.Data, IV: ct.IV, Tag: ct.Tag, AAD: []byte("aad")})
	if err != nil || string(pt.Data) != "node A" {
		t.Errorf("the other engine decrypts %q, %v", pt.Data, err)
	}
}

// TestWrapKeptKeys wraps a kept key with a kept key in the token; a
// non-extractable key cannot be wrapped.
func TestWrapKeptKeys(t *testing.T) {
	for _, extractable := range []bool{true, false} {
		e := newEngine(t, func(c *Config) { c.Extractable = extractable })
		id := uid(t)
		kek, err := e.GenerateSymmetricKey(ctx, aesSpec(id+"-kek", 256, kmip.CryptographicUsageMaskWrapKey|kmip.CryptographicUsageMaskUnwrapKey))
		if err != nil {
			t.Fatal(err)
		}
		target, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 128, 0))
		if err != nil {
			t.Fatal(err)
		}
		kh := kept(id+"-kek", kek, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
		th := kept(id, target, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
		p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeNISTKeyWrap)}
		wrapped, err := e.WrapKey(ctx, kh, p, th)
		if !extractable {
			if !errors.Is(err, ports.ErrNotExtractable) {
				t.Errorf("wrapping a non-extractable key: %v, want ErrNotExtractable", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		back, err := e.UnwrapKey(ctx, kh, p, wrapped)
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.ExportKey(ctx, th)
		if err != nil || !bytes.Equal(back, x.Material) {
			t.Errorf("unwrapped %x, exported %x (%v)", back, x.Material, err)
		}
	}
}

// TestEd25519MatchesGo: Ed25519 signatures are deterministic, so the
// token's must equal Go's, for an imported key and for key material given
// with the call (PKCS#8 and Raw seed).
func TestEd25519MatchesGo(t *testing.T) {
	e := newEngine(t, nil)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(priv)
	msg := []byte("Ed25519 in the token")
	want := ed25519.Sign(priv, msg)
	k, err := e.ImportKey(ctx, ports.ImportSpec{ID: uid(t), ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmEd25519),
		Format: uint32(kmip.KeyFormatTypePKCS_8), Material: p8})
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]ports.KeyHandle{
		"imported": {ID: "ed", Ref: k.Ref},
		"PKCS#8":   {ID: "ed", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmEd25519), Format: uint32(kmip.KeyFormatTypePKCS_8), Material: p8},
		"Raw seed": {ID: "ed", ObjectType: uint32(kmip.ObjectTypePrivateKey), Algorithm: uint32(kmip.CryptographicAlgorithmEd25519), Format: uint32(kmip.KeyFormatTypeRaw), Material: priv.Seed()},
	} {
		sig, err := e.Sign(ctx, h, ports.CryptoParams{}, msg, false)
		if err != nil || !bytes.Equal(sig, want) {
			t.Errorf("%s: token signature %x (%v), Go's %x", name, sig, err, want)
		}
	}
	pub := ports.KeyHandle{ID: "edpub", ObjectType: uint32(kmip.ObjectTypePublicKey), Algorithm: uint32(kmip.CryptographicAlgorithmEd25519),
		Format: uint32(kmip.KeyFormatTypeRaw), Material: priv.Public().(ed25519.PublicKey)}
	if ok, err := e.Verify(ctx, pub, ports.CryptoParams{}, msg, false, want); !ok || err != nil {
		t.Errorf("the token does not verify Go's signature (%v)", err)
	}
}
