package codec

import "github.com/kmipd/kmipd/domain/kmip"

// CertificateRequest is the certificate request a Certify or Re-certify
// payload carries (KMIP 1.4 §4.7: Certificate Request; KMIP 2.1 §6.1.6:
// Certificate Request Value), with its Certificate Request Type.
type CertificateRequest struct {
	Type  kmip.CertificateRequestType
	Value []byte
}

// DecodeCertificateRequest reads the request's certificate request in
// version v's field, nil when there is none.
func DecodeCertificateRequest(v Version, payload *kmip.Item) (*CertificateRequest, error) {
	valueTag := kmip.TagCertificateRequest
	if v.v2() {
		valueTag = kmip.TagCertificateRequestValue
	}
	it := payload.Child(valueTag)
	if it == nil {
		return nil, nil
	}
	b, ok := it.AsBytes()
	if !ok {
		return nil, fail(Malformed, specName(valueTag), "must be a Byte String")
	}
	t, ok := payload.Child(kmip.TagCertificateRequestType).AsEnum()
	if !ok {
		return nil, fail(Missing, specName(kmip.TagCertificateRequestType), "is required with a %s", specName(valueTag))
	}
	return &CertificateRequest{Type: kmip.CertificateRequestType(t), Value: b}, nil
}
