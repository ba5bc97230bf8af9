package attacker

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// postJSON sends msg to the HTTPS listener as cn in the JSON encoding and
// returns the single batch item's payload and error.
func postJSON(t *testing.T, srv *harness.Server, c *http.Client, msg *kmip.Item) (*kmip.Item, error) {
	t.Helper()
	body, err := kmipjson.Append(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	status, _, out := harness.PostKMIP(t, c, srv.HTTPSURL(), "application/json", body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out)
	}
	resp, err := kmipjson.Decode(out, ttlv.Limits{})
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	rs, err := kmipclient.Results(resp)
	if err != nil || len(rs) != 1 {
		t.Fatalf("answer %v: %v", resp, err)
	}
	return rs[0].Payload, rs[0].Err
}

// TestHTTPSSamePolicies: over HTTPS bob meets the policies he meets on the
// TTLV port: under "encrypt_only" he may Encrypt with alice's key but not
// Get it, and he cannot Destroy it.
func TestHTTPSSamePolicies(t *testing.T) {
	tg := start(t, harness.Options{HTTPS: true})
	uid := createAES(t, tg.alice, "encrypt_only", kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt)
	harness.Call(t, tg.alice, kmip.OperationActivate, kmip.Text(kmip.TagUniqueIdentifier, uid))
	bob := tg.srv.HTTPSClient(t, "bob")
	id := kmip.Text(kmip.TagUniqueIdentifier, uid)
	if _, err := postJSON(t, tg.srv, bob, tg.bob.Request(kmipclient.BatchItem(kmip.OperationGet, id))); err == nil {
		t.Fatal("bob got alice's encrypt_only key over HTTPS")
	}
	if _, err := postJSON(t, tg.srv, bob, tg.bob.Request(kmipclient.BatchItem(kmip.OperationDestroy, id))); err == nil {
		t.Fatal("bob destroyed alice's key over HTTPS")
	}
	enc := tg.bob.Request(kmipclient.BatchItem(kmip.OperationEncrypt, id,
		kmip.Struct(kmip.TagCryptographicParameters,
			kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
			kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))),
		kmip.Bytes(kmip.TagData, []byte("attack at dawn"))))
	if _, err := postJSON(t, tg.srv, bob, enc); err != nil {
		t.Fatalf("bob may Encrypt under encrypt_only: %v", err)
	}
	// The TTLV port agrees.
	if _, err := tg.bob.Call(kmip.OperationGet, id); reason(err) == 0 {
		t.Fatalf("bob's Get on the TTLV port: %v", err)
	}
}

// TestHTTPSHostileBodies: a body announced far beyond max_message_size is
// refused unread, an oversized chunked body is cut off, and nesting and
// item bombs within the size are answered Invalid Message; the server keeps
// serving.
func TestHTTPSHostileBodies(t *testing.T) {
	tg := start(t, harness.Options{HTTPS: true, ExtraServerTOML: "max_message_size = 65536\nmax_message_items = 1000"})
	cfg := tg.srv.ClientTLSConfig(t, "bob")
	cfg.NextProtos = []string{"http/1.1"}

	// 1 GiB announced: the answer comes before any of it is sent.
	c, err := tls.Dial("tcp", tg.srv.HTTPSAddr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /kmip HTTP/1.1\r\nHost: kmipd\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 1<<30)
	line, err := readLine(c)
	if err != nil || !strings.Contains(line, " 413 ") {
		t.Fatalf("1 GiB announced: %q, %v; want 413", line, err)
	}

	bob := tg.srv.HTTPSClient(t, "bob")
	// Chunked, no length: cut off at the limit.
	resp, err := bob.Post(tg.srv.HTTPSURL(), "application/json", io.MultiReader(strings.NewReader(strings.Repeat(" ", 1<<20))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB chunked: status %d, want 413", resp.StatusCode)
	}

	deepJSON := strings.Repeat(`{"tag":"Attribute","value":[`, 200) + strings.Repeat(`]}`, 200)
	deepXML := strings.Repeat(`<Attribute>`, 200) + strings.Repeat(`</Attribute>`, 200)
	manyJSON := `{"tag":"RequestMessage","value":[` + strings.Repeat(`{"tag":"BatchCount","type":"Integer","value":1},`, 1100) +
		`{"tag":"BatchCount","type":"Integer","value":1}]}`
	manyXML := "<RequestMessage>" + strings.Repeat(`<BatchCount type="Integer" value="1"/>`, 1500) + "</RequestMessage>"
	for _, b := range []struct{ ctype, body string }{
		{"application/json", deepJSON}, {"text/xml", deepXML}, {"application/json", manyJSON}, {"application/xml", manyXML},
		{"application/json", "{\"tag\":\"RequestMessage\",\"value\":[\xff]}"},
	} {
		status, ctype, out := harness.PostKMIP(t, bob, tg.srv.HTTPSURL(), b.ctype, []byte(b.body))
		if status != 200 || ctype != b.ctype {
			t.Fatalf("%s bomb: status %d, %s", b.ctype, status, ctype)
		}
		var resp *kmip.Item
		if b.ctype == "application/json" {
			resp, err = kmipjson.Decode(out, ttlv.Limits{})
		} else {
			resp, err = kmipxml.Decode(bytes.NewReader(out))
		}
		if err != nil {
			t.Fatalf("answer to a %s bomb: %v", b.ctype, err)
		}
		rs, _ := kmipclient.Results(resp)
		var oe *kmipclient.OperationError
		if len(rs) != 1 || !errors.As(rs[0].Err, &oe) || oe.Reason != kmip.ResultReasonInvalidMessage {
			t.Fatalf("answer to a %s bomb: %v, want Invalid Message", b.ctype, resp)
		}
	}
	// Still serving, on both ports.
	harness.Call(t, tg.alice, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	if _, err := postJSON(t, tg.srv, bob, tg.bob.Request(kmipclient.BatchItem(kmip.OperationQuery,
		kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations))))); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPSConnectionCap: max_connections holds on the HTTPS listener: an
// extra connection is closed at once, while the TTLV port still serves.
func TestHTTPSConnectionCap(t *testing.T) {
	tg := start(t, harness.Options{HTTPS: true, ExtraServerTOML: "max_connections = 2"})
	for range 2 { // two connections held open until the test ends
		c, err := tls.Dial("tcp", tg.srv.HTTPSAddr, tg.srv.ClientTLSConfig(t, "bob"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	raw, err := net.Dial("tcp", tg.srv.HTTPSAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third HTTPS connection: %v, want it closed at once", err)
	}
	harness.Call(t, tg.alice, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	if !eventuallyLogged(t, tg.srv, "HTTPS connection refused: too many connections") {
		t.Error("the refusal is not logged")
	}
}

func readLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 200 {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			break
		}
		b = append(b, one[0])
	}
	return string(b), nil
}
