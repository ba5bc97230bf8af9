package software

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// TestLegacyAlgorithmKeys: keys are created for the legacy symmetric
// algorithms at the lengths each algorithm defines, other lengths are
// refused naming the allowed ones, and an operation with such a key is
// refused as unsupported, naming the algorithm.
func TestLegacyAlgorithmKeys(t *testing.T) {
	ctx := context.Background()
	e := New()
	ok := map[kmip.CryptographicAlgorithm][]int{
		kmip.CryptographicAlgorithmSKIPJACK: {80}, kmip.CryptographicAlgorithmMARS: {128, 256, 448},
		kmip.CryptographicAlgorithmRC2: {8, 128, 1024}, kmip.CryptographicAlgorithmRC5: {128, 2040},
		kmip.CryptographicAlgorithmTwofish: {128, 192, 256}, kmip.CryptographicAlgorithmARIA: {128, 256},
		kmip.CryptographicAlgorithmSEED: {128}, kmip.CryptographicAlgorithmSM4: {128},
		kmip.CryptographicAlgorithmGOST28147_89: {256}, kmip.CryptographicAlgorithmGOSTR34_13_2015: {256},
		kmip.CryptographicAlgorithmPoly1305: {256}, kmip.CryptographicAlgorithmOneTimePad: {8, 4096},
	}
	for alg, lengths := range ok {
		for _, bits := range lengths {
			k, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(alg), Length: bits})
			if err != nil || len(k.Material) != bits/8 {
				t.Errorf("%s-%d: %d bytes, %v", alg, bits, len(k.Material), err)
			}
		}
	}
	bad := map[kmip.CryptographicAlgorithm]int{
		kmip.CryptographicAlgorithmSKIPJACK: 64, kmip.CryptographicAlgorithmMARS: 136, kmip.CryptographicAlgorithmTwofish: 64,
		kmip.CryptographicAlgorithmSEED: 256, kmip.CryptographicAlgorithmRC2: 1032,
	}
	for alg, bits := range bad {
		_, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(alg), Length: bits})
		if !errors.Is(err, ports.ErrInvalidLength) || !strings.Contains(err.Error(), "allowed") {
			t.Errorf("%s-%d: %v, want ErrInvalidLength naming the allowed lengths", alg, bits, err)
		}
	}
	k, err := e.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{Algorithm: uint32(kmip.CryptographicAlgorithmSKIPJACK), Length: 80})
	if err != nil {
		t.Fatal(err)
	}
	h := ports.KeyHandle{ID: "sj", ObjectType: uint32(kmip.ObjectTypeSymmetricKey), Algorithm: uint32(kmip.CryptographicAlgorithmSKIPJACK),
		Length: 80, Format: k.Format, Material: k.Material}
	_, err = e.Encrypt(ctx, h, ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeCBC)}, ports.CipherInput{Data: make([]byte, 8), IV: make([]byte, 8)})
	if !errors.Is(err, ports.ErrUnsupported) || !strings.Contains(err.Error(), "SKIPJACK") {
		t.Errorf("Encrypt with a SKIPJACK key: %v, want ErrUnsupported naming SKIPJACK", err)
	}
}
