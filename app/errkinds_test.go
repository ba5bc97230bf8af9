package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Every error kind has a name and a Result Reason in each column of the one
// reason table, and each reason is one the version it answers defines.
func TestKindReasonsComplete(t *testing.T) {
	t.Parallel()
	for k := errKindNone + 1; k < errKindCount; k++ {
		r, ok := kindReasons[k]
		if !ok || r.name == "" {
			t.Errorf("kind %d has no row in kindReasons", k)
			continue
		}
		for _, v := range supportedVersions {
			reason := k.reason(v)
			if reason == 0 || !enumIn(kmip.TagResultReason, uint32(reason), v) {
				t.Errorf("%s in %s: reason %s is not defined in that version", k, v, reason)
			}
		}
	}
}

// The table's columns: KMIP 1.0-1.3, 1.4, 2.x.
func TestKindReasonByVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		k    errKind
		v    version
		want kmip.ResultReason
	}{
		{errKindNotExtractable, version{1, 3}, kmip.ResultReasonPermissionDenied},
		{errKindNotExtractable, version{1, 4}, kmip.ResultReasonNotExtractable},
		{errKindNotExtractable, version{2, 1}, kmip.ResultReasonNotExtractable},
		{errKindWrongState, version{1, 4}, kmip.ResultReasonPermissionDenied},
		{errKindWrongState, version{2, 0}, kmip.ResultReasonWrongKeyLifecycleState},
		{errKindNameTaken, version{1, 0}, kmip.ResultReasonIllegalOperation},
		{errKindNameTaken, version{2, 1}, kmip.ResultReasonNonUniqueNameAttribute},
	}
	for _, c := range cases {
		if got := c.k.reason(c.v); got != c.want {
			t.Errorf("%s in %s: %s, want %s", c.k, c.v, got, c.want)
		}
		if got, _, _ := resultFor(kindErr(c.k, "x"), c.v); got != c.want {
			t.Errorf("resultFor %s in %s: %s, want %s", c.k, c.v, got, c.want)
		}
	}
}
