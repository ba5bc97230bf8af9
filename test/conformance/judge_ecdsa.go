package conformance

// Judging ECDSA signatures.
//
// ECDSA signatures depend on a nonce (FIPS 186-5 §6.4; RFC 6979 derives it
// from the key and message, others draw it at random), so a correct server
// need not reproduce the Signature Data a case recorded, and a case that
// binds it to a variable ($SIGNATURE_DATA in TC-ECDSA-SIGN-1-14) would
// otherwise accept any bytes. When a Sign names (by an explicit Unique
// Identifier) an EC key the same case registered, private or public, the
// judge therefore accepts its Signature Data only if it verifies, with the
// hash the parameters in effect name, over the request's Data (or Digested
// Data) under the registered key's public point. A recorded literal must
// verify too, which shows that the judge reads the parameters as the
// recording did. Verification is crypto/ecdsa's, on keyformat's curves
// (secp256k1 included), independent of the engine's code.
//
// Parameters changed after Register are not followed, which can only turn a
// correct answer into a mismatch, never the reverse.

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"

	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// registeredEC is the public point of an EC key a case registered, with
// the first instance of its Cryptographic Parameters attribute (nil if none).
type registeredEC struct {
	pub    *ecdsa.PublicKey
	params *kmip.Item
}

// ecPublicKeyOf returns the public point of a Private Key or Public Key
// object holding EC material in any format keyformat reads, or nil.
func ecPublicKeyOf(obj *kmip.Item) *ecdsa.PublicKey {
	kb := obj.Child(kmip.TagKeyBlock)
	format, ok := kb.Child(kmip.TagKeyFormatType).AsEnum()
	if !ok {
		return nil
	}
	k, err := keyformat.Decode(kmip.KeyFormatType(format), kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial))
	switch {
	case err != nil:
		return nil
	case k.Kind == keyformat.ECPublic:
		return k.ECPublic
	case k.Kind == keyformat.ECPrivate:
		return &k.ECPrivate.PublicKey
	}
	return nil
}

// noteECRegistrations remembers the EC keys that the request's Register
// batch items registered, under the Unique Identifiers the conforming
// response returned for them.
func (s *Session) noteECRegistrations(actual *kmip.Item) {
	s.eachRegistration(actual, func(uid string, payload *kmip.Item) {
		obj := payload.Child(kmip.TagPrivateKey)
		if obj == nil {
			obj = payload.Child(kmip.TagPublicKey)
		}
		pub := ecPublicKeyOf(obj)
		if pub == nil {
			return
		}
		if s.ecKeys == nil {
			s.ecKeys = map[string]registeredEC{}
		}
		s.ecKeys[uid] = registeredEC{pub: pub, params: registeredParams(payload)}
	})
}

// ecdsaSignature returns the registered EC key that the batch item's Sign
// request names, when exp is the Signature Data of its response; else nil.
func (m *matcher) ecdsaSignature(exp *kmip.Item) (string, *registeredEC) {
	uid := m.keyOfRequest(exp, kmip.TagSignatureData, kmip.OperationSign)
	k, ok := m.s.ecKeys[uid]
	if uid == "" || !ok {
		return "", nil
	}
	return uid, &k
}

// checkECDSASignature accepts act, the Signature Data of a Sign under the
// registered EC key uid, only if it verifies (see the top of this file);
// recorded is false when exp is a variable rather than a recorded value.
func (m *matcher) checkECDSASignature(uid string, key *registeredEC, exp, act *kmip.Item, recorded bool, p string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: ECDSA signature under key %q: %s", p, uid, fmt.Sprintf(format, args...))
	}
	params := m.req.Path(kmip.TagRequestPayload, kmip.TagCryptographicParameters)
	if params == nil {
		params = key.params
	}
	var digest []byte
	if d, ok := m.req.Path(kmip.TagRequestPayload, kmip.TagDigestedData).AsBytes(); ok {
		digest = d
	} else if data, ok := m.req.Path(kmip.TagRequestPayload, kmip.TagData).AsBytes(); ok {
		h, err := ecdsaHash(params)
		if err != nil {
			return fail("%v", err)
		}
		w := h.New()
		w.Write(data)
		digest = w.Sum(nil)
	} else {
		return fail("the request has no Data or Digested Data to check the signature against")
	}
	got, _ := act.AsBytes()
	if !ecdsa.VerifyASN1(key.pub, digest, got) {
		return fail("the signature does not verify over the request's data under the registered %s key", key.pub.Curve.Params().Name)
	}
	if want, _ := exp.AsBytes(); recorded && !ecdsa.VerifyASN1(key.pub, digest, want) {
		return fail("the recorded signature does not verify: the judge cannot vouch for its reading of the parameters")
	}
	return nil
}

// ecdsaSigHashes are the hashes the ECDSA Digital Signature Algorithms name.
var ecdsaSigHashes = map[kmip.DigitalSignatureAlgorithm]kmip.HashingAlgorithm{
	kmip.DigitalSignatureAlgorithmECDSAWithSHA_1:  kmip.HashingAlgorithmSHA_1,
	kmip.DigitalSignatureAlgorithmECDSAWithSHA224: kmip.HashingAlgorithmSHA_224,
	kmip.DigitalSignatureAlgorithmECDSAWithSHA256: kmip.HashingAlgorithmSHA_256,
	kmip.DigitalSignatureAlgorithmECDSAWithSHA384: kmip.HashingAlgorithmSHA_384,
	kmip.DigitalSignatureAlgorithmECDSAWithSHA512: kmip.HashingAlgorithmSHA_512,
}

// ecdsaHash returns the message hash the Cryptographic Parameters name: the
// Digital Signature Algorithm's, else the Hashing Algorithm (KMIP 1.4 §3.6).
func ecdsaHash(params *kmip.Item) (crypto.Hash, error) {
	if params == nil {
		return 0, fmt.Errorf("no Cryptographic Parameters in the request or on the key")
	}
	if v, ok := params.Child(kmip.TagDigitalSignatureAlgorithm).AsEnum(); ok {
		ha, ok := ecdsaSigHashes[kmip.DigitalSignatureAlgorithm(v)]
		if !ok {
			return 0, fmt.Errorf("digital signature algorithm %s is not ECDSA", enumText(params.Child(kmip.TagDigitalSignatureAlgorithm)))
		}
		return hashOf(kmip.Enum(kmip.TagHashingAlgorithm, uint32(ha)))
	}
	if params.Child(kmip.TagHashingAlgorithm) == nil {
		return 0, fmt.Errorf("the parameters name no hash")
	}
	return hashOf(params.Child(kmip.TagHashingAlgorithm))
}
