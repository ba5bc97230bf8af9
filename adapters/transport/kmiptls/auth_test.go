package kmiptls

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

var refusedAns = kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "not authenticated"))

// refusingHandler is a fakeHandler that can answer refused requests.
type refusingHandler struct {
	*fakeHandler
	mu      sync.Mutex
	refused int
}

func (h *refusingHandler) HandleUnauthenticated(ctx context.Context, req *kmip.Item) *kmip.Item {
	h.mu.Lock()
	h.refused++
	h.mu.Unlock()
	return refusedAns
}

// TestAuthenticateHookPerRequest: the hook sees the certificate's identity
// before every request, and the handler runs as the principal it returns.
func TestAuthenticateHookPerRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	ts := startServer(t, nil, func(s *Server) {
		s.Authenticate = func(_ context.Context, who domain.Principal, _ *kmip.Item) (domain.Principal, error) {
			mu.Lock()
			seen = append(seen, who.Name)
			mu.Unlock()
			return domain.Principal{Name: who.Name, Groups: []string{"g"}, HasGroupInfo: true}, nil
		}
	})
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if _, err := roundTrip(c, testRequest); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != DevClientName {
		t.Errorf("hook saw %v, want the certificate CN once per request", seen)
	}
	ts.h.mu.Lock()
	defer ts.h.mu.Unlock()
	if p := ts.h.peers[1]; p.Name != DevClientName || !p.HasGroupInfo || len(p.Groups) != 1 {
		t.Errorf("handler ran as %+v", p)
	}
}

// TestAuthenticateFailureRefusesAndCloses: a refused client gets the
// handler's refusal, the request is not handled, and the connection closes.
func TestAuthenticateFailureRefusesAndCloses(t *testing.T) {
	h := &refusingHandler{fakeHandler: &fakeHandler{}}
	ts := startServer(t, nil, func(s *Server) {
		s.Handler = h
		s.Authenticate = func(context.Context, domain.Principal, *kmip.Item) (domain.Principal, error) {
			return domain.Principal{}, errors.New("nobody knows you")
		}
	})
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := roundTrip(c, testRequest)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Equal(refusedAns) {
		t.Errorf("answer %v, want the refusal", resp)
	}
	assertClosedByServer(t, c)
	h.mu.Lock()
	refused := h.refused
	h.mu.Unlock()
	if h.fakeHandler.calls() != 0 || refused != 1 {
		t.Errorf("handled %d requests, refused %d", h.fakeHandler.calls(), refused)
	}

	// A handler that cannot answer refusals: the connection just closes.
	ts2 := startServer(t, nil, func(s *Server) {
		s.Authenticate = func(context.Context, domain.Principal, *kmip.Item) (domain.Principal, error) {
			return domain.Principal{}, errors.New("no")
		}
	})
	c2, err := dial(t, ts2.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := roundTrip(c2, testRequest); err == nil {
		t.Error("got an answer from a refused request")
	}
	if ts2.h.calls() != 0 {
		t.Error("refused request was handled")
	}
}
