package codec

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestSmallRequestsNameTheirFields(t *testing.T) {
	t.Parallel()
	_, err := DecodeUsageAllocation(payload())
	wantErr(t, err, Incomplete, "Usage Limits Count: is required")
	_, err = DecodeUsageAllocation(payload(kmip.Long(kmip.TagUsageLimitsCount, 0)))
	wantErr(t, err, Malformed, "Usage Limits Count: must be a positive Long Integer")
	_, err = DecodeRNGRetrieve(payload())
	wantErr(t, err, Missing, "Data Length: is required")
	_, err = DecodeRNGRetrieve(payload(kmip.Long(kmip.TagDataLength, 8)))
	wantErr(t, err, Malformed, "Data Length: must be a positive Integer")
	_, err = DecodeInterop(payload(kmip.Text(kmip.TagInteropFunction, "Begin")))
	wantErr(t, err, Missing, "Interop Function: is required, an Enumeration")
	_, err = DecodeLog(payload())
	wantErr(t, err, Missing, "Log Message: is required, a Text String")
	_, err = DecodeAsyncCorrelation(payload(kmip.Text(kmip.TagAsynchronousCorrelationValue, "x")))
	wantErr(t, err, Malformed, "Asynchronous Correlation Value: must be a Byte String")
	_, err = DecodeAsyncCorrelation(payload())
	wantErr(t, err, Missing, "Asynchronous Correlation Value: is required")
	_, err = DecodeEndpointRole(payload(kmip.Int(kmip.TagEndpointRole, 1)))
	wantErr(t, err, Malformed, "Endpoint Role: must be an Enumeration")
	_, err = DecodeLocate(v21, payload(kmip.Enum(kmip.TagStorageStatusMask, 1)))
	wantErr(t, err, Malformed, "Storage Status Mask: must be an Integer")
	if req, err := DecodeLocate(v14, payload()); err != nil || req.StorageStatus != uint32(kmip.StorageStatusMaskOnLineStorage) {
		t.Fatalf("Locate default storage: %+v %v", req, err)
	}
	in, err := DecodeInterop(payload(kmip.Enum(kmip.TagInteropFunction, uint32(kmip.InteropFunctionBegin)), kmip.Text(kmip.TagInteropIdentifier, "tc")))
	if err != nil || in.Function != kmip.InteropFunctionBegin || in.Identifier != "tc" {
		t.Fatalf("Interop: %+v %v", in, err)
	}
}

func TestIdentifierListsTakeEnumerationsOnlyIn2x(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Text(kmip.TagUniqueIdentifier, "a"), kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder)))
	_, err := DecodeUniqueIdentifiers(v14, p)
	wantErr(t, err, Malformed, "Unique Identifier 2: must be a Text String")
	ids, err := DecodeUniqueIdentifiers(v21, p)
	if err != nil || len(ids) != 2 || ids[0].Text != "a" || !ids[1].IsEnum {
		t.Fatalf("2.1 list: %+v %v", ids, err)
	}
	priv := payload(kmip.Enum(kmip.TagPrivateKeyUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder)))
	_, err = DecodePrivateKeyID(v14, priv)
	wantErr(t, err, Malformed, "Private Key Unique Identifier: must be a Text String")
	if uid, err := DecodePrivateKeyID(v21, priv); err != nil || !uid.IsEnum {
		t.Fatalf("2.1 private key: %+v %v", uid, err)
	}
	if uid, err := DecodePrivateKeyID(v14, payload()); err != nil || uid.Given {
		t.Fatalf("absent: %+v %v", uid, err)
	}
}
