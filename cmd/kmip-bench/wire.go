package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// rawConn is one load-generator connection: it writes request messages that
// were encoded once and reads each response into a buffer it reuses, so that
// a measured round trip allocates nothing on the generator's side.
type rawConn struct {
	conn    *tls.Conn
	buf     []byte
	timeout time.Duration
	broken  bool
}

func dialRaw(ctx context.Context, addr string, cfg *tls.Config) (*rawConn, error) {
	d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: c.(*tls.Conn), timeout: 30 * time.Second}, nil
}

func (c *rawConn) Close() error { return c.conn.Close() }

// roundTrip writes the encoded request msg and returns the response message's
// bytes, valid until the next round trip. A failed round trip breaks the
// connection for good: its stream can no longer be matched to requests.
func (c *rawConn) roundTrip(msg []byte) ([]byte, error) {
	if c.broken {
		return nil, kmipclient.ErrBroken
	}
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(msg); err != nil {
		c.broken = true
		c.conn.Close()
		return nil, err
	}
	b, err := ttlv.ReadMessage(c.conn, c.buf, ttlv.DefaultLimits.MaxSize)
	if err != nil {
		c.broken = true
		c.conn.Close()
		return nil, err
	}
	c.buf = b[:0]
	return b, nil
}

// encodeRequest encodes a request message of protocol p holding items.
func encodeRequest(p protocol, items ...*kmip.Item) []byte {
	c := &kmipclient.Client{Major: p.major, Minor: p.minor}
	b, err := ttlv.Encode(c.Request(items...))
	if err != nil {
		panic(fmt.Sprintf("kmip-bench: encoding a request it built: %v", err)) // a bug in requests.go
	}
	return b
}

// errScan is a response the fast scan cannot read; the caller decodes it fully.
var errScan = errors.New("response is not a well-formed Response Message")

// scanStatuses appends the Result Status of each batch item of the encoded
// Response Message msg to dst, without decoding anything else. Items without
// a Result Status append ResultStatusOperationFailed.
func scanStatuses(dst []kmip.ResultStatus, msg []byte) ([]kmip.ResultStatus, error) {
	if len(msg) < 8 || kmip.Tag(uint32(msg[0])<<16|uint32(msg[1])<<8|uint32(msg[2])) != kmip.TagResponseMessage || msg[3] != byte(kmip.TypeStructure) {
		return dst, errScan
	}
	body := msg[8:]
	for len(body) > 0 {
		tag, typ, v, rest, ok := nextItem(body)
		if !ok {
			return dst, errScan
		}
		body = rest
		if tag != kmip.TagBatchItem || typ != kmip.TypeStructure {
			continue
		}
		st := kmip.ResultStatusOperationFailed
		for len(v) > 0 {
			t, ty, iv, r, ok := nextItem(v)
			if !ok {
				return dst, errScan
			}
			v = r
			if t == kmip.TagResultStatus && ty == kmip.TypeEnumeration && len(iv) == 4 {
				st = kmip.ResultStatus(binary.BigEndian.Uint32(iv))
				break
			}
		}
		dst = append(dst, st)
	}
	return dst, nil
}

// nextItem splits the first TTLV item off b: its tag, type, value (without
// padding) and what follows it.
func nextItem(b []byte) (kmip.Tag, kmip.Type, []byte, []byte, bool) {
	if len(b) < 8 {
		return 0, 0, nil, nil, false
	}
	tag := kmip.Tag(uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]))
	typ := kmip.Type(b[3])
	n := int(binary.BigEndian.Uint32(b[4:8]))
	padded := (n + 7) &^ 7
	if n < 0 || padded > len(b)-8 {
		return 0, 0, nil, nil, false
	}
	return tag, typ, b[8 : 8+n], b[8+padded:], true
}

// decodeResults fully decodes a response message into its batch items: the
// slow path, for setup and for responses holding a failure.
func decodeResults(msg []byte) ([]kmipclient.Result, error) {
	resp, err := ttlv.Decode(msg, ttlv.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return kmipclient.Results(resp)
}
