// Package https tests KMIP over HTTPS against the real kmipd binary: the
// README's examples (examples/https) with curl when it is installed, the
// same identity and access rules as on the TTLV port, and a drain on SIGTERM.
package https

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

type encoding struct {
	ext, ctype string
	decode     func([]byte) (*kmip.Item, error)
}

var encodings = []encoding{
	{"json", "application/json", func(b []byte) (*kmip.Item, error) { return kmipjson.Decode(b, ttlv.Limits{}) }},
	{"xml", "text/xml", func(b []byte) (*kmip.Item, error) { return kmipxml.Decode(bytes.NewReader(b)) }},
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "examples", "https", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body as the README's curl command does (curl when installed,
// Go's client otherwise) and returns the decoded answer.
func post(t *testing.T, srv *harness.Server, enc encoding, body []byte) *kmip.Item {
	t.Helper()
	var out []byte
	if curl, err := exec.LookPath("curl"); err == nil {
		cmd := exec.Command(curl, "-sS", "--fail", "--cacert", srv.PKI.CAFile, "--cert", srv.PKI.ClientCertFile,
			"--key", srv.PKI.ClientKeyFile, "-H", "Content-Type: "+enc.ctype, "--data-binary", "@-", srv.HTTPSURL())
		cmd.Stdin = bytes.NewReader(body)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("curl: %v: %s", err, stderr.String())
		}
	} else {
		status, ctype, b := harness.PostKMIP(t, srv.HTTPSClient(t, ""), srv.HTTPSURL(), enc.ctype, body)
		if status != http.StatusOK || ctype != enc.ctype {
			t.Fatalf("status %d, Content-Type %q", status, ctype)
		}
		out = b
	}
	it, err := enc.decode(out)
	if err != nil {
		t.Fatalf("answer does not decode as %s: %v\n%s", enc.ext, err, out)
	}
	return it
}

// results returns the batch items' payloads, failing the test unless every
// item succeeded.
func results(t *testing.T, resp *kmip.Item) []*kmip.Item {
	t.Helper()
	rs, err := kmipclient.Results(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kmip.Item
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("batch item %d: %v", i, r.Err)
		}
		out = append(out, r.Payload)
	}
	return out
}

// TestREADMEExamples runs the README's Query, Create, Get and Encrypt
// examples in JSON and XML, and reads the HTTPS-created key on the TTLV port.
func TestREADMEExamples(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	ttlvClient := srv.Dial(t, "", 2, 1)
	for _, enc := range encodings {
		t.Run(enc.ext, func(t *testing.T) {
			q := results(t, post(t, srv, enc, example(t, "query."+enc.ext)))
			if len(q[0].ChildrenOf(kmip.TagOperation)) < 10 {
				t.Fatalf("Query lists %d operations", len(q[0].ChildrenOf(kmip.TagOperation)))
			}
			c := results(t, post(t, srv, enc, example(t, "create."+enc.ext)))
			uid, ok := c[0].Child(kmip.TagUniqueIdentifier).AsText()
			if !ok || len(c) != 2 {
				t.Fatalf("Create answered %v", c)
			}
			withUID := func(name string) []byte {
				b := example(t, name)
				if !bytes.Contains(b, []byte(`"UID"`)) {
					t.Fatalf("%s has no \"UID\" placeholder", name)
				}
				return bytes.ReplaceAll(b, []byte(`"UID"`), []byte(`"`+uid+`"`))
			}
			g := results(t, post(t, srv, enc, withUID("get."+enc.ext)))
			key, _ := g[0].Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
			if len(key) != 32 {
				t.Fatalf("Get returned %d bytes of key material", len(key))
			}
			e := results(t, post(t, srv, enc, withUID("encrypt."+enc.ext)))
			if len(harness.Field(t, e[0], kmip.TagData)) == 0 || len(harness.Field(t, e[0], kmip.TagAuthenticatedEncryptionTag)) != 16 {
				t.Fatalf("Encrypt answered %v", e[0])
			}
			// One engine behind both ports: the TTLV port serves the same key.
			p := harness.Call(t, ttlvClient, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, uid))
			if ttlvKey, _ := p.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(ttlvKey, key) {
				t.Fatal("the TTLV port returned other key material")
			}
		})
	}
}

// TestSameIdentityBothPorts: an object alice creates over HTTPS belongs to
// alice on the TTLV port, and bob cannot read it on either port.
func TestSameIdentityBothPorts(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	alice := srv.HTTPSClient(t, "alice")
	bob := srv.HTTPSClient(t, "bob")
	create := example(t, "create.json")
	call := func(c *http.Client, body []byte) *kmip.Item {
		status, _, out := harness.PostKMIP(t, c, srv.HTTPSURL(), "application/json", body)
		if status != 200 {
			t.Fatalf("status %d: %s", status, out)
		}
		it, err := kmipjson.Decode(out, ttlv.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	rs, err := kmipclient.Results(call(alice, create))
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alice's Create: %v %v", rs, err)
	}
	uid, _ := rs[0].Payload.Child(kmip.TagUniqueIdentifier).AsText()
	get := bytes.ReplaceAll(example(t, "get.json"), []byte(`"UID"`), []byte(`"`+uid+`"`))
	if rs, _ := kmipclient.Results(call(bob, get)); rs[0].Err == nil {
		t.Fatal("bob read alice's key over HTTPS")
	}
	if _, err := srv.Dial(t, "bob", 2, 1).Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, uid)); err == nil {
		t.Fatal("bob read alice's key on the TTLV port")
	}
	harness.Call(t, srv.Dial(t, "alice", 2, 1), kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, uid))
	if rs, _ := kmipclient.Results(call(alice, get)); rs[0].Err != nil {
		t.Fatalf("alice cannot read her key over HTTPS: %v", rs[0].Err)
	}
}

// TestHTTPSStopsWithServer: SIGTERM drains both listeners and kmipd exits 0
// (harness.Stop checks the status); the HTTPS port is closed afterwards.
func TestHTTPSStopsWithServer(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	c := srv.HTTPSClient(t, "")
	if status, _, _ := harness.PostKMIP(t, c, srv.HTTPSURL(), "application/json", example(t, "query.json")); status != 200 {
		t.Fatalf("status %d", status)
	}
	if !strings.Contains(srv.LogContents(t), `"https_addr":"`+srv.HTTPSAddr+`"`) {
		t.Error("the start-up log line does not name the HTTPS address")
	}
	srv.Stop(t)
	c.Transport.(*http.Transport).CloseIdleConnections()
	c.Timeout = 5 * time.Second
	if resp, err := c.Post(srv.HTTPSURL(), "application/json", bytes.NewReader(example(t, "query.json"))); err == nil {
		resp.Body.Close()
		t.Fatal("the HTTPS port still answers after SIGTERM")
	}
}
