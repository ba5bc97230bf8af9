package codec

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestGetRequestNamesItsFields(t *testing.T) {
	t.Parallel()
	_, err := DecodeGet(payload(kmip.Text(kmip.TagKeyFormatType, "Raw")))
	wantErr(t, err, Malformed, "Key Format Type: must be an Enumeration")
	_, err = DecodeGet(payload(kmip.Int(kmip.TagKeyCompressionType, 1)))
	wantErr(t, err, Malformed, "Key Compression Type: must be an Enumeration")
	_, err = DecodeGet(payload(kmip.Struct(kmip.TagKeyWrappingSpecification)))
	wantErr(t, err, Missing, "Key Wrapping Specification: Wrapping Method: is required")
	method := kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt))
	_, err = DecodeGet(payload(kmip.Struct(kmip.TagKeyWrappingSpecification, method,
		kmip.Text(kmip.TagAttributeName, "Name"), kmip.Int(kmip.TagAttributeName, 1))))
	wantErr(t, err, Malformed, "Key Wrapping Specification: Attribute Name 2: must be a Text String")
	_, err = DecodeGet(payload(kmip.Struct(kmip.TagKeyWrappingSpecification, method,
		kmip.Text(kmip.TagAttributeName, "Name"), kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))))
	wantErr(t, err, BadEncoding, "Key Wrapping Specification: Encoding Option: attributes can only be wrapped with TTLV Encoding")
}

func TestGetRequestAsStoredOnlyWithoutFields(t *testing.T) {
	t.Parallel()
	req, err := DecodeGet(payload(kmip.Text(kmip.TagUniqueIdentifier, "x")))
	if err != nil || !req.AsStored() {
		t.Fatalf("bare Get: %+v %v", req, err)
	}
	// A Key Wrap Type of the wrong type is ignored but still sent.
	req, err = DecodeGet(payload(kmip.Text(kmip.TagKeyWrapType, "x")))
	if err != nil || req.AsStored() || req.WrapType != nil {
		t.Fatalf("text Key Wrap Type: %+v %v", req, err)
	}
	req, err = DecodeGet(payload(kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)),
		kmip.Struct(kmip.TagKeyWrappingSpecification, kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodMACSign)))))
	if err != nil || *req.WrapType != kmip.KeyWrapTypeNotWrapped || req.Wrapping.Encoding != kmip.EncodingOptionTTLVEncoding || req.Wrapping.EncodingGiven {
		t.Fatalf("wrap: %+v %v", req, err)
	}
}
