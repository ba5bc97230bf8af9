package kmipparams

import (
	"crypto"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestResolveSig(t *testing.T) {
	const (
		rsa   = kmip.CryptographicAlgorithmRSA
		ecdsa = kmip.CryptographicAlgorithmECDSA
		ed    = kmip.CryptographicAlgorithmEd25519
	)
	type scheme = SigScheme[crypto.Hash]
	cases := []struct {
		name     string
		family   kmip.CryptographicAlgorithm
		p        ports.CryptoParams
		digested bool
		want     scheme
		err      error
	}{
		{"RSA by DSA", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption)}, false,
			scheme{Hash: crypto.SHA256, Hashed: true, PKCS1: true}, nil},
		{"RSA SHA3 by DSA", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA3_384WithRSAEncryption)}, false,
			scheme{Hash: crypto.SHA3_384, Hashed: true, PKCS1: true}, nil},
		{"DSA wins over Hashing Algorithm", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_1WithRSAEncryption), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_512)}, false,
			scheme{Hash: crypto.SHA1, Hashed: true, PKCS1: true}, nil},
		{"PSS by DSA takes Hashing Algorithm", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmRSASSA_PSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_384)}, false,
			scheme{Hash: crypto.SHA384, Hashed: true, PSS: true}, nil},
		{"PSS by DSA needs a hash", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmRSASSA_PSS)}, false, scheme{}, ports.ErrInvalidInput},
		{"RSA DSA on an EC key", ecdsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption)}, false, scheme{}, ports.ErrInvalidInput},
		{"DSA (the algorithm) is not run", rsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmDSAWithSHA256)}, false, scheme{}, ports.ErrUnsupported},
		{"ECDSA by DSA", ecdsa, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA384)}, false,
			scheme{Hash: crypto.SHA384, Hashed: true}, nil},
		{"RSA PSS padding", rsa, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false,
			scheme{Hash: crypto.SHA256, Hashed: true, PSS: true}, nil},
		{"RSA PKCS#1 padding", rsa, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_224)}, false,
			scheme{Hash: crypto.SHA224, Hashed: true, PKCS1: true}, nil},
		{"RSA without padding", rsa, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false, scheme{}, ports.ErrInvalidInput},
		{"RSA with OAEP padding", rsa, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false, scheme{}, ports.ErrUnsupported},
		{"RSA without hash", rsa, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS)}, true, scheme{}, ports.ErrInvalidInput},
		{"ECDSA with hash", ecdsa, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false, scheme{Hash: crypto.SHA256, Hashed: true}, nil},
		{"ECDSA over a digest", ecdsa, ports.CryptoParams{}, true, scheme{}, nil},
		{"ECDSA needs a hash for a message", ecdsa, ports.CryptoParams{}, false, scheme{}, ports.ErrInvalidInput},
		{"EC names ECDSA", ecdsa, ports.CryptoParams{CryptographicAlgorithm: uint32(kmip.CryptographicAlgorithmEC), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false,
			scheme{Hash: crypto.SHA256, Hashed: true}, nil},
		{"another family", rsa, ports.CryptoParams{CryptographicAlgorithm: uint32(ecdsa)}, false, scheme{}, ports.ErrInvalidInput},
		{"Ed25519", ed, ports.CryptoParams{}, false, scheme{}, nil},
		{"Ed25519 with SHA-512", ed, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_512)}, true, scheme{}, nil},
		{"Ed25519 with SHA-256", ed, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, false, scheme{}, ports.ErrInvalidInput},
		{"Ed25519 with an ECDSA DSA", ed, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256)}, false, scheme{}, ports.ErrInvalidInput},
		{"a family that does not sign", kmip.CryptographicAlgorithmAES, ports.CryptoParams{}, false, scheme{}, ports.ErrUnsupported},
	}
	for _, c := range cases {
		got, err := ResolveSig(c.family, c.p, c.digested, GoHash)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
}

// A DSA whose hash the engine lacks is unsupported, before the key family
// is looked at, as the PKCS#11 engine always answered.
func TestResolveSigEngineHashes(t *testing.T) {
	table := map[kmip.HashingAlgorithm]crypto.Hash{kmip.HashingAlgorithmSHA_256: crypto.SHA256}
	hash := func(alg uint32) (crypto.Hash, error) { return Hash(table, alg) }
	for _, d := range []kmip.DigitalSignatureAlgorithm{kmip.DigitalSignatureAlgorithmMD5WithRSAEncryption, kmip.DigitalSignatureAlgorithmSHA3_256WithRSAEncryption} {
		for _, family := range []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmRSA, kmip.CryptographicAlgorithmECDSA} {
			if _, err := ResolveSig(family, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(d)}, false, hash); !errors.Is(err, ports.ErrUnsupported) {
				t.Errorf("%s on %s: err = %v, want ErrUnsupported", d, family, err)
			}
		}
	}
	s, err := ResolveSig(kmip.CryptographicAlgorithmRSA, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption)}, false, hash)
	if err != nil || s.Hash != crypto.SHA256 || !s.PKCS1 {
		t.Errorf("SHA-256 with RSA: %+v, %v", s, err)
	}
	if _, err := ResolveSig(kmip.CryptographicAlgorithmECDSA, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_1)}, false, hash); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("ECDSA with SHA-1 outside the table: err = %v", err)
	}
}
