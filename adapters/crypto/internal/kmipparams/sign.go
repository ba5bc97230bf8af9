package kmipparams

import (
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// SigScheme is a signature scheme resolved from Cryptographic Parameters;
// H is what the engine keeps about a hash (a crypto.Hash, or the token's
// mechanisms for it).
type SigScheme[H any] struct {
	Hash   H    // the message hash when Hashed
	Hashed bool // false: Ed25519 (it hashes itself), or ECDSA over a given digest
	PSS    bool // RSASSA-PSS (RSA keys)
	PKCS1  bool // RSASSA-PKCS1-v1_5 (RSA keys)
}

// dsaSchemes maps the Digital Signature Algorithm enumeration to the key
// family it needs, its hash (zero: Hashing Algorithm says, for PSS) and
// the RSA padding it implies.
var dsaSchemes = map[kmip.DigitalSignatureAlgorithm]struct {
	family    kmip.CryptographicAlgorithm
	hash      kmip.HashingAlgorithm
	pss, pkcs bool
}{
	kmip.DigitalSignatureAlgorithmMD5WithRSAEncryption:      {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmMD5, false, true},
	kmip.DigitalSignatureAlgorithmSHA_1WithRSAEncryption:    {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA_1, false, true},
	kmip.DigitalSignatureAlgorithmSHA_224WithRSAEncryption:  {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA_224, false, true},
	kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption:  {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA_256, false, true},
	kmip.DigitalSignatureAlgorithmSHA_384WithRSAEncryption:  {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA_384, false, true},
	kmip.DigitalSignatureAlgorithmSHA_512WithRSAEncryption:  {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA_512, false, true},
	kmip.DigitalSignatureAlgorithmSHA3_256WithRSAEncryption: {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA3_256, false, true},
	kmip.DigitalSignatureAlgorithmSHA3_384WithRSAEncryption: {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA3_384, false, true},
	kmip.DigitalSignatureAlgorithmSHA3_512WithRSAEncryption: {kmip.CryptographicAlgorithmRSA, kmip.HashingAlgorithmSHA3_512, false, true},
	kmip.DigitalSignatureAlgorithmRSASSA_PSS:                {kmip.CryptographicAlgorithmRSA, 0, true, false},
	kmip.DigitalSignatureAlgorithmECDSAWithSHA_1:            {kmip.CryptographicAlgorithmECDSA, kmip.HashingAlgorithmSHA_1, false, false},
	kmip.DigitalSignatureAlgorithmECDSAWithSHA224:           {kmip.CryptographicAlgorithmECDSA, kmip.HashingAlgorithmSHA_224, false, false},
	kmip.DigitalSignatureAlgorithmECDSAWithSHA256:           {kmip.CryptographicAlgorithmECDSA, kmip.HashingAlgorithmSHA_256, false, false},
	kmip.DigitalSignatureAlgorithmECDSAWithSHA384:           {kmip.CryptographicAlgorithmECDSA, kmip.HashingAlgorithmSHA_384, false, false},
	kmip.DigitalSignatureAlgorithmECDSAWithSHA512:           {kmip.CryptographicAlgorithmECDSA, kmip.HashingAlgorithmSHA_512, false, false},
}

// ResolveSig works out the signature scheme for a key of family (RSA,
// ECDSA or Ed25519, read from the key itself, which is authoritative) from
// the Digital Signature Algorithm, or else from the Padding Method and
// Hashing Algorithm (KMIP 1.4 §2.1.4), looking hashes up with hash (the
// engine's Hash). It guarantees:
//   - a Cryptographic Algorithm other than the key's family (EC counts as
//     ECDSA) is ErrInvalidInput;
//   - a Digital Signature Algorithm the engine cannot run (unknown, or its
//     hash missing from the engine) is ErrUnsupported, one for another key
//     family ErrInvalidInput; RSASSA-PSS takes its hash from Hashing
//     Algorithm;
//   - RSA without one needs Padding Method PSS or PKCS1 v1.5 (absent:
//     ErrInvalidInput; another: ErrUnsupported) and a Hashing Algorithm;
//   - ECDSA needs a Hashing Algorithm, except over a given digest
//     (digested), which is signed as is;
//   - Ed25519 accepts no Hashing Algorithm but SHA-512 (ErrInvalidInput).
func ResolveSig[H any](family kmip.CryptographicAlgorithm, p ports.CryptoParams, digested bool, hash func(alg uint32) (H, error)) (SigScheme[H], error) {
	if pa := kmip.CryptographicAlgorithm(p.CryptographicAlgorithm); pa != 0 && pa != family &&
		!(family == kmip.CryptographicAlgorithmECDSA && pa == kmip.CryptographicAlgorithmEC) {
		return SigScheme[H]{}, fmt.Errorf("%w: a %s key cannot sign as %s", ports.ErrInvalidInput, family, pa)
	}
	withHash := func(s SigScheme[H], alg uint32) (SigScheme[H], error) {
		h, err := hash(alg)
		if err != nil {
			return SigScheme[H]{}, err
		}
		s.Hash, s.Hashed = h, true
		return s, nil
	}
	if d := kmip.DigitalSignatureAlgorithm(p.DigitalSignatureAlgorithm); d != 0 {
		ds, ok := dsaSchemes[d]
		if ok && ds.hash != 0 {
			_, err := hash(uint32(ds.hash))
			ok = err == nil
		}
		if !ok {
			return SigScheme[H]{}, fmt.Errorf("%w: digital signature algorithm %s", ports.ErrUnsupported, d)
		}
		if ds.family != family {
			return SigScheme[H]{}, fmt.Errorf("%w: a %s key cannot sign as %s", ports.ErrInvalidInput, family, d)
		}
		if ds.pss {
			return withHash(SigScheme[H]{PSS: true}, p.HashingAlgorithm)
		}
		return withHash(SigScheme[H]{PKCS1: ds.pkcs}, uint32(ds.hash))
	}
	switch family {
	case kmip.CryptographicAlgorithmRSA:
		switch kmip.PaddingMethod(p.PaddingMethod) {
		case kmip.PaddingMethodPSS:
			return withHash(SigScheme[H]{PSS: true}, p.HashingAlgorithm)
		case kmip.PaddingMethodPKCS1V1_5:
			return withHash(SigScheme[H]{PKCS1: true}, p.HashingAlgorithm)
		case 0:
			return SigScheme[H]{}, fmt.Errorf("%w: RSA signatures need a padding method (PSS or PKCS1 v1.5)", ports.ErrInvalidInput)
		}
		return SigScheme[H]{}, fmt.Errorf("%w: RSA signature padding %s", ports.ErrUnsupported, kmip.PaddingMethod(p.PaddingMethod))
	case kmip.CryptographicAlgorithmECDSA:
		if p.HashingAlgorithm == 0 && digested {
			return SigScheme[H]{}, nil // sign the given digest as is
		}
		return withHash(SigScheme[H]{}, p.HashingAlgorithm)
	case kmip.CryptographicAlgorithmEd25519:
		if h := kmip.HashingAlgorithm(p.HashingAlgorithm); h != 0 && h != kmip.HashingAlgorithmSHA_512 {
			return SigScheme[H]{}, fmt.Errorf("%w: Ed25519 uses SHA-512 only", ports.ErrInvalidInput)
		}
		return SigScheme[H]{}, nil
	}
	return SigScheme[H]{}, fmt.Errorf("%w: signing with a %s key", ports.ErrUnsupported, family)
}
