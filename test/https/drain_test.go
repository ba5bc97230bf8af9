package https

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// queryRequest is a KMIP 1.4 Query Operations request.
func queryRequest() *kmip.Item {
	return (&kmipclient.Client{Major: 1, Minor: 4}).Request(kmipclient.BatchItem(kmip.OperationQuery,
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations))))
}

// querySucceeded fails the test unless resp is a successful Query answer.
func querySucceeded(t *testing.T, what string, resp *kmip.Item) {
	t.Helper()
	rs, err := kmipclient.Results(resp)
	if err != nil || len(rs) != 1 || rs[0].Err != nil || len(rs[0].Payload.ChildrenOf(kmip.TagOperation)) == 0 {
		t.Fatalf("%s: answer %v (%v), want a successful Query", what, resp, err)
	}
}

// TestSIGTERMDrainsBothListeners: a request half sent on each listener when
// SIGTERM arrives is still read, answered in full and successfully, while
// both listeners already refuse new connections; then kmipd exits 0 by
// itself.
func TestSIGTERMDrainsBothListeners(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	ttlvBody, err := ttlv.Encode(queryRequest())
	if err != nil {
		t.Fatal(err)
	}
	jsonBody, err := kmipjson.Append(nil, queryRequest())
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.ClientTLSConfig(t, "")
	cfg.NextProtos = []string{"http/1.1"}
	dial := func(addr string) *tls.Conn {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		return c
	}
	tc, hc := dial(srv.Addr), dial(srv.HTTPSAddr)
	head := fmt.Sprintf("POST /kmip HTTP/1.1\r\nHost: kmipd\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(jsonBody))
	half := func(b []byte) int { return len(b) / 2 }
	if _, err := tc.Write(ttlvBody[:half(ttlvBody)]); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Write(append([]byte(head), jsonBody[:half(jsonBody)]...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // both servers have read the first bytes: the requests are in flight

	srv.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.LogContents(t), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatal("no \"shutting down\" in the log after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, addr := range []string{srv.Addr, srv.HTTPSAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still accepts connections while draining", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if _, err := tc.Write(ttlvBody[half(ttlvBody):]); err != nil {
		t.Fatalf("TTLV: the rest of the request: %v", err)
	}
	msg, err := ttlv.ReadMessage(tc, nil, ttlv.DefaultLimits.MaxSize)
	if err != nil {
		t.Fatalf("TTLV: no answer while draining: %v", err)
	}
	resp, err := ttlv.Decode(msg, ttlv.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	querySucceeded(t, "TTLV", resp)

	if _, err := hc.Write(jsonBody[half(jsonBody):]); err != nil {
		t.Fatalf("HTTPS: the rest of the request: %v", err)
	}
	hresp, err := http.ReadResponse(bufio.NewReader(hc), nil)
	if err != nil {
		t.Fatalf("HTTPS: no answer while draining: %v", err)
	}
	out, err := io.ReadAll(hresp.Body)
	if err != nil || hresp.StatusCode != http.StatusOK {
		t.Fatalf("HTTPS: status %d, %v", hresp.StatusCode, err)
	}
	resp, err = kmipjson.Decode(out, ttlv.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	querySucceeded(t, "HTTPS", resp)

	tc.Close()
	hc.Close()
	if err := srv.WaitExit(t, 15*time.Second); err != nil {
		t.Fatalf("kmipd after draining: %v\n%s", err, srv.LogContents(t))
	}
}

// TestMalformedBodyEachEncoding: a body that does not decode in the
// encoding its Content-Type names is answered 200 with a KMIP response in
// that encoding whose Result Reason is Invalid Message, as on the TTLV port.
func TestMalformedBodyEachEncoding(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	c := srv.HTTPSClient(t, "")
	for _, tc := range []struct {
		ctype  string
		body   []byte
		decode func([]byte) (*kmip.Item, error)
	}{
		{"application/octet-stream", []byte{0x42, 0x00, 0x78, 0x01, 0, 0, 0, 8, 0x42, 0, 0, 0, 0, 0, 0, 0},
			func(b []byte) (*kmip.Item, error) { return ttlv.Decode(b, ttlv.DefaultLimits) }},
		{"application/json", []byte(`{"tag":"RequestMessage","value":[{"tag":"Nonsense"}]}`),
			func(b []byte) (*kmip.Item, error) { return kmipjson.Decode(b, ttlv.Limits{}) }},
		{"text/xml", []byte(`<RequestMessage><RequestHeader>`),
			func(b []byte) (*kmip.Item, error) { return kmipxml.Decode(bytes.NewReader(b)) }},
	} {
		status, ctype, out := harness.PostKMIP(t, c, srv.HTTPSURL(), tc.ctype, tc.body)
		if status != http.StatusOK || ctype != tc.ctype {
			t.Errorf("%s: status %d, Content-Type %q", tc.ctype, status, ctype)
			continue
		}
		resp, err := tc.decode(out)
		if err != nil {
			t.Errorf("%s: the answer does not decode in its encoding: %v", tc.ctype, err)
			continue
		}
		rs, _ := kmipclient.Results(resp)
		var oe *kmipclient.OperationError
		if len(rs) != 1 || !errors.As(rs[0].Err, &oe) || oe.Reason != kmip.ResultReasonInvalidMessage {
			t.Errorf("%s: answer %v, want Result Reason Invalid Message", tc.ctype, resp)
		}
	}
}
