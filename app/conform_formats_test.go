package app

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// registerAt registers obj the way version v does.
func registerAt(v version, t kmip.ObjectType, obj *kmip.Item) *kmip.Item {
	if v.major >= 2 {
		return register21(t, obj)
	}
	return register(t, obj)
}

// getBlock gets id (in format f unless f is 0) and returns its Key Block.
func getBlock(t *testing.T, s *Service, v version, id string, objTag kmip.Tag, f kmip.KeyFormatType) (*kmip.Item, result) {
	t.Helper()
	p := []*kmip.Item{uidItem(id)}
	if f != 0 {
		p = append(p, kmip.Enum(kmip.TagKeyFormatType, uint32(f)))
	}
	r := sendOne(t, s, alice, v, batchItem(kmip.OperationGet, p...))
	if r.status != kmip.ResultStatusSuccess {
		return nil, r
	}
	return r.payload.Path(objTag, kmip.TagKeyBlock), r
}

// blockIs checks a Key Block's format and (Byte String) material.
func blockIs(t *testing.T, what string, kb *kmip.Item, f kmip.KeyFormatType, want []byte) {
	t.Helper()
	if got, _ := kb.Child(kmip.TagKeyFormatType).AsEnum(); kmip.KeyFormatType(got) != f {
		t.Errorf("%s: Key Format Type %s, want %s", what, kmip.KeyFormatType(got), f)
	}
	if m, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(m, want) {
		t.Errorf("%s: key material is not the expected encoding", what)
	}
}

// TestRegisterRawAndPKCS8RSAPrivateKeySyntax: KMIP 1.4 §2.1.3 defines Raw as
// "only cryptographic key material, encoded as a string of bytes" and PKCS8
// as "supporting both the RSAPrivateKey syntax and EncryptedPrivateKey". At
// every version a public or private key registered Raw, or PKCS8 holding a
// PKCS#1 RSAPrivateKey (what PyKMIP's own tests send), is stored as
// registered and comes back from Get as registered; where the bytes are an
// encoding kmipd knows, other formats are offered and the key's length is
// derived.
func TestRegisterRawAndPKCS8RSAPrivateKeySyntax(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs1Priv := x509.MarshalPKCS1PrivateKey(k.rsa)
	pkcs1Pub := x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	unknown := []byte("an opaque vendor public key")
	rsaAlg := []*kmip.Item{kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048)}
	priv := func(f kmip.KeyFormatType, b []byte) *kmip.Item {
		return kmip.Struct(kmip.TagPrivateKey, keyBlock(f, keyBytes(b), rsaAlg...))
	}
	pub := func(f kmip.KeyFormatType, b []byte) *kmip.Item {
		return kmip.Struct(kmip.TagPublicKey, keyBlock(f, keyBytes(b), rsaAlg...))
	}
	cases := []struct {
		name     string
		t        kmip.ObjectType
		obj      *kmip.Item
		f        kmip.KeyFormatType
		material []byte
		conv     kmip.KeyFormatType // a format Get converts to
		convWant []byte
	}{
		{"PKCS8 label, RSAPrivateKey syntax", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypePKCS_8, pkcs1Priv), kmip.KeyFormatTypePKCS_8, pkcs1Priv, kmip.KeyFormatTypePKCS_1, pkcs1Priv},
		{"Raw private key, PKCS#1 bytes", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypeRaw, pkcs1Priv), kmip.KeyFormatTypeRaw, pkcs1Priv, kmip.KeyFormatTypePKCS_8, pkcs8},
		{"Raw private key, PKCS#8 bytes", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypeRaw, pkcs8), kmip.KeyFormatTypeRaw, pkcs8, kmip.KeyFormatTypePKCS_1, pkcs1Priv},
		{"Raw public key, PKCS#1 bytes", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, pkcs1Pub), kmip.KeyFormatTypeRaw, pkcs1Pub, kmip.KeyFormatTypeX_509, spki},
		{"Raw public key, X.509 bytes", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, spki), kmip.KeyFormatTypeRaw, spki, kmip.KeyFormatTypePKCS_1, pkcs1Pub},
		{"Raw public key, unknown encoding", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, unknown), kmip.KeyFormatTypeRaw, unknown, 0, nil},
	}
	for _, v := range allVersions {
		s := newService(t)
		for _, c := range cases {
			what := v.String() + " " + c.name
			r := sendOne(t, s, alice, v, registerAt(v, c.t, c.obj.Clone()))
			if r.status != kmip.ResultStatusSuccess {
				t.Errorf("%s: Register refused: %s", what, r.reason)
				continue
			}
			id := createdID(t, r)
			objTag := c.obj.Tag
			kb, _ := getBlock(t, s, v, id, objTag, 0)
			blockIs(t, what+" (as registered)", kb, c.f, c.material)
			if c.conv == 0 {
				_, r := getBlock(t, s, v, id, objTag, kmip.KeyFormatTypeX_509)
				mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
				_, r = getBlock(t, s, v, id, objTag, kmip.KeyFormatTypeTransparentSymmetricKey)
				mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
				continue
			}
			kb, r = getBlock(t, s, v, id, objTag, c.conv)
			if r.status != kmip.ResultStatusSuccess {
				t.Errorf("%s: Get as %s refused: %s", what, c.conv, r.reason)
				continue
			}
			blockIs(t, what+" (converted)", kb, c.conv, c.convWant)
		}
	}
}

// TestRegisterRawDerivesAndChecksTheKey: a Raw key whose bytes kmipd
// recognises gets its length derived and must be the object type's kind of
// key; one it does not recognise is stored without interpretation.
func TestRegisterRawDerivesAndChecksTheKey(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs1Priv := x509.MarshalPKCS1PrivateKey(k.rsa)
	for _, v := range []version{{1, 0}, {1, 2}, v14, {2, 0}, v21} {
		s := newService(t)
		// A Raw "public key" holding a private key is refused.
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(pkcs1Priv))))), kmip.ResultReasonInvalidField)
		// The length the bytes determine is derived (no attributes given).
		id := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(pkcs1Priv))))))
		if l := attrsOf(t, s, id)["Cryptographic Length"]; len(l) != 1 || l[0].Value != int32(2048) {
			t.Errorf("%s: Raw RSA private key has Cryptographic Length %v, want 2048", v, l)
		}
		// Conversions work although the block names no algorithm.
		kb, r := getBlock(t, s, v, id, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_8)
		if r.status != kmip.ResultStatusSuccess {
			t.Fatalf("%s: Get as PKCS_8: %s", v, r.reason)
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
		blockIs(t, v.String()+" Raw without algorithm", kb, kmip.KeyFormatTypePKCS_8, pkcs8)
		// The Key Block's word is kept even where the bytes disagree (PyKMIP's
		// own tests register 1024-bit keys labelled 2048): Raw bytes are only
		// kmipd's guess.
		spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
		createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(spki),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 4096))))))
		// An empty Raw key is refused.
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(nil))))), kmip.ResultReasonInvalidField)
	}
}

// TestRegisterEncryptedPKCS8: PKCS8 key material may be an
// EncryptedPrivateKeyInfo (KMIP 1.4 §2.1.3); kmipd stores it as registered
// (it cannot read it) and refuses conversions; garbage is still refused.
func TestRegisterEncryptedPKCS8(t *testing.T) {
	t.Parallel()
	blob := make([]byte, 64)
	rand.Read(blob)
	enc, err := asn1.Marshal(struct {
		Algorithm     pkix.AlgorithmIdentifier
		EncryptedData []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, blob})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []version{{1, 0}, v14, v21} {
		s := newService(t)
		id := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(enc),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048))))))
		kb, _ := getBlock(t, s, v, id, kmip.TagPrivateKey, 0)
		blockIs(t, v.String()+" encrypted PKCS#8", kb, kmip.KeyFormatTypePKCS_8, enc)
		_, r := getBlock(t, s, v, id, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_1)
		mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes([]byte{0x30, 0x03, 0x02, 0x01, 0x01}))))), kmip.ResultReasonInvalidField)
	}
}

// TestKeyHandleNamesTheRealEncoding: the engine is told the encoding a Raw or
// PKCS8-labelled key's bytes really have, so operations can use the key.
func TestKeyHandleNamesTheRealEncoding(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs1Priv := x509.MarshalPKCS1PrivateKey(k.rsa)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	cases := []struct {
		t    kmip.ObjectType
		tag  kmip.Tag
		f    kmip.KeyFormatType
		b    []byte
		want kmip.KeyFormatType
	}{
		{kmip.ObjectTypePrivateKey, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_8, pkcs1Priv, kmip.KeyFormatTypePKCS_1},
		{kmip.ObjectTypePrivateKey, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_8, pkcs8, kmip.KeyFormatTypePKCS_8},
		{kmip.ObjectTypePrivateKey, kmip.TagPrivateKey, kmip.KeyFormatTypeRaw, pkcs8, kmip.KeyFormatTypePKCS_8},
		{kmip.ObjectTypePublicKey, kmip.TagPublicKey, kmip.KeyFormatTypeRaw, spki, kmip.KeyFormatTypeX_509},
		{kmip.ObjectTypePublicKey, kmip.TagPublicKey, kmip.KeyFormatTypeRaw, []byte("vendor"), kmip.KeyFormatTypeRaw},
		{kmip.ObjectTypeSymmetricKey, kmip.TagSymmetricKey, kmip.KeyFormatTypeRaw, spki, kmip.KeyFormatTypeRaw},
	}
	for _, c := range cases {
		obj := &domain.Object{ID: "k", Type: uint32(c.t), Payload: kmip.Struct(c.tag, keyBlock(c.f, keyBytes(c.b)))}
		h, err := keyHandle(obj)
		if err != nil {
			t.Fatal(err)
		}
		if kmip.KeyFormatType(h.Format) != c.want || !bytes.Equal(h.Material, c.b) {
			t.Errorf("%s %s: engine told %s, want %s with the bytes as registered", c.t, c.f, kmip.KeyFormatType(h.Format), c.want)
		}
	}
}

// TestEngineDetailShownButNotHSMInternals: an engine's reason about the
// request reaches the client; a PKCS#11 return code stays in the log.
func TestEngineDetailShownButNotHSMInternals(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]string{
		fmt.Errorf("%w: IV of 12 bytes (want 16)", ports.ErrInvalidInput):              ": IV of 12 bytes (want 16)",
		fmt.Errorf("%w: pkcs11: C_Encrypt: CKR_DATA_LEN_RANGE", ports.ErrInvalidInput): "",
		ports.ErrInvalidInput: "",
	} {
		if got := engineDetail(err, ports.ErrInvalidInput); got != want {
			t.Errorf("%v: detail %q, want %q", err, got, want)
		}
	}
}
