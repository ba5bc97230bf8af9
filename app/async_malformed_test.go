package app

import (
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// A 2.x Asynchronous Indicator that is not the Enumeration 2.x defines
// (2.1 §9.2: an Integer, a Text String) allows nothing: the item is
// answered synchronously, as with Prohibited.
func TestAsyncIndicatorOfWrongTypeIsProhibited(t *testing.T) {
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, nil)
	for _, flag := range []*kmip.Item{
		kmip.Int(kmip.TagAsynchronousIndicator, int32(kmip.AsynchronousIndicatorMandatory)),
		kmip.Text(kmip.TagAsynchronousIndicator, "Mandatory"),
	} {
		m := asyncMsg(v21, kmip.AsynchronousIndicatorMandatory, aesCreate21(128, ""))
		hdr := m.Child(kmip.TagRequestHeader)
		kids := hdr.Children()
		kids[1] = flag
		hdr.Value = kids
		it := s.HandleMessage(ports.WithPeer(context.Background(), alice), m).ChildrenOf(kmip.TagBatchItem)[0]
		if status(it) != kmip.ResultStatusSuccess {
			t.Fatalf("indicator %s: %s, want a synchronous Success", flag, it)
		}
	}
}
