// Package kmipclient is a minimal KMIP client over TLS with the binary TTLV
// encoding: it sends request messages and reads their responses on one
// persistent connection. kmipd's own tests and load tools use it.
package kmipclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Client is one KMIP connection. Its methods are safe for concurrent use;
// requests are serialized on the connection.
type Client struct {
	// Major and Minor are the protocol version Call puts in request headers.
	Major, Minor int32
	// Timeout bounds one round trip (default 30s).
	Timeout time.Duration

	mu   sync.Mutex
	conn net.Conn
	buf  []byte
}

// Dial opens a TLS connection to addr and completes the handshake.
func Dial(ctx context.Context, addr string, cfg *tls.Config) (*Client, error) {
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Client{Major: 1, Minor: 4, conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RoundTrip sends one request message and returns the decoded response message.
func (c *Client) RoundTrip(req *kmip.Item) (*kmip.Item, error) {
	b, err := ttlv.Encode(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(b); err != nil {
		return nil, err
	}
	c.buf, err = ttlv.ReadMessage(c.conn, c.buf, ttlv.DefaultLimits.MaxSize)
	if err != nil {
		return nil, err
	}
	return ttlv.Decode(c.buf, ttlv.DefaultLimits)
}

// OperationError is a batch item that failed.
type OperationError struct {
	Status  kmip.ResultStatus
	Reason  kmip.ResultReason
	Message string
}

func (e *OperationError) Error() string {
	return fmt.Sprintf("kmip: %s: %s (%s)", e.Status, e.Reason, e.Message)
}

// Request builds a request message of the client's protocol version holding
// one batch item per operation/payload pair.
func (c *Client) Request(items ...*kmip.Item) *kmip.Item {
	m := kmip.Struct(kmip.TagRequestMessage, kmip.Struct(kmip.TagRequestHeader,
		kmip.Struct(kmip.TagProtocolVersion,
			kmip.Int(kmip.TagProtocolVersionMajor, c.Major), kmip.Int(kmip.TagProtocolVersionMinor, c.Minor)),
		kmip.Int(kmip.TagBatchCount, int32(len(items)))))
	return m.Add(items...)
}

// BatchItem builds a request batch item.
func BatchItem(op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(op)),
		kmip.Struct(kmip.TagRequestPayload, payload...))
}

// Call runs one operation and returns its response payload, or an
// *OperationError when the server answered with a failure.
func (c *Client) Call(op kmip.Operation, payload ...*kmip.Item) (*kmip.Item, error) {
	resp, err := c.RoundTrip(c.Request(BatchItem(op, payload...)))
	if err != nil {
		return nil, err
	}
	items, err := Results(resp)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, fmt.Errorf("kmip: %d batch items in the response to one", len(items))
	}
	return items[0].Payload, items[0].Err
}

// Result is one response batch item.
type Result struct {
	Payload *kmip.Item
	Err     error // *OperationError when the item failed
}

// Results splits a response message into its batch items.
func Results(resp *kmip.Item) ([]Result, error) {
	if resp == nil || resp.Tag != kmip.TagResponseMessage {
		return nil, errors.New("kmip: not a response message")
	}
	var out []Result
	for _, bi := range resp.ChildrenOf(kmip.TagBatchItem) {
		st, _ := bi.Child(kmip.TagResultStatus).AsEnum()
		r := Result{Payload: bi.Child(kmip.TagResponsePayload)}
		if kmip.ResultStatus(st) != kmip.ResultStatusSuccess {
			rr, _ := bi.Child(kmip.TagResultReason).AsEnum()
			msg, _ := bi.Child(kmip.TagResultMessage).AsText()
			r.Err = &OperationError{Status: kmip.ResultStatus(st), Reason: kmip.ResultReason(rr), Message: msg}
		}
		out = append(out, r)
	}
	return out, nil
}
