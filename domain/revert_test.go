package domain

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestReverted: every change is reverted but a cleared Fresh and spent
// usage; an explicit change of the Usage Limits Total is reverted with it.
func TestReverted(t *testing.T) {
	limits := func(total, count int64) *kmip.Item {
		return kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, total),
			kmip.Long(kmip.TagUsageLimitsCount, count), kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
	}
	before := &Object{ID: "k", State: PreActive, Revision: 3}
	before.SetAttr("Fresh", kmip.Bool(kmip.TagFresh, true))
	before.SetAttr("Usage Limits", limits(100, 100))
	now := before.Clone()
	now.Revision = 9
	now.State = Active
	now.SetAttr("Fresh", kmip.Bool(kmip.TagFresh, false))
	now.SetAttr("Usage Limits", limits(200, 60))
	now.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, "x"))

	got := Reverted(before, now)
	if got.State != PreActive || got.Attr("Contact Information") != nil || got.Revision != 9 {
		t.Errorf("state %s, contact %v, revision %d: want the earlier state and attributes at revision 9",
			got.State, got.Attr("Contact Information"), got.Revision)
	}
	if fresh, _ := got.Attr("Fresh").AsBool(); fresh {
		t.Error("Fresh reverted to true")
	}
	ul := got.Attr("Usage Limits")
	total, _ := ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	count, _ := ul.Child(kmip.TagUsageLimitsCount).AsLong()
	if total != 100 || count != 60 {
		t.Errorf("Usage Limits total %d count %d, want 100 and 60", total, count)
	}
	if before.State != PreActive || before.Revision != 3 {
		t.Error("Reverted changed its argument")
	}
}
