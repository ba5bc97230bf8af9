package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// formatFor returns the object's payload with its key in the Key
// Format Type and Key Compression Type the Get request asks for (KMIP 1.4
// §4.11). Without either, the object is returned as stored. A conversion
// that does not exist is Key Format Type Not Supported; compression of
// anything but an EC public point is Key Compression Type Not Supported
// (KMIP 1.4 §11.12). When the request asks for no format, compression or
// wrapping, nothing changes the payload, which is then not copied: obj is
// the store's copy, this request's own (ports.Store.Get).
func (s *Service) formatFor(ctx context.Context, c *call, req codec.GetRequest, obj *domain.Object) (*kmip.Item, error) {
	if req.AsStored() {
		return obj.Payload, nil
	}
	out := obj.Payload.Clone()
	ci := req.Compression
	if req.Format == nil && ci == nil {
		return out, nil
	}
	kb := out.Child(kmip.TagKeyBlock)
	h, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	have := kmip.KeyFormatType(h)
	want := have
	if req.Format != nil {
		want = *req.Format
	}
	comp, err := requestedCompression(ci, obj)
	if err != nil {
		return nil, err
	}
	if kb == nil {
		return nil, errorf(kmip.ResultReasonKeyFormatTypeNotSupported, "a %s has no key to convert to %s", kmip.ObjectType(obj.Type), want)
	}
	if want == have && ci == nil {
		return out, nil
	}
	if kb.Child(kmip.TagKeyValue) == nil {
		return nil, errorf(kmip.ResultReasonKeyFormatTypeNotSupported, "the object holds no key value to convert to %s", want)
	}
	nkb, err := s.convertedKeyBlock(ctx, c, obj, kb, want, comp, ci != nil)
	if err != nil {
		return nil, err
	}
	if ci != nil {
		setKeyCompression(nkb, kmip.Enum(kmip.TagKeyCompressionType, uint32(*ci)))
	}
	kids := out.Children()
	for i, ch := range kids {
		if ch.Tag == kmip.TagKeyBlock {
			kids[i] = nkb
		}
	}
	return out, nil
}

// requestedCompression reads the Key Compression Type a request asks for,
// uncompressed when it names none; any compression but an EC public
// point's is Key Compression Type Not Supported.
func requestedCompression(ci *kmip.KeyCompressionType, obj *domain.Object) (keyformat.Compression, error) {
	comp := keyformat.Uncompressed
	if ci == nil {
		return comp, nil
	}
	v := *ci
	switch v {
	case kmip.KeyCompressionTypeECPublicKeyTypeUncompressed:
	case kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime:
		comp = keyformat.CompressedPrime
	default:
		return comp, errorf(kmip.ResultReasonKeyCompressionTypeNotSupported, "%s is not supported", v)
	}
	if kmip.ObjectType(obj.Type) != kmip.ObjectTypePublicKey || !isECKey(obj) {
		return comp, errorf(kmip.ResultReasonKeyCompressionTypeNotSupported, "key compression applies to EC public keys only")
	}
	return comp, nil
}

// convertedKeyBlock converts the object's key block kb to format want with
// compression comp (PKCS#12 through the crypto port), mapping a
// conversion that does not exist to the Result Reason it is; compressing:
// the request names a Key Compression Type.
func (s *Service) convertedKeyBlock(ctx context.Context, c *call, obj *domain.Object, kb *kmip.Item, want kmip.KeyFormatType, comp keyformat.Compression, compressing bool) (*kmip.Item, error) {
	h, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	have := kmip.KeyFormatType(h)
	var nkb *kmip.Item
	var err error
	if want == kmip.KeyFormatTypePKCS_12 && comp == keyformat.Uncompressed {
		nkb, err = s.pkcs12KeyBlock(ctx, c, obj)
	} else {
		nkb, err = keyformat.Convert(kb, want, comp)
	}
	switch {
	case errors.Is(err, keyformat.ErrUnsupported) && compressing && want == have:
		return nil, errorf(kmip.ResultReasonKeyCompressionTypeNotSupported, "the key cannot be compressed in %s format", want)
	case errors.Is(err, keyformat.ErrUnsupported):
		return nil, errorf(kmip.ResultReasonKeyFormatTypeNotSupported, "cannot convert %s to %s", have, want)
	}
	return nkb, err
}

// isECKey reports whether the object is an elliptic-curve key.
func isECKey(obj *domain.Object) bool {
	alg, _ := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	switch kmip.CryptographicAlgorithm(alg) {
	case kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmECDH, kmip.CryptographicAlgorithmECMQV:
		return true
	}
	return false
}

// setKeyCompression records in a Key Block the compression of its point
// (KMIP 1.4 §2.1.3, Key Compression Type).
func setKeyCompression(kb, ci *kmip.Item) {
	kids := kb.Children()
	for i, ch := range kids {
		if ch.Tag == kmip.TagKeyCompressionType {
			kids[i] = ci.Clone()
			return
		}
	}
	// Key Compression Type follows Key Format Type (KMIP 1.4 §2.1.3).
	out := make([]*kmip.Item, 0, len(kids)+1)
	for _, ch := range kids {
		out = append(out, ch)
		if ch.Tag == kmip.TagKeyFormatType {
			out = append(out, ci.Clone())
		}
	}
	kb.Value = out
}
