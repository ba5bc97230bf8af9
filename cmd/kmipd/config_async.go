package main

import (
	"time"

	"github.com/kmipd/kmipd/app"
)

// AsyncConfig are the [server] keys of asynchronous operations
// (app/async.go): when a request's Asynchronous Indicator allows it, a
// long Create, Create Key Pair, Re-key, Re-key Key Pair, Derive Key,
// Locate, Archive or Recover is answered Operation Pending and finishes
// later; Poll and Cancel on any node sharing the store answer it.
type AsyncConfig struct {
	// AsyncAfter is how long an eligible item runs before it is answered
	// Operation Pending (default 1s; "0s": at once).
	AsyncAfter duration `toml:"async_after"`
	// AsyncResultTTL is how long a pending operation's record, and its
	// outcome once finished, are kept after their last write (default 10m).
	AsyncResultTTL duration `toml:"async_result_ttl"`
	// AsyncLease is how long a pending operation stays pending without a
	// heartbeat of the node running it (default 15s).
	AsyncLease duration `toml:"async_lease"`
	// MaxAsyncPerClient bounds one client's pending and kept operations
	// (default 64); 0 turns asynchronous answers off.
	MaxAsyncPerClient int `toml:"max_async_per_client"`
}

func defaultAsyncConfig() AsyncConfig {
	return AsyncConfig{AsyncAfter: duration(time.Second), AsyncResultTTL: duration(10 * time.Minute),
		AsyncLease: duration(15 * time.Second), MaxAsyncPerClient: 64}
}

// app returns the options as the app layer takes them.
func (a AsyncConfig) app() app.AsyncOptions {
	return app.AsyncOptions{Off: a.MaxAsyncPerClient == 0, After: time.Duration(a.AsyncAfter),
		ResultTTL: time.Duration(a.AsyncResultTTL), Lease: time.Duration(a.AsyncLease), MaxPerClient: a.MaxAsyncPerClient}
}

// validate refuses a negative async_after or max_async_per_client, a lease
// under one second (the node beats it every third) and a result TTL
// shorter than the lease.
func (a AsyncConfig) validate() error {
	switch {
	case a.AsyncAfter < 0:
		return keyErr("server.async_after", "%s is negative", time.Duration(a.AsyncAfter))
	case a.AsyncLease < duration(time.Second):
		return keyErr("server.async_lease", "%s is below the minimum of 1s", time.Duration(a.AsyncLease))
	case a.AsyncResultTTL < a.AsyncLease:
		return keyErr("server.async_result_ttl", "%s is below server.async_lease (%s)", time.Duration(a.AsyncResultTTL), time.Duration(a.AsyncLease))
	case a.MaxAsyncPerClient < 0:
		return keyErr("server.max_async_per_client", "%d is negative", a.MaxAsyncPerClient)
	}
	return nil
}
