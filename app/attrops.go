package app

import (
	"context"
	"strings"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getAttributes implements Get Attributes (KMIP 1.4 §4.12, KMIP 2.1 §6.1.24).
func (s *Service) getAttributes(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	want, err := requestedNames(c)
	if err != nil {
		return nil, err
	}
	if c.v.major < 2 {
		seen := map[string]bool{}
		for _, n := range want {
			if seen[n] {
				// KMIP 1.4 §11.13: "The same Attribute Name is present more than once".
				return nil, errorf(kmip.ResultReasonInvalidMessage, "attribute %q is requested more than once", n)
			}
			seen[n] = true
		}
	}
	all := allAttrs(c.v, obj)
	var picked []domain.Attribute
	if len(want) == 0 {
		picked = all
	} else {
		for _, name := range want {
			for _, a := range all {
				if a.Name == name {
					picked = append(picked, a)
				}
			}
		}
	}
	out := kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, obj.ID))
	if c.v.major >= 2 {
		box := kmip.Struct(kmip.TagAttributes)
		for _, a := range picked {
			box.Add(attrOut(c.v, a))
		}
		return out.Add(box), nil
	}
	for _, a := range picked {
		if r, _ := domain.AttrRuleFor(a.Name); r.Multi {
			out.Add(attrOutIndexed(c.v, a))
			continue
		}
		out.Add(attrOut(c.v, a))
	}
	return out, nil
}

// requestedNames reads the attribute names a request selects: KMIP 1.x
// Attribute Name texts, or KMIP 2.x Attribute Reference (a tag enumeration,
// or a Vendor Identification + Attribute Name structure).
func requestedNames(c *call) ([]string, error) {
	var names []string
	for _, ch := range c.payload.Children() {
		switch ch.Tag {
		case kmip.TagAttributeName:
			n, ok := ch.AsText()
			if !ok {
				return nil, invalidField("Attribute Name must be a Text String")
			}
			if t, ok := kmip.TagBySpecName(n); ok && !isCustom1xName(n) {
				n = t.SpecName()
			}
			names = append(names, n)
		case kmip.TagAttributeReference:
			if v, ok := ch.AsEnum(); ok {
				names = append(names, kmip.Tag(v).SpecName())
				continue
			}
			vid, _ := ch.Child(kmip.TagVendorIdentification).AsText()
			an, _ := ch.Child(kmip.TagAttributeName).AsText()
			if an == "" {
				return nil, invalidField("invalid Attribute Reference")
			}
			if vid == "" {
				names = append(names, an)
			} else {
				names = append(names, vid+"-"+an)
			}
		}
	}
	return names, nil
}

// getAttributeList implements Get Attribute List (KMIP 1.4 §4.13).
func (s *Service) getAttributeList(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	out := kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, obj.ID))
	seen := map[string]bool{}
	for _, a := range allAttrs(c.v, obj) {
		if seen[a.Name] {
			continue
		}
		seen[a.Name] = true
		switch {
		case c.v.major < 2:
			out.Add(kmip.Text(kmip.TagAttributeName, a.Name))
		case a.Value != nil && a.Value.Tag != kmip.TagAttributeValue:
			out.Add(kmip.Enum(kmip.TagAttributeReference, uint32(a.Value.Tag)))
		default:
			vid, an, ok := strings.Cut(a.Name, "-")
			if !ok {
				vid, an = "", a.Name
			}
			out.Add(kmip.Struct(kmip.TagAttributeReference,
				kmip.Text(kmip.TagVendorIdentification, vid), kmip.Text(kmip.TagAttributeName, an)))
		}
	}
	return out, nil
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

// changeTarget reads the single attribute an Add/Modify/Set/Delete request
// names: KMIP 1.x Attribute, or KMIP 2.x New Attribute / Current Attribute.
func changeTarget(c *call, tag2x kmip.Tag) (domain.Attribute, bool, error) {
	if a := c.payload.Child(kmip.TagAttribute); a != nil {
		at, err := attrFrom1x(a)
		return at, at.Value != nil, err
	}
	if box := c.payload.Child(tag2x); box != nil {
		kids := box.Children()
		if len(kids) != 1 {
			return domain.Attribute{}, false, invalidField("%s must hold exactly one attribute", tag2x)
		}
		at, err := attrFrom2x(kids[0])
		return at, at.Value != nil, err
	}
	return domain.Attribute{}, false, missingData("no attribute given")
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
	at, hasVal, err := changeTarget(c, kmip.TagNewAttribute)
	if err != nil {
		return nil, err
	}
	if !hasVal {
		return nil, missingData("Add Attribute needs a value")
	}
	if c.payload.Path(kmip.TagAttribute, kmip.TagAttributeIndex) != nil {
		return nil, invalidField("Add Attribute must not give an Attribute Index") // 1.4 §4.14, §11.15
	}
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
	return attrResult(c, obj.ID, domain.Attribute{Name: at.Name, Index: idx, Value: at.Value}), nil
}

// attrResult is the response payload of the attribute operations: the 1.x
// forms echo the attribute, the 2.x forms only the identifier. The 1.x echo
// always carries the Attribute Index, 0 included: the spec lets a server
// omit index 0, but PyKMIP's client reads the index of the changed instance.
func attrResult(c *call, id string, a domain.Attribute) *kmip.Item {
	out := kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, id))
	if c.v.major < 2 && a.Name != "" {
		out.Add(attrOutIndexed(c.v, a))
	}
	return out
}

// attrOutIndexed is attrOut with the 1.x Attribute Index always present, 0
// included, right after the Attribute Name. KMIP 1.4 §2.1.1 lets a server
// omit index 0; the reference server names it for every instance of a
// multi-instance attribute, and PyKMIP's clients and tests read it.
func attrOutIndexed(v version, a domain.Attribute) *kmip.Item {
	at := attrOut(v, a)
	if v.major >= 2 || at.Child(kmip.TagAttributeIndex) != nil {
		return at
	}
	kids := at.Children()
	withIdx := append([]*kmip.Item{kids[0], kmip.Int(kmip.TagAttributeIndex, int32(a.Index))}, kids[1:]...)
	return kmip.Struct(kmip.TagAttribute, withIdx...)
}

// setAttribute implements Set Attribute (KMIP 2.1 §6.1.52): single-valued
// attributes only, replacing any value.
func (s *Service) setAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	at, hasVal, err := changeTarget(c, kmip.TagNewAttribute)
	if err != nil {
		return nil, err
	}
	if !hasVal {
		return nil, missingData("Set Attribute needs a value")
	}
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
	return attrResult(c, obj.ID, domain.Attribute{}), nil
}

// modifyAttribute implements Modify Attribute (KMIP 1.4 §4.15, KMIP 2.1 §6.1.34).
func (s *Service) modifyAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	at, current, err := modifyRequest(c)
	if err != nil {
		return nil, err
	}
	r, err := s.modifiableRule(ctx, c, at)
	if err != nil {
		return nil, err
	}
	var result domain.Attribute
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if err := checkModifyOn(c, r, obj, at.Name); err != nil {
			return err
		}
		a, err := instanceToModify(c, obj, at, current)
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
	return attrResult(c, obj.ID, result), nil
}

// modifyRequest decodes a Modify Attribute request: the new value it must
// carry and, in KMIP 2.x, the Current Attribute it may name, which is
// guaranteed to name the same attribute and hold a value.
func modifyRequest(c *call) (at domain.Attribute, current *domain.Attribute, err error) {
	at, hasVal, err := changeTarget(c, kmip.TagNewAttribute)
	if err != nil {
		return at, nil, err
	}
	if !hasVal {
		return at, nil, missingData("Modify Attribute needs a new value")
	}
	cur := c.payload.Child(kmip.TagCurrentAttribute)
	if cur == nil {
		return at, nil, nil
	}
	if len(cur.Children()) != 1 {
		return at, nil, invalidField("Current Attribute must hold exactly one attribute")
	}
	ca, err := attrFrom2x(cur.Children()[0])
	if err != nil {
		return at, nil, err
	}
	if ca.Name != at.Name || ca.Value == nil {
		return at, nil, invalidField("Current Attribute and New Attribute must name the same attribute")
	}
	return at, &ca, nil
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

// instanceToModify finds the one instance of at.Name a Modify Attribute
// changes (by Current Attribute value, by index in KMIP 1.x, or the only
// instance in KMIP 2.x) and returns a pointer into obj.Attributes.
func instanceToModify(c *call, obj *domain.Object, at domain.Attribute, current *domain.Attribute) (*domain.Attribute, error) {
	n := len(obj.AttrValues(at.Name))
	if n == 0 {
		return nil, attrNotFound(c, at.Name)
	}
	if c.v.major >= 2 && current == nil && n > 1 {
		// KMIP 2.1 §6.1.34: which instance is meant cannot be determined.
		return nil, instanceNotFound(at.Name)
	}
	for i := range obj.Attributes {
		a := &obj.Attributes[i]
		if a.Name != at.Name {
			continue
		}
		match := a.Index == at.Index
		if current != nil {
			match = a.Value.Equal(current.Value)
		} else if c.v.major >= 2 {
			match = true // the only instance
		}
		if match {
			return a, nil
		}
	}
	return nil, instanceNotFound(at.Name)
}

// attrSelector names the instances a Delete Attribute removes: one by index
// (KMIP 1.x), one by value (KMIP 2.x Current Attribute), or, with neither,
// every instance (KMIP 2.x Attribute Reference).
type attrSelector struct {
	name  string
	index int        // -1: not selected by index
	value *kmip.Item // nil: not selected by value
}

// deleteAttribute implements Delete Attribute (KMIP 1.4 §4.16, KMIP 2.1 §6.1.14).
func (s *Service) deleteAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	sel, err := deleteRequest(c)
	if err != nil {
		return nil, err
	}
	name := sel.name
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
	return attrResult(c, obj.ID, deleted), nil
}

// deleteRequest decodes which instances a Delete Attribute names, from the
// KMIP 1.x Attribute Name and Index, the KMIP 2.x Current Attribute, or one
// KMIP 2.x Attribute Reference.
func deleteRequest(c *call) (attrSelector, error) {
	switch {
	case c.payload.Child(kmip.TagAttributeName) != nil: // 1.x
		name, ok := c.payload.Child(kmip.TagAttributeName).AsText()
		if !ok {
			return attrSelector{}, invalidField("Attribute Name must be a Text String")
		}
		if t, ok := kmip.TagBySpecName(name); ok && !isCustom1xName(name) {
			name = t.SpecName()
		}
		sel := attrSelector{name: name}
		if it := c.payload.Child(kmip.TagAttributeIndex); it != nil {
			n, ok := it.AsInt()
			if !ok || n < 0 {
				return attrSelector{}, invalidField("invalid Attribute Index")
			}
			sel.index = int(n)
		}
		return sel, nil
	case c.payload.Child(kmip.TagCurrentAttribute) != nil:
		kids := c.payload.Child(kmip.TagCurrentAttribute).Children()
		if len(kids) != 1 {
			return attrSelector{}, invalidField("Current Attribute must hold exactly one attribute")
		}
		a, err := attrFrom2x(kids[0])
		if err != nil {
			return attrSelector{}, err
		}
		return attrSelector{name: a.Name, index: -1, value: a.Value}, nil
	default:
		names, err := requestedNames(c)
		if err != nil {
			return attrSelector{}, err
		}
		if len(names) != 1 {
			return attrSelector{}, missingData("Delete Attribute needs one attribute")
		}
		return attrSelector{name: names[0], index: -1}, nil
	}
}

// deleteSelected removes the instances sel names from obj and returns the
// one removed (zero when every instance went), or Attribute Instance Not
// Found when no instance matches.
func deleteSelected(obj *domain.Object, sel attrSelector) (domain.Attribute, error) {
	if sel.value == nil && sel.index < 0 {
		// A KMIP 2.x Attribute Reference deletes every instance (2.1 §6.1.13).
		obj.DeleteAttr(sel.name)
		return domain.Attribute{}, nil
	}
	for i, a := range obj.Attributes {
		if a.Name != sel.name {
			continue
		}
		if (sel.value != nil && a.Value.Equal(sel.value)) || (sel.value == nil && a.Index == sel.index) {
			obj.Attributes = append(obj.Attributes[:i], obj.Attributes[i+1:]...)
			return a, nil
		}
	}
	return domain.Attribute{}, instanceNotFound(sel.name)
}
