package kmipparams

import (
	"crypto/elliptic"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestOperationAlgorithm(t *testing.T) {
	const (
		aes   = kmip.CryptographicAlgorithmAES
		des3  = kmip.CryptographicAlgorithmDES3
		cc    = kmip.CryptographicAlgorithmChaCha20
		ccp   = kmip.CryptographicAlgorithmChaCha20Poly1305
		noAlg = kmip.CryptographicAlgorithm(0)
	)
	chacha := []kmip.CryptographicAlgorithm{cc, ccp}
	cases := []struct {
		name     string
		key, par kmip.CryptographicAlgorithm
		families [][]kmip.CryptographicAlgorithm
		want     kmip.CryptographicAlgorithm
	}{
		{"the key's", aes, noAlg, nil, aes},
		{"the parameters'", noAlg, des3, nil, des3},
		{"both the same", aes, aes, nil, aes},
		{"neither", noAlg, noAlg, nil, noAlg},
		{"another algorithm", aes, des3, nil, noAlg},
		{"a family without the family", cc, ccp, nil, noAlg},
		{"a family", cc, ccp, [][]kmip.CryptographicAlgorithm{chacha}, ccp},
		{"a family the other way", ccp, cc, [][]kmip.CryptographicAlgorithm{chacha}, cc},
		{"outside the family", aes, cc, [][]kmip.CryptographicAlgorithm{chacha}, noAlg},
	}
	for _, c := range cases {
		key := ports.KeyHandle{ID: "k", Algorithm: uint32(c.key)}
		got, err := OperationAlgorithm(key, ports.CryptoParams{CryptographicAlgorithm: uint32(c.par)}, c.families...)
		if got != c.want || (c.want == 0) != errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
}

func TestRSAWrapParams(t *testing.T) {
	p := RSAWrapParams(ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)})
	if kmip.PaddingMethod(p.PaddingMethod) != kmip.PaddingMethodOAEP || kmip.HashingAlgorithm(p.HashingAlgorithm) != kmip.HashingAlgorithmSHA_256 {
		t.Errorf("no padding: %+v, want OAEP with the rest kept", p)
	}
	p = RSAWrapParams(ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5)})
	if kmip.PaddingMethod(p.PaddingMethod) != kmip.PaddingMethodPKCS1V1_5 {
		t.Errorf("PKCS#1 v1.5 became %s", kmip.PaddingMethod(p.PaddingMethod))
	}
}

func TestCurve(t *testing.T) {
	cases := []struct {
		curve  kmip.RecommendedCurve
		length int
		want   elliptic.Curve
		err    error
	}{
		{kmip.RecommendedCurveP_224, 0, elliptic.P224(), nil},
		{kmip.RecommendedCurveP_256, 0, elliptic.P256(), nil},
		{kmip.RecommendedCurveP_384, 384, elliptic.P384(), nil},
		{kmip.RecommendedCurveP_521, 521, elliptic.P521(), nil},
		{0, 224, elliptic.P224(), nil},
		{0, 256, elliptic.P256(), nil},
		{0, 384, elliptic.P384(), nil},
		{0, 521, elliptic.P521(), nil},
		{0, 512, nil, ports.ErrInvalidLength},
		{0, 0, nil, ports.ErrInvalidLength},
		{kmip.RecommendedCurveP_256, 384, nil, ports.ErrInvalidLength},
		{kmip.RecommendedCurveP_192, 0, nil, ports.ErrUnsupported},
		{kmip.RecommendedCurveK_163, 163, nil, ports.ErrUnsupported},
	}
	for _, c := range cases {
		got, err := Curve(c.curve, c.length)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("Curve(%s, %d) = %v, %v; want %v, %v", c.curve, c.length, got, err, c.want, c.err)
		}
	}
}
