package software

import (
	"context"
	"math/bits"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/cryptotest"
)

func TestContract(t *testing.T) { cryptotest.Exercise(t, New()) }

func TestDESKeysHaveOddParity(t *testing.T) {
	k, err := New().GenerateSymmetricKey(context.Background(), ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmDES3), Length: 192})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range k.Material {
		if bits.OnesCount8(b)%2 != 1 {
			t.Fatalf("byte %d (%08b) has even parity", i, b)
		}
	}
}

func TestDES3EffectiveLengths(t *testing.T) {
	for bits, want := range map[int]int{112: 16, 168: 24, 128: 16, 192: 24} {
		k, err := New().GenerateSymmetricKey(context.Background(), ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmDES3), Length: bits})
		if err != nil || len(k.Material) != want {
			t.Errorf("3DES-%d: %d bytes, %v; want %d bytes", bits, len(k.Material), err, want)
		}
	}
}
