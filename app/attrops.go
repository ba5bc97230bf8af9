package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getAttributes implements Get Attributes (KMIP 1.4 §4.12, KMIP 2.1 §6.1.24).
func (s *Service) getAttributes(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeGetAttributes(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	all := allAttrs(c.v, obj)
	if len(req.Names) == 0 {
		return codec.GetAttributesResponse(c.v.wire(), obj.ID, all), nil
	}
	var picked []domain.Attribute
	for _, name := range req.Names {
		for _, a := range all {
			if a.Name == name {
				picked = append(picked, a)
			}
		}
	}
	return codec.GetAttributesResponse(c.v.wire(), obj.ID, picked), nil
}

// getAttributeList implements Get Attribute List (KMIP 1.4 §4.13).
func (s *Service) getAttributeList(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	return codec.GetAttributeListResponse(c.v.wire(), obj.ID, allAttrs(c.v, obj)), nil
}

// attrNotFound answers a request naming an attribute the object does not
// have at all: Attribute Not Found in KMIP 2.x (2.1 §11.2 table of Result
// Reasons); in KMIP 1.x, Invalid Field for Modify Attribute (1.4 §11.16, "it
// needs to first be added") and Item Not Found otherwise (1.4 §11.17).
func attrNotFound(c *call, name string) error {
	if c.op == kmip.OperationModifyAttribute {
		return kindErr(errKindAttrMissingModify, "attribute %q is not set on the object; add it first", name)
	}
	return kindErr(errKindAttrMissing, "attribute %q not found on the object", name)
}

// instanceNotFound answers a request naming an instance (index or value) of
// an attribute the object has, but not that instance: Attribute Instance Not
// Found in KMIP 2.x, Item Not Found in KMIP 1.x (1.4 §11.16, §11.17).
func instanceNotFound(name string) error {
	return kindErr(errKindInstanceMissing, "no such instance of attribute %q", name)
}

// updateAttr runs an attribute change inside one store transaction, after the
// access check, and sets Last Change Date.
func (s *Service) updateAttr(ctx context.Context, c *call, fn func(obj *domain.Object) error) (*domain.Object, error) {
	id, err := c.uid()
	if err != nil {
		return nil, err
	}
	var result, before *domain.Object
	err = s.cfg.Store.Update(ctx, id, func(obj *domain.Object) error {
		op := c.op
		if op == kmip.OperationAdjustAttribute {
			// Adjust is a Modify Attribute by arithmetic; operation
			// policies (whose reserved tables predate it) rule it as one.
			op = kmip.OperationModifyAttribute
		}
		if err := s.authorize(ctx, c, obj, op); err != nil {
			return err
		}
		before = obj.Clone()
		if err := fn(obj); err != nil {
			return attrChangeErr(err)
		}
		trackServerAttrs(obj)
		obj.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, s.cfg.Clock.Now()))
		if err := s.checkAttrLimits(c, before, obj); err != nil {
			return err
		}
		result = obj.Clone()
		return nil
	})
	if err == nil {
		s.undoUpdate(c, before)
	}
	return result, err
}

// addAttribute implements Add Attribute (KMIP 1.4 §4.14).
func (s *Service) addAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeAddAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	at := req.Attribute
	r, err := ruleFor(c, at.Name)
	if err != nil {
		return nil, err
	}
	if err := checkAttrValue(at); err != nil {
		return nil, err
	}
	if !r.ClientSets {
		return nil, attrReadOnly(at.Name)
	}
	if err := s.checkNameUnique(ctx, c, at); err != nil {
		return nil, err
	}
	idx := 0
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if !r.AppliesToType(obj.Type) {
			return notApplicable(c, at.Name, kmip.ObjectType(obj.Type))
		}
		// The Operation Policy Name lives in obj.Policy, not the attribute list.
		if !r.Multi && (obj.Attr(at.Name) != nil || at.Name == kmip.TagOperationPolicyName.SpecName() && obj.Policy != "") {
			return singleValued(c, at.Name)
		}
		if at.Name == kmip.TagName.SpecName() && hasNameValue(obj, at.Value, -1) {
			return nameTaken()
		}
		idx = obj.AddAttr(at.Name, at.Value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.AttributeChangeResponse(c.v.wire(), obj.ID, domain.Attribute{Name: at.Name, Index: idx, Value: at.Value}), nil
}

// setAttribute implements Set Attribute (KMIP 2.1 §6.1.52): single-valued
// attributes only, replacing any value.
func (s *Service) setAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeSetAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	at := req.Attribute
	r, err := ruleFor(c, at.Name)
	if err != nil {
		return nil, err
	}
	if err := checkAttrValue(at); err != nil {
		return nil, err
	}
	if r.Multi {
		return nil, errorf(kmip.ResultReasonMultiValuedAttribute, "attribute %q is multi-valued", at.Name)
	}
	if !r.ClientSets {
		return nil, attrReadOnly(at.Name)
	}
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if !r.AppliesToType(obj.Type) {
			return notApplicable(c, at.Name, kmip.ObjectType(obj.Type))
		}
		if obj.Attr(at.Name) != nil && !r.ClientModifies {
			return attrReadOnly(at.Name) // set once, then fixed (Fresh, Rotate Automatic, ...)
		}
		if r.PreActiveOnly && obj.State != domain.PreActive {
			return notPreActive(at.Name)
		}
		if usageSpent(obj, at.Name) {
			return usageLimitsFixed()
		}
		obj.SetAttr(at.Name, at.Value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

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
	r, err := ruleFor(c, at.Name)
	if err != nil {
		return r, err
	}
	if err := checkAttrValue(at); err != nil {
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

// deleteAttribute implements Delete Attribute (KMIP 1.4 §4.16, KMIP 2.1 §6.1.14).
func (s *Service) deleteAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	sel, err := codec.DecodeDeleteAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	name := sel.Name
	r, err := ruleFor(c, name)
	if err != nil {
		return nil, err
	}
	if !r.ClientDeletes {
		return nil, attrReadOnly(name)
	}
	var deleted domain.Attribute
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if r.PreActiveOnly && obj.State != domain.PreActive {
			return notPreActive(name)
		}
		if usageSpent(obj, name) {
			return usageLimitsFixed()
		}
		if len(obj.AttrValues(name)) == 0 {
			return attrNotFound(c, name)
		}
		d, err := deleteSelected(obj, sel)
		deleted = d
		return err
	})
	if err != nil {
		return nil, err
	}
	return codec.AttributeChangeResponse(c.v.wire(), obj.ID, deleted), nil
}

// deleteSelected removes the instances sel names from obj and returns the
// one removed (zero when every instance went), or Attribute Instance Not
// Found when no instance matches.
func deleteSelected(obj *domain.Object, sel codec.DeleteAttributeRequest) (domain.Attribute, error) {
	if sel.Value == nil && sel.Index < 0 {
		// A KMIP 2.x Attribute Reference deletes every instance (2.1 §6.1.13).
		obj.DeleteAttr(sel.Name)
		return domain.Attribute{}, nil
	}
	for i, a := range obj.Attributes {
		if a.Name != sel.Name {
			continue
		}
		if (sel.Value != nil && a.Value.Equal(sel.Value)) || (sel.Value == nil && a.Index == sel.Index) {
			obj.Attributes = append(obj.Attributes[:i], obj.Attributes[i+1:]...)
			return a, nil
		}
	}
	return domain.Attribute{}, instanceNotFound(sel.Name)
}
