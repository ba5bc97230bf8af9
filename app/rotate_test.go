package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// getAttr21 reads one attribute of an object through Get Attributes (KMIP 2.1).
func getAttr21(t *testing.T, s *Service, id string, tag kmip.Tag) *kmip.Item {
	t.Helper()
	out := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGetAttributes, uidItem(id),
		kmip.Enum(kmip.TagAttributeReference, uint32(tag)))))
	return out.Path(kmip.TagAttributes, tag)
}

// Automatic rotation is refused rather than silently never performed; asking
// for none is fine. KMIP 1.4 clients do not know the attribute.
func TestRotateAutomaticRefused(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	alg := []*kmip.Item{kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128), mask(kmip.CryptographicUsageMaskEncrypt)}
	create := func(v version, extra *kmip.Item) result {
		return sendOne(t, s, alice, v, batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			attrsFor(v, append(alg, extra)...)))
	}
	mustFail(t, create(v21, kmip.Bool(kmip.TagRotateAutomatic, true)), kmip.ResultReasonFeatureNotSupported)
	mustOK(t, create(v21, kmip.Bool(kmip.TagRotateAutomatic, false)))
	if r := create(v14, kmip.Interval(kmip.TagRotateInterval, 3600)); r.status == kmip.ResultStatusSuccess {
		t.Error("a KMIP 1.4 client set a KMIP 2.1 attribute")
	}
}

// The rotation record is KMIP 2.1 (tags from 0x420166 on): a KMIP 2.0
// client reading a re-keyed key's attributes gets none of it, nor any
// other field 2.0 does not define; a 2.1 client gets it.
func TestRotationRecordHiddenFrom20(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt))
	repl := createdID(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(id))))
	for _, v := range []version{{2, 0}, v21} {
		resp, rs := send(t, s, alice, msg(v, batchItem(kmip.OperationGetAttributes, uidItem(repl))))
		p := mustOK(t, rs[0])
		if n := newerTags(resp, v); len(n) > 0 {
			t.Errorf("%s: Get Attributes carries fields newer than the version: %v", v, n)
		}
		if got, want := p.Path(kmip.TagAttributes, kmip.TagRotateGeneration) != nil, v == v21; got != want {
			t.Errorf("%s: Rotate Generation present %v, want %v", v, got, want)
		}
		if p.Path(kmip.TagAttributes, kmip.TagCryptographicAlgorithm) == nil {
			t.Errorf("%s: the 2.0 attributes were lost too: %v", v, p)
		}
	}
}
