package harness

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// HTTPSClient returns an HTTP client (HTTP/2 when the server offers it)
// that presents the client certificate of cn ("" for the admin) to the
// server's HTTPS listener (Options.HTTPS).
func (s *Server) HTTPSClient(t testing.TB, cn string) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: s.ClientTLSConfig(t, cn), ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// HTTPSURL is the URL KMIP requests are posted to.
func (s *Server) HTTPSURL() string { return "https://" + s.HTTPSAddr + "/kmip" }

// PostKMIP posts body with the given Content-Type to the server's /kmip and
// returns the status, the response's Content-Type and body.
func PostKMIP(t testing.TB, c *http.Client, url, ctype string, body []byte) (int, string, []byte) {
	t.Helper()
	resp, err := c.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s (%s): %v", url, ctype, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), out
}
