package app

import (
	"context"
	"math"
	"math/big"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// adjustAttribute implements Adjust Attribute (KMIP 2.1 §6.1.3): Increment,
// Decrement or Negate the single value of a numeric, interval, date or
// Boolean attribute. An absent attribute counts as 0 (or false).
func (s *Service) adjustAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeAdjustAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	name := req.Name
	r, err := ruleFor(c, name)
	if err != nil {
		return nil, err
	}
	if !r.ClientModifies {
		return nil, errorf(kmip.ResultReasonReadOnlyAttribute, "attribute %q cannot be changed by the client", name)
	}
	if r.Multi {
		return nil, errorf(kmip.ResultReasonMultiValuedAttribute, "attribute %q is multi-valued", name)
	}
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if !r.AppliesToType(obj.Type) {
			return notApplicable(c, name, kmip.ObjectType(obj.Type))
		}
		if r.PreActiveOnly && obj.State != domain.PreActive {
			return domain.ErrWrongState
		}
		cur := obj.Attr(name)
		if cur == nil {
			if cur = zeroValue(name); cur == nil {
				return errorf(kmip.ResultReasonItemNotFound, "attribute %q has no value to adjust", name)
			}
		}
		next, err := adjusted(cur, req.Adjustment, req.Step)
		if err != nil {
			return err
		}
		obj.SetAttr(name, next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// zeroValue is the value an absent standard attribute is assumed to have:
// 0 for numbers and intervals, false for Booleans, nil otherwise.
func zeroValue(name string) *kmip.Item {
	tag, ok := kmip.TagBySpecName(name)
	if !ok || isCustom1xName(name) {
		return nil
	}
	def, _ := kmip.LookupTag(tag)
	switch def.Type {
	case kmip.TypeInteger:
		return kmip.Int(tag, 0)
	case kmip.TypeLongInteger:
		return kmip.Long(tag, 0)
	case kmip.TypeBigInteger:
		return kmip.Big(tag, new(big.Int))
	case kmip.TypeInterval:
		return kmip.Interval(tag, 0)
	case kmip.TypeBoolean:
		return kmip.Bool(tag, false)
	}
	return nil
}

// adjusted applies one adjustment to cur (KMIP 2.1 Table 428): the step
// defaults to 1 (one second for dates); overflow is Numeric Range, a type
// the adjustment does not apply to is Invalid Data Type.
func adjusted(cur *kmip.Item, adj kmip.AdjustmentType, step *kmip.Item) (*kmip.Item, error) {
	badType := errorf(kmip.ResultReasonInvalidDataType, "%s cannot be adjusted that way", cur.Type)
	if b, ok := cur.AsBool(); ok {
		if adj != kmip.AdjustmentTypeNegate {
			return nil, badType
		}
		return kmip.Bool(cur.Tag, !b), nil
	}
	n, ok := adjustableNumber(cur)
	if !ok {
		return nil, badType
	}
	d := big.NewInt(1)
	if step != nil {
		if d, ok = stepValue(step); !ok {
			return nil, errorf(kmip.ResultReasonInvalidDataType, "Adjustment Value must be a number or an interval")
		}
	}
	switch adj {
	case kmip.AdjustmentTypeIncrement:
		n.Add(n, d)
	case kmip.AdjustmentTypeDecrement:
		n.Sub(n, d)
	case kmip.AdjustmentTypeNegate:
		if cur.Type == kmip.TypeInterval || cur.Type == kmip.TypeDateTime {
			return nil, badType
		}
		n.Neg(n)
	}
	return adjustedItem(cur, n)
}

// adjustableNumber reads a numeric or date value as an integer (a date as
// Unix seconds), false for a type no adjustment applies to.
func adjustableNumber(cur *kmip.Item) (*big.Int, bool) {
	n := new(big.Int)
	switch v := cur.Value.(type) {
	case int32:
		n.SetInt64(int64(v))
	case int64:
		n.SetInt64(v)
	case uint32:
		if cur.Type != kmip.TypeInterval {
			return nil, false
		}
		n.SetUint64(uint64(v))
	case *big.Int:
		n.Set(v)
	case time.Time:
		n.SetInt64(v.Unix())
	default:
		return nil, false
	}
	return n, true
}

// adjustedItem encodes n in cur's tag and type, Numeric Range when it does
// not fit that type.
func adjustedItem(cur *kmip.Item, n *big.Int) (*kmip.Item, error) {
	outOfRange := errorf(kmip.ResultReasonNumericRange, "the adjusted value does not fit the attribute")
	fits := func(lo, hi int64) bool { return n.IsInt64() && n.Int64() >= lo && n.Int64() <= hi }
	switch cur.Type {
	case kmip.TypeInteger:
		if !fits(math.MinInt32, math.MaxInt32) {
			return nil, outOfRange
		}
		return kmip.Int(cur.Tag, int32(n.Int64())), nil
	case kmip.TypeLongInteger:
		if !n.IsInt64() {
			return nil, outOfRange
		}
		return kmip.Long(cur.Tag, n.Int64()), nil
	case kmip.TypeInterval:
		if !fits(0, math.MaxUint32) {
			return nil, outOfRange
		}
		return kmip.Interval(cur.Tag, uint32(n.Int64())), nil
	case kmip.TypeDateTime:
		if !fits(0, 253402300799) { // up to 9999-12-31T23:59:59Z
			return nil, outOfRange
		}
		return kmip.DateTime(cur.Tag, time.Unix(n.Int64(), 0).UTC()), nil
	}
	return kmip.Big(cur.Tag, n), nil
}

// stepValue reads an Adjustment Value of any integer type or an Interval.
func stepValue(it *kmip.Item) (*big.Int, bool) {
	switch v := it.Value.(type) {
	case int32:
		return big.NewInt(int64(v)), true
	case int64:
		return big.NewInt(v), true
	case uint32:
		if it.Type == kmip.TypeInterval {
			return new(big.Int).SetUint64(uint64(v)), true
		}
	case *big.Int:
		return new(big.Int).Set(v), true
	}
	return nil, false
}
