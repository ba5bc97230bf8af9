package app

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

func TestCreateKeyPairSignVerify(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	// Batch: the ID Placeholder is the private key, which Sign then uses.
	_, rs := send(t, s, alice, msg(v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "k"),
		batchItem(kmip.OperationSign, data([]byte("document")))))
	priv, pub := pairIDs(t, mustOK(t, rs[0]))
	sig := bytesOf(t, mustOK(t, rs[1]), kmip.TagSignatureData)
	if id, _ := rs[1].payload.Child(kmip.TagUniqueIdentifier).AsText(); id != priv {
		t.Fatalf("Sign used %s, not the placeholder %s", id, priv)
	}
	po, uo := storedObj(t, s, priv), storedObj(t, s, pub)
	if linkTo(po, kmip.LinkTypePublicKeyLink) != pub || linkTo(uo, kmip.LinkTypePrivateKeyLink) != priv {
		t.Fatal("the pair is not linked")
	}
	if nameOf(po) != "k-private" || nameOf(uo) != "k-public" {
		t.Fatalf("names: %q %q", nameOf(po), nameOf(uo))
	}
	if m, _ := uo.AttrOf(kmip.TagCryptographicUsageMask).AsInt(); m != int32(kmip.CryptographicUsageMaskVerify) {
		t.Fatalf("public mask %d", m)
	}
	if a, _ := uo.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum(); a != uint32(kmip.CryptographicAlgorithmRSA) || po.State != domain.Active || uo.State != domain.Active {
		t.Fatal("common attributes not applied to both halves")
	}
	if f, _ := po.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyFormatType).AsEnum(); f != uint32(kmip.KeyFormatTypePKCS_8) {
		t.Fatalf("private key format %d", f)
	}
	verify := func(d []byte) kmip.ValidityIndicator {
		out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSignatureVerify, uidItem(pub), data(d), kmip.Bytes(kmip.TagSignatureData, sig))))
		vi, _ := out.Child(kmip.TagValidityIndicator).AsEnum()
		return kmip.ValidityIndicator(vi)
	}
	if verify([]byte("document")) != kmip.ValidityIndicatorValid || verify([]byte("forgery")) != kmip.ValidityIndicatorInvalid {
		t.Fatal("signature verification wrong")
	}
	// Digested Data signs the hash directly.
	sum := sha256.Sum256([]byte("document"))
	dsig := bytesOf(t, mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(priv), kmip.Bytes(kmip.TagDigestedData, sum[:])))), kmip.TagSignatureData)
	if !bytes.Equal(dsig, sig) {
		t.Fatal("signing the digest differs from signing the data")
	}
	// The public key cannot sign; the private key cannot verify.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(pub), data([]byte("x")))), kmip.ResultReasonPermissionDenied)
	// Errors the reference lists: missing attributes, unsupported algorithm, bad length.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreateKeyPair, kmip.Struct(kmip.TagCommonTemplateAttribute,
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA)))))), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmAES, 128, "x")), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 512, "x")), kmip.ResultReasonInvalidField)
}

func TestCreateKeyPair21(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	req := batchItem(kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmEd25519)),
			kmip.Int(kmip.TagCryptographicLength, 255)),
		kmip.Struct(kmip.TagPrivateKeyAttributes, mask(kmip.CryptographicUsageMaskSign), nameItem("ed-priv")),
		kmip.Struct(kmip.TagPublicKeyAttributes, mask(kmip.CryptographicUsageMaskVerify), nameItem("ed-pub")))
	priv, pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v21, req)))
	if nameOf(storedObj(t, s, priv)) != "ed-priv" || nameOf(storedObj(t, s, pub)) != "ed-pub" {
		t.Fatal("2.x attributes not applied")
	}
	// The KMIP 2.x Unique Identifier enumeration names the Create Key Pair result.
	// Names are unique (KMIP 2.1 §4.32): the second pair goes unnamed.
	unnamed := req.Clone()
	for _, tag := range []kmip.Tag{kmip.TagPrivateKeyAttributes, kmip.TagPublicKeyAttributes} {
		box := unnamed.Child(kmip.TagRequestPayload).Child(tag)
		box.Value = box.Children()[:1]
	}
	_, rs := send(t, s, alice, msg(v21, unnamed, batchItem(kmip.OperationGetAttributes,
		kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierCreateKeyPair)))))
	newPriv, _ := pairIDs(t, mustOK(t, rs[0]))
	if id, _ := mustOK(t, rs[1]).Child(kmip.TagUniqueIdentifier).AsText(); id != newPriv {
		t.Fatalf("Create Key Pair enumeration resolved to %s, want %s", id, newPriv)
	}
}
