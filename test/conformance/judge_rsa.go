package conformance

// Judging randomized RSA encryptions.
//
// RSA encryption with OAEP or PKCS#1 v1.5 padding is randomized (RFC 8017
// §7.1.1, §7.2.1): a correct server never reproduces the cipher text a case
// file recorded (CS-AC-M-OAEP-1/3/5/7/9 register an RSA public key and
// Encrypt with it). Passing any cipher text would let a broken server through,
// so the judge accepts a cipher text other than the recorded one only when it
// can prove it correct: the case registered the public key the Encrypt names,
// some case of the OASIS suite registered the matching private key (the
// sibling OAEP-2/4/6/8/10 cases do, to Decrypt the recorded cipher texts),
// and with the parameters in effect the actual cipher text has the recorded
// length and decrypts to the request's Data — and so does the recorded one,
// which shows that the judge reads the parameters as the recording did.
//
// The rule is narrow: only the Data of an Encrypt response, and only when
// the Encrypt names (by an explicit Unique Identifier) an RSA public key the
// same case registered in its Register request. Parameters changed after
// Register (Add/Modify Attribute, templates) are not followed, which can only
// turn a correct answer into a mismatch, never the reverse.

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1"   // registers crypto.SHA1
	_ "crypto/sha3"   // registers crypto.SHA3_*
	_ "crypto/sha512" // registers crypto.SHA384, SHA512 and SHA512_*
	"crypto/x509"
	"fmt"
	"os"

	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/domain/kmip"
)

// registeredRSA is an RSA public key a case registered, with the first
// instance of its Cryptographic Parameters attribute (the one with the lowest
// Attribute Index, which KMIP 1.4 §4.29 says an Encrypt without parameters
// uses), nil when it had none.
type registeredRSA struct {
	pub    *rsa.PublicKey
	params *kmip.Item
}

// SuitePrivateKeys returns the RSA private keys (PKCS#1 or PKCS#8 key
// material) that Register requests carry in the given case files. A file that
// does not parse, or key material that does not decode as an RSA key,
// contributes nothing: such a case fails on its own.
func SuitePrivateKeys(paths []string) []*rsa.PrivateKey {
	var keys []*rsa.PrivateKey
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		nodes, err := kmipxml.Parse(f)
		f.Close()
		if err != nil {
			continue
		}
		for _, n := range nodes {
			if n.Tag != kmip.TagRequestMessage {
				continue
			}
			req, err := n.ItemWith(skipVariables)
			if err != nil {
				continue
			}
			for _, bi := range req.ChildrenOf(kmip.TagBatchItem) {
				if op, _ := bi.Child(kmip.TagOperation).AsEnum(); op != uint32(kmip.OperationRegister) {
					continue
				}
				if k := rsaPrivateKeyOf(bi.Path(kmip.TagRequestPayload, kmip.TagPrivateKey)); k != nil {
					keys = append(keys, k)
				}
			}
		}
	}
	return keys
}

// skipVariables types a $ variable leaf as an empty item of its type, so
// that a request's key block types without a session.
func skipVariables(n *kmipxml.Node, _ kmip.Tag) (*kmip.Item, error) {
	if len(n.Value) > 0 && n.Value[0] == '$' {
		return &kmip.Item{Tag: n.Tag, Type: n.Type}, nil
	}
	return nil, nil
}

// rsaPrivateKeyOf decodes a Private Key object's RSA key, or returns nil.
func rsaPrivateKeyOf(obj *kmip.Item) *rsa.PrivateKey {
	kb := obj.Child(kmip.TagKeyBlock)
	format, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	der, ok := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if !ok {
		return nil
	}
	switch kmip.KeyFormatType(format) {
	case kmip.KeyFormatTypePKCS_1:
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil
		}
		return k
	case kmip.KeyFormatTypePKCS_8:
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil
		}
		rk, _ := k.(*rsa.PrivateKey)
		return rk
	}
	return nil
}

// rsaPublicKeyOf decodes a Public Key object's RSA key (X.509, PKCS#1 or
// Transparent RSA Public Key), or returns nil.
func rsaPublicKeyOf(obj *kmip.Item) *rsa.PublicKey {
	kb := obj.Child(kmip.TagKeyBlock)
	format, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	km := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial)
	switch kmip.KeyFormatType(format) {
	case kmip.KeyFormatTypeX_509:
		der, _ := km.AsBytes()
		k, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil
		}
		rk, _ := k.(*rsa.PublicKey)
		return rk
	case kmip.KeyFormatTypePKCS_1:
		der, _ := km.AsBytes()
		k, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil
		}
		return k
	case kmip.KeyFormatTypeTransparentRSAPublicKey:
		n, ok1 := km.Child(kmip.TagModulus).AsBig()
		e, ok2 := km.Child(kmip.TagPublicExponent).AsBig()
		if !ok1 || !ok2 || !e.IsInt64() || e.Int64() < 2 || e.Int64() > 1<<31-1 {
			return nil
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}
	}
	return nil
}

// registeredParams returns the first Cryptographic Parameters attribute of a
// Register request payload: KMIP 1.x Template-Attribute, or KMIP 2.x Attributes.
func registeredParams(payload *kmip.Item) *kmip.Item {
	for _, a := range payload.Path(kmip.TagTemplateAttribute).ChildrenOf(kmip.TagAttribute) {
		if name, _ := a.Child(kmip.TagAttributeName).AsText(); name == "Cryptographic Parameters" {
			return a.Child(kmip.TagAttributeValue)
		}
	}
	return payload.Path(kmip.TagAttributes, kmip.TagCryptographicParameters)
}

// noteRegistrations remembers the RSA public keys that the request's Register
// batch items registered, under the Unique Identifiers the conforming
// response returned for them.
func (s *Session) noteRegistrations(actual *kmip.Item) {
	s.eachRegistration(actual, func(uid string, payload *kmip.Item) {
		if pub := rsaPublicKeyOf(payload.Child(kmip.TagPublicKey)); pub != nil {
			s.rsaKeys[uid] = registeredRSA{pub: pub, params: registeredParams(payload)}
		}
	})
}

// eachRegistration calls fn with the request payload of each Register batch
// item of the current request and the Unique Identifier the conforming
// response returned for it.
func (s *Session) eachRegistration(actual *kmip.Item, fn func(uid string, payload *kmip.Item)) {
	reqs, resps := s.req.ChildrenOf(kmip.TagBatchItem), actual.ChildrenOf(kmip.TagBatchItem)
	if len(reqs) != len(resps) {
		return
	}
	for i, bi := range reqs {
		if op, _ := bi.Child(kmip.TagOperation).AsEnum(); op != uint32(kmip.OperationRegister) {
			continue
		}
		if uid, ok := resps[i].Path(kmip.TagResponsePayload, kmip.TagUniqueIdentifier).AsText(); ok {
			fn(uid, bi.Child(kmip.TagRequestPayload))
		}
	}
}

// rsaEncryption returns the registered RSA public key that the batch item's
// Encrypt request names, when exp is the Data of its response; else nil.
func (m *matcher) rsaEncryption(exp *kmip.Item) (string, *registeredRSA) {
	uid := m.keyOfRequest(exp, kmip.TagData, kmip.OperationEncrypt)
	k, ok := m.s.rsaKeys[uid]
	if uid == "" || !ok {
		return "", nil
	}
	return uid, &k
}

// keyOfRequest returns the Unique Identifier the batch item's request names
// when exp is the response field tag of an op request; else "".
func (m *matcher) keyOfRequest(exp *kmip.Item, tag kmip.Tag, op kmip.Operation) string {
	if exp.Tag != tag || m.op != uint32(op) || m.req == nil {
		return ""
	}
	if o, _ := m.req.Child(kmip.TagOperation).AsEnum(); o != uint32(op) {
		return ""
	}
	uid, _ := m.req.Path(kmip.TagRequestPayload, kmip.TagUniqueIdentifier).AsText()
	return uid
}

// checkRSAEncryption accepts act, the cipher text of an Encrypt under the
// registered RSA key uid, only if it is provably correct (see the top of
// this file); exp is the recorded cipher text.
func (m *matcher) checkRSAEncryption(uid string, key *registeredRSA, exp, act *kmip.Item, p string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: RSA encryption under key %q: %s", p, uid, fmt.Sprintf(format, args...))
	}
	plain, ok := m.req.Path(kmip.TagRequestPayload, kmip.TagData).AsBytes()
	if !ok {
		return fail("the request has no Data to compare with")
	}
	params := m.req.Path(kmip.TagRequestPayload, kmip.TagCryptographicParameters)
	if params == nil {
		params = key.params
	}
	var priv *rsa.PrivateKey
	for _, k := range m.s.PrivateKeys {
		if k.PublicKey.Equal(key.pub) {
			priv = k
			break
		}
	}
	if priv == nil {
		return fail("no private key registered in the OASIS suite matches the public key, so a randomized cipher text cannot be checked")
	}
	decrypt, desc, err := rsaDecrypter(params)
	if err != nil {
		return fail("%v", err)
	}
	got, _ := act.AsBytes()
	want, _ := exp.AsBytes()
	if len(got) != len(want) {
		return fail("got a %d-byte cipher text, want %d bytes like the recorded one", len(got), len(want))
	}
	out, err := decrypt(priv, got)
	if err != nil {
		return fail("the cipher text does not decrypt with %s: %v", desc, err)
	}
	if !bytes.Equal(out, plain) {
		return fail("the cipher text decrypts with %s to other data than the request's Data", desc)
	}
	if out, err := decrypt(priv, want); err != nil || !bytes.Equal(out, plain) {
		return fail("the recorded cipher text does not decrypt to the request's Data with %s: the judge cannot vouch for its reading of the parameters", desc)
	}
	return nil
}

// rsaDecrypter returns the RSA decryption the Cryptographic Parameters
// (KMIP 1.4 §3.6) ask for, and a description of it for messages. Defaults:
// OAEP's hash is SHA-1 (RFC 8017 §A.2.1; KMIP names none), the mask
// generator MGF1 with SHA-1 and P Source empty (KMIP 1.4 §3.6 Table 65).
func rsaDecrypter(params *kmip.Item) (func(*rsa.PrivateKey, []byte) ([]byte, error), string, error) {
	if params == nil {
		return nil, "", fmt.Errorf("no Cryptographic Parameters in the request or on the key")
	}
	if alg, ok := params.Child(kmip.TagCryptographicAlgorithm).AsEnum(); ok && alg != uint32(kmip.CryptographicAlgorithmRSA) {
		//lint:ignore ST1005 the message starts with the KMIP attribute name Cryptographic Algorithm, spelt as the spec spells it
		return nil, "", fmt.Errorf("Cryptographic Algorithm %s is not RSA", enumText(params.Child(kmip.TagCryptographicAlgorithm)))
	}
	padding, _ := params.Child(kmip.TagPaddingMethod).AsEnum()
	switch kmip.PaddingMethod(padding) {
	case kmip.PaddingMethodPKCS1V1_5:
		//lint:ignore SA1019 the judge decrypts what the server encrypted with the KMIP Padding Method PKCS1 v1.5 the test asked for
		return func(k *rsa.PrivateKey, c []byte) ([]byte, error) { return rsa.DecryptPKCS1v15(nil, k, c) }, "PKCS#1 v1.5", nil
	case kmip.PaddingMethodOAEP:
	default:
		return nil, "", fmt.Errorf("padding method %s is not OAEP or PKCS1 v1.5", enumText(params.Child(kmip.TagPaddingMethod)))
	}
	if mg, ok := params.Child(kmip.TagMaskGenerator).AsEnum(); ok && mg != uint32(kmip.MaskGeneratorMGF1) {
		return nil, "", fmt.Errorf("mask generator %s is not MGF1", enumText(params.Child(kmip.TagMaskGenerator)))
	}
	h, err := hashOf(params.Child(kmip.TagHashingAlgorithm))
	if err != nil {
		return nil, "", err
	}
	mgf, err := hashOf(params.Child(kmip.TagMaskGeneratorHashingAlgorithm))
	if err != nil {
		return nil, "", err
	}
	label, _ := params.Child(kmip.TagPSource).AsBytes()
	opts := &rsa.OAEPOptions{Hash: h, MGFHash: mgf, Label: label}
	desc := fmt.Sprintf("OAEP %s, MGF1 %s, %d-byte P Source", h, mgf, len(label))
	return func(k *rsa.PrivateKey, c []byte) ([]byte, error) { return k.Decrypt(nil, c, opts) }, desc, nil
}

// hashes maps KMIP Hashing Algorithms to the hashes OAEP can use.
var hashes = map[kmip.HashingAlgorithm]crypto.Hash{
	kmip.HashingAlgorithmSHA_1:       crypto.SHA1,
	kmip.HashingAlgorithmSHA_224:     crypto.SHA224,
	kmip.HashingAlgorithmSHA_256:     crypto.SHA256,
	kmip.HashingAlgorithmSHA_384:     crypto.SHA384,
	kmip.HashingAlgorithmSHA_512:     crypto.SHA512,
	kmip.HashingAlgorithmSHA_512_224: crypto.SHA512_224,
	kmip.HashingAlgorithmSHA_512_256: crypto.SHA512_256,
	kmip.HashingAlgorithmSHA3_224:    crypto.SHA3_224,
	kmip.HashingAlgorithmSHA3_256:    crypto.SHA3_256,
	kmip.HashingAlgorithmSHA3_384:    crypto.SHA3_384,
	kmip.HashingAlgorithmSHA3_512:    crypto.SHA3_512,
}

// hashOf returns the hash a Hashing Algorithm item names, SHA-1 when absent.
func hashOf(it *kmip.Item) (crypto.Hash, error) {
	if it == nil {
		return crypto.SHA1, nil
	}
	v, _ := it.AsEnum()
	h, ok := hashes[kmip.HashingAlgorithm(v)]
	if !ok || !h.Available() {
		return 0, fmt.Errorf("hashing algorithm %s is not one the judge can check", enumText(it))
	}
	return h, nil
}
