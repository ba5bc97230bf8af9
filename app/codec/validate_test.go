package codec

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

func x509Cert(der string) *kmip.Item {
	return kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		kmip.Bytes(kmip.TagCertificateValue, []byte(der)))
}

// TestValidateKeepsTheChainOrder: certificates and identifiers interleaved
// make one chain in payload order; the 2.x ID Placeholder enumeration is
// read only at 2.x; the Validity Date is read when given.
func TestValidateKeepsTheChainOrder(t *testing.T) {
	t.Parallel()
	day := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	p := payload(x509Cert("leaf"), kmip.Text(kmip.TagUniqueIdentifier, "mid"), x509Cert("root"), kmip.DateTime(kmip.TagValidityDate, day))
	for _, v := range []Version{{1, 0}, v14, v21} {
		req, err := DecodeValidate(v, p)
		if err != nil || len(req.Chain) != 3 || !req.Date.Equal(day) {
			t.Fatalf("%v: %+v %v", v, req, err)
		}
		if string(req.Chain[0].Value) != "leaf" || !req.Chain[1].IsID || req.Chain[1].ID.Text != "mid" || string(req.Chain[2].Value) != "root" {
			t.Errorf("%v: chain out of order: %+v", v, req.Chain)
		}
		if req.Chain[0].Type != kmip.CertificateTypeX_509 {
			t.Errorf("%v: type %v", v, req.Chain[0].Type)
		}
	}
	ph := payload(kmip.Enum(kmip.TagUniqueIdentifier, uint32(kmip.UniqueIdentifierIDPlaceholder)))
	if req, err := DecodeValidate(v21, ph); err != nil || !req.Chain[0].ID.IsEnum {
		t.Errorf("2.1 placeholder: %+v %v", req, err)
	}
	_, err := DecodeValidate(v14, ph)
	wantErr(t, err, Malformed, "Unique Identifier 1: must be a Text String")
	if req, err := DecodeValidate(v14, payload()); err != nil || len(req.Chain) != 0 || !req.Date.IsZero() {
		t.Errorf("empty request: %+v %v", req, err)
	}
}

func TestValidateNamesItsBadFields(t *testing.T) {
	t.Parallel()
	_, err := DecodeValidate(v21, payload(x509Cert("a"), kmip.Struct(kmip.TagCertificate, kmip.Bytes(kmip.TagCertificateValue, []byte("b")))))
	wantErr(t, err, Malformed, "Certificate 2: Certificate Type: is required, an Enumeration")
	_, err = DecodeValidate(v14, payload(kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, 1))))
	wantErr(t, err, Malformed, "Certificate 1: Certificate Value: is required, a Byte String")
	_, err = DecodeValidate(v14, payload(kmip.Bytes(kmip.TagCertificate, []byte("x"))))
	wantErr(t, err, Malformed, "Certificate 1: must be a Structure")
	_, err = DecodeValidate(v14, payload(x509Cert("a"), kmip.Text(kmip.TagValidityDate, "today")))
	wantErr(t, err, Malformed, "Validity Date: must be a Date-Time")
	if got := ValidateResponse(kmip.ValidityIndicatorUnknown).Child(kmip.TagValidityIndicator); got == nil || got.Value != uint32(kmip.ValidityIndicatorUnknown) {
		t.Errorf("response: %v", got)
	}
}
