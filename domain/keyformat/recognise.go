package keyformat

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Recognise names the DER encoding asymmetric key bytes really have, whatever
// Key Format Type they were registered with: PKCS#1 (RSA private or public),
// PKCS#8, X.509 SubjectPublicKeyInfo or SEC 1 ECPrivateKey. KMIP 1.4 §2.1.3
// lets Raw be "only cryptographic key material, encoded as a string of
// bytes", so a Raw public or private key is usually one of these. ok is
// false when the bytes are none of them.
func Recognise(b []byte) (k Key, format kmip.KeyFormatType, ok bool) {
	if len(b) == 0 || b[0] != 0x30 {
		return Key{}, 0, false
	}
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypePKCS_1,
		kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeECPrivateKey} {
		if k, err := decodeBytes(f, b); err == nil {
			if f == kmip.KeyFormatTypePKCS_8 && k.Kind == RSAPrivate && isPKCS1Private(b) {
				f = kmip.KeyFormatTypePKCS_1 // the RSAPrivateKey syntax PKCS_8 also admits
			}
			return k, f, true
		}
	}
	return Key{}, 0, false
}

// isPKCS1Private reports whether b is an RSAPrivateKey (PKCS#1) rather than
// a PrivateKeyInfo (PKCS#8).
func isPKCS1Private(b []byte) bool {
	_, err := x509.ParsePKCS1PrivateKey(b)
	return err == nil
}

// encryptedPrivateKeyInfo is PKCS#8's EncryptedPrivateKeyInfo (RFC 5208 §6).
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// isEncryptedPKCS8 reports whether b is a DER EncryptedPrivateKeyInfo, which
// KMIP 1.4 §2.1.3 admits as PKCS8 key material and nobody can read without
// its password.
func isEncryptedPKCS8(b []byte) bool {
	var e encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(b, &e)
	return err == nil && len(rest) == 0 && len(e.EncryptedData) > 0 && len(e.Algorithm.Algorithm) > 0
}

// asymmetricAlgorithms are the algorithms whose keys are public or private
// keys, never a symmetric secret.
var asymmetricAlgorithms = map[kmip.CryptographicAlgorithm]bool{
	kmip.CryptographicAlgorithmRSA: true, kmip.CryptographicAlgorithmDSA: true, kmip.CryptographicAlgorithmECDSA: true,
	kmip.CryptographicAlgorithmDH: true, kmip.CryptographicAlgorithmECDH: true, kmip.CryptographicAlgorithmECMQV: true,
	kmip.CryptographicAlgorithmEC: true, kmip.CryptographicAlgorithmEd25519: true, kmip.CryptographicAlgorithmEd448: true,
}

// decodeBlockMaterial decodes a key block's material in format have. Raw
// material of an asymmetric algorithm's key (or of a block naming no
// algorithm) is decoded in the encoding it really has (Recognise); an
// asymmetric key in no encoding kmipd knows cannot be converted.
func decodeBlockMaterial(have kmip.KeyFormatType, kb, material *kmip.Item) (Key, error) {
	alg, named := kb.Child(kmip.TagCryptographicAlgorithm).AsEnum()
	asymmetric := asymmetricAlgorithms[kmip.CryptographicAlgorithm(alg)]
	if have != kmip.KeyFormatTypeRaw || named && !asymmetric {
		return Decode(have, material)
	}
	b, _ := material.AsBytes()
	if k, _, ok := Recognise(b); ok {
		return k, nil
	}
	if asymmetric {
		return Key{}, fmt.Errorf("%w: the Raw %s key is in no encoding the server knows", ErrUnsupported, kmip.CryptographicAlgorithm(alg))
	}
	return Decode(have, material)
}
