package codec

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestCryptoRequestNamesItsFields(t *testing.T) {
	t.Parallel()
	_, err := DecodeCrypto(payload(kmip.Enum(kmip.TagCryptographicParameters, 1)))
	wantErr(t, err, Malformed, "Cryptographic Parameters: must be a Structure")
	_, err = DecodeCrypto(payload(kmip.Struct(kmip.TagCryptographicParameters, kmip.Int(kmip.TagBlockCipherMode, 1))))
	wantErr(t, err, Malformed, "Cryptographic Parameters: Block Cipher Mode must be a Enumeration, not a Integer")
	_, err = DecodeData(payload(kmip.Text(kmip.TagDigestedData, "x")), true, 0)
	wantErr(t, err, Malformed, "Digested Data: must be a Byte String")
	_, err = DecodeData(payload(kmip.Bytes(kmip.TagData, []byte{1}), kmip.Text(kmip.TagMACData, "x")), false, kmip.TagMACData)
	wantErr(t, err, Malformed, "MAC Data: must be a Byte String")
}

func TestCryptoRequestReadsTheStreamFields(t *testing.T) {
	t.Parallel()
	req, err := DecodeCrypto(payload(kmip.Bool(kmip.TagInitIndicator, true), kmip.Bool(kmip.TagFinalIndicator, false)))
	if err != nil || !req.Init || req.Final || req.CorrelationGiven || req.Params != nil {
		t.Fatalf("first part: %+v %v", req, err)
	}
	// A Correlation Value of the wrong type is given but names no stream.
	req, err = DecodeCrypto(payload(kmip.Text(kmip.TagCorrelationValue, "cv")))
	if err != nil || !req.CorrelationGiven || req.Correlation != nil {
		t.Fatalf("text Correlation Value: %+v %v", req, err)
	}
	// Digested Data is read only where the operation takes it.
	dr, err := DecodeData(payload(kmip.Text(kmip.TagDigestedData, "x"), kmip.Bytes(kmip.TagData, []byte{1})), false, 0)
	if err != nil || dr.HasDigested || !dr.HasData || dr.HasCheck {
		t.Fatalf("data: %+v %v", dr, err)
	}
}
