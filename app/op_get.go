package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// get implements Get (KMIP 1.4 §4.11, KMIP 2.1 §6.1.23): load the object,
// check it may be returned, convert its key to the requested format and
// compression, then wrap it if asked.
func (s *Service) get(ctx context.Context, c *call) (*kmip.Item, error) {
	req, obj, err := s.getTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	if obj.Payload == nil {
		return nil, kindErr(errKindDestroyed, "object has been destroyed")
	}
	return s.release(ctx, c, req, obj)
}

// getTarget decodes a Get (or Export) request and loads the object it
// names, after the access check (loadFor).
func (s *Service) getTarget(ctx context.Context, c *call) (codec.GetRequest, *domain.Object, error) {
	req, err := codec.DecodeGet(c.payload)
	if err != nil {
		return req, nil, err
	}
	obj, err := s.loadFor(ctx, c)
	return req, obj, err
}

// release answers a Get of obj, which holds a value, in the form req asks
// for; Export serves its value through it.
func (s *Service) release(ctx context.Context, c *call, req codec.GetRequest, obj *domain.Object) (*kmip.Item, error) {
	if err := checkRelease(obj, encryptsOnRelease(req)); err != nil { // Sensitive, Extractable
		return nil, err
	}
	obj, err := s.withKeyValue(ctx, obj)
	if err != nil {
		return nil, usableError(err)
	}
	out, err := s.formatFor(ctx, c, req, obj)
	if err != nil {
		return nil, err
	}
	if out, err = s.applyGetWrapping(ctx, c, req, obj, out); err != nil {
		return nil, err
	}
	if err := s.clearFresh(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.GetResponse(kmip.ObjectType(obj.Type), obj.ID, out), nil
}
