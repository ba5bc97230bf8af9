package multinode

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Two nodes on one PostgreSQL database race to give one Name to two
// different keys (Add Attribute, which must keep names unique: KMIP 1.4
// §11.15): for every name exactly one key gets it, whichever node each
// request went to (issue 15.3: unique names hold across nodes).
func TestPostgresUniqueNamesAcrossNodes(t *testing.T) {
	nodes := pgNodes(t, 2)
	const rounds, conns = 24, 4
	mk := dial(t, nodes[0], "alice", 1, 4)
	keys := make([][2]*kmip.Item, rounds)
	for i := range keys {
		for j := range 2 {
			keys[i][j] = uidOf(t, call(t, mk, kmip.OperationCreate,
				kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...))
		}
	}
	var wg sync.WaitGroup
	for w := range conns {
		a, b := dial(t, nodes[0], "alice", 1, 4), dial(t, nodes[1], "alice", 1, 4)
		wg.Go(func() {
			for i := w; i < rounds; i += conns {
				name := kmipclient.Attribute("Name", kmip.Struct(kmip.TagAttributeValue,
					kmip.Text(kmip.TagNameValue, fmt.Sprintf("race-%d", i)),
					kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString))))
				var start, both sync.WaitGroup
				start.Add(1)
				for j, c := range []*kmipclient.Client{a, b} {
					both.Go(func() {
						start.Wait()
						c.Call(kmip.OperationAddAttribute, keys[i][j], name) // one of the two is refused
					})
				}
				start.Done()
				both.Wait()
			}
		})
	}
	wg.Wait()
	check := dial(t, nodes[1], "alice", 1, 4)
	for i := range rounds {
		found := call(t, check, kmip.OperationLocate, kmipclient.NameAttribute(fmt.Sprintf("race-%d", i)))
		if n := len(found.ChildrenOf(kmip.TagUniqueIdentifier)); n != 1 {
			t.Errorf("name race-%d: %d keys carry it after two nodes raced to give it, want 1", i, n)
		}
	}
}
