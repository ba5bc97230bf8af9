// Package hostile attacks the running kmipd binary with malformed, oversized
// and abusive input, below and above TLS. After every case the server must
// still answer a new client, and its resident memory must come back near
// where it started (a generous bound read from /proc, never a timing).
package hostile

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// rssSlack is how far above its baseline kmipd's RSS may stay after a case:
// generous, since the Go runtime returns freed memory to the OS lazily, yet
// far below what an attack that pins memory (a 4 GiB length, hundreds of
// 1 MiB buffers) would leave behind.
const rssSlack = 96 << 20

// Limits the suite's server runs with: short read, handshake and idle
// timeouts so that slow clients are cut off quickly, the rest default.
const serverTOML = `read_timeout = "1s"
handshake_timeout = "1s"
idle_timeout = "30s"
max_connections = 600
`

// Safety net for waits on the server; not an assertion about speed.
const waitBound = 30 * time.Second

type suite struct {
	srv      *harness.Server
	pid      int
	baseline int64 // bytes
	cfg      *tls.Config
}

func TestHostileInput(t *testing.T) {
	srv := harness.Start(t, harness.Options{ExtraServerTOML: serverTOML})
	s := &suite{srv: srv, pid: serverPID(t, srv), cfg: srv.ClientTLSConfig(t, "")}
	s.alive(t)
	s.baseline = s.rss(t)
	t.Logf("kmipd pid %d, baseline RSS %d kB", s.pid, s.baseline>>10)

	for _, c := range []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"truncated header", truncatedHeader},
		{"truncated body", truncatedBody},
		{"oversized length", oversizedLength},
		{"message above max_message_size", aboveMaxSize},
		{"wrong item types", wrongTypes},
		{"invalid tags", invalidTags},
		{"deep nesting", deepNesting},
		{"huge batch", hugeBatch},
		{"invalid UTF-8", invalidUTF8},
		{"non-zero padding", nonZeroPadding},
		{"inner length overrun", innerLengthOverrun},
		{"random bytes over TLS", randomBytesTLS},
		{"random bytes over TCP", randomBytesTCP},
		{"plain TCP request", plainTCP},
		{"no client certificate", noClientCert},
		{"unknown CA", unknownCA},
		{"expired certificate", expiredCert},
		{"slowloris body", slowlorisBody},
		{"stalled handshake", stalledHandshake},
		{"hundreds of idle connections", idleConnections},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, s)
			s.alive(t)
			s.memoryBack(t)
		})
	}
	if log := srv.LogContents(t); strings.Contains(log, "panic") {
		t.Errorf("the server log reports a panic:\n%s", log)
	}
}

// serverPID finds the kmipd process by its configuration path, which is
// unique to this server.
func serverPID(t *testing.T, srv *harness.Server) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(srv.ConfigPath+"\x00")) {
			return pid
		}
	}
	t.Fatalf("no process runs with %s", srv.ConfigPath)
	return 0
}

// rss returns kmipd's resident set size in bytes (VmRSS).
func (s *suite) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// memoryBack requires RSS within rssSlack of the baseline; it polls for a
// while, since freed memory reaches the OS lazily.
func (s *suite) memoryBack(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		r := s.rss(t)
		if r <= s.baseline+rssSlack {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("RSS %d kB stays above baseline %d kB + %d kB", r>>10, s.baseline>>10, rssSlack>>10)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alive requires a new client to get an answer to a Query.
func (s *suite) alive(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	c, err := kmipclient.Dial(ctx, s.srv.Addr, s.cfg)
	if err != nil {
		t.Fatalf("server no longer accepts a client: %v", err)
	}
	defer c.Close()
	if _, err := c.Call(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations))); err != nil {
		t.Fatalf("server no longer answers a Query: %v", err)
	}
}

// dialTLS opens a TLS connection with the admin certificate.
func (s *suite) dialTLS(t *testing.T) *tls.Conn {
	t.Helper()
	return dialWith(t, s.srv.Addr, s.cfg)
}

func dialWith(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: waitBound}, Config: cfg}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*tls.Conn)
}

// closedByServer requires the server to close c without answering: reading
// ends in EOF or a reset, never in a response.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitBound))
	b, err := io.ReadAll(c)
	if len(b) > 0 {
		t.Fatalf("server answered %d bytes; want the connection closed", len(b))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept the connection open")
	}
}

// invalidAnswer sends raw on a TLS connection and requires a KMIP response
// whose (single) batch item failed with Invalid Message or Invalid Field, and
// the connection to stay usable for a valid request.
func (s *suite) invalidAnswer(t *testing.T, raw []byte, reasons ...kmip.ResultReason) {
	t.Helper()
	c := s.dialTLS(t)
	resp := roundTrip(t, c, raw)
	items, err := kmipclient.Results(resp)
	if err != nil || len(items) == 0 {
		t.Fatalf("response %v: %v", resp, err)
	}
	var oe *kmipclient.OperationError
	if !errors.As(items[0].Err, &oe) {
		t.Fatalf("hostile request succeeded: %v", resp)
	}
	if len(reasons) == 0 {
		reasons = []kmip.ResultReason{kmip.ResultReasonInvalidMessage}
	}
	ok := false
	for _, r := range reasons {
		ok = ok || oe.Reason == r
	}
	if !ok {
		t.Errorf("result reason %v, want one of %v", oe.Reason, reasons)
	}
	// The same connection still serves a valid request.
	q, _ := ttlv.Encode(queryRequest(1))
	if _, err := kmipclient.Results(roundTrip(t, c, q)); err != nil {
		t.Fatalf("connection unusable after the invalid message: %v", err)
	}
}

func roundTrip(t *testing.T, c net.Conn, raw []byte) *kmip.Item {
	t.Helper()
	c.SetDeadline(time.Now().Add(waitBound))
	if _, err := c.Write(raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	b, err := ttlv.ReadMessage(c, nil, 0)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	resp, err := ttlv.Decode(b, ttlv.Limits{})
	if err != nil {
		t.Fatalf("decoding the response: %v", err)
	}
	return resp
}

// queryRequest is a KMIP 1.4 request message of n Query batch items.
func queryRequest(n int) *kmip.Item {
	items := make([]*kmip.Item, n)
	for i := range items {
		items[i] = kmipclient.BatchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	}
	c := &kmipclient.Client{Major: 1, Minor: 4}
	return c.Request(items...)
}

// header is an 8-byte TTLV item header.
func header(tag kmip.Tag, typ kmip.Type, length uint32) []byte {
	b := make([]byte, 8)
	b[0], b[1], b[2], b[3] = byte(tag>>16), byte(tag>>8), byte(tag), byte(typ)
	binary.BigEndian.PutUint32(b[4:], length)
	return b
}

// wrap encodes a Request Message whose body is a header with protocol 1.4
// and batch count 1 followed by body (raw TTLV).
func wrap(body []byte) []byte {
	hdr, _ := ttlv.Encode(kmip.Struct(kmip.TagRequestHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
		kmip.Int(kmip.TagBatchCount, 1)))
	inner := append(hdr, body...)
	return append(header(kmip.TagRequestMessage, kmip.TypeStructure, uint32(len(inner))), inner...)
}

// batchItem encodes a Batch Item of op whose Request Payload is payload (raw TTLV).
func batchItem(op kmip.Operation, payload []byte) []byte {
	opb, _ := ttlv.Encode(kmip.Enum(kmip.TagOperation, uint32(op)))
	pl := append(header(kmip.TagRequestPayload, kmip.TypeStructure, uint32(len(payload))), payload...)
	inner := append(opb, pl...)
	return append(header(kmip.TagBatchItem, kmip.TypeStructure, uint32(len(inner))), inner...)
}

func truncatedHeader(t *testing.T, s *suite) {
	c := s.dialTLS(t)
	c.Write([]byte{0x42, 0x00, 0x78, 0x01, 0x00})
	c.CloseWrite()
	closedByServer(t, c)
}

func truncatedBody(t *testing.T, s *suite) {
	full, _ := ttlv.Encode(queryRequest(1))
	c := s.dialTLS(t)
	c.Write(full[:len(full)/2])
	c.CloseWrite()
	closedByServer(t, c)
}

func oversizedLength(t *testing.T, s *suite) {
	c := s.dialTLS(t)
	c.Write(header(kmip.TagRequestMessage, kmip.TypeStructure, 0xFFFFFFF0))
	c.Write(make([]byte, 4096))
	closedByServer(t, c)
}

func aboveMaxSize(t *testing.T, s *suite) {
	// A well-formed message just above the 1 MiB default: one Query whose
	// payload carries a large Byte String.
	big := kmip.Bytes(kmip.TagData, make([]byte, 1<<20))
	req := queryRequest(1)
	req.ChildrenOf(kmip.TagBatchItem)[0].Child(kmip.TagRequestPayload).Add(big)
	raw, err := ttlv.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	c := s.dialTLS(t)
	go func() { c.Write(raw) }() // the server may close before reading it all
	closedByServer(t, c)
}

func wrongTypes(t *testing.T, s *suite) {
	// Batch Count as a Text String, Operation as an Integer.
	hdr, _ := ttlv.Encode(kmip.Struct(kmip.TagRequestHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
		kmip.Text(kmip.TagBatchCount, "1")))
	bi, _ := ttlv.Encode(kmip.Struct(kmip.TagBatchItem, kmip.Int(kmip.TagOperation, int32(kmip.OperationQuery)), kmip.Struct(kmip.TagRequestPayload)))
	inner := append(hdr, bi...)
	s.invalidAnswer(t, append(header(kmip.TagRequestMessage, kmip.TypeStructure, uint32(len(inner))), inner...),
		kmip.ResultReasonInvalidMessage, kmip.ResultReasonInvalidField)

	// A fixed-length type with the wrong length (an Integer of 8 bytes).
	bad := append(header(kmip.TagQueryFunction, kmip.TypeInteger, 8), make([]byte, 8)...)
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, bad)))
	// An unknown item type.
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, append(header(kmip.TagQueryFunction, 0x0C, 4), 0, 0, 0, 1, 0, 0, 0, 0))))
}

func invalidTags(t *testing.T, s *suite) {
	// A tag outside 0x42xxxx/0x54xxxx inside the payload.
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, append(header(0x000001, kmip.TypeInteger, 4), 0, 0, 0, 1, 0, 0, 0, 0))))
	// A well-formed but unregistered tag where the Operation should be.
	pl := header(kmip.TagRequestPayload, kmip.TypeStructure, 0)
	inner := append(append(header(0x42FFFE, kmip.TypeEnumeration, 4), 0, 0, 0, 0x18, 0, 0, 0, 0), pl...)
	s.invalidAnswer(t, wrap(append(header(kmip.TagBatchItem, kmip.TypeStructure, uint32(len(inner))), inner...)),
		kmip.ResultReasonInvalidMessage, kmip.ResultReasonInvalidField)
}

func deepNesting(t *testing.T, s *suite) {
	// 200 nested structures inside the payload (the default limit is 64).
	var body []byte
	body = append(header(kmip.TagQueryFunction, kmip.TypeEnumeration, 4), 0, 0, 0, 1, 0, 0, 0, 0)
	for range 200 {
		body = append(header(kmip.TagAttribute, kmip.TypeStructure, uint32(len(body))), body...)
	}
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, body)))
}

func hugeBatch(t *testing.T, s *suite) {
	// 12,000 batch items (the default cap is 1000), about 770 KB.
	raw, err := ttlv.Encode(queryRequest(12000))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 1<<20 {
		t.Fatalf("test message of %d bytes exceeds max_message_size", len(raw))
	}
	s.invalidAnswer(t, raw)
}

func invalidUTF8(t *testing.T, s *suite) {
	txt := append(header(kmip.TagAttributeName, kmip.TypeTextString, 4), 0xff, 0xfe, 0xc3, 0x28, 0, 0, 0, 0)
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationLocate, txt)))
}

func nonZeroPadding(t *testing.T, s *suite) {
	e := append(header(kmip.TagQueryFunction, kmip.TypeEnumeration, 4), 0, 0, 0, 1, 0, 0, 0, 7)
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, e)))
}

func innerLengthOverrun(t *testing.T, s *suite) {
	// A Byte String that claims more bytes than its structure holds.
	b := append(header(kmip.TagData, kmip.TypeByteString, 1000), make([]byte, 8)...)
	s.invalidAnswer(t, wrap(batchItem(kmip.OperationQuery, b)))
}

func randomBytesTLS(t *testing.T, s *suite) {
	rng := mrand.New(mrand.NewPCG(7, 7))
	for i := range 20 {
		b := make([]byte, 1+rng.IntN(4096))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%2 == 0 {
			b[0] = 0x42 // get past the first framing check half of the time
		}
		c := s.dialTLS(t)
		c.SetDeadline(time.Now().Add(waitBound))
		c.Write(b)
		c.CloseWrite()
		// Whatever the server does (answer Invalid Message or close), it
		// must end the exchange: read until EOF.
		if _, err := io.ReadAll(c); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("random message %d: server neither answered nor closed", i)
			}
		}
		c.Close()
	}
}

func randomBytesTCP(t *testing.T, s *suite) {
	rng := mrand.New(mrand.NewPCG(9, 9))
	for range 20 {
		b := make([]byte, 1+rng.IntN(2048))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		c, err := net.DialTimeout("tcp", s.srv.Addr, waitBound)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(b)
		c.SetReadDeadline(time.Now().Add(waitBound))
		io.ReadAll(c) // a TLS alert at most, then close
		c.Close()
	}
}

func plainTCP(t *testing.T, s *suite) {
	raw, _ := ttlv.Encode(queryRequest(1))
	c, err := net.DialTimeout("tcp", s.srv.Addr, waitBound)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(raw)
	c.SetReadDeadline(time.Now().Add(waitBound))
	b, _ := io.ReadAll(c)
	if len(b) >= 3 && bytes.HasPrefix(b, []byte{0x42, 0x00, 0x7B}) {
		t.Fatal("server answered a KMIP response in clear")
	}
}

// refused requires a client with cfg to get no KMIP answer: the handshake
// fails, or (TLS 1.3, where the client finishes first) the first round trip.
func (s *suite) refused(t *testing.T, cfg *tls.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	c, err := kmipclient.Dial(ctx, s.srv.Addr, cfg)
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := c.Call(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations))); err == nil {
		t.Fatal("a refused client got an answer")
	}
}

func noClientCert(t *testing.T, s *suite) {
	cfg := s.cfg.Clone()
	cfg.Certificates = nil
	s.refused(t, cfg)
}

func unknownCA(t *testing.T, s *suite) {
	other, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "other"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(other.ClientCert, other.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg.Clone()
	cfg.Certificates = []tls.Certificate{cert}
	s.refused(t, cfg)
}

func expiredCert(t *testing.T, s *suite) {
	cfg := s.cfg.Clone()
	cfg.Certificates = []tls.Certificate{issueExpired(t, s.srv.PKI.CACert, s.srv.PKI.CAKey)}
	s.refused(t, cfg)
}

// issueExpired issues, from the server's own CA, a clientAuth certificate
// for "admin" that expired yesterday.
func issueExpired(t *testing.T, caCertFile, caKeyFile string) tls.Certificate {
	t.Helper()
	caPEM, err := os.ReadFile(caCertFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(caKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(keyPEM)
	caKey, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: kmiptls.DevClientName},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func slowlorisBody(t *testing.T, s *suite) {
	// A valid message sent one byte at a time, slower than the 1s read
	// timeout allows for the whole: the server must cut the client off.
	raw, _ := ttlv.Encode(queryRequest(1))
	c := s.dialTLS(t)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		c.SetReadDeadline(time.Now().Add(waitBound))
		io.ReadAll(c)
	}()
	for _, b := range raw {
		select {
		case <-closed:
			return // cut off before the message was complete
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := c.Write([]byte{b}); err != nil {
			<-closed
			return
		}
	}
	<-closed
	// The message completed before the cut; with read_timeout = 1s and
	// 100 ms per byte that means the read timeout is not enforced.
	t.Fatalf("a %d-byte message sent over %v was not cut off", len(raw), time.Duration(len(raw))*100*time.Millisecond)
}

func stalledHandshake(t *testing.T, s *suite) {
	// TCP connections that never start TLS are closed by the handshake timeout.
	var conns []net.Conn
	for range 50 {
		c, err := net.DialTimeout("tcp", s.srv.Addr, waitBound)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		closedByServer(t, c)
		c.Close()
	}
}

func idleConnections(t *testing.T, s *suite) {
	// 400 completed TLS connections that then say nothing; the server keeps
	// serving others meanwhile.
	conns := make([]*tls.Conn, 0, 400)
	for range 400 {
		conns = append(conns, s.dialTLS(t))
	}
	s.alive(t)
	// Half of them now send a request: they are still served.
	q, _ := ttlv.Encode(queryRequest(1))
	for _, c := range conns[:200] {
		roundTrip(t, c, q)
	}
	for _, c := range conns {
		c.Close()
	}
}
