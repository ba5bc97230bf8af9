package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	s := newService(t)
	ot := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))
	alg := attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES)))
	mask := attribute1x("Cryptographic Usage Mask", kmip.Int(0, 12))
	cases := map[string]*kmip.Item{
		"no algorithm": batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute,
			attribute1x("Cryptographic Length", kmip.Int(0, 128)), mask)),
		"no length": batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute, alg, mask)),
		"no mask": batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute, alg,
			attribute1x("Cryptographic Length", kmip.Int(0, 128)))),
		"bad length":  aesCreate14(100, ""),
		"unsupported": batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))), attribute1x("Cryptographic Length", kmip.Int(0, 2048)), mask)),
		"secret data": batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData))),
		"server-only attribute": batchItem(kmip.OperationCreate, ot, kmip.Struct(kmip.TagTemplateAttribute, alg, mask,
			attribute1x("Cryptographic Length", kmip.Int(0, 128)), attribute1x("State", kmip.Enum(0, 2)))),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { mustFail(t, sendOne(t, s, alice, v14, c), kmip.ResultReasonInvalidField) })
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreate)), kmip.ResultReasonMissingData)
}
