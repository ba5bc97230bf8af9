package app

import (
	"slices"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// usageLimitsValue is a client's Usage Limits structure.
func usageLimitsValue(fields ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagUsageLimits, fields...)
}

// wantUsageLimits checks a Usage Limits value has exactly Total, Count and
// Unit, in that order (KMIP 1.4 Table 101; 1.0-1.2 define the same three
// required fields), with the given values.
func wantUsageLimits(t *testing.T, what string, ul *kmip.Item, total, count int64, unit kmip.UsageLimitsUnit) {
	t.Helper()
	if ul == nil {
		t.Errorf("%s: no Usage Limits", what)
		return
	}
	var tags []kmip.Tag
	for _, ch := range ul.Children() {
		tags = append(tags, ch.Tag)
	}
	if !slices.Equal(tags, []kmip.Tag{kmip.TagUsageLimitsTotal, kmip.TagUsageLimitsCount, kmip.TagUsageLimitsUnit}) {
		t.Errorf("%s: Usage Limits fields %v, want Total, Count, Unit", what, tags)
	}
	gt, _ := ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	gc, _ := ul.Child(kmip.TagUsageLimitsCount).AsLong()
	gu, _ := ul.Child(kmip.TagUsageLimitsUnit).AsEnum()
	if gt != total || gc != count || kmip.UsageLimitsUnit(gu) != unit {
		t.Errorf("%s: Usage Limits %d/%d/%s, want %d/%d/%s", what, gt, gc, kmip.UsageLimitsUnit(gu), total, count, unit)
	}
}

// usageLimitsOf reads the object's Usage Limits through Get Attributes.
func usageLimitsOf(t *testing.T, s *Service, v version, id string) *kmip.Item {
	t.Helper()
	p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
	if v.major >= 2 {
		return p.Path(kmip.TagAttributes, kmip.TagUsageLimits)
	}
	for _, a := range p.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Usage Limits" {
			return a.Child(kmip.TagAttributeValue)
		}
	}
	return nil
}

// TestUsageLimitsFieldsEveryVersion: Usage Limits always has its Total,
// Count and Unit (KMIP 1.0-1.4 §3.21, 2.x §4.62): when a client sets it
// (Create, Add Attribute) the server sets the Count to the Total, ignoring a
// Count the client gave, and every answer (the 1.x Add Attribute echo, Get
// Attributes, after Get Usage Allocation) carries the three fields in order.
func TestUsageLimitsFieldsEveryVersion(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		s := newCryptoService()
		what := v.String()
		enc := mask(kmip.CryptographicUsageMaskEncrypt)
		created := aesKey(t, s, v, enc, usageLimitsValue(kmip.Long(kmip.TagUsageLimitsTotal, 50),
			kmip.Long(kmip.TagUsageLimitsCount, 7), kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject))))
		wantUsageLimits(t, what+" created", usageLimitsOf(t, s, v, created), 50, 50, kmip.UsageLimitsUnitObject)

		id := aesKey(t, s, v, enc, activeNow())
		ul := usageLimitsValue(kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)), kmip.Long(kmip.TagUsageLimitsTotal, 100))
		var add *kmip.Item
		if v.major >= 2 {
			add = batchItem(kmip.OperationAddAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, ul))
		} else {
			add = batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Usage Limits", ul))
		}
		p := mustOK(t, sendOne(t, s, alice, v, add))
		if v.major < 2 {
			wantUsageLimits(t, what+" Add Attribute echo", p.Path(kmip.TagAttribute, kmip.TagAttributeValue), 100, 100, kmip.UsageLimitsUnitByte)
		}
		wantUsageLimits(t, what+" added", usageLimitsOf(t, s, v, id), 100, 100, kmip.UsageLimitsUnitByte)
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetUsageAllocation, uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, 10))))
		wantUsageLimits(t, what+" after allocation", usageLimitsOf(t, s, v, id), 100, 90, kmip.UsageLimitsUnitByte)

		// Once units are spent, the client can no longer change Usage Limits.
		readOnly := kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			readOnly = kmip.ResultReasonAttributeReadOnly
		}
		if v.major >= 2 {
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationModifyAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, ul.Clone()))), readOnly)
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeleteAttribute, uidItem(id),
				kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagUsageLimits)))), readOnly)
		} else {
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationModifyAttribute, uidItem(id), attribute1x("Usage Limits", ul.Clone()))), readOnly)
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Usage Limits"))), readOnly)
		}
		// Before that, Modify corrects the Total and resets the Count.
		if v.major < 2 {
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationModifyAttribute, uidItem(created), attribute1x("Usage Limits",
				usageLimitsValue(kmip.Long(kmip.TagUsageLimitsTotal, 60), kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject)))))))
			wantUsageLimits(t, what+" modified", usageLimitsOf(t, s, v, created), 60, 60, kmip.UsageLimitsUnitObject)
		}

		// Total and Unit are required.
		noUnit := usageLimitsValue(kmip.Long(kmip.TagUsageLimitsTotal, 5))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128), enc, noUnit))),
			kmip.ResultReasonInvalidField)
		noTotal := usageLimitsValue(kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128), enc, noTotal))),
			kmip.ResultReasonInvalidField)
	}
}
