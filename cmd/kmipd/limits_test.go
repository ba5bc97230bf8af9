package main

import (
	"errors"
	"testing"
	"time"
)

func TestLimitDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if time.Duration(s.RequestTimeout) != 30*time.Second || s.MaxBatchItems != 1000 ||
		s.MaxNestingDepth != 64 || s.MaxMessageItems != 100000 || s.PprofAddress != "" {
		t.Errorf("limit defaults = %+v", s)
	}
}

func TestLimitKeys(t *testing.T) {
	c, err := load(t, `[server]
request_timeout = "5s"
max_batch_items = 10
max_nesting_depth = 16
max_message_items = 500
pprof_address = "127.0.0.1:6060"
`)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if time.Duration(s.RequestTimeout) != 5*time.Second || s.MaxBatchItems != 10 || s.MaxNestingDepth != 16 ||
		s.MaxMessageItems != 500 || s.PprofAddress != "127.0.0.1:6060" {
		t.Errorf("limits = %+v", s)
	}
	c, err = load(t, "", "-pprof", "localhost:6061")
	if err != nil || c.Server.PprofAddress != "localhost:6061" {
		t.Errorf("-pprof: %v %q", err, c.Server.PprofAddress)
	}
}

func TestBadLimitKeys(t *testing.T) {
	for toml, key := range map[string]string{
		"request_timeout = \"0s\"":           "server.request_timeout",
		"max_batch_items = 0":                "server.max_batch_items",
		"max_message_items = -1":             "server.max_message_items",
		"max_nesting_depth = 2":              "server.max_nesting_depth",
		"max_nesting_depth = 5000":           "server.max_nesting_depth",
		"pprof_address = \"0.0.0.0:6060\"":   "server.pprof_address",
		"pprof_address = \"10.1.2.3:6060\"":  "server.pprof_address",
		"pprof_address = \"127.0.0.1\"":      "server.pprof_address",
		"pprof_address = \"example.com:80\"": "server.pprof_address",
	} {
		_, err := load(t, "[server]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}
