package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// ruleFor returns the rules of a client-named attribute, or the error for a
// name the client's protocol version does not define: a standard attribute
// of another version, or in KMIP 1.x a non-standard name that is not a
// custom "x-"/"y-" one (KMIP 1.4 §3.39). KMIP 1.x answers Invalid Field
// (1.4 §11.2 "incorrect attribute value(s)"), KMIP 2.x Invalid Attribute
// (2.1 §11.2 "an attribute is invalid for this object for this operation").
func ruleFor(c *call, name string) (domain.AttrRule, error) {
	r, ok := domain.AttrRuleFor(name)
	switch {
	case !ok, !r.VisibleIn(c.v.major, c.v.minor), domain.IsVendorOrCustomAttr(name) && !codec.CustomNameIn(c.v.wire(), name):
		return r, kindErr(errKindUnknownAttr, "attribute %q is not supported", name)
	}
	return r, nil
}

// valueRule returns the rule of the attribute a client's Add, Set or Modify
// Attribute names, after checking the version knows it (ruleFor) and the
// value is well formed (checkAttrValue).
func valueRule(c *call, at domain.Attribute) (domain.AttrRule, error) {
	r, err := ruleFor(c, at.Name)
	if err != nil {
		return r, err
	}
	return r, checkAttrValue(at)
}

// attrReadOnly answers a forbidden attribute change: KMIP 2.x has Attribute
// Read Only (OASIS BL-M-10-21); KMIP 1.x answers Permission Denied (1.4
// §11.15-11.17 "read-only attribute").
func attrReadOnly(name string) error {
	return kindErr(errKindReadOnly, "attribute %q cannot be changed by the client", name)
}

// readOnlyOnCreate answers a Create or Register that supplies an attribute
// only the server sets: Invalid Field in KMIP 1.x (1.4 §11.2, §11.4),
// Attribute Read Only in KMIP 2.x (2.1 §6.1.8.1, §6.1.43.1).
func readOnlyOnCreate(name string) error {
	return kindErr(errKindServerSetAttr, "attribute %q cannot be set by the client", name)
}

// singleValued answers a second value for a single-valued attribute:
// Attribute Single Valued in KMIP 2.x; in KMIP 1.x Illegal Operation for Add
// Attribute (1.4 §11.15 "the specified attribute already exists") and
// Invalid Field in a Create or Register template.
func singleValued(c *call, name string) error {
	if c.op == kmip.OperationAddAttribute {
		return kindErr(errKindValueExists, "attribute %q is single-valued and already has a value", name)
	}
	return kindErr(errKindRepeatedValue, "attribute %q is single-valued but given more than once", name)
}

// notApplicable answers an attribute the object's type cannot carry
// ("Applies to Object Types"): Permission Denied for a KMIP 1.x Add
// Attribute (1.4 §11.15 "an attribute that is not supported for this
// object"), Invalid Field in a 1.x Create or Register, Invalid Attribute in
// KMIP 2.x.
func notApplicable(c *call, name string, t kmip.ObjectType) error {
	kind := errKindAttrNotForType
	if c.op == kmip.OperationAddAttribute || c.op == kmip.OperationModifyAttribute {
		kind = errKindAttrNotForTypeChange
	}
	return kindErr(kind, "attribute %q does not apply to %s objects", name, t)
}

// notPreActive refuses a change to an attribute that may change only while
// the object is Pre-Active (domain.AttrRule.PreActiveOnly): a wrong state.
func notPreActive(name string) error {
	return fmt.Errorf("attribute %q may change only while Pre-Active: %w", name, domain.ErrWrongState)
}

// nameTaken answers a Name value another object, or another instance on the
// same object, already has (KMIP 1.4 §11.15-11.16: Illegal Operation; KMIP
// 2.1 §11.2: Non Unique Name Attribute, OASIS BL-M-8-21).
func nameTaken() error {
	return kindErr(errKindNameTaken, "the name is already in use")
}

// checkNameUnique refuses to give the request's object a Name value that any other
// object already carries. Names are compared by Name Value alone (the Name
// Type only says how to read it), as Template references look them up. It
// runs before the update transaction (a store lookup inside it could wait
// on the transaction itself); the check inside the transaction covers the
// object's own names.
func (s *Service) checkNameUnique(ctx context.Context, c *call, a domain.Attribute) error {
	id, err := c.uid()
	if a.Name != kmip.TagName.SpecName() || a.Value == nil || err != nil {
		return nil // a bad identifier is answered by the update itself
	}
	nv, ok := domain.NameValue(a.Value)
	if !ok {
		return nil
	}
	return s.nameFree(ctx, c, nv, id)
}

// nameFree refuses a Name Value that an object other than those listed in
// owners already carries. Besides the Name Value term it looks for the whole
// Name under each standard Name Type, which objects stored before Name
// Values were indexed carry.
func (s *Service) nameFree(ctx context.Context, c *call, nv string, owners ...string) error {
	// Held until the item's write has committed: no other request checks
	// or takes the name in between, on any node.
	if err := s.lockNames(ctx, c, nv); err != nil {
		return err
	}
	terms := []domain.IndexTerm{{Name: domain.IndexNameValue, Key: domain.NameValueKey(nv)}}
	for _, typ := range []kmip.NameType{kmip.NameTypeUninterpretedTextString, kmip.NameTypeURI} {
		terms = append(terms, domain.IndexTerm{Name: kmip.TagName.SpecName(), Key: domain.IndexKey(kmip.Struct(kmip.TagName,
			kmip.Text(kmip.TagNameValue, nv), kmip.Enum(kmip.TagNameType, uint32(typ))))})
	}
	ids, err := s.cfg.Store.Locate(ctx, ports.LocateQuery{Any: [][]domain.IndexTerm{terms}, Limit: len(owners) + 1})
	if err != nil {
		return err
	}
	for _, other := range ids {
		if !slices.Contains(owners, other) {
			return nameTaken()
		}
	}
	return nil
}

// checkNewNames refuses a new object whose Names are not its own: two of
// its Names with one Name Value, or a Name Value another stored object
// carries. replaces lists the objects whose Names the new one takes over
// (Re-key, Re-key Key Pair), which are dropped from them right after.
func (s *Service) checkNewNames(ctx context.Context, c *call, obj *domain.Object, replaces ...string) error {
	if s.cfg.StrictNames || obj.Type == uint32(kmip.ObjectTypeTemplate) {
		// All at once, in order (lockNames), before any is checked.
		var all []string
		for _, n := range obj.AttrValuesOf(kmip.TagName) {
			if nv, ok := domain.NameValue(n); ok {
				all = append(all, nv)
			}
		}
		if err := s.lockNames(ctx, c, all...); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, n := range obj.AttrValuesOf(kmip.TagName) {
		nv, ok := domain.NameValue(n)
		if !ok {
			continue
		}
		if seen[nv] {
			return nameTaken()
		}
		seen[nv] = true
		if !s.cfg.StrictNames && obj.Type == uint32(kmip.ObjectTypeTemplate) {
			// Only another Template could make a Template name ambiguous.
			if err := s.templateNameFree(ctx, c, nv, obj.ID); err != nil {
				return err
			}
			continue
		}
		if !s.cfg.StrictNames {
			continue
		}
		if err := s.nameFree(ctx, c, nv, append([]string{obj.ID}, replaces...)...); err != nil {
			return err
		}
	}
	return nil
}

// templateNameFree refuses a Template Name Value that another Template
// already carries, whoever owns it (requests refer to Templates by name).
func (s *Service) templateNameFree(ctx context.Context, c *call, nv, self string) error {
	err := s.nameFree(ctx, c, nv, self)
	if err == nil {
		return nil
	}
	ids, lerr := s.cfg.Store.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: domain.IndexNameValue, Key: domain.NameValueKey(nv)}}})
	if lerr != nil {
		return lerr
	}
	for _, id := range ids {
		if id == self {
			continue
		}
		o, gerr := s.cfg.Store.Get(ctx, id)
		if gerr == nil && o.Type == uint32(kmip.ObjectTypeTemplate) {
			return err
		}
	}
	return nil
}

// hasNameValue reports whether one of the object's Names other than its
// Name instance skip (-1: none skipped) has the Name Value of name.
func hasNameValue(obj *domain.Object, name *kmip.Item, skip int) bool {
	nv, ok := domain.NameValue(name)
	if !ok {
		return false
	}
	for _, a := range obj.Attributes {
		if a.Name != kmip.TagName.SpecName() || a.Index == skip {
			continue
		}
		if v, ok := domain.NameValue(a.Value); ok && v == nv {
			return true
		}
	}
	return false
}

// checkAttrValue applies the rules of individual attribute values that the
// item types do not express, and completes in place the fields the server
// sets. Application Specific Information without its Application Data asks
// the server to generate it for the namespace; kmipd knows no namespace it
// could generate data for (KMIP 1.4 §3.36, §11.15 "Application Namespace Not
// Supported"). Usage Limits needs its Total and Unit; its Count is the
// server's (domain.UsageLimitsAsSet).
func checkAttrValue(a domain.Attribute) error {
	if a.Name == kmip.TagApplicationSpecificInformation.SpecName() && a.Value != nil && a.Value.Child(kmip.TagApplicationData) == nil {
		ns, _ := a.Value.Child(kmip.TagApplicationNamespace).AsText()
		return errorf(kmip.ResultReasonApplicationNamespaceNotSupported, "cannot generate Application Data for namespace %q", ns)
	}
	if a.Name == kmip.TagUsageLimits.SpecName() && a.Value != nil {
		if total, ok := a.Value.Child(kmip.TagUsageLimitsTotal).AsLong(); !ok || total < 0 {
			return invalidField("Usage Limits needs a Usage Limits Total (a non-negative Long Integer)")
		}
		if _, err := definedEnum(a.Value, kmip.TagUsageLimitsUnit, kmip.TagUsageLimits.SpecName()); err != nil {
			return err
		}
		set, _ := domain.UsageLimitsAsSet(a.Value)
		a.Value.Value = set.Children()
	}
	return nil
}

// usageSpent reports whether name is Usage Limits and Get Usage Allocation
// has already taken units from it: from then on the client may neither
// modify nor delete it (KMIP 1.4 §3.21 Table 102, KMIP 2.1 §4.62).
func usageSpent(obj *domain.Object, name string) bool {
	ul := obj.AttrOf(kmip.TagUsageLimits)
	if name != kmip.TagUsageLimits.SpecName() || ul == nil {
		return false
	}
	total, _ := ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	count, ok := ul.Child(kmip.TagUsageLimitsCount).AsLong()
	return ok && count != total
}

// usageLimitsFixed refuses a change to Usage Limits once units are spent,
// with the read-only reason of the version (attrReadOnly).
func usageLimitsFixed() error {
	return kindErr(errKindReadOnly, "Usage Limits cannot change once Get Usage Allocation has taken units from it")
}
