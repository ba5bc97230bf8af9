package admin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve runs s on a loopback port and returns its base URL.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	var storeFails, slow atomic.Bool
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	s := &Server{CheckTimeout: 200 * time.Millisecond, Checks: []Check{
		{"store", func(context.Context) error {
			if storeFails.Load() {
				return errors.New("database is locked")
			}
			return nil
		}},
		{"crypto", func(ctx context.Context) error {
			if slow.Load() {
				select {
				case <-hang:
				case <-time.After(5 * time.Second):
				}
			}
			return nil
		}},
	}}
	base := serve(t, s)
	if code, body := get(t, "GET", base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, "GET", base+"/readyz"); code != 200 || body != "crypto: ok\nstore: ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	storeFails.Store(true)
	if code, body := get(t, "GET", base+"/readyz"); code != 503 || !strings.Contains(body, "store: failed: database is locked") {
		t.Errorf("/readyz with a failing store: %d %q", code, body)
	}
	storeFails.Store(false)
	slow.Store(true)
	start := time.Now()
	code, body := get(t, "GET", base+"/readyz")
	if code != 503 || !strings.Contains(body, "crypto: failed: no answer within") {
		t.Errorf("/readyz with a hung engine: %d %q", code, body)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("/readyz waited %s for a hung check", time.Since(start))
	}
	slow.Store(false)
	s.SetDraining()
	if code, body := get(t, "GET", base+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Errorf("/readyz while draining: %d %q", code, body)
	}
	if code, _ := get(t, "GET", base+"/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d, want 200 (the process is alive)", code)
	}
}

func TestMetricsAndMethods(t *testing.T) {
	s := &Server{}
	base := serve(t, s)
	if code, _ := get(t, "GET", base+"/metrics"); code != 404 {
		t.Errorf("/metrics without a handler: %d", code)
	}
	s2 := &Server{Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "kmipd_up 1\n") })}
	base2 := serve(t, s2)
	if code, body := get(t, "GET", base2+"/metrics"); code != 200 || body != "kmipd_up 1\n" {
		t.Errorf("/metrics: %d %q", code, body)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if code, _ := get(t, m, base2+"/healthz"); code != 405 {
			t.Errorf("%s /healthz: %d, want 405", m, code)
		}
	}
	if code, _ := get(t, "GET", base2+"/debug/pprof/"); code != 404 {
		t.Errorf("an unknown path: %d, want 404", code)
	}
}
