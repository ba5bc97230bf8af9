package kmiphttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// bigAnswer answers every message with a response far larger than the
// socket buffers between server and client.
type bigAnswer struct{ *fakeHandler }

var bigResponse = kmip.Struct(kmip.TagResponseMessage, kmip.Bytes(kmip.TagData, make([]byte, 32<<20)))

func (bigAnswer) HandleMessage(context.Context, *kmip.Item) *kmip.Item { return bigResponse }

// TestWriteTimeout: a client that stops reading its answer has its
// connection cut once RequestTimeout + WriteTimeout have passed, as the TTLV
// port's write timeout cuts it: the whole answer never arrives afterwards.
func TestWriteTimeout(t *testing.T) {
	const short = 300 * time.Millisecond
	ts := startServer(t, func(s *Server) {
		s.Handler = bigAnswer{&fakeHandler{}}
		s.RequestTimeout, s.WriteTimeout = short, short
	})
	// A small receive buffer, set before connecting, so that the kernel
	// cannot take the answer in for the client.
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	raw, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cfg := tlsClient(t, true)
	cfg.NextProtos = []string{"http/1.1"}
	c := tls.Client(raw, cfg)
	body, _ := ttlv.Encode(testRequest)
	req, _ := http.NewRequest("POST", ts.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * short) // not reading, well past RequestTimeout + WriteTimeout

	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return // cut before even the header arrived
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && n == resp.ContentLength {
		t.Fatalf("the whole %d-byte answer arrived although the client stopped reading past the write timeout", n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("after %d bytes the connection was neither finished nor cut: %v", n, err)
	}
}
