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

// ErrBroken is returned by RoundTrip once an earlier round trip failed
// between writing its request and reading its whole response: the connection
// is closed, as its stream can no longer be matched to requests.
var ErrBroken = errors.New("kmipclient: connection broken by an earlier failed round trip")

// Client is one KMIP connection. Its methods are safe for concurrent use;
// requests are serialized on the connection.
type Client struct {
	// Major and Minor are the protocol version Call puts in request headers.
	Major, Minor int32
	// Timeout bounds one round trip (default 30s).
	Timeout time.Duration
	// Credential, when set, goes in every request header's Authentication
	// (KMIP 1.4 §6.6): see UsernamePassword.
	Credential *kmip.Item

	mu     sync.Mutex
	conn   net.Conn
	buf    []byte
	broken bool // a round trip failed midway; conn is closed
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

// ConnectionState returns the TLS state of the connection, e.g. whether its
// handshake resumed an earlier session.
func (c *Client) ConnectionState() tls.ConnectionState {
	if tc, ok := c.conn.(*tls.Conn); ok {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}

// RoundTrip sends one request message and returns the decoded response
// message. If writing the request or reading the response fails, the
// connection is closed and every later call returns ErrBroken, so that a late
// response is never taken for the answer to another request.
func (c *Client) RoundTrip(req *kmip.Item) (*kmip.Item, error) {
	b, err := ttlv.Encode(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return nil, ErrBroken
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(b); err != nil {
		c.breakConn()
		return nil, err
	}
	c.buf, err = ttlv.ReadMessage(c.conn, c.buf, ttlv.DefaultLimits.MaxSize)
	if err != nil {
		c.breakConn()
		return nil, err
	}
	// A whole message was read, so the stream is still in step even if
	// its content does not decode.
	return ttlv.Decode(c.buf, ttlv.DefaultLimits)
}

// breakConn closes the connection after a failed round trip; callers hold c.mu.
func (c *Client) breakConn() {
	c.broken = true
	c.buf = nil
	_ = c.conn.Close()
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
// Items of a multi-item batch that carry no Unique Batch Item ID get one
// (their position, from 1), as KMIP requires (KMIP 1.4 §7.2).
func (c *Client) Request(items ...*kmip.Item) *kmip.Item {
	hdr := kmip.Struct(kmip.TagRequestHeader, kmip.Struct(kmip.TagProtocolVersion,
		kmip.Int(kmip.TagProtocolVersionMajor, c.Major), kmip.Int(kmip.TagProtocolVersionMinor, c.Minor)))
	if c.Credential != nil {
		hdr.Add(kmip.Struct(kmip.TagAuthentication, c.Credential.Clone()))
	}
	m := kmip.Struct(kmip.TagRequestMessage, hdr.Add(kmip.Int(kmip.TagBatchCount, int32(len(items)))))
	if len(items) > 1 {
		for i, it := range items {
			if it.Child(kmip.TagUniqueBatchItemID) == nil {
				id := kmip.Bytes(kmip.TagUniqueBatchItemID, []byte{byte(i >> 8), byte(i + 1)})
				// The ID follows the Operation, as the batch item's field order requires.
				kids := it.Children()
				out := make([]*kmip.Item, 0, len(kids)+1)
				for j, k := range kids {
					out = append(out, k)
					if j == 0 {
						out = append(out, id)
					}
				}
				it.Value = out
			}
		}
	}
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

// UsernamePassword is a Credential of type Username and Password (KMIP 1.4
// §2.1.2), for Client.Credential.
func UsernamePassword(user, password string) *kmip.Item {
	return kmip.Struct(kmip.TagCredential,
		kmip.Enum(kmip.TagCredentialType, uint32(kmip.CredentialTypeUsernameAndPassword)),
		kmip.Struct(kmip.TagCredentialValue, kmip.Text(kmip.TagUsername, user), kmip.Text(kmip.TagPassword, password)))
}
