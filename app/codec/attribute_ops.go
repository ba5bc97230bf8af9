package codec

import (
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// GetAttributesRequest is a Get Attributes (KMIP 1.4 §4.12, KMIP 2.1
// §6.1.24) request's selection: the attribute names, every attribute when
// empty.
type GetAttributesRequest struct{ Names []string }

// DecodeGetAttributes reads a Get Attributes request. KMIP 1.x refuses a
// name given twice (1.4 §11.13: "The same Attribute Name is present more
// than once", Invalid Message).
func DecodeGetAttributes(v Version, payload *kmip.Item) (GetAttributesRequest, error) {
	names, err := References(payload)
	if err != nil || v.v2() {
		return GetAttributesRequest{Names: names}, err
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return GetAttributesRequest{}, fail(Repeated, specName(kmip.TagAttributeName), "attribute %q is requested more than once", n)
		}
		seen[n] = true
	}
	return GetAttributesRequest{Names: names}, nil
}

// AttributeChange is an Add, Set or Modify Attribute request's attribute:
// the KMIP 1.x Attribute or the one attribute of a KMIP 2.x New Attribute.
// Its Value is never nil.
type AttributeChange struct {
	Attribute domain.Attribute
	// Current is a KMIP 2.x Modify Attribute's Current Attribute, naming
	// the instance to change by value: same name, never without a value.
	Current *domain.Attribute
	// ByIndex: a Modify Attribute without Current Attribute names its
	// instance by Attribute Index (KMIP 1.x, index 0 when absent); in KMIP
	// 2.x it changes the only instance (2.1 §6.1.34).
	ByIndex bool
}

// changeTarget reads the single attribute an Add/Modify/Set request names.
func changeTarget(payload *kmip.Item, op string) (domain.Attribute, error) {
	var at domain.Attribute
	var err error
	switch {
	case payload.Child(kmip.TagAttribute) != nil:
		at, err = Attribute1x(payload.Child(kmip.TagAttribute))
		err = in(specName(kmip.TagAttribute), err)
	case payload.Child(kmip.TagNewAttribute) != nil:
		at, err = onlyChild(payload.Child(kmip.TagNewAttribute))
	default:
		return at, fail(Missing, "", "no attribute given")
	}
	if err == nil && at.Value == nil {
		return at, fail(Missing, specName(kmip.TagAttributeValue), "%s needs a value", op)
	}
	return at, err
}

// onlyChild decodes the one attribute a New Attribute or Current Attribute
// wrapper holds.
func onlyChild(box *kmip.Item) (domain.Attribute, error) {
	kids := box.Children()
	if len(kids) != 1 {
		return domain.Attribute{}, fail(Malformed, specName(box.Tag), "must hold exactly one attribute")
	}
	a, err := Attribute2x(kids[0])
	return a, in(specName(box.Tag), err)
}

// DecodeAddAttribute reads an Add Attribute request (KMIP 1.4 §4.14, KMIP
// 2.1 §6.1.2): a value, and no Attribute Index (1.4 §11.15).
func DecodeAddAttribute(payload *kmip.Item) (AttributeChange, error) {
	at, err := changeTarget(payload, "Add Attribute")
	if err != nil {
		return AttributeChange{}, err
	}
	if payload.Path(kmip.TagAttribute, kmip.TagAttributeIndex) != nil {
		return AttributeChange{}, fail(Malformed, "Attribute: Attribute Index", "Add Attribute must not give one")
	}
	return AttributeChange{Attribute: at}, nil
}

// DecodeSetAttribute reads a Set Attribute request (KMIP 2.1 §6.1.52).
func DecodeSetAttribute(payload *kmip.Item) (AttributeChange, error) {
	at, err := changeTarget(payload, "Set Attribute")
	return AttributeChange{Attribute: at}, err
}

// DecodeModifyAttribute reads a Modify Attribute request (KMIP 1.4 §4.15,
// KMIP 2.1 §6.1.34): the new value and, in KMIP 2.x, the Current Attribute
// it may name.
func DecodeModifyAttribute(v Version, payload *kmip.Item) (AttributeChange, error) {
	at, err := changeTarget(payload, "Modify Attribute")
	if err != nil {
		return AttributeChange{}, err
	}
	req := AttributeChange{Attribute: at, ByIndex: !v.v2()}
	cur := payload.Child(kmip.TagCurrentAttribute)
	if cur == nil {
		return req, nil
	}
	ca, err := onlyChild(cur)
	if err != nil {
		return AttributeChange{}, err
	}
	if ca.Name != at.Name || ca.Value == nil {
		return AttributeChange{}, fail(Malformed, specName(kmip.TagCurrentAttribute), "must name the New Attribute's attribute, with a value")
	}
	req.Current = &ca
	return req, nil
}

// DeleteAttributeRequest names the instances a Delete Attribute (KMIP 1.4
// §4.16, KMIP 2.1 §6.1.14) removes: one by index (KMIP 1.x), one by value
// (KMIP 2.x Current Attribute), or, with neither, every instance (KMIP 2.x
// Attribute Reference).
type DeleteAttributeRequest struct {
	Name  string
	Index int        // -1: not selected by index
	Value *kmip.Item // nil: not selected by value
}

// DecodeDeleteAttribute reads a Delete Attribute request from the KMIP 1.x
// Attribute Name and Index, the KMIP 2.x Current Attribute, or one KMIP 2.x
// Attribute Reference.
func DecodeDeleteAttribute(payload *kmip.Item) (DeleteAttributeRequest, error) {
	switch {
	case payload.Child(kmip.TagAttributeName) != nil: // 1.x
		name, ok := payload.Child(kmip.TagAttributeName).AsText()
		if !ok {
			return DeleteAttributeRequest{}, fail(Malformed, specName(kmip.TagAttributeName), "must be a Text String")
		}
		req := DeleteAttributeRequest{Name: standardName(name)}
		if it := payload.Child(kmip.TagAttributeIndex); it != nil {
			n, ok := it.AsInt()
			if !ok || n < 0 {
				return DeleteAttributeRequest{}, fail(Malformed, specName(kmip.TagAttributeIndex), "must be a non-negative Integer")
			}
			req.Index = int(n)
		}
		return req, nil
	case payload.Child(kmip.TagCurrentAttribute) != nil:
		a, err := onlyChild(payload.Child(kmip.TagCurrentAttribute))
		if err != nil {
			return DeleteAttributeRequest{}, err
		}
		return DeleteAttributeRequest{Name: a.Name, Index: -1, Value: a.Value}, nil
	}
	names, err := References(payload)
	if err != nil {
		return DeleteAttributeRequest{}, err
	}
	if len(names) != 1 {
		return DeleteAttributeRequest{}, fail(Missing, specName(kmip.TagAttributeReference), "Delete Attribute needs one attribute")
	}
	return DeleteAttributeRequest{Name: names[0], Index: -1}, nil
}

// AdjustAttributeRequest is an Adjust Attribute (KMIP 2.1 §6.1.3) request:
// the attribute, how to adjust it, and the step (nil: the default).
type AdjustAttributeRequest struct {
	Name       string
	Adjustment kmip.AdjustmentType
	Step       *kmip.Item
}

// DecodeAdjustAttribute reads an Adjust Attribute request: one Attribute
// Reference and an Increment, Decrement or Negate Adjustment Type.
func DecodeAdjustAttribute(payload *kmip.Item) (AdjustAttributeRequest, error) {
	names, err := References(payload)
	if err != nil {
		return AdjustAttributeRequest{}, err
	}
	if len(names) != 1 {
		return AdjustAttributeRequest{}, fail(Missing, specName(kmip.TagAttributeReference), "Adjust Attribute needs exactly one")
	}
	kind, ok := payload.Child(kmip.TagAdjustmentType).AsEnum()
	if !ok {
		return AdjustAttributeRequest{}, fail(Missing, specName(kmip.TagAdjustmentType), "Adjust Attribute needs one")
	}
	adj := kmip.AdjustmentType(kind)
	if adj != kmip.AdjustmentTypeIncrement && adj != kmip.AdjustmentTypeDecrement && adj != kmip.AdjustmentTypeNegate {
		return AdjustAttributeRequest{}, fail(Malformed, specName(kmip.TagAdjustmentType), "unsupported Adjustment Type %d", kind)
	}
	return AdjustAttributeRequest{Name: names[0], Adjustment: adj, Step: payload.Child(kmip.TagAdjustmentValue)}, nil
}
