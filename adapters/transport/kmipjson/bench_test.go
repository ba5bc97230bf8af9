package kmipjson

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getResponse is a KMIP 1.4 Get response for a 256-bit AES key.
var getResponse = kmip.Struct(kmip.TagResponseMessage,
	kmip.Struct(kmip.TagResponseHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
		kmip.DateTime(kmip.TagTimeStamp, time.Unix(1700000000, 0)),
		kmip.Int(kmip.TagBatchCount, 1)),
	kmip.Struct(kmip.TagBatchItem,
		kmip.Enum(kmip.TagOperation, uint32(kmip.OperationGet)),
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusSuccess)),
		kmip.Struct(kmip.TagResponsePayload,
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			kmip.Text(kmip.TagUniqueIdentifier, "01a250e1-14e4-7adf-b705-c96de6b88d0f"),
			kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, make([]byte, 32))),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 256))))))

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Append(nil, getResponse); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	js, _ := Append(nil, getResponse)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(js, ttlv.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
