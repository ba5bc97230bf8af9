package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// fakeHandler answers every request with the response it holds.
type fakeHandler struct{ resp *kmip.Item }

func (f fakeHandler) HandleMessage(context.Context, *kmip.Item) *kmip.Item { return f.resp }
func (f fakeHandler) HandleUndecodable(context.Context, error) *kmip.Item  { return f.resp }

type fakeUnauth struct{ fakeHandler }

func (f fakeUnauth) HandleUnauthenticated(context.Context, *kmip.Item) *kmip.Item { return f.resp }

func item(op kmip.Operation, reason kmip.ResultReason) *kmip.Item {
	bi := kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(op)))
	if reason == 0 {
		return bi.Add(kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusSuccess)))
	}
	return bi.Add(kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(reason)))
}

// scrape returns the metrics text.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMessageHandlerCountsItemsByOperationAndResult(t *testing.T) {
	m := New()
	resp := kmip.Struct(kmip.TagResponseMessage, item(kmip.OperationGet, 0),
		item(kmip.OperationGet, kmip.ResultReasonPermissionDenied), item(kmip.OperationCreate, 0))
	h := m.MessageHandler(fakeHandler{resp})
	if _, ok := h.(ports.UnauthenticatedHandler); ok {
		t.Error("the decorator claims a capability its handler lacks")
	}
	req := kmip.Struct(kmip.TagRequestMessage, kmip.Struct(kmip.TagBatchItem), kmip.Struct(kmip.TagBatchItem), kmip.Struct(kmip.TagBatchItem))
	h.HandleMessage(context.Background(), req)
	h.HandleMessage(context.Background(), req)
	h.HandleUndecodable(context.Background(), errors.New("bad"))
	text := scrape(t, m)
	for _, want := range []string{
		`kmipd_requests_total{operation="Get",result="Success"} 2`,
		`kmipd_requests_total{operation="Get",result="PermissionDenied"} 2`,
		`kmipd_requests_total{operation="Create",result="Success"} 2`,
		`kmipd_request_duration_seconds_count{operation="Get"} 2`,
		`kmipd_batch_items_sum 6`,
		`kmipd_undecodable_messages_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if _, ok := m.MessageHandler(fakeUnauth{fakeHandler{resp}}).(ports.UnauthenticatedHandler); !ok {
		t.Error("the decorator dropped the handler's UnauthenticatedHandler capability")
	}
}

type fakeAuth struct{ err error }

func (f fakeAuth) Authenticate(context.Context, string) ([]string, error) {
	return []string{"g"}, f.err
}

func TestAuthenticatorAndEvents(t *testing.T) {
	m := New()
	m.Authenticator(fakeAuth{}).Authenticate(context.Background(), "alice")
	m.Authenticator(fakeAuth{ports.ErrUnknownUser}).Authenticate(context.Background(), "mallory")
	m.Authenticator(fakeAuth{ports.ErrUnavailable}).Authenticate(context.Background(), "bob")
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()
	m.HandshakeFailed("bad_certificate")
	m.StoreCommitted(3*time.Millisecond, 5)
	m.PolicyLoaded(nil)
	m.PolicyLoaded(errors.New("x"))
	m.HSMPool(func() (int, int, uint64) { return 3, 8, 1 })
	m.AuditWriteFailed()
	m.CountFunc("kmipd_key_material_unavailable_total", "x", func() uint64 { return 7 })
	text := scrape(t, m)
	for _, want := range []string{
		`kmipd_auth_calls_total{result="ok"} 1`, `kmipd_auth_calls_total{result="unknown_user"} 1`,
		`kmipd_auth_calls_total{result="error"} 1`, `kmipd_connections_open 1`, `kmipd_connections_total 2`,
		`kmipd_tls_handshake_failures_total{cause="bad_certificate"} 1`, `kmipd_store_commit_writes_sum 5`,
		`kmipd_policy_reloads_total{result="error"} 1`, `kmipd_hsm_sessions{state="in_use"} 3`,
		`kmipd_hsm_recoveries_total 1`, `kmipd_audit_write_failures_total 1`, `kmipd_key_material_unavailable_total 7`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
