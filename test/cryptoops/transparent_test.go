package cryptoops

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// A private key registered in Transparent RSA form signs like any other:
// the server hands the engine a DER form it reads.
func TestSignWithTransparentKey(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	material, err := keyformat.Encode(keyformat.Key{Kind: keyformat.RSAPrivate, RSAPrivate: priv},
		kmip.KeyFormatTypeTransparentRSAPrivateKey, keyformat.Uncompressed)
	if err != nil {
		t.Fatal(err)
	}
	each(t, func(e *env) {
		id := e.do(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypePrivateKey)),
			e.attrs(kmip.TagTemplateAttribute, mask(kmip.CryptographicUsageMaskSign), active()),
			kmip.Struct(kmip.TagPrivateKey, kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeTransparentRSAPrivateKey)),
				kmip.Struct(kmip.TagKeyValue, material.Clone()),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)),
				kmip.Int(kmip.TagCryptographicLength, 2048)))).Child(kmip.TagUniqueIdentifier)
		msg := []byte("signed through a transparent key")
		out := e.do(kmip.OperationSign, id, params(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS1V1_5),
			kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)), kmip.Bytes(kmip.TagData, msg))
		sig, _ := out.Child(kmip.TagSignatureData).AsBytes()
		sum := sha256.Sum256(msg)
		if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			e.t.Fatalf("signature does not verify: %v", err)
		}
	})
}
