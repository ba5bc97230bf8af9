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

// No answer carries a Result Reason its version does not define: a 2.1
// reason answers a 2.0 client with General Failure, a 1.2 or 1.4 reason a
// 1.0/1.1 or 1.3 client with the older one.
func TestResultReasonDefinedInVersion(t *testing.T) {
	cases := []struct {
		err  error
		v    version
		want kmip.ResultReason
	}{
		{errorf(kmip.ResultReasonPrivateProtectionStorageUnavailable, "x"), version{2, 1}, kmip.ResultReasonPrivateProtectionStorageUnavailable},
		// KMIP 2.0 defines Private/Public Protection Storage Unavailable
		// (its Table 440, 0x48-0x49); Unknown Object Group (0x4A) is 2.1.
		{errorf(kmip.ResultReasonPrivateProtectionStorageUnavailable, "x"), version{2, 0}, kmip.ResultReasonPrivateProtectionStorageUnavailable},
		{errorf(kmip.ResultReasonPublicProtectionStorageUnavailable, "x"), version{2, 0}, kmip.ResultReasonPublicProtectionStorageUnavailable},
		{errorf(kmip.ResultReasonUnknownObjectGroup, "x"), version{2, 0}, kmip.ResultReasonGeneralFailure},
		{errorf(kmip.ResultReasonConstraintViolation, "x"), version{2, 1}, kmip.ResultReasonConstraintViolation},
		{errorf(kmip.ResultReasonConstraintViolation, "x"), version{2, 0}, kmip.ResultReasonGeneralFailure},
		{errorf(kmip.ResultReasonPKCS_11InvalidInterface, "x"), version{2, 0}, kmip.ResultReasonPKCS_11InvalidInterface},
		{errorf(kmip.ResultReasonKeyWrapTypeNotSupported, "x"), version{2, 0}, kmip.ResultReasonKeyWrapTypeNotSupported},
		{errorf(kmip.ResultReasonKeyWrapTypeNotSupported, "x"), version{1, 4}, kmip.ResultReasonFeatureNotSupported},
		{errorf(kmip.ResultReasonKeyValueNotPresent, "x"), version{1, 2}, kmip.ResultReasonKeyValueNotPresent},
		{errorf(kmip.ResultReasonKeyValueNotPresent, "x"), version{1, 1}, kmip.ResultReasonItemNotFound},
		{errorf(kmip.ResultReasonEncodingOptionError, "x"), version{1, 1}, kmip.ResultReasonEncodingOptionError},
		{errorf(kmip.ResultReasonEncodingOptionError, "x"), version{1, 0}, kmip.ResultReasonGeneralFailure},
		{errorf(kmip.ResultReasonObjectAlreadyExists, "x"), version{1, 3}, kmip.ResultReasonGeneralFailure},
		{errorf(kmip.ResultReasonNotExtractable, "x"), version{1, 3}, kmip.ResultReasonPermissionDenied},
		{errorf(kmip.ResultReasonWrongKeyLifecycleState, "x"), version{1, 4}, kmip.ResultReasonPermissionDenied},
		{kindErr(errKindNoKeyValue, "x"), version{1, 1}, kmip.ResultReasonItemNotFound},
		{kindErr(errKindNoKeyValue, "x"), version{1, 2}, kmip.ResultReasonKeyValueNotPresent},
		{kindErr(errKindNoKeyValue, "x"), version{2, 0}, kmip.ResultReasonKeyValueNotPresent},
	}
	for _, c := range cases {
		if got, _, _ := resultFor(c.err, c.v); got != c.want {
			t.Errorf("%v in %s: %s, want %s", c.err, c.v, got, c.want)
		}
	}
}
