package codec

import "github.com/kmipd/kmipd/domain/kmip"

// UniqueIdentifier is a request's Unique Identifier: a Text String or, in
// KMIP 2.x, an enumeration naming the identifier an earlier batch item
// returned (KMIP 2.1 §4.58, §11.58). Given is false when the request has
// none (the ID Placeholder then applies).
type UniqueIdentifier struct {
	Given  bool
	Text   string
	IsEnum bool
	Enum   kmip.UniqueIdentifier
}

// DecodeUniqueIdentifier reads a request's Unique Identifier, given at
// most once.
func DecodeUniqueIdentifier(v Version, payload *kmip.Item) (UniqueIdentifier, error) {
	ids := payload.ChildrenOf(kmip.TagUniqueIdentifier)
	switch {
	case len(ids) > 1:
		return UniqueIdentifier{}, fail(Repeated, specName(kmip.TagUniqueIdentifier), "given more than once")
	case len(ids) == 0:
		return UniqueIdentifier{}, nil
	}
	return identifier(v, ids[0], specName(kmip.TagUniqueIdentifier))
}

// identifier reads one identifier field (named field in errors): a Text
// String or, in KMIP 2.x, a Unique Identifier enumeration.
func identifier(v Version, it *kmip.Item, field string) (UniqueIdentifier, error) {
	if s, ok := it.AsText(); ok {
		return UniqueIdentifier{Given: true, Text: s}, nil
	}
	e, ok := it.AsEnum()
	if !ok || !v.v2() {
		return UniqueIdentifier{}, fail(Malformed, field, "must be a Text String")
	}
	return UniqueIdentifier{Given: true, IsEnum: true, Enum: kmip.UniqueIdentifier(e)}, nil
}

// DecodeUniqueIdentifiers reads every Unique Identifier of a request that
// may name several (Derive Key's objects, KMIP 1.4 §4.6, KMIP 2.1
// §6.1.11), none when it names none.
func DecodeUniqueIdentifiers(v Version, payload *kmip.Item) ([]UniqueIdentifier, error) {
	ids := payload.ChildrenOf(kmip.TagUniqueIdentifier)
	out := make([]UniqueIdentifier, 0, len(ids))
	for i, it := range ids {
		field := specName(kmip.TagUniqueIdentifier)
		if len(ids) > 1 {
			field = nth(kmip.TagUniqueIdentifier, i+1)
		}
		uid, err := identifier(v, it, field)
		if err != nil {
			return nil, err
		}
		out = append(out, uid)
	}
	return out, nil
}

// DecodePrivateKeyID reads a Re-key Key Pair request's Private Key Unique
// Identifier (KMIP 1.4 §4.5, KMIP 2.1 §6.1.45), shaped as a Unique
// Identifier; Given is false when absent (the ID Placeholder applies).
func DecodePrivateKeyID(v Version, payload *kmip.Item) (UniqueIdentifier, error) {
	it := payload.Child(kmip.TagPrivateKeyUniqueIdentifier)
	if it == nil {
		return UniqueIdentifier{}, nil
	}
	return identifier(v, it, specName(kmip.TagPrivateKeyUniqueIdentifier))
}

// CertificateRequestID reads the Certificate Request Unique Identifier a
// KMIP 2.x Re-certify may name its request by (2.1 §6.1.45); given is
// false when there is none, and always in KMIP 1.x, which has no such
// field.
func CertificateRequestID(v Version, payload *kmip.Item) (id string, given bool, err error) {
	it := payload.Child(kmip.TagCertificateRequestUniqueIdentifier)
	if it == nil || !v.v2() {
		return "", false, nil
	}
	id, ok := it.AsText()
	if !ok {
		return "", false, fail(Malformed, specName(kmip.TagCertificateRequestUniqueIdentifier), "must be a Text String")
	}
	return id, true, nil
}

// CheckRequest is a Check (KMIP 1.4 §4.10, KMIP 2.1 §6.1.5) request: the
// uses to check, each nil when not asked.
type CheckRequest struct {
	UsageLimitsCount *int64
	UsageMask        *int32
	LeaseTime        *uint32
}

// DecodeCheck reads a Check request.
func DecodeCheck(payload *kmip.Item) (CheckRequest, error) {
	var r CheckRequest
	if it := payload.Child(kmip.TagUsageLimitsCount); it != nil {
		n, ok := it.AsLong()
		if !ok || n < 0 {
			return r, fail(Malformed, specName(kmip.TagUsageLimitsCount), "must be a non-negative Long Integer")
		}
		r.UsageLimitsCount = &n
	}
	if it := payload.Child(kmip.TagCryptographicUsageMask); it != nil {
		m, ok := it.AsInt()
		if !ok {
			return r, fail(Malformed, specName(kmip.TagCryptographicUsageMask), "must be an Integer")
		}
		r.UsageMask = &m
	}
	if it := payload.Child(kmip.TagLeaseTime); it != nil {
		l, ok := it.AsInterval()
		if !ok {
			return r, fail(Malformed, specName(kmip.TagLeaseTime), "must be an Interval")
		}
		r.LeaseTime = &l
	}
	return r, nil
}

// CheckRefusal is the Response Payload a failed Check carries: the uses
// refused (KMIP 1.4 §4.10), each as the request gave it; a nil field was
// not refused.
func CheckRefusal(refused CheckRequest) *kmip.Item {
	out := kmip.Struct(kmip.TagResponsePayload)
	if refused.UsageLimitsCount != nil {
		out.Add(kmip.Long(kmip.TagUsageLimitsCount, *refused.UsageLimitsCount))
	}
	if refused.UsageMask != nil {
		out.Add(kmip.Int(kmip.TagCryptographicUsageMask, *refused.UsageMask))
	}
	if refused.LeaseTime != nil {
		out.Add(kmip.Interval(kmip.TagLeaseTime, *refused.LeaseTime))
	}
	return out
}
