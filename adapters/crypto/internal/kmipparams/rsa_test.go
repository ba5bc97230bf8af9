package kmipparams

import (
	"crypto"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestRSAPadding(t *testing.T) {
	cases := []struct {
		name      string
		p         ports.CryptoParams
		oaep      bool
		hash, mgf crypto.Hash
		err       error
	}{
		{"PKCS#1 v1.5", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmMD2)}, false, 0, 0, nil},
		{"OAEP defaults to SHA-1", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP)}, true, crypto.SHA1, crypto.SHA1, nil},
		{"OAEP MGF1 follows the hash", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, true, crypto.SHA256, crypto.SHA256, nil},
		{"OAEP with its own MGF1 hash", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256),
			MaskGeneratorHashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_1), MaskGenerator: uint32(kmip.MaskGeneratorMGF1)}, true, crypto.SHA256, crypto.SHA1, nil},
		{"no padding", ports.CryptoParams{}, false, 0, 0, ports.ErrInvalidInput},
		{"PSS is not for encryption", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS)}, false, 0, 0, ports.ErrUnsupported},
		{"unknown hash", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmMD2)}, false, 0, 0, ports.ErrUnsupported},
		{"unknown MGF1 hash", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), MaskGeneratorHashingAlgorithm: uint32(kmip.HashingAlgorithmMD4)}, false, 0, 0, ports.ErrUnsupported},
		{"another mask generator", ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), MaskGenerator: 2}, false, 0, 0, ports.ErrUnsupported},
	}
	for _, c := range cases {
		oaep, h, mgf, err := RSAPadding(c.p, GoHash)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || oaep != c.oaep || h != c.hash || mgf != c.mgf {
			t.Errorf("%s: oaep %v, %v, %v, %v", c.name, oaep, h, mgf, err)
		}
	}
}

func TestRandomLength(t *testing.T) {
	for _, n := range []int{0, 1, MaxRandom} {
		if err := RandomLength(n); err != nil {
			t.Errorf("RandomLength(%d) = %v", n, err)
		}
	}
	for _, n := range []int{-1, MaxRandom + 1} {
		if err := RandomLength(n); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("RandomLength(%d) = %v, want ErrInvalidLength", n, err)
		}
	}
}
