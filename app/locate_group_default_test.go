package app

import (
	"slices"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestLocateGroupDefaultInTurn: a Locate for a group's default member
// (Group Member Default, "the default object as defined by server policy",
// KMIP 1.4 §4.9) followed by a Get of it hands out the group's members in
// creation order and then the first again, as the KMIP 1.1 test case
// TC-153-11 records: the default is the oldest member no client has received
// (Fresh), else the oldest member.
func TestLocateGroupDefaultInTurn(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 1}, {1, 2}, v14, v21} {
		s := newCryptoService()
		group := kmip.Text(kmip.TagObjectGroup, "RoundRobinTestGroup")
		var keys []string
		for i := 0; i < 3; i++ {
			keys = append(keys, aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), group))
		}
		aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Text(kmip.TagObjectGroup, "other"))
		var criteria *kmip.Item
		if v.major >= 2 {
			criteria = kmip.Struct(kmip.TagAttributes, group)
		} else {
			criteria = attribute1x("Object Group", group)
		}
		locate := batchItem(kmip.OperationLocate, kmip.Int(kmip.TagMaximumItems, 1),
			kmip.Enum(kmip.TagObjectGroupMember, uint32(kmip.ObjectGroupMemberGroupMemberDefault)), criteria)
		var got []string
		for i := 0; i < 4; i++ {
			_, rs := send(t, s, alice, msg(v, locate, batchItem(kmip.OperationGet)))
			if len(rs) != 2 {
				t.Fatalf("%s: %d batch items, want 2", v, len(rs))
			}
			ids := mustOK(t, rs[0]).ChildrenOf(kmip.TagUniqueIdentifier)
			if len(ids) != 1 {
				t.Fatalf("%s: Locate returned %d identifiers, want the one default", v, len(ids))
			}
			id, _ := ids[0].AsText()
			if gid, _ := mustOK(t, rs[1]).Child(kmip.TagUniqueIdentifier).AsText(); gid != id {
				t.Fatalf("%s: Get served %q, not the located %q", v, gid, id)
			}
			got = append(got, id)
		}
		if want := []string{keys[0], keys[1], keys[2], keys[0]}; !slices.Equal(got, want) {
			t.Errorf("%s: defaults %q, want %q (in turn, oldest first)", v, got, want)
		}
	}
}
