package app

import (
	"context"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// importObject implements Import (KMIP 1.4 §4.41, KMIP 2.1 §6.1.25): the
// object is stored under the client's Unique Identifier with the attributes
// exactly as given, server-set ones included, since Import restores an
// exported object; the server only fills in attributes it derives from the
// value (algorithm, length, Key Format Type, Digest, certificate fields)
// when the request lacks them. Replace Existing true overwrites an object
// of that identifier; otherwise one is Object Already Exists. Key Wrap Type
// Not Wrapped unwraps a wrapped key before storing it; As Registered (or
// none) stores it as given. The caller owns the result.
func (s *Service) importObject(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := importRequest(c)
	if err != nil {
		return nil, err
	}
	obj, err := s.importReady(ctx, c, req)
	if err != nil {
		return nil, err
	}
	if req.Replace {
		replaced, err := s.replaceByImport(ctx, c, obj)
		if err != nil {
			s.forgetKept(ctx, obj)
			return nil, err
		}
		if replaced {
			return codec.IDResponse(req.ID), nil
		}
	}
	if err := s.cfg.Store.Create(ctx, obj); err != nil {
		s.forgetKept(ctx, obj)
		return nil, err
	}
	s.undoCreate(c, obj)
	s.cfg.Log.Info().Str("id", req.ID).Str("owner", obj.Owner).Str("type", req.ObjectType.String()).Msg("object imported")
	return codec.IDResponse(req.ID), nil
}

// importRequest decodes an Import request (codec.DecodeImport),
// guaranteeing a printable identifier of bounded length.
func importRequest(c *call) (codec.ImportRequest, error) {
	req, err := codec.DecodeImport(c.v.wire(), c.payload)
	if err != nil {
		return req, err
	}
	if !importableID(req.ID) {
		return req, invalidField("an imported Unique Identifier has at most %d printable characters", maxImportID)
	}
	return req, nil
}

// importReady validates and unwraps the imported value, builds the object,
// checks the Import policy and attribute limits, and hands a new key to the
// HSM when one holds keys; on error nothing is left in the HSM.
func (s *Service) importReady(ctx context.Context, c *call, req codec.ImportRequest) (*domain.Object, error) {
	if err := validateObject(c, req.ObjectType, req.Object); err != nil {
		return nil, err
	}
	if err := s.checkRegisteredWrapping(c, req.Object); err != nil {
		return nil, err
	}
	if err := s.importUnwrap(ctx, c, req.WrapType, req.Object); err != nil {
		return nil, err
	}
	obj, err := s.importedObject(ctx, c, req)
	if err != nil {
		return nil, err
	}
	if err := s.mayImport(ctx, c, obj); err != nil {
		return nil, err
	}
	if err := s.checkAttrLimits(c, nil, obj); err != nil {
		return nil, err
	}
	if err := s.keepNew(ctx, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// replaceByImport overwrites the stored object of obj's identifier, when
// there is one the caller may import over, keeping its revision; it reports
// false, with no error, when no such object exists.
func (s *Service) replaceByImport(ctx context.Context, c *call, obj *domain.Object) (bool, error) {
	var before *domain.Object
	err := s.cfg.Store.Update(ctx, obj.ID, func(o *domain.Object) error {
		if err := s.authorize(ctx, c, o, kmip.OperationImport); err != nil {
			return err
		}
		before = o.Clone()
		rev := o.Revision
		*o = *obj.Clone()
		o.Revision = rev
		return nil
	})
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	if before.KeyRef != "" && before.KeyRef != obj.KeyRef {
		s.forgetKept(ctx, before) // the replaced key leaves the HSM too
	}
	s.undoUpdate(c, before)
	s.cfg.Log.Info().Str("id", obj.ID).Str("owner", obj.Owner).Str("type", kmip.ObjectType(obj.Type).String()).Msg("object replaced by import")
	return true, nil
}

// importUnwrap applies the request's Key Wrap Type wt (nil: none) to a
// payload: Not Wrapped unwraps a wrapped key with the wrapping key this
// server holds (an error if it has none); As Registered keeps the key as
// given.
func (s *Service) importUnwrap(ctx context.Context, c *call, wt *kmip.KeyWrapType, payload *kmip.Item) error {
	switch {
	case wt == nil || *wt == kmip.KeyWrapTypeAsRegistered:
		return nil
	case *wt != kmip.KeyWrapTypeNotWrapped:
		return errorf(kmip.ResultReasonKeyWrapTypeNotSupported, "Key Wrap Type %d is not supported", uint32(*wt))
	}
	kb := payload.Child(kmip.TagKeyBlock)
	if kb.Child(kmip.TagKeyWrappingData) == nil {
		return nil
	}
	return s.unwrapStored(ctx, c, kb)
}

// importedObject builds the object an Import stores: the request's
// attributes as given, the ones the object's fields hold (Unique
// Identifier, Object Type, State, Initial Date, Operation Policy Name)
// checked and moved there, and the derived attributes the request lacks.
func (s *Service) importedObject(ctx context.Context, c *call, req codec.ImportRequest) (*domain.Object, error) {
	uid, t, payload, attrs := req.ID, req.ObjectType, req.Object, req.Attributes
	now := s.cfg.Clock.Now().Truncate(time.Second)
	obj := &domain.Object{ID: uid, Type: uint32(t), State: domain.PreActive, Owner: c.who.Name,
		Policy: domain.PolicyDefault, InitialDate: now, Payload: payload}
	stateGiven := false
	for _, a := range attrs {
		rule, err := importedAttrRule(c, t, a)
		if err != nil {
			return nil, err
		}
		given, err := s.placeImportedAttr(ctx, c, obj, rule, a)
		if err != nil {
			return nil, err
		}
		stateGiven = stateGiven || given
	}
	completeImported(obj, now, stateGiven)
	return obj, nil
}

// importedAttrRule returns the rule of one attribute an Import carries,
// after checking it has a value, applies to the object's type and is
// well formed as a client's value.
func importedAttrRule(c *call, t kmip.ObjectType, a domain.Attribute) (domain.AttrRule, error) {
	rule, err := ruleFor(c, a.Name)
	if err != nil {
		return rule, err
	}
	if a.Value == nil {
		return rule, invalidField("attribute %q has no value", a.Name)
	}
	if !rule.AppliesToType(uint32(t)) {
		return rule, notApplicable(c, a.Name, t)
	}
	// Checked as a client's value, kept as exported (a Usage Limits
	// Count already spent stays spent).
	return rule, checkAttrValue(domain.Attribute{Name: a.Name, Value: a.Value.Clone()})
}

// placeImportedAttr puts one imported attribute on obj: the ones the
// object's fields hold are checked against the request and moved there,
// the others added once each with Names kept unique; it reports whether
// the attribute set the State.
func (s *Service) placeImportedAttr(ctx context.Context, c *call, obj *domain.Object, rule domain.AttrRule, a domain.Attribute) (stateGiven bool, err error) {
	switch a.Name {
	case kmip.TagUniqueIdentifier.SpecName():
		if id, _ := a.Value.AsText(); id != obj.ID {
			return false, invalidField("the Unique Identifier attribute differs from the request's")
		}
	case kmip.TagObjectType.SpecName():
		if v, _ := a.Value.AsEnum(); v != obj.Type {
			return false, invalidField("the Object Type attribute differs from the request's")
		}
	case kmip.TagState.SpecName():
		v, _ := a.Value.AsEnum()
		st := domain.State(v)
		if !st.Valid() || st == domain.Destroyed || st == domain.DestroyedCompromised {
			return false, invalidField("cannot import an object with a value in state %s", st)
		}
		obj.State = st
		return true, nil
	case kmip.TagInitialDate.SpecName():
		d, ok := a.Value.AsTime()
		if !ok {
			return false, invalidField("Initial Date must be a Date-Time")
		}
		obj.InitialDate = d
	case kmip.TagOperationPolicyName.SpecName():
		name, ok := a.Value.AsText()
		if !ok || name == "" {
			return false, invalidField("Operation Policy Name must be a non-empty Text String")
		}
		obj.Policy = name
	default:
		if !rule.Multi && obj.Attr(a.Name) != nil {
			return false, singleValued(c, a.Name)
		}
		if a.Name == kmip.TagName.SpecName() && hasNameValue(obj, a.Value, -1) {
			return false, nameTaken()
		}
		if err := s.checkNameUnique(ctx, c, a); err != nil {
			return false, err
		}
		obj.AddAttr(a.Name, a.Value)
	}
	return false, nil
}

// completeImported activates an imported object whose Activation Date has
// passed (unless the request gave its State), sets Last Change Date when
// absent, and adds the derived attributes the request lacks.
func completeImported(obj *domain.Object, now time.Time, stateGiven bool) {
	if ad, ok := obj.AttrOf(kmip.TagActivationDate).AsTime(); !stateGiven && ok && !ad.After(now) && domain.HasLifecycle(obj.Type) {
		obj.State = domain.Active
	}
	if obj.AttrOf(kmip.TagLastChangeDate) == nil {
		obj.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
	}
	derived := obj.Clone()
	finishObject(derived)
	for _, a := range derived.Attributes {
		if obj.Attr(a.Name) == nil {
			obj.Attributes = append(obj.Attributes, a)
		}
	}
}

// mayImport applies the Import rule of the imported object's policy, when
// it has one, with the caller as owner. Without one, Import is governed as
// Register, which any client may perform.
func (s *Service) mayImport(ctx context.Context, c *call, obj *domain.Object) error {
	p, ok := s.cfg.Policies.Policy(ctx, obj.Policy)
	if !ok || !policyNames(p, obj.Type, kmip.OperationImport) {
		return nil
	}
	return p.Allowed(c.who, obj.Owner, obj.Type, uint32(kmip.OperationImport))
}

// maxImportID bounds a client-chosen Unique Identifier: kmipd's own are
// 36-character UUIDs, and identifiers end up in index keys and log lines.
const maxImportID = 256

// importableID reports whether a client-chosen Unique Identifier is short
// and printable (no control characters to forge log lines or index keys).
func importableID(id string) bool {
	if len(id) > maxImportID {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
