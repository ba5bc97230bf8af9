package codec

import "github.com/kmipd/kmipd/domain/kmip"

// GetRequest is the form a Get (KMIP 1.4 §4.11, KMIP 2.1 §6.1.23) or
// Export (1.4 §4.40, 2.1 §6.1.18) request asks the object's key in: each
// field nil when not asked. A Key Wrap Type that is not an Enumeration is
// ignored, as it always was; WrapTypeGiven still records it was sent.
type GetRequest struct {
	Format        *kmip.KeyFormatType
	Compression   *kmip.KeyCompressionType
	WrapType      *kmip.KeyWrapType
	WrapTypeGiven bool
	Wrapping      *KeyWrapping
}

// AsStored reports whether the request asks for no conversion, compression
// or wrapping: the object is returned as stored.
func (r GetRequest) AsStored() bool {
	return r.Format == nil && r.Compression == nil && r.Wrapping == nil && !r.WrapTypeGiven
}

// DecodeGet reads a Get or Export request's Key Format Type, Key
// Compression Type, Key Wrap Type and Key Wrapping Specification.
func DecodeGet(payload *kmip.Item) (GetRequest, error) {
	var r GetRequest
	if it := payload.Child(kmip.TagKeyFormatType); it != nil {
		v, ok := it.AsEnum()
		if !ok {
			return r, fail(Malformed, specName(kmip.TagKeyFormatType), "must be an Enumeration")
		}
		f := kmip.KeyFormatType(v)
		r.Format = &f
	}
	if it := payload.Child(kmip.TagKeyCompressionType); it != nil {
		v, ok := it.AsEnum()
		if !ok {
			return r, fail(Malformed, specName(kmip.TagKeyCompressionType), "must be an Enumeration")
		}
		ct := kmip.KeyCompressionType(v)
		r.Compression = &ct
	}
	if it := payload.Child(kmip.TagKeyWrapType); it != nil {
		r.WrapTypeGiven = true
		if v, ok := it.AsEnum(); ok {
			wt := kmip.KeyWrapType(v)
			r.WrapType = &wt
		}
	}
	if it := payload.Child(kmip.TagKeyWrappingSpecification); it != nil {
		ws, err := DecodeKeyWrapping(it)
		if err != nil {
			return r, in(specName(kmip.TagKeyWrappingSpecification), err)
		}
		r.Wrapping = &ws
	}
	return r, nil
}

// KeyWrapping is a Key Wrapping Specification (KMIP 1.4 §2.1.6, KMIP 2.1
// §2.1.6). Which Wrapping Methods are served, and whether the method's
// Key Information is present, app decides.
type KeyWrapping struct {
	Method         kmip.WrappingMethod
	EncryptionKey  *kmip.Item // Encryption Key Information, nil if absent
	MACKey         *kmip.Item // MAC/Signature Key Information, nil if absent
	AttributeNames []string
	Encoding       kmip.EncodingOption
	EncodingGiven  bool
}

// DecodeKeyWrapping reads a Key Wrapping Specification: a Wrapping Method,
// Attribute Names as Text Strings, and an Encoding Option (TTLV Encoding
// when absent, KMIP 1.4 §2.1.5 Table 9) of No Encoding or TTLV Encoding,
// No Encoding only without attributes.
func DecodeKeyWrapping(spec *kmip.Item) (KeyWrapping, error) {
	var ws KeyWrapping
	m, ok := spec.Child(kmip.TagWrappingMethod).AsEnum()
	if !ok {
		return ws, fail(Missing, specName(kmip.TagWrappingMethod), "is required")
	}
	ws.Method = kmip.WrappingMethod(m)
	ws.EncryptionKey = spec.Child(kmip.TagEncryptionKeyInformation)
	ws.MACKey = spec.Child(kmip.TagMACSignatureKeyInformation)
	for i, a := range spec.ChildrenOf(kmip.TagAttributeName) {
		n, ok := a.AsText()
		if !ok {
			return ws, fail(Malformed, nth(kmip.TagAttributeName, i+1), "must be a Text String")
		}
		ws.AttributeNames = append(ws.AttributeNames, n)
	}
	ws.Encoding = kmip.EncodingOptionTTLVEncoding
	if e := spec.Child(kmip.TagEncodingOption); e != nil {
		v, ok := e.AsEnum()
		if !ok || (v != uint32(kmip.EncodingOptionNoEncoding) && v != uint32(kmip.EncodingOptionTTLVEncoding)) {
			return ws, fail(BadEncoding, specName(kmip.TagEncodingOption), "unsupported Encoding Option")
		}
		ws.Encoding, ws.EncodingGiven = kmip.EncodingOption(v), true
	}
	if ws.Encoding == kmip.EncodingOptionNoEncoding && len(ws.AttributeNames) > 0 {
		return ws, fail(BadEncoding, specName(kmip.TagEncodingOption), "attributes can only be wrapped with TTLV Encoding")
	}
	return ws, nil
}
