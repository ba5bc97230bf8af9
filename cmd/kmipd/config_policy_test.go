package main

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/adapters/policy"
)

func TestPolicyCapKeys(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.MaxPolicies != policy.DefaultMaxPolicies || c.Policy.MaxTotalSize != policy.DefaultMaxTotalSize {
		t.Errorf("defaults: max_policies %d, max_total_size %d", c.Policy.MaxPolicies, c.Policy.MaxTotalSize)
	}
	c, err = load(t, "[policy]\nmax_policies = 50\nmax_total_size = 65536\n")
	if err != nil || c.Policy.MaxPolicies != 50 || c.Policy.MaxTotalSize != 65536 {
		t.Errorf("set: %v, max_policies %d, max_total_size %d", err, c.Policy.MaxPolicies, c.Policy.MaxTotalSize)
	}
	for toml, key := range map[string]string{
		"max_policies = -1":   "policy.max_policies",
		"max_total_size = -5": "policy.max_total_size",
	} {
		_, err := load(t, "[policy]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}
