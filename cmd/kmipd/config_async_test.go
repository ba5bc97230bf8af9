package main

import (
	"errors"
	"testing"
	"time"

	"github.com/kmipd/kmipd/app"
)

func TestAsyncKeys(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := app.AsyncOptions{After: time.Second, ResultTTL: 10 * time.Minute, Lease: 15 * time.Second, MaxPerClient: 64}
	if got := c.Server.AsyncConfig.app(); got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	c, err = load(t, "[server]\nasync_after = \"0s\"\nasync_result_ttl = \"1m\"\nasync_lease = \"2s\"\nmax_async_per_client = 0\n")
	if err != nil {
		t.Fatal(err)
	}
	want = app.AsyncOptions{Off: true, ResultTTL: time.Minute, Lease: 2 * time.Second}
	if got := c.Server.AsyncConfig.app(); got != want {
		t.Errorf("set %+v, want %+v", got, want)
	}
	for toml, key := range map[string]string{
		`async_after = "-1s"`:                              "server.async_after",
		`async_lease = "500ms"`:                            "server.async_lease",
		`async_result_ttl = "10s"`:                         "server.async_result_ttl",
		"max_async_per_client = -1":                        "server.max_async_per_client",
		"async_lease = \"1m\"\nasync_result_ttl = \"30s\"": "server.async_result_ttl",
	} {
		_, err := load(t, "[server]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}
