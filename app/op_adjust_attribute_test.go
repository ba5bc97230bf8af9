package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Adjust Attribute changes numbers, intervals, dates and Booleans, starting
// absent ones from 0 or false (KMIP 2.1 §6.1.3, Table 428).
func TestAdjustAttribute(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	adjust := func(tag kmip.Tag, kind kmip.AdjustmentType, extra ...*kmip.Item) {
		t.Helper()
		mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationAdjustAttribute, append([]*kmip.Item{uidItem(id),
			kmip.Enum(kmip.TagAttributeReference, uint32(tag)), kmip.Enum(kmip.TagAdjustmentType, uint32(kind))}, extra...)...)))
	}
	adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeIncrement)
	adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeIncrement, kmip.Interval(kmip.TagAdjustmentValue, 3600))
	adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeDecrement, kmip.Int(kmip.TagAdjustmentValue, 1))
	adjust(kmip.TagQuantumSafe, kmip.AdjustmentTypeNegate)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationSetAttribute, uidItem(id),
		kmip.Struct(kmip.TagNewAttribute, kmip.DateTime(kmip.TagDeactivationDate, time.Unix(2000000000, 0))))))
	adjust(kmip.TagDeactivationDate, kmip.AdjustmentTypeIncrement, kmip.Interval(kmip.TagAdjustmentValue, 60))
	adjust(kmip.TagDeactivationDate, kmip.AdjustmentTypeDecrement)

	a := attrs21(t, s, id)
	if v, _ := a[kmip.TagProtectionPeriod][0].AsInterval(); v != 3600 {
		t.Errorf("Protection Period %d, want 3600", v)
	}
	if v, _ := a[kmip.TagQuantumSafe][0].AsBool(); !v {
		t.Error("Quantum Safe was not negated to true")
	}
	if v, _ := a[kmip.TagDeactivationDate][0].AsTime(); v.Unix() != 2000000059 {
		t.Errorf("Deactivation Date %d, want 2000000059", v.Unix())
	}
}
