package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// httpsCasesEnv selects the cases TestConformanceHTTPS replays: a regular
// expression over case names, or "all"; the default is the message-encoding
// cases, ^MSGENC-.
const httpsCasesEnv = "KMIPD_CONFORMANCE_HTTPS"

// httpsEncoding is one message encoding of the HTTPS transport.
type httpsEncoding struct {
	name, ctype string
	encode      func(*kmip.Item) ([]byte, error)
	decode      func([]byte) (*kmip.Item, error)
}

var httpsEncodings = []*httpsEncoding{
	{"ttlv", "application/octet-stream", ttlv.Encode,
		func(b []byte) (*kmip.Item, error) { return ttlv.Decode(b, ttlv.DefaultLimits) }},
	{"json", "application/json", func(it *kmip.Item) ([]byte, error) { return kmipjson.Append(nil, it) },
		func(b []byte) (*kmip.Item, error) { return kmipjson.Decode(b, ttlv.DefaultLimits) }},
	{"xml", "text/xml", xmlBytes,
		func(b []byte) (*kmip.Item, error) { return kmipxml.Decode(bytes.NewReader(b)) }},
}

func xmlBytes(it *kmip.Item) ([]byte, error) {
	var b bytes.Buffer
	err := kmipxml.Encode(&b, it)
	return b.Bytes(), err
}

// sender posts each request to url in the encoding and decodes the answer,
// which must come back 200 in the same encoding.
func (e *httpsEncoding) sender(c *http.Client, url string) func(*kmip.Item) (*kmip.Item, error) {
	return func(req *kmip.Item) (*kmip.Item, error) {
		body, err := e.encode(req)
		if err != nil {
			return nil, fmt.Errorf("encode as %s: %v", e.name, err)
		}
		resp, err := c.Post(url, e.ctype, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("POST: %v", err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		if _, err := out.ReadFrom(resp.Body); err != nil {
			return nil, fmt.Errorf("read response: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP status %d: %.200s", resp.StatusCode, out.String())
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != e.ctype {
			return nil, fmt.Errorf("response Content-Type %q, want %q", mt, e.ctype)
		}
		it, err := e.decode(out.Bytes())
		if err != nil {
			return nil, fmt.Errorf("decode %s response: %v", e.name, err)
		}
		return it, nil
	}
}

// encodingsRoundTrip checks that a response kmipd produced survives
// TTLV → JSON → TTLV and TTLV → XML → TTLV unchanged (the XML encoder may
// refuse a Text String XML 1.0 cannot hold, never alter it).
func encodingsRoundTrip(resp *kmip.Item) error {
	want, err := ttlv.Encode(resp)
	if err != nil {
		return fmt.Errorf("response does not encode as TTLV: %v", err)
	}
	js, err := kmipjson.Append(nil, resp)
	if err != nil {
		return fmt.Errorf("response does not encode as JSON: %v", err)
	}
	back, err := kmipjson.Decode(js, ttlv.DefaultLimits)
	if err != nil {
		return fmt.Errorf("response's JSON does not decode: %v", err)
	}
	if got, _ := ttlv.Encode(back); !bytes.Equal(got, want) {
		return errors.New("TTLV → JSON → TTLV changed the response")
	}
	x, err := xmlBytes(resp)
	if errors.Is(err, kmipxml.ErrInvalid) && strings.Contains(err.Error(), "XML 1.0") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("response does not encode as XML: %v", err)
	}
	back, err = kmipxml.Decode(bytes.NewReader(x))
	if err != nil {
		return fmt.Errorf("response's XML does not decode: %v", err)
	}
	if got, _ := ttlv.Encode(back); !bytes.Equal(got, want) {
		return errors.New("TTLV → XML → TTLV changed the response")
	}
	return nil
}

// TestConformanceHTTPS replays cases (the MSGENC ones unless
// KMIPD_CONFORMANCE_HTTPS says otherwise) over the real HTTPS listener in
// each encoding, against a fresh kmipd each; a case of expected-pass.txt
// must pass in every encoding.
func TestConformanceHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance run skipped in -short mode")
	}
	sel := os.Getenv(httpsCasesEnv)
	switch sel {
	case "":
		sel = "^MSGENC-"
	case "all":
		sel = ""
	}
	re, err := regexp.Compile(sel)
	if err != nil {
		t.Fatalf("%s: %v", httpsCasesEnv, err)
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(filepath.Dir(root), "shared", "conformance")
	if d := os.Getenv(dirEnv); d != "" {
		shared = d
	}
	var files []string
	for _, d := range caseDirs {
		m, _ := filepath.Glob(filepath.Join(shared, d, "*.xml"))
		for _, f := range m {
			if re.MatchString(strings.TrimSuffix(filepath.Base(f), ".xml")) {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		skipOrFailOnCI(t, "no OASIS test cases matching %q in %s", sel, shared)
	}
	expected, err := readExpected(expectedPassFile)
	if err != nil {
		t.Fatal(err)
	}
	harness.Binary(t)
	keys := SuitePrivateKeys(files)
	var jobs []caseJob
	for _, f := range files {
		for _, enc := range httpsEncodings {
			jobs = append(jobs, caseJob{name: strings.TrimSuffix(filepath.Base(f), ".xml") + "/" + enc.name, file: f, enc: enc})
		}
	}
	results := runCases(t, jobs, keys, issuingCA(t))
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	var matrix strings.Builder
	for _, n := range names {
		r := results[n]
		status := "PASS"
		if !r.pass {
			status = "FAIL " + r.reason
		}
		fmt.Fprintf(&matrix, "%-40s %s\n", n, status)
		if c, _, _ := strings.Cut(n, "/"); expected[c] && !r.pass {
			t.Errorf("%s is in %s but fails over HTTPS: %s", n, expectedPassFile, r.reason)
		}
	}
	t.Log("\nKMIP conformance over HTTPS:\n" + matrix.String())
}
