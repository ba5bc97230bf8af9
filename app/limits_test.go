package app

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// mersenne returns 2^n - 1.
func mersenne(n uint) *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), n), big.NewInt(1))
}

// splitPrimeField is a Create Split Key of a new 128-bit AES key over prime.
func splitPrimeField(prime *big.Int) *kmip.Item {
	return bi(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
		kmip.Big(kmip.TagPrimeFieldSize, prime),
		kmip.Struct(kmip.TagTemplateAttribute,
			attr14("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			attr14("Cryptographic Length", kmip.Int(0, 128))))
}

// TestPrimeFieldSizeBounded proves a Prime Field Size longer than
// maxPrimeFieldBits is refused as Invalid Field before any primality test,
// on Create Split Key and on Register of a Split Key, while a prime within
// the bound still splits. 2^4423-1 and 2^4253-1 are Mersenne primes.
func TestPrimeFieldSizeBounded(t *testing.T) {
	s := New(Config{Store: newMemStore(), Crypto: randCrypto{},
		Clock: fixedClock{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}})
	mustOK(t, one(t, s, alice, v14, splitPrimeField(mersenne(607))))
	for _, p := range []*big.Int{mersenne(4423), mersenne(4253), new(big.Int).Lsh(big.NewInt(1), 65536)} {
		mustFail(t, one(t, s, alice, v14, splitPrimeField(p)), kmip.ResultReasonInvalidField)
		sk := kmip.Struct(kmip.TagSplitKey,
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagKeyPartIdentifier, 1),
			kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
			kmip.Big(kmip.TagPrimeFieldSize, p),
			keyBlock(kmip.KeyFormatTypeRaw, keyBytes(make([]byte, 16)),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128)))
		mustFail(t, one(t, s, alice, v14, register(kmip.ObjectTypeSplitKey, sk)), kmip.ResultReasonInvalidField)
	}
}

// TestPrimeFieldCheckObservesContext proves the primality test does not
// start once the request's deadline has passed.
func TestPrimeFieldCheckObservesContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := checkPrimeField(ctx, mersenne(3217)); !errors.Is(err, context.Canceled) {
		t.Fatalf("checkPrimeField after cancel: %v, want context.Canceled", err)
	}
	if err := checkPrimeField(context.Background(), mersenne(3217)); err != nil {
		t.Fatalf("checkPrimeField(2^3217-1): %v", err)
	}
}
