package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// export implements Export (KMIP 1.4 §4.40, KMIP 2.1 §6.1.18): the object
// exactly as Get returns it for the same Key Format Type, Key Wrap Type, Key
// Compression Type and Key Wrapping Specification, together with every
// attribute the client's version knows. Access follows the policy's Export
// rule, or its Get rule when it has none (accessOp). A destroyed object is
// exported without a value: its key material no longer exists.
func (s *Service) export(ctx context.Context, c *call) (*kmip.Item, error) {
	req, obj, err := s.getTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	var value *kmip.Item
	if obj.Payload != nil {
		got, err := s.release(ctx, c, req, obj)
		if err != nil {
			return nil, err
		}
		value = got.Child(objectTags[kmip.ObjectType(obj.Type)])
		// Re-read: Get may have changed attributes (Fresh) while serving it.
		if obj, err = s.cfg.Store.Get(ctx, obj.ID); err != nil {
			return nil, err
		}
	}
	out := codec.ExportResponse(c.v.wire(), kmip.ObjectType(obj.Type), obj.ID, allAttrs(c.v, obj), value)
	s.cfg.Log.Info().Str("id", obj.ID).Str("client", c.who.Name).Bool("value", value != nil).Msg("object exported")
	return out, nil
}
