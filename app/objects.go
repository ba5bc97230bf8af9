package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// newID returns a fresh Unique Identifier: a time-ordered UUIDv7, unique
// across every node sharing a store without any coordination.
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// objectTags maps Object Type values to the tag of their payload structure.
var objectTags = map[kmip.ObjectType]kmip.Tag{
	kmip.ObjectTypeCertificate:        kmip.TagCertificate,
	kmip.ObjectTypeSymmetricKey:       kmip.TagSymmetricKey,
	kmip.ObjectTypePublicKey:          kmip.TagPublicKey,
	kmip.ObjectTypePrivateKey:         kmip.TagPrivateKey,
	kmip.ObjectTypeSplitKey:           kmip.TagSplitKey,
	kmip.ObjectTypeTemplate:           kmip.TagTemplate,
	kmip.ObjectTypeSecretData:         kmip.TagSecretData,
	kmip.ObjectTypeOpaqueObject:       kmip.TagOpaqueObject,
	kmip.ObjectTypePGPKey:             kmip.TagPGPKey,
	kmip.ObjectTypeCertificateRequest: kmip.TagCertificateRequest,
}

// objectType reads the request's Object Type.
func objectType(c *call) (kmip.ObjectType, error) {
	return codec.ObjectType(c.v.wire(), c.payload)
}

// badObjectType refuses an object type: Invalid Field in KMIP 1.x (1.4 §11.2,
// §11.4), Invalid Object Type in KMIP 2.x (2.1 §6.1.8.1, §6.1.43).
func badObjectType(format string, args ...any) error {
	return kindErr(errKindBadObjectType, format, args...)
}

// create implements Create (KMIP 1.4 §4.1) for symmetric keys.
func (s *Service) create(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeCreate(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	t := req.ObjectType
	if t != kmip.ObjectTypeSymmetricKey {
		return nil, badObjectType("Create cannot make %s objects", t)
	}
	attrs, err := s.withTemplates(ctx, c, req.Attributes)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	alg, okA := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := obj.AttrOf(kmip.TagCryptographicLength).AsInt()
	mask, okM := obj.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	switch {
	case !okA:
		return nil, invalidField("the Cryptographic Algorithm attribute is required")
	case !okL:
		return nil, invalidField("the Cryptographic Length attribute is required")
	case !okM:
		return nil, invalidField("the Cryptographic Usage Mask attribute is required")
	}
	key, err := s.cfg.Crypto.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{
		ID: obj.ID, Algorithm: alg, Length: int(length), UsageMask: mask,
	})
	if err != nil {
		return nil, keygenError(err, kmip.CryptographicAlgorithm(alg), length)
	}
	obj.Payload = keyObjectPayload(kmip.TagSymmetricKey, key, alg, length)
	adoptKey(obj, key)
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.CreateResponse(t, obj.ID), nil
}

// storeNew derives the server-computed attributes of a new object, stores it
// durably, and remembers how to remove it should the batch be undone. Its
// Names must be its own (checkNewNames); replaces lists the objects whose
// Names it takes over.
func (s *Service) storeNew(ctx context.Context, c *call, obj *domain.Object, replaces ...string) error {
	if err := s.checkNewNames(ctx, c, obj, replaces...); err != nil {
		return err
	}
	finishObject(obj)
	if err := s.checkAttrLimits(c, nil, obj); err != nil {
		return err
	}
	if err := s.keepNew(ctx, obj); err != nil {
		return err
	}
	if err := s.cfg.Store.Create(ctx, obj); err != nil {
		s.forgetKept(ctx, obj)
		return err
	}
	s.undoCreate(c, obj)
	s.cfg.Log.Info().Str("id", obj.ID).Str("owner", obj.Owner).Str("op", c.op.String()).
		Str("type", kmip.ObjectType(obj.Type).String()).Msg("object stored")
	return nil
}

// keygenError turns engine refusals into the reasons the reference server
// uses, keeping the engine's error as the Cause for the log. A transient
// error (the HSM unreachable) is passed through: General Failure, logged.
func keygenError(err error, alg kmip.CryptographicAlgorithm, length int32) error {
	switch {
	case transient(err):
		return err
	case errors.Is(err, ports.ErrUnsupported):
		return invalidField("%s is not a supported symmetric key algorithm%s", alg, engineDetail(err, ports.ErrUnsupported)).because(err)
	case errors.Is(err, ports.ErrInvalidLength):
		return invalidField("%d is not a valid length for %s keys%s", length, alg, engineDetail(err, ports.ErrInvalidLength)).because(err)
	}
	return err
}

// register implements Register (KMIP 1.4 §4.3, KMIP 2.1 §6.1.42) for every
// object type: the object's structure is validated, the attributes its
// content determines are derived, and it is stored as given.
func (s *Service) register(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	tag := objectTags[t]
	payload := c.payload.Child(tag)
	if payload == nil || payload.Type != kmip.TypeStructure {
		return nil, invalidField("Register of %s needs a %s structure", t, tag)
	}
	if err := validateObject(c, t, payload); err != nil {
		return nil, err
	}
	if t == kmip.ObjectTypeTemplate {
		c, payload = templateOwnNames(c, payload)
	}
	if err := s.checkRegisteredWrapping(c, payload); err != nil {
		return nil, err
	}
	derived, err := derivedAttrs(c, t, payload)
	if err != nil {
		return nil, err
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	if err := applyDerived(obj, derived); err != nil {
		return nil, err
	}
	obj.Payload = payload.Clone()
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// loadFor fetches the object named by the request (or the ID Placeholder) and
// checks the caller may perform the call's operation on it.
func (s *Service) loadFor(ctx context.Context, c *call) (*domain.Object, error) {
	id, err := c.uid()
	if err != nil {
		return nil, err
	}
	return s.loadAs(ctx, c, id, c.op)
}

// loadAs fetches object id and checks the caller may perform op on it under
// its policy (split, join and PKCS#12 export read objects under the Get
// rule) and that it is in effect (not archived).
func (s *Service) loadAs(ctx context.Context, c *call, id string, op kmip.Operation) (*domain.Object, error) {
	obj, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, obj, op); err != nil {
		return nil, err
	}
	if err := s.effective(c, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// get implements Get (KMIP 1.4 §4.11, KMIP 2.1 §6.1.23): load the object,
// check it may be returned, convert its key to the requested format and
// compression, then wrap it if asked.
func (s *Service) get(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if obj.Payload == nil {
		return nil, kindErr(errKindDestroyed, "object has been destroyed")
	}
	if err := checkRelease(obj, encryptsOnRelease(c)); err != nil { // Sensitive, Extractable
		return nil, err
	}
	if obj, err = s.withKeyValue(ctx, obj); err != nil {
		return nil, usableError(err)
	}
	out, err := s.formatFor(ctx, c, obj)
	if err != nil {
		return nil, err
	}
	if out, err = s.applyGetWrapping(ctx, c, obj, out); err != nil {
		return nil, err
	}
	if err := s.clearFresh(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.GetResponse(kmip.ObjectType(obj.Type), obj.ID, out), nil
}
