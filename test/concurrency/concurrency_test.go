// Package concurrency checks that the real binary serves many simultaneous
// connections and clients, each seeing only its own objects.
package concurrency

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

func createAES(c *kmipclient.Client, name string) (string, error) {
	p, err := c.Call(kmip.OperationCreate,
		kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, name)...)
	if err != nil {
		return "", err
	}
	id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
	return id, nil
}

// TestManyConnections opens 200 connections at once, spread over four client
// identities; every connection creates, fetches and locates its own keys,
// and no client ever sees another's key.
func TestManyConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: storage})
			const conns, perConn = 200, 3
			users := []string{"alice", "bob", "carol", "dave"}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			clients := make([]*kmipclient.Client, conns)
			for i := range clients {
				c, err := kmipclient.Dial(ctx, srv.Addr, srv.ClientTLSConfig(t, users[i%len(users)]))
				if err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
				defer c.Close()
				clients[i] = c
			}
			var wg sync.WaitGroup
			errs := make(chan error, conns)
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					user := users[i%len(users)]
					for j := 0; j < perConn; j++ {
						name := fmt.Sprintf("%s-%d-%d", user, i, j)
						id, err := createAES(c, name)
						if err != nil {
							errs <- fmt.Errorf("%s create: %w", name, err)
							return
						}
						if _, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id)); err != nil {
							errs <- fmt.Errorf("%s get: %w", name, err)
							return
						}
						// Another user's key of the same connection index is never visible.
						other := users[(i+1)%len(users)]
						p, err := c.Call(kmip.OperationLocate,
							kmipclient.NameAttribute(fmt.Sprintf("%s-%d-%d", other, i+1, j)))
						if err != nil {
							errs <- fmt.Errorf("%s locate: %w", name, err)
							return
						}
						if n := len(p.ChildrenOf(kmip.TagUniqueIdentifier)); n != 0 {
							errs <- fmt.Errorf("%s located %d of %s's keys", user, n, other)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// Each user sees exactly its own keys.
			for k, u := range users {
				p, err := clients[k].Call(kmip.OperationLocate)
				if err != nil {
					t.Fatal(err)
				}
				if n, want := len(p.ChildrenOf(kmip.TagUniqueIdentifier)), conns/len(users)*perConn; n != want {
					t.Errorf("%s locates %d keys, want %d", u, n, want)
				}
			}
		})
	}
}
