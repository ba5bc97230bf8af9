package codec

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestSplitRequestsNameTheirFields(t *testing.T) {
	t.Parallel()
	parts, threshold := kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2)
	_, err := DecodeCreateSplitKey(payload(parts, threshold))
	wantErr(t, err, Malformed, "Split Key Method: is required, an Enumeration")
	_, err = DecodeCreateSplitKey(payload(kmip.Long(kmip.TagSplitKeyParts, 2), threshold))
	wantErr(t, err, Malformed, "Split Key Parts: is required, an Integer")
	req, err := DecodeCreateSplitKey(payload(parts, threshold, kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)),
		kmip.Text(kmip.TagUniqueIdentifier, "k")))
	if err != nil || req.Parts != 2 || req.Method != kmip.SplitKeyMethodXOR || !req.KeyGiven || req.Wrapping || req.Prime != nil {
		t.Fatalf("create: %+v %v", req, err)
	}
	_, err = DecodeJoinSplitKey(payload())
	wantErr(t, err, Missing, "Unique Identifier: Join Split Key needs the Unique Identifiers of the parts")
	_, err = DecodeJoinSplitKey(payload(kmip.Text(kmip.TagUniqueIdentifier, "a"), kmip.Enum(kmip.TagUniqueIdentifier, 1)))
	wantErr(t, err, Malformed, "Unique Identifier 2: must be a Text String")
	join, err := DecodeJoinSplitKey(payload(kmip.Text(kmip.TagUniqueIdentifier, "a"), kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword))))
	if err != nil || len(join.IDs) != 1 || *join.SecretDataType != kmip.SecretDataTypePassword {
		t.Fatalf("join: %+v %v", join, err)
	}
}
