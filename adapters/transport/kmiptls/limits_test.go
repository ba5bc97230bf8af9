package kmiptls

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// The request timeout is the deadline of the handler's context, so that
// storage and crypto calls below it end too.
func TestRequestTimeoutIsHandlerDeadline(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 1), release: make(chan struct{}), ctxErr: make(chan error, 1)}
	ts := startServer(t, h, func(s *Server) { s.RequestTimeout = 20 * time.Millisecond })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
	<-h.started
	if err := <-h.ctxErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handler context ended with %v, want DeadlineExceeded", err)
	}
}

// Without RequestTimeout the handler still gets a deadline (the default).
func TestDefaultRequestTimeoutSet(t *testing.T) {
	var deadline time.Time
	var ok bool
	h := &deadlineHandler{fakeHandler: &fakeHandler{}, got: func(ctx context.Context) { deadline, ok = ctx.Deadline() }}
	ts := startServer(t, nil, func(s *Server) { s.Handler = h })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
	if !ok || deadline.Before(start.Add(DefaultRequestTimeout-time.Second)) || deadline.After(time.Now().Add(DefaultRequestTimeout)) {
		t.Fatalf("handler deadline = %v (set %v), want about now+%v", deadline, ok, DefaultRequestTimeout)
	}
}

type deadlineHandler struct {
	*fakeHandler
	got func(ctx context.Context)
}

func (h *deadlineHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	h.got(ctx)
	return h.fakeHandler.HandleMessage(ctx, req)
}

// A message nested deeper than Limits.MaxDepth is answered as undecodable
// and the connection stays usable.
func TestNestingDepthLimit(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.Limits = ttlv.Limits{MaxDepth: 8} })
	c, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	deep := kmip.Int(kmip.TagBatchCount, 1)
	for range 9 {
		deep = kmip.Struct(kmip.TagRequestMessage, deep)
	}
	resp, err := roundTrip(c, deep)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Equal(undecodableAns) {
		t.Fatalf("response %v, want the undecodable answer", resp)
	}
	if resp, err := roundTrip(c, testRequest); err != nil || !resp.Equal(cannedResponse) {
		t.Fatalf("after the deep message: %v, %v", resp, err)
	}
}
