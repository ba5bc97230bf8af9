package app

import (
	"context"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

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
