package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Key wrapping on Get (KMIP 1.4 §2.1.5 Key Wrapping Data, §2.1.6 Key
// Wrapping Specification, §4.11 Get; KMIP 2.1 §2.1.5-2.1.6, §6.1.21) and
// registration of wrapped keys.

// wrapSpec is a decoded Key Wrapping Specification.
type wrapSpec struct {
	method     kmip.WrappingMethod
	encInfo    *kmip.Item // Encryption Key Information, nil if absent
	macInfo    *kmip.Item // MAC/Signature Key Information, nil if absent
	attrNames  []string
	encoding   kmip.EncodingOption
	encodingOK bool // Encoding Option given
}

// wrapSpecOf checks a decoded Key Wrapping Specification asks for a
// Wrapping Method kmipd serves (Key Wrap Type Not Supported otherwise)
// with the Key Information that method needs (Invalid Field, as the
// reference server answers).
func wrapSpecOf(k codec.KeyWrapping) (wrapSpec, error) {
	ws := wrapSpec{method: k.Method, encInfo: k.EncryptionKey, macInfo: k.MACKey, attrNames: k.AttributeNames,
		encoding: k.Encoding, encodingOK: k.EncodingGiven}
	needEnc := ws.method == kmip.WrappingMethodEncrypt || ws.method == kmip.WrappingMethodEncryptThenMACSign
	needMAC := ws.method == kmip.WrappingMethodMACSign || ws.method == kmip.WrappingMethodEncryptThenMACSign
	switch {
	case !needEnc && !needMAC:
		return ws, errorf(kmip.ResultReasonKeyWrapTypeNotSupported, "Wrapping Method %s is not supported", ws.method)
	case needEnc && ws.encInfo == nil:
		return ws, invalidField("the Wrapping Method needs Encryption Key Information")
	case needMAC && ws.macInfo == nil:
		return ws, invalidField("the Wrapping Method needs MAC/Signature Key Information")
	}
	return ws, nil
}

// wrappingKey loads the key a Key Information structure names and checks it
// may wrap (use) for the caller. A missing key is Item Not Found (KMIP 1.4
// §11.12), Wrapping Object Not Found / Destroyed in KMIP 2.x; a non-key is
// Illegal Operation (1.x); a key not able to wrap is Permission Denied (1.x).
func (s *Service) wrappingKey(ctx context.Context, c *call, info *kmip.Item, uses ...keyUse) (*domain.Object, ports.KeyHandle, ports.CryptoParams, error) {
	var h ports.KeyHandle
	var p ports.CryptoParams
	id, ok := info.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		return nil, h, p, missingData("Key Information needs a Unique Identifier")
	}
	obj, err := s.cfg.Store.Get(ctx, id)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, h, p, kindErr(errKindWrappingNotFound, "wrapping key not found")
	} else if err != nil {
		return nil, h, p, err
	}
	if err := s.authorize(ctx, c, obj, kmip.OperationGet); err != nil {
		return nil, h, p, err
	}
	if err := s.effective(c, obj); err != nil {
		if errors.Is(err, domain.ErrArchived) {
			return nil, h, p, kindErr(errKindWrappingArchived, "the wrapping key is archived")
		}
		return nil, h, p, err
	}
	switch obj.Type {
	case uint32(kmip.ObjectTypeSymmetricKey), uint32(kmip.ObjectTypePublicKey), uint32(kmip.ObjectTypePrivateKey):
	default:
		return nil, h, p, kindErr(errKindNotApplicable, "the wrapping object is not a key")
	}
	if obj.Payload == nil {
		return nil, h, p, kindErr(errKindWrappingDestroyed, "the wrapping key has been destroyed")
	}
	var useErr error
	for _, u := range uses {
		if useErr = checkUse(obj, u, s.cfg.Clock.Now(), false); useErr == nil {
			break
		}
	}
	if useErr != nil {
		return nil, h, p, usableError(useErr)
	}
	if h, err = keyHandle(obj); err != nil {
		return nil, h, p, usableError(err)
	}
	// The Key Information's parameters must match one of the wrapping key's
	// (KMIP 1.4 §2.1.6), as an operation's must (keyParams).
	p, consistent, err := keyParams(info.Child(kmip.TagCryptographicParameters), obj)
	if err == nil && !consistent {
		err = paramsConflict()
	}
	return obj, h, p, err
}

// encryptsOnRelease reports whether the request's Key Wrapping
// Specification, once applied, returns the value encrypted under a wrapping
// key: a well-formed specification whose method encrypts (Encrypt, or
// Encrypt then MAC/sign) and that names an encryption key. A MAC/sign-only
// wrapping authenticates the key but leaves it in the clear. A malformed
// specification counts as none; applyGetWrapping refuses it.
func encryptsOnRelease(req codec.GetRequest) bool {
	if req.Wrapping == nil {
		return false
	}
	ws, err := wrapSpecOf(*req.Wrapping)
	return err == nil && ws.encrypts()
}

// encrypts reports whether the wrapping encrypts the key value.
func (ws wrapSpec) encrypts() bool {
	return ws.encInfo != nil && (ws.method == kmip.WrappingMethodEncrypt || ws.method == kmip.WrappingMethodEncryptThenMACSign)
}

// applyGetWrapping applies the Get request's key wrapping to out, the object's
// payload about to be returned: a Key Wrapping Specification wraps it, and
// Key Wrap Type Not Wrapped unwraps a key registered wrapped. (Sensitive and
// Extractable are checked before, by checkRelease.)
func (s *Service) applyGetWrapping(ctx context.Context, c *call, req codec.GetRequest, obj *domain.Object, out *kmip.Item) (*kmip.Item, error) {
	kb := out.Child(kmip.TagKeyBlock)
	stored := kb.Child(kmip.TagKeyWrappingData) != nil
	if wt := req.WrapType; wt != nil && stored && *wt == kmip.KeyWrapTypeNotWrapped {
		if err := s.unwrapStored(ctx, c, kb); err != nil {
			return nil, err
		}
		stored = false
	}
	if req.Wrapping == nil {
		return out, nil
	}
	if kb == nil {
		return nil, errorf(kmip.ResultReasonIllegalOperation, "only objects with a Key Block can be wrapped")
	}
	if stored {
		return nil, invalidField("the object is already wrapped")
	}
	ws, err := wrapSpecOf(*req.Wrapping)
	if err != nil {
		return nil, err
	}
	if ws.encInfo != nil {
		if id, _ := ws.encInfo.Child(kmip.TagUniqueIdentifier).AsText(); id == obj.ID {
			return nil, invalidField("a key cannot wrap itself")
		}
	}
	if err := s.wrapKeyBlock(ctx, c, obj, kb, ws); err != nil {
		return nil, err
	}
	return out, nil
}

// wrapKeyBlock replaces kb's Key Value with its wrapped form and adds the
// Key Wrapping Data.
func (s *Service) wrapKeyBlock(ctx context.Context, c *call, obj *domain.Object, kb *kmip.Item, ws wrapSpec) error {
	value, withAttrs, err := wrappedValue(c, obj, kb, ws)
	if err != nil {
		return err
	}
	wd := kmip.Struct(kmip.TagKeyWrappingData, kmip.Enum(kmip.TagWrappingMethod, uint32(ws.method)))
	wrapped := value
	if ws.encInfo != nil && ws.method != kmip.WrappingMethodMACSign {
		if wrapped, err = s.encryptForWrap(ctx, c, obj, ws, value); err != nil {
			return err
		}
		wd.Add(ws.encInfo.Clone())
	}
	if ws.macInfo != nil && ws.method != kmip.WrappingMethodEncrypt {
		tag, err := s.macForWrap(ctx, c, ws, wrapped)
		if err != nil {
			return err
		}
		wd.Add(ws.macInfo.Clone(), kmip.Bytes(kmip.TagMACSignature, tag))
	}
	if ws.encodingOK || ws.encoding == kmip.EncodingOptionNoEncoding {
		wd.Add(kmip.Enum(kmip.TagEncodingOption, uint32(ws.encoding)))
	}
	rebuildKeyBlock(kb, ws, withAttrs, wrapped, wd, noEncodingAsByteString(c.v))
	s.cfg.Log.Info().Str("id", obj.ID).Str("client", c.who.Name).Str("method", ws.method.String()).Msg("key returned wrapped")
	return nil
}

// wrappedValue is the value a wrap covers: the Key Material alone, or
// (TTLV Encoding) the encoded Key Value with the requested attributes,
// which it also returns as an item.
func wrappedValue(c *call, obj *domain.Object, kb *kmip.Item, ws wrapSpec) ([]byte, *kmip.Item, error) {
	kv := kb.Child(kmip.TagKeyValue)
	material, ok := kv.Child(kmip.TagKeyMaterial).AsBytes()
	if kv == nil || (!ok && ws.encoding == kmip.EncodingOptionNoEncoding) {
		return nil, nil, errorf(kmip.ResultReasonEncodingOptionError, "the key material cannot be wrapped without encoding")
	}
	if ws.encoding != kmip.EncodingOptionTTLVEncoding {
		return material, nil, nil
	}
	withAttrs := kv.Clone()
	for _, name := range ws.attrNames {
		vals := obj.AttrValues(name)
		if len(vals) == 0 {
			for _, a := range allAttrs(c.v, obj) {
				if a.Name == name {
					vals = append(vals, a.Value)
				}
			}
		}
		for i, v := range vals {
			withAttrs.Add(attrOut(c.v, domain.Attribute{Name: name, Index: i, Value: v}))
		}
	}
	enc, err := kmip.AppendTTLV(nil, withAttrs)
	if err != nil {
		return nil, nil, err // a stored Key Value always encodes: this is a server fault
	}
	return enc, withAttrs, nil
}

// encryptForWrap encrypts value under the wrap's Encryption Key Information.
func (s *Service) encryptForWrap(ctx context.Context, c *call, obj *domain.Object, ws wrapSpec, value []byte) ([]byte, error) {
	wrapper, err := capability[ports.KeyWrapper](s)
	if err != nil {
		return nil, err
	}
	_, h, p, err := s.wrappingKey(ctx, c, ws.encInfo, useWrap)
	if err != nil {
		return nil, err
	}
	wrapped, err := wrapper.WrapKey(ctx, h, p, ports.KeyHandle{ID: obj.ID, ObjectType: obj.Type, Material: value})
	if err != nil {
		return nil, engineError(err)
	}
	return wrapped, nil
}

// macForWrap MACs or signs the wrapped value with the wrap's MAC/Signature
// Key Information: a signature when that key is a Private Key.
func (s *Service) macForWrap(ctx context.Context, c *call, ws wrapSpec, wrapped []byte) ([]byte, error) {
	macKey, h, p, err := s.wrappingKey(ctx, c, ws.macInfo, useMAC, useSign)
	if err != nil {
		return nil, err
	}
	var tag []byte
	if macKey.Type == uint32(kmip.ObjectTypePrivateKey) {
		signer, cerr := capability[ports.Signer](s)
		if cerr != nil {
			return nil, cerr
		}
		tag, err = signer.Sign(ctx, h, p, wrapped, false)
	} else {
		macer, cerr := capability[ports.MACer](s)
		if cerr != nil {
			return nil, cerr
		}
		tag, err = macer.MAC(ctx, h, p, wrapped)
	}
	if err != nil {
		return nil, engineError(err)
	}
	return tag, nil
}

// noEncodingAsByteString reports whether a key wrapped with No Encoding is
// answered with a Byte String Key Value, "the wrapped un-encoded value of the
// Byte String Key Material field" (KMIP 1.1-1.4 §2.1.4), as the KMIP 1.1-1.3
// test cases show it (TC-141-11: Key Value Byte String). From 1.4 on the
// OASIS cases keep the Key Value structure with the wrapped Key Material
// (TC-WRAP-1-14), and so does kmipd at 1.4 and 2.x.
func noEncodingAsByteString(v version) bool { return v.major == 1 && v.minor < 4 }

// rebuildKeyBlock puts the wrapped Key Value in place of the clear one
// (MAC/sign only keeps it, with the attributes the MAC covers) and adds
// the Key Wrapping Data wd; asBytes: a No Encoding wrap is a Byte String
// Key Value rather than a structure (noEncodingAsByteString).
func rebuildKeyBlock(kb *kmip.Item, ws wrapSpec, withAttrs *kmip.Item, wrapped []byte, wd *kmip.Item, asBytes bool) {
	var kids []*kmip.Item
	for _, ch := range kb.Children() {
		if ch.Tag != kmip.TagKeyValue {
			kids = append(kids, ch)
			continue
		}
		switch {
		case ws.method == kmip.WrappingMethodMACSign:
			if withAttrs != nil {
				kids = append(kids, withAttrs)
			} else {
				kids = append(kids, ch)
			}
		case ws.encoding == kmip.EncodingOptionNoEncoding && !asBytes:
			kids = append(kids, withKeyMaterial(ch, wrapped))
		default:
			kids = append(kids, kmip.Bytes(kmip.TagKeyValue, wrapped))
		}
	}
	kb.Value = append(kids, wd)
}

// unwrapStored turns a Key Block registered wrapped (Encrypt, No Encoding)
// back into its clear form for Key Wrap Type Not Wrapped.
func (s *Service) unwrapStored(ctx context.Context, c *call, kb *kmip.Item) error {
	wd := kb.Child(kmip.TagKeyWrappingData)
	m, _ := wd.Child(kmip.TagWrappingMethod).AsEnum()
	enc, _ := wd.Child(kmip.TagEncodingOption).AsEnum()
	wrapped, ok := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if !ok {
		// KMIP 1.1-1.4 §2.1.4: "The Key Value Byte String is ... the wrapped
		// un-encoded value of the Byte String Key Material field".
		wrapped, ok = kb.Child(kmip.TagKeyValue).AsBytes()
	}
	if m != uint32(kmip.WrappingMethodEncrypt) || enc != uint32(kmip.EncodingOptionNoEncoding) || !ok {
		return errorf(kmip.ResultReasonKeyWrapTypeNotSupported, "only keys wrapped by encryption without encoding can be unwrapped")
	}
	wrapper, err := capability[ports.KeyWrapper](s)
	if err != nil {
		return err
	}
	_, h, p, err := s.wrappingKey(ctx, c, wd.Child(kmip.TagEncryptionKeyInformation), useUnwrap)
	if err != nil {
		return err
	}
	clear, err := wrapper.UnwrapKey(ctx, h, p, wrapped)
	if err != nil {
		return engineError(err)
	}
	var kids []*kmip.Item
	for _, ch := range kb.Children() {
		switch ch.Tag {
		case kmip.TagKeyWrappingData:
		case kmip.TagKeyValue:
			kids = append(kids, withKeyMaterial(ch, clear))
		default:
			kids = append(kids, ch)
		}
	}
	kb.Value = kids
	return nil
}

// checkRegisteredWrapping checks the Key Wrapping Data of a key registered wrapped; the
// key is then stored exactly as given (KMIP 1.4 §4.3).
func (s *Service) checkRegisteredWrapping(c *call, payload *kmip.Item) error {
	wd := payload.Child(kmip.TagKeyBlock).Child(kmip.TagKeyWrappingData)
	if wd == nil {
		return nil
	}
	if err := checkValue(wd); err != nil {
		return err
	}
	m, ok := wd.Child(kmip.TagWrappingMethod).AsEnum()
	if _, known := kmip.EnumName(kmip.TagWrappingMethod, m); !ok || !known {
		return invalidField("Key Wrapping Data needs a known Wrapping Method")
	}
	if wd.Child(kmip.TagEncryptionKeyInformation) == nil && wd.Child(kmip.TagMACSignatureKeyInformation) == nil {
		return invalidField("Key Wrapping Data needs Encryption Key Information or MAC/Signature Key Information")
	}
	kv := payload.Child(kmip.TagKeyBlock).Child(kmip.TagKeyValue)
	if kv.Type != kmip.TypeByteString && kv.Type != kmip.TypeStructure {
		return invalidField("the Key Value of a wrapped key must be a Byte String or a Structure")
	}
	return nil
}

// withKeyMaterial is a copy of the Key Value structure kv whose Key Material
// is m, keeping its other children (attributes) in order after it.
func withKeyMaterial(kv *kmip.Item, m []byte) *kmip.Item {
	nkv := kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, m))
	for _, a := range kv.Children() {
		if a.Tag != kmip.TagKeyMaterial {
			nkv.Add(a)
		}
	}
	return nkv
}
