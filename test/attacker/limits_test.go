package attacker

import (
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestPrimeFieldSizeIsBounded: bob asks for a split over a prime field of
// 11213 bits (2^11213-1, a Mersenne prime). Testing its primality alone keeps
// a core busy for many seconds; kmipd refuses it at once as Invalid Field
// (issue 12, item 3).
func TestPrimeFieldSizeIsBounded(t *testing.T) {
	tg := start(t, harness.Options{})
	prime := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 11213), big.NewInt(1))
	began := time.Now()
	_, err := tg.bob.Call(kmip.OperationCreateSplitKey,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
		kmip.Big(kmip.TagPrimeFieldSize, prime),
		kmip.Struct(kmip.TagTemplateAttribute,
			kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 128))))
	took := time.Since(began)
	if reason(err) != kmip.ResultReasonInvalidField {
		t.Errorf("Create Split Key over an 11213-bit prime: %v, want Invalid Field", err)
	}
	if took > 3*time.Second {
		t.Errorf("the refusal took %s; the size must be checked before the primality test", took)
	}
}
