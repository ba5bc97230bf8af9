package kmipparams

import (
	"crypto"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestGoHash(t *testing.T) {
	for alg, h := range goHashes {
		if !h.Available() {
			t.Errorf("%s maps to %v, which is not linked in", alg, h)
		}
		got, err := GoHash(uint32(alg))
		if got != h || err != nil {
			t.Errorf("GoHash(%s) = %v, %v", alg, got, err)
		}
	}
	cases := []struct {
		alg  kmip.HashingAlgorithm
		want crypto.Hash
		err  error
	}{
		{kmip.HashingAlgorithmSHA_256, crypto.SHA256, nil},
		{kmip.HashingAlgorithmSHA3_512, crypto.SHA3_512, nil},
		{kmip.HashingAlgorithmSHA_512_224, crypto.SHA512_224, nil},
		{0, 0, ports.ErrInvalidInput},
		{kmip.HashingAlgorithmMD2, 0, ports.ErrUnsupported},
		{kmip.HashingAlgorithm(0x7fff), 0, ports.ErrUnsupported},
	}
	for _, c := range cases {
		got, err := GoHash(uint32(c.alg))
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("GoHash(%s) = %v, %v; want %v, %v", c.alg, got, err, c.want, c.err)
		}
	}
	if h, err := GoHashOr(0, crypto.SHA1); h != crypto.SHA1 || err != nil {
		t.Errorf("GoHashOr(0, SHA-1) = %v, %v", h, err)
	}
	if h, err := GoHashOr(uint32(kmip.HashingAlgorithmSHA_384), crypto.SHA1); h != crypto.SHA384 || err != nil {
		t.Errorf("GoHashOr(SHA-384, SHA-1) = %v, %v", h, err)
	}
	if _, err := GoHashOr(uint32(kmip.HashingAlgorithmMD4), crypto.SHA1); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("GoHashOr(MD4) err = %v", err)
	}
}

// An engine's own table narrows what it accepts.
func TestHashInAnEngineTable(t *testing.T) {
	table := map[kmip.HashingAlgorithm]string{kmip.HashingAlgorithmSHA_256: "sha256-mech"}
	if got, err := Hash(table, uint32(kmip.HashingAlgorithmSHA_256)); got != "sha256-mech" || err != nil {
		t.Errorf("Hash(SHA-256) = %q, %v", got, err)
	}
	if _, err := Hash(table, uint32(kmip.HashingAlgorithmSHA_1)); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("Hash(SHA-1) err = %v, want ErrUnsupported", err)
	}
	if _, err := Hash(table, 0); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("Hash(0) err = %v, want ErrInvalidInput", err)
	}
	if got, err := HashOr(table, 0, "default"); got != "default" || err != nil {
		t.Errorf("HashOr(0) = %q, %v", got, err)
	}
}
