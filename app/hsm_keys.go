package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Keys kept by the engine (an HSM behind ports.KeyKeeper): the store holds
// the object's metadata and the engine's reference (domain.Object.KeyRef);
// the Key Block of a secret or private key has no Key Value. Keys the
// engine generates come back as references; keys a client brings (Register,
// Join Split Key, Derive Key, Import) are placed in the engine before they
// are stored, so no secret material of such a server reaches its store.

// keeper returns the engine's KeyKeeper capability, if it has one.
func (s *Service) keeper() (ports.KeyKeeper, bool) {
	k, ok := s.cfg.Crypto.(ports.KeyKeeper)
	return k, ok
}

// keptTypes are the object types whose material the engine keeps.
func keptType(t uint32) bool {
	switch kmip.ObjectType(t) {
	case kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePrivateKey, kmip.ObjectTypePublicKey:
		return true
	}
	return false
}

// adoptKey records on obj a key the engine keeps: its reference and the
// attributes that say where the key lives and whether it may leave. A key
// the engine will not release is Sensitive and not Extractable whatever the
// request asked: the attributes tell the truth about the key.
func adoptKey(obj *domain.Object, k ports.Key) {
	if k.Ref == "" {
		return
	}
	obj.KeyRef = k.Ref
	obj.SetAttrOf(kmip.TagProtectionStorageMask, kmip.Int(kmip.TagProtectionStorageMask, int32(kmip.ProtectionStorageMaskHardware)))
	if k.NonExtractable && kmip.ObjectType(obj.Type) != kmip.ObjectTypePublicKey {
		obj.SetAttrOf(kmip.TagSensitive, kmip.Bool(kmip.TagSensitive, true))
		obj.SetAttrOf(kmip.TagAlwaysSensitive, kmip.Bool(kmip.TagAlwaysSensitive, true))
		obj.SetAttrOf(kmip.TagExtractable, kmip.Bool(kmip.TagExtractable, false))
		obj.SetAttrOf(kmip.TagNeverExtractable, kmip.Bool(kmip.TagNeverExtractable, true))
	}
}

// keepNew places the plaintext key material of a new object in an engine
// that keeps keys, replacing the Key Value of a secret or private key by the
// engine's reference (a public key keeps its material too). Objects with a
// reference already, wrapped keys and other object types are left alone.
func (s *Service) keepNew(ctx context.Context, obj *domain.Object) error {
	k, ok := s.keeper()
	if !ok || obj.KeyRef != "" || !keptType(obj.Type) {
		return nil
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	if kb == nil || kb.Child(kmip.TagKeyValue) == nil || kb.Child(kmip.TagKeyWrappingData) != nil {
		return nil
	}
	h, err := keyHandle(obj)
	if err != nil {
		return err
	}
	mask, _ := obj.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	key, err := k.ImportKey(ctx, ports.ImportSpec{
		ID: obj.ID, ObjectType: obj.Type, Algorithm: h.Algorithm, Length: h.Length,
		Format: h.Format, Material: h.Material, UsageMask: mask,
	})
	if errors.Is(err, ports.ErrUnsupported) && !transient(err) {
		return errorf(kmip.ResultReasonFeatureNotSupported, "the key store (HSM) cannot hold this %s", kmip.ObjectType(obj.Type)).because(err)
	}
	if err != nil {
		return err
	}
	if kmip.ObjectType(obj.Type) != kmip.ObjectTypePublicKey {
		kept := kb.Children()[:0]
		for _, ch := range kb.Children() {
			if ch.Tag != kmip.TagKeyValue {
				kept = append(kept, ch)
			}
		}
		kb.Value = kept
	}
	adoptKey(obj, key)
	return nil
}

// forgetKept destroys the engine's copy of a key whose object could not be
// stored or was undone, so that no orphan key stays in the HSM.
func (s *Service) forgetKept(ctx context.Context, obj *domain.Object) {
	k, ok := s.keeper()
	if !ok || obj.KeyRef == "" {
		return
	}
	if err := k.DestroyKey(ctx, ports.KeyHandle{ID: obj.ID, ObjectType: obj.Type, Ref: obj.KeyRef}); err != nil {
		s.cfg.Log.Error().Err(err).Str("id", obj.ID).Msg("could not destroy the HSM key of an object that was not stored")
	}
}

// withKeyValue returns obj with the Key Value of a key the engine keeps
// filled in from the engine, in the object's Key Format Type where a
// conversion exists; objects whose payload holds the value come back as they
// are. A key the engine will not release is Not Extractable.
func (s *Service) withKeyValue(ctx context.Context, obj *domain.Object) (*domain.Object, error) {
	if obj.KeyRef == "" || obj.Payload == nil {
		return obj, nil
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	if kb == nil || kb.Child(kmip.TagKeyValue) != nil {
		return obj, nil
	}
	k, ok := s.keeper()
	if !ok {
		return nil, errNotKept
	}
	h, err := keyHandle(obj)
	if err != nil {
		return nil, err
	}
	key, err := k.ExportKey(ctx, h)
	if err != nil {
		return nil, err
	}
	out := obj.Clone()
	okb := out.Payload.Child(kmip.TagKeyBlock)
	stored, _ := okb.Child(kmip.TagKeyFormatType).AsEnum()
	format := key.Format
	if format == 0 {
		format = uint32(kmip.KeyFormatTypeRaw)
	}
	// Key Block order (KMIP 1.4 §2.1.3): format, compression, value, the rest.
	nkb := kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, format))
	if ct := okb.Child(kmip.TagKeyCompressionType); ct != nil {
		nkb.Add(ct)
	}
	nkb.Add(kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, key.Material)))
	for _, ch := range okb.Children() {
		switch ch.Tag {
		case kmip.TagKeyFormatType, kmip.TagKeyCompressionType, kmip.TagKeyValue:
		default:
			nkb.Add(ch)
		}
	}
	if stored != format {
		if conv, err := keyformat.Convert(nkb, kmip.KeyFormatType(stored), keyformat.Uncompressed); err == nil {
			nkb = conv
		}
	}
	kids := out.Payload.Children()
	for i, ch := range kids {
		if ch.Tag == kmip.TagKeyBlock {
			kids[i] = nkb
		}
	}
	return out, nil
}

// errNotKept: the object's key lives in an HSM this server is not
// configured with (its crypto engine was changed).
var errNotKept = &errKeyUnusable{errKindNoKeyValue, "the key is kept in an HSM this server is not configured to use"}
