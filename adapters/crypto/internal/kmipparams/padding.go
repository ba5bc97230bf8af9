// Package kmipparams is the one place both crypto engines (software and
// PKCS#11) read KMIP Cryptographic Parameters (KMIP 1.4 §2.1.4, 2.1
// §7.6): which algorithm an operation runs, block paddings, IVs and CTR
// counter blocks, hashing algorithms, curves, signature schemes and the
// RSA key transport default. Each function states the rule it applies;
// errors wrap the ports sentinels (ErrInvalidInput for what the client got
// wrong, ErrUnsupported for what the engine lacks, ErrInvalidLength for key
// sizes). The package does no I/O beyond crypto/rand.
package kmipparams

import (
	"crypto/rand"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// BlockPadding reads the Padding Method for a padded block mode (ECB,
// CBC): none (absent or None) is 0; PKCS#5, ANSI X9.23 and ISO 10126 are
// returned as is; any other method is ErrUnsupported.
func BlockPadding(p ports.CryptoParams) (kmip.PaddingMethod, error) {
	pad := kmip.PaddingMethod(p.PaddingMethod)
	switch pad {
	case 0, kmip.PaddingMethodNone:
		return 0, nil
	case kmip.PaddingMethodPKCS5, kmip.PaddingMethodANSIX9_23, kmip.PaddingMethodISO10126:
		return pad, nil
	}
	return 0, fmt.Errorf("%w: padding method %s", ports.ErrUnsupported, pad)
}

// AddPadding returns data followed by 1 to bs bytes of padding that bring
// it to a multiple of bs: PKCS#5 (= PKCS#7) repeats the count, ANSI X9.23
// pads with zeros and ISO 10126 with random bytes, both ending in the
// count. It never modifies data's backing array.
func AddPadding(data []byte, bs int, pad kmip.PaddingMethod) []byte {
	n := bs - len(data)%bs
	tail := make([]byte, n)
	if pad == kmip.PaddingMethodISO10126 {
		_, _ = rand.Read(tail)
	}
	for i := range tail {
		if pad == kmip.PaddingMethodPKCS5 {
			tail[i] = byte(n)
		}
	}
	tail[n-1] = byte(n)
	return append(append(make([]byte, 0, len(data)+n), data...), tail...)
}

var errPadding = fmt.Errorf("%w: bad padding", ports.ErrInvalidInput)

// RemovePadding checks and strips the padding AddPadding adds: data must
// be whole blocks and the count 1 to bs; PKCS#5 also checks every pad byte
// (all of them, without an early exit), ANSI X9.23 and ISO 10126 only the
// count. Bad padding
// is ErrInvalidInput. The result shares data's backing array.
func RemovePadding(data []byte, bs int, pad kmip.PaddingMethod) ([]byte, error) {
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, errPadding
	}
	n := int(data[len(data)-1])
	if n == 0 || n > bs {
		return nil, errPadding
	}
	if pad == kmip.PaddingMethodPKCS5 {
		bad := byte(0)
		for _, c := range data[len(data)-n:] {
			bad |= c ^ byte(n)
		}
		if bad != 0 {
			return nil, errPadding
		}
	}
	return data[:len(data)-n], nil
}
