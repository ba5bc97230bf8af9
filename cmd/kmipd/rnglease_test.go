package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestRNGAndLeaseDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Crypto.RNG != "os" || time.Duration(c.Server.LeaseTime) != time.Hour {
		t.Fatalf("rng %q, lease_time %s", c.Crypto.RNG, time.Duration(c.Server.LeaseTime))
	}
	e, err := cryptoEngines[c.Crypto.Type](c.Crypto)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(ports.RNGDescriber).RNG().Algorithm; got != uint32(kmip.RNGAlgorithmUnspecified) {
		t.Fatalf("default engine RNG %d", got)
	}
}

func TestRNGAndLeaseKeys(t *testing.T) {
	c, err := load(t, "[server]\nlease_time = \"0s\"\n[crypto]\nrng = \"X9.31-AES256\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Crypto.RNG != "x9.31-aes256" || c.Server.LeaseTime != 0 {
		t.Fatalf("rng %q, lease_time %s", c.Crypto.RNG, time.Duration(c.Server.LeaseTime))
	}
	e, err := cryptoEngines[c.Crypto.Type](c.Crypto)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(ports.RNGDescriber).RNG(); got.Algorithm != uint32(kmip.RNGAlgorithmANSIX9_31) || got.Length != 256 {
		t.Fatalf("x9.31 engine describes %+v", got)
	}
	c, err = load(t, "[server]\nlease_time = \"90m\"\n")
	if err != nil || time.Duration(c.Server.LeaseTime) != 90*time.Minute {
		t.Fatalf("lease_time 90m: %v %s", err, time.Duration(c.Server.LeaseTime))
	}
}

func TestBadRNGAndLeaseKeys(t *testing.T) {
	for toml, key := range map[string]string{
		"[server]\nlease_time = \"-1s\"\n":                      "server.lease_time",
		"[server]\nlease_time = \"2000000h\"\n":                 "server.lease_time",
		"[crypto]\nrng = \"x9.17\"\n":                           "crypto.rng",
		"[crypto]\ntype = \"pkcs11\"\nrng = \"x9.31-aes256\"\n": "crypto.rng",
	} {
		_, err := load(t, toml)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%q: err = %v, want a %s error", toml, err, key)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, key) {
			t.Errorf("%q: message %q is not one line naming %s", toml, msg, key)
		}
	}
}
