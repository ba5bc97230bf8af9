package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestOriginalCreationDateFrom12: Original Creation Date is a KMIP 1.2
// attribute (tag 0x4200BC, in the block 1.2 added; the 1.2 test case
// TC-MDO-2-12 registers a key with one and reads it back at 1.2). A
// registering client may give it and Get Attributes returns it at 1.2 and
// later; a created object has the server's; a 1.1 client is not shown it.
func TestOriginalCreationDateFrom12(t *testing.T) {
	t.Parallel()
	given := time.Date(1970, 1, 1, 10, 42, 0, 0, time.UTC)
	for _, v := range []version{{1, 2}, {1, 3}, v14, v21} {
		s := newService(t)
		key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
			kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, make([]byte, 16))),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 128)))
		id := createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRegister,
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			attrsFor(v, mask(kmip.CryptographicUsageMaskEncrypt), kmip.DateTime(kmip.TagOriginalCreationDate, given)), key)))
		if got := originalCreationDate(t, s, v, id); !got.Equal(given) {
			t.Errorf("%s: registered Original Creation Date %v, want the given %v", v, got, given)
		}
		created := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		if got := originalCreationDate(t, s, v, created); got.IsZero() {
			t.Errorf("%s: a created key has no Original Creation Date", v)
		}
	}
	s := newService(t)
	created := aesKey(t, s, version{1, 1}, mask(kmip.CryptographicUsageMaskEncrypt))
	if got := originalCreationDate(t, s, version{1, 1}, created); !got.IsZero() {
		t.Error("1.1: Get Attributes shows Original Creation Date, which 1.1 does not define")
	}
}

// originalCreationDate reads an object's Original Creation Date with Get
// Attributes at v (by name at 1.x, all attributes at 2.x); zero when absent.
func originalCreationDate(t *testing.T, s *Service, v version, id string) time.Time {
	t.Helper()
	var named []*kmip.Item
	if v.major < 2 {
		named = append(named, kmip.Text(kmip.TagAttributeName, "Original Creation Date"))
	}
	out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, append([]*kmip.Item{uidItem(id)}, named...)...)))
	if v.major >= 2 {
		at, _ := out.Path(kmip.TagAttributes, kmip.TagOriginalCreationDate).AsTime()
		return at
	}
	for _, a := range out.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Original Creation Date" {
			at, _ := a.Child(kmip.TagAttributeValue).AsTime()
			return at
		}
	}
	return time.Time{}
}

// A KMIP 1.2 Get Attributes of every attribute leaves Original Creation
// Date out (PyKMIP's client, 1.2 by default, cannot decode it); named, it is
// answered; from 1.3 on every answer lists it.
func TestOriginalCreationDateUnlistedAt12(t *testing.T) {
	t.Parallel()
	for v, want := range map[version]bool{{1, 2}: false, {1, 3}: true, v14: true} {
		s := newService(t)
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
		listed := false
		for _, a := range out.ChildrenOf(kmip.TagAttribute) {
			if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Original Creation Date" {
				listed = true
			}
		}
		if listed != want {
			t.Errorf("%s: all attributes list Original Creation Date: %v, want %v", v, listed, want)
		}
		names := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributeList, uidItem(id))))
		inList := false
		for _, n := range names.ChildrenOf(kmip.TagAttributeName) {
			if n, _ := n.AsText(); n == "Original Creation Date" {
				inList = true
			}
		}
		if inList != want {
			t.Errorf("%s: Get Attribute List names Original Creation Date: %v, want %v", v, inList, want)
		}
	}
}
