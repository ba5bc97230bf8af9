package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// modifyAttribute implements Modify Attribute (KMIP 1.4 §4.15, KMIP 2.1 §6.1.34).
func (s *Service) modifyAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeModifyAttribute(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	at := req.Attribute
	r, err := s.modifiableRule(ctx, c, at)
	if err != nil {
		return nil, err
	}
	var result domain.Attribute
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if err := checkModifyOn(c, r, obj, at.Name); err != nil {
			return err
		}
		a, err := instanceToModify(c, obj, req)
		if err != nil {
			return err
		}
		if at.Name == kmip.TagName.SpecName() && hasNameValue(obj, at.Value, a.Index) {
			return nameTaken()
		}
		a.Value = at.Value
		result = *a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.AttributeChangeResponse(c.v.wire(), obj.ID, result), nil
}

// modifiableRule returns the rule of the attribute a Modify Attribute
// changes, after checking, before any object is read, that the value is
// well formed, that clients may modify the attribute and that a new Name is
// not taken.
func (s *Service) modifiableRule(ctx context.Context, c *call, at domain.Attribute) (domain.AttrRule, error) {
	r, err := valueRule(c, at)
	if err != nil {
		return r, err
	}
	if !r.ClientModifies {
		return r, attrReadOnly(at.Name)
	}
	return r, s.checkNameUnique(ctx, c, at)
}

// checkModifyOn refuses a Modify Attribute the object's type, state or
// spent usage limits forbid.
func checkModifyOn(c *call, r domain.AttrRule, obj *domain.Object, name string) error {
	if !r.AppliesToType(obj.Type) {
		return notApplicable(c, name, kmip.ObjectType(obj.Type))
	}
	if r.PreActiveOnly && obj.State != domain.PreActive {
		return notPreActive(name)
	}
	if usageSpent(obj, name) {
		return usageLimitsFixed()
	}
	return nil
}

// instanceToModify finds the one instance a Modify Attribute changes (by
// Current Attribute value, by index in KMIP 1.x, or the only instance in
// KMIP 2.x) and returns a pointer into obj.Attributes.
func instanceToModify(c *call, obj *domain.Object, req codec.AttributeChange) (*domain.Attribute, error) {
	at := req.Attribute
	n := len(obj.AttrValues(at.Name))
	if n == 0 {
		return nil, attrNotFound(c, at.Name)
	}
	if !req.ByIndex && req.Current == nil && n > 1 {
		// KMIP 2.1 §6.1.34: which instance is meant cannot be determined.
		return nil, instanceNotFound(at.Name)
	}
	for i := range obj.Attributes {
		a := &obj.Attributes[i]
		if a.Name != at.Name {
			continue
		}
		match := a.Index == at.Index
		if req.Current != nil {
			match = a.Value.Equal(req.Current.Value)
		} else if !req.ByIndex {
			match = true // the only instance
		}
		if match {
			return a, nil
		}
	}
	return nil, instanceNotFound(at.Name)
}
