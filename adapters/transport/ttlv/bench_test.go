package ttlv

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// getRequest is a realistic KMIP 1.4 Get request message (KMIP 1.4 §4.11, §7).
func getRequest() *kmip.Item {
	return kmip.Struct(kmip.TagRequestMessage,
		kmip.Struct(kmip.TagRequestHeader,
			kmip.Struct(kmip.TagProtocolVersion,
				kmip.Int(kmip.TagProtocolVersionMajor, 1),
				kmip.Int(kmip.TagProtocolVersionMinor, 4),
			),
			kmip.Int(kmip.TagBatchCount, 1),
		),
		kmip.Struct(kmip.TagBatchItem,
			kmip.Enum(kmip.TagOperation, uint32(kmip.OperationGet)),
			kmip.Struct(kmip.TagRequestPayload,
				kmip.Text(kmip.TagUniqueIdentifier, "49a1ca88-6bea-4fb2-b450-7e58802c3038"),
			),
		),
	)
}

func BenchmarkEncode(b *testing.B) {
	it := getRequest()
	buf := make([]byte, 0, EncodedLen(it))
	b.SetBytes(int64(cap(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendEncode(buf[:0], it); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	msg, err := Encode(getRequest())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
