package domain

import "github.com/kmipd/kmipd/domain/kmip"

// Reverted returns the object to store in place of now so as to undo the
// changes made since before, keeping now's identifier and Revision. Two
// facts are never undone, since the undone operations' responses still
// reach the client: an object served to a client stays not Fresh (KMIP 1.4
// §3.34: Fresh "indicates that the object has not yet been served to a
// client"), and units spent stay spent, so the Usage Limits Count never
// rises (§3.21: the count "currently remaining"; the client may not set it).
func Reverted(before, now *Object) *Object {
	out := before.Clone()
	out.ID, out.Revision = now.ID, now.Revision
	if fresh, _ := now.Attr("Fresh").AsBool(); !fresh && now.Attr("Fresh") != nil {
		out.SetAttr("Fresh", now.Attr("Fresh").Clone())
	}
	ul := out.Attr("Usage Limits")
	nowCount, ok := usageCount(now.Attr("Usage Limits"))
	if ul != nil && ok {
		if c, had := usageCount(ul); !had || nowCount < c {
			out.SetAttr("Usage Limits", withUsageCount(ul, nowCount))
		}
	}
	return out
}

// usageCount is a Usage Limits value's remaining count, if it has one.
func usageCount(ul *kmip.Item) (int64, bool) {
	return ul.Child(kmip.TagUsageLimitsCount).AsLong()
}
