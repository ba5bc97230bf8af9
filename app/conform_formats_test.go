package app

import (
	"bytes"
	"crypto/x509"
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
