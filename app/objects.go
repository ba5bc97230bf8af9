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
var objectTags = codec.ObjectTags

// objectType reads the request's Object Type.
func objectType(c *call) (kmip.ObjectType, error) {
	return codec.ObjectType(c.v.wire(), c.payload)
}

// badObjectType refuses an object type: Invalid Field in KMIP 1.x (1.4 §11.2,
// §11.4), Invalid Object Type in KMIP 2.x (2.1 §6.1.8.1, §6.1.43).
func badObjectType(format string, args ...any) error {
	return kindErr(errKindBadObjectType, format, args...)
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
