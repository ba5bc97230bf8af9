package codec

import (
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// ChainLink is one certificate of a Validate request's chain: a
// Certificate object the request carries (Type and Value), or the Unique
// Identifier of a Certificate object the server holds (IsID).
type ChainLink struct {
	IsID  bool
	ID    UniqueIdentifier
	Type  kmip.CertificateType
	Value []byte
}

// ValidateRequest is a Validate request (KMIP 1.4 §4.24, KMIP 2.1 §6.1.57):
// its certificates and Unique Identifiers in the order the request gives
// them (the chain, leaf first), and the Validity Date when given (Date is
// zero when the request has none: the current time applies).
type ValidateRequest struct {
	Chain []ChainLink
	Date  time.Time
}

// DecodeValidate reads a Validate request. Certificates and Unique
// Identifiers may be interleaved; together, in payload order, they are the
// chain. The chain may be empty here (app decides whether the ID
// Placeholder supplies it); each Certificate needs its Certificate Type
// and Certificate Value (1.4 §2.2.1, 2.1 §2.2.1).
func DecodeValidate(v Version, payload *kmip.Item) (ValidateRequest, error) {
	var req ValidateRequest
	certs, ids := 0, 0
	for _, it := range payload.Children() {
		switch it.Tag {
		case kmip.TagCertificate:
			certs++
			link, err := certificateLink(it, nth(kmip.TagCertificate, certs))
			if err != nil {
				return req, err
			}
			req.Chain = append(req.Chain, link)
		case kmip.TagUniqueIdentifier:
			ids++
			uid, err := identifier(v, it, nth(kmip.TagUniqueIdentifier, ids))
			if err != nil {
				return req, err
			}
			req.Chain = append(req.Chain, ChainLink{IsID: true, ID: uid})
		}
	}
	if it := payload.Child(kmip.TagValidityDate); it != nil {
		d, ok := it.AsTime()
		if !ok {
			return req, fail(Malformed, specName(kmip.TagValidityDate), "must be a Date-Time")
		}
		req.Date = d
	}
	return req, nil
}

// certificateLink reads one Certificate structure of a Validate request.
func certificateLink(it *kmip.Item, field string) (ChainLink, error) {
	if it.Type != kmip.TypeStructure {
		return ChainLink{}, fail(Malformed, field, "must be a Structure")
	}
	t, ok := it.Child(kmip.TagCertificateType).AsEnum()
	if !ok {
		return ChainLink{}, fail(Malformed, field+": "+specName(kmip.TagCertificateType), "is required, an Enumeration")
	}
	val, ok := it.Child(kmip.TagCertificateValue).AsBytes()
	if !ok || len(val) == 0 {
		return ChainLink{}, fail(Malformed, field+": "+specName(kmip.TagCertificateValue), "is required, a Byte String")
	}
	return ChainLink{Type: kmip.CertificateType(t), Value: val}, nil
}
