package hostile

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// Connections beyond max_connections are refused at once (closed before the
// handshake); the ones admitted keep working, and a slot freed by a client
// that leaves is given to the next one.
func TestMaxConnectionsRefusesExcess(t *testing.T) {
	const limit = 8
	srv := harness.Start(t, harness.Options{ExtraServerTOML: "max_connections = 8\n"})
	cfg := srv.ClientTLSConfig(t, "")
	var clients []*kmipclient.Client
	for range limit {
		c, err := kmipclient.Dial(context.Background(), srv.Addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	// A round trip on each proves the server registered all of them.
	for _, c := range clients {
		if _, err := query(c); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := dialOnce(srv.Addr, cfg); err == nil {
		_, qerr := query(c)
		c.Close()
		if qerr == nil {
			t.Fatalf("connection %d was served; max_connections is %d", limit+1, limit)
		}
	}
	for _, c := range clients {
		if _, err := query(c); err != nil {
			t.Fatalf("an admitted client lost service: %v", err)
		}
	}
	// Free one slot; the server notices the close asynchronously, so retry
	// (bounded) until a new client is admitted.
	clients[0].Close()
	deadline := time.Now().Add(waitBound)
	for {
		c, err := dialOnce(srv.Addr, cfg)
		if err == nil {
			_, err = query(c)
			c.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client admitted after one left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if log := srv.LogContents(t); !strings.Contains(log, "too many connections") {
		t.Error("the refusal is not logged")
	}
}

func dialOnce(addr string, cfg *tls.Config) (*kmipclient.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	return kmipclient.Dial(ctx, addr, cfg)
}

func query(c *kmipclient.Client) (*kmip.Item, error) {
	c.Timeout = waitBound
	return c.Call(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
}
