package kmiphttp

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// panicsOnce is a handler whose first message panics; later ones are
// answered by the fakeHandler it wraps.
type panicsOnce struct {
	*fakeHandler
	panicked atomic.Bool
}

func (h *panicsOnce) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	if h.panicked.CompareAndSwap(false, true) {
		panic("handler exploded")
	}
	return h.fakeHandler.HandleMessage(ctx, req)
}

// TestPanickingHandlerDoesNotKillServer: a panic while answering one
// request is contained (500 on that request, the connection closed) and
// the server goes on answering others, as on the TTLV port.
func TestPanickingHandlerDoesNotKillServer(t *testing.T) {
	var h *panicsOnce
	ts := startServer(t, func(s *Server) {
		h = &panicsOnce{fakeHandler: &fakeHandler{}}
		s.Handler = h
	})
	body, err := ttlv.Encode(testRequest)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := post(t, client(t, false), ts.url, "application/octet-stream", body)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("panicking request: status %d, want 500", resp.StatusCode)
	}
	resp, out := post(t, client(t, false), ts.url, "application/octet-stream", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after a panic: status %d, want 200: %s", resp.StatusCode, out)
	}
	if it, err := ttlv.Decode(out, ttlv.Limits{}); err != nil || !it.Equal(cannedResponse) {
		t.Fatalf("after a panic: answer %v (%v)", it, err)
	}
}
