package software

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"

	//lint:ignore SA1019 KMIP Cryptographic Algorithm Blowfish (1.4 §9.1.3.2.13) is served to legacy clients that ask for it
	"golang.org/x/crypto/blowfish"
	//lint:ignore SA1019 KMIP Cryptographic Algorithm CAST5 (1.4 §9.1.3.2.13) is served to legacy clients that ask for it
	"golang.org/x/crypto/cast5"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/adapters/crypto/software/internal/camellia"
	"github.com/kmipd/kmipd/adapters/crypto/software/internal/idea"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// symmetricKeyBytes checks a key length in bits for alg and returns the size
// of its material in bytes. 3DES lengths count either every key bit (64,
// 128, 192) or only the effective ones (112, 168), as KMIP clients use both;
// a 64-bit 3DES key is single DES run as EDE.
func symmetricKeyBytes(alg kmip.CryptographicAlgorithm, bits int) (int, error) {
	bad := func(allowed string) (int, error) {
		return 0, fmt.Errorf("%w: %d bits for %s (allowed: %s)", ports.ErrInvalidLength, bits, alg, allowed)
	}
	step8 := func(lo, hi int) bool { return bits >= lo && bits <= hi && bits%8 == 0 }
	switch alg {
	case kmip.CryptographicAlgorithmAES, kmip.CryptographicAlgorithmCamellia:
		if bits == 128 || bits == 192 || bits == 256 {
			return bits / 8, nil
		}
		return bad("128, 192, 256")
	case kmip.CryptographicAlgorithmDES3:
		switch bits {
		case 64, 128, 192:
			return bits / 8, nil
		case 112:
			return 16, nil
		case 168:
			return 24, nil
		}
		return bad("64, 112, 128, 168, 192")
	case kmip.CryptographicAlgorithmDES:
		if bits == 56 || bits == 64 {
			return 8, nil
		}
		return bad("56, 64")
	case kmip.CryptographicAlgorithmBlowfish:
		if step8(32, 448) {
			return bits / 8, nil
		}
		return bad("32 to 448 in steps of 8")
	case kmip.CryptographicAlgorithmCAST5:
		if step8(40, 128) {
			return bits / 8, nil
		}
		return bad("40 to 128 in steps of 8")
	case kmip.CryptographicAlgorithmIDEA:
		if bits == 128 {
			return 16, nil
		}
		return bad("128")
	case kmip.CryptographicAlgorithmRC4:
		if step8(40, 2048) {
			return bits / 8, nil
		}
		return bad("40 to 2048 in steps of 8")
	case kmip.CryptographicAlgorithmChaCha20, kmip.CryptographicAlgorithmChaCha20Poly1305:
		if bits == 256 {
			return 32, nil
		}
		return bad("256")
	case kmip.CryptographicAlgorithmHMAC_SHA1, kmip.CryptographicAlgorithmHMAC_SHA224,
		kmip.CryptographicAlgorithmHMAC_SHA256, kmip.CryptographicAlgorithmHMAC_SHA384,
		kmip.CryptographicAlgorithmHMAC_SHA512, kmip.CryptographicAlgorithmHMAC_MD5,
		kmip.CryptographicAlgorithmHMAC_SHA3_224, kmip.CryptographicAlgorithmHMAC_SHA3_256,
		kmip.CryptographicAlgorithmHMAC_SHA3_384, kmip.CryptographicAlgorithmHMAC_SHA3_512:
		if bits >= 8 && bits%8 == 0 && bits <= 8*kmipparams.MaxRandom {
			return bits / 8, nil
		}
		return bad("a positive multiple of 8")
	}
	if n, ok := legacyKeyBytes(alg, bits); ok {
		return n, nil
	}
	if allowed, ok := legacyLengths[alg]; ok {
		return bad(allowed)
	}
	return 0, fmt.Errorf("%w: symmetric algorithm %s", ports.ErrUnsupported, alg)
}

// legacyLengths are the symmetric algorithms kmipd creates and stores keys
// for although it implements no operation with them (KMIP 1.x clients ask
// for them), with the key lengths each algorithm's own definition allows:
// MARS (IBM's AES submission) 128-448 in steps of 32, RC2 (RFC 2268) 8-1024,
// RC5 (RFC 2040) 8-2040, SKIPJACK (NIST) 80, Twofish 128/192/256, ARIA (RFC
// 5794) 128/192/256, SEED (RFC 4269) 128, SM4 128, GOST 28147-89 and GOST R
// 34.13-2015 256, Poly1305 256, a One Time Pad any whole number of bytes.
var legacyLengths = map[kmip.CryptographicAlgorithm]string{
	kmip.CryptographicAlgorithmMARS: "128 to 448 in steps of 32", kmip.CryptographicAlgorithmRC2: "8 to 1024 in steps of 8",
	kmip.CryptographicAlgorithmRC5: "8 to 2040 in steps of 8", kmip.CryptographicAlgorithmSKIPJACK: "80",
	kmip.CryptographicAlgorithmTwofish: "128, 192, 256", kmip.CryptographicAlgorithmARIA: "128, 192, 256",
	kmip.CryptographicAlgorithmSEED: "128", kmip.CryptographicAlgorithmSM4: "128",
	kmip.CryptographicAlgorithmGOST28147_89: "256", kmip.CryptographicAlgorithmGOSTR34_13_2015: "256",
	kmip.CryptographicAlgorithmPoly1305: "256", kmip.CryptographicAlgorithmOneTimePad: "a positive multiple of 8",
}

// legacyKeyBytes is the key size in bytes of a legacyLengths algorithm's
// key of bits bits; ok is false for another algorithm or length.
func legacyKeyBytes(alg kmip.CryptographicAlgorithm, bits int) (int, bool) {
	in := func(lo, hi, step int) bool { return bits >= lo && bits <= hi && bits%step == 0 }
	var ok bool
	switch alg {
	case kmip.CryptographicAlgorithmMARS:
		ok = in(128, 448, 32)
	case kmip.CryptographicAlgorithmRC2:
		ok = in(8, 1024, 8)
	case kmip.CryptographicAlgorithmRC5:
		ok = in(8, 2040, 8)
	case kmip.CryptographicAlgorithmSKIPJACK:
		ok = bits == 80
	case kmip.CryptographicAlgorithmTwofish, kmip.CryptographicAlgorithmARIA:
		ok = bits == 128 || bits == 192 || bits == 256
	case kmip.CryptographicAlgorithmSEED, kmip.CryptographicAlgorithmSM4:
		ok = bits == 128
	case kmip.CryptographicAlgorithmGOST28147_89, kmip.CryptographicAlgorithmGOSTR34_13_2015, kmip.CryptographicAlgorithmPoly1305:
		ok = bits == 256
	case kmip.CryptographicAlgorithmOneTimePad:
		ok = in(8, 8*kmipparams.MaxRandom, 8)
	}
	return bits / 8, ok
}

// newBlock returns the block cipher alg keyed with key. The key's length is
// checked against what the algorithm accepts (ErrInvalidLength).
func newBlock(alg kmip.CryptographicAlgorithm, key []byte) (cipher.Block, error) {
	var (
		b   cipher.Block
		err error
	)
	switch alg {
	case kmip.CryptographicAlgorithmAES:
		b, err = aes.NewCipher(key)
	case kmip.CryptographicAlgorithmDES3:
		switch len(key) {
		case 8: // single DES as EDE (K1 = K2 = K3)
			b, err = des.NewCipher(key)
		case 16: // two-key 3DES: K3 = K1
			k := append(append([]byte{}, key...), key[:8]...)
			b, err = des.NewTripleDESCipher(k)
			clear(k)
		default:
			b, err = des.NewTripleDESCipher(key)
		}
	case kmip.CryptographicAlgorithmDES:
		b, err = des.NewCipher(key)
	case kmip.CryptographicAlgorithmBlowfish:
		if len(key) < 4 {
			return nil, fmt.Errorf("%w: %d-byte Blowfish key", ports.ErrInvalidLength, len(key))
		}
		b, err = blowfish.NewCipher(key)
	case kmip.CryptographicAlgorithmCamellia:
		b, err = camellia.New(key)
	case kmip.CryptographicAlgorithmCAST5:
		b, err = newCAST5(key)
	case kmip.CryptographicAlgorithmIDEA:
		b, err = idea.New(key)
	default:
		if _, legacy := legacyLengths[alg]; legacy {
			return nil, fmt.Errorf("%w: %s keys are stored, but kmipd implements no %s cipher", ports.ErrUnsupported, alg, alg)
		}
		return nil, fmt.Errorf("%w: block cipher %s", ports.ErrUnsupported, alg)
	}
	if err != nil {
		if isUnsupported(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %d-byte %s key", ports.ErrInvalidLength, len(key), alg)
	}
	return b, nil
}

// newCAST5 keys CAST5 (RFC 2144). Keys of 88 to 128 bits are zero-padded
// to 128 bits as §2.5 says; golang.org/x/crypto/cast5 always runs 16
// rounds, so keys of 80 bits or less, which RFC 2144 runs for 12 rounds,
// are refused rather than encrypted incompatibly.
func newCAST5(key []byte) (cipher.Block, error) {
	if len(key) <= 10 {
		return nil, fmt.Errorf("%w: CAST5 keys of 80 bits or less (12-round CAST5)", ports.ErrUnsupported)
	}
	if len(key) > 16 {
		return nil, fmt.Errorf("%w: %d-byte CAST5 key", ports.ErrInvalidLength, len(key))
	}
	k := make([]byte, 16)
	copy(k, key)
	defer clear(k)
	return cast5.NewCipher(k)
}

func isUnsupported(err error) bool {
	return err != nil && errors.Is(err, ports.ErrUnsupported)
}
