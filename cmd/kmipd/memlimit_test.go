package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The cgroup limit is the lowest set on kmipd's cgroup or an ancestor, in
// v2 or v1; "max" and v1's near-2^63 value mean none.
func TestCgroupMemoryLimit(t *testing.T) {
	root := t.TempDir()
	old := cgroupRoot
	cgroupRoot = root
	t.Cleanup(func() { cgroupRoot = old })
	paths := map[string]string{"": "/a/b", "memory": "/x"}
	lowest := func() int64 { return lowestCgroupLimit(paths) }
	if got := lowest(); got != 0 {
		t.Fatalf("no cgroup files: limit %d, want 0", got)
	}
	writeFile(t, filepath.Join(root, "a/b/memory.max"), "max\n")
	writeFile(t, filepath.Join(root, "memory/memory.limit_in_bytes"), "9223372036854771712\n")
	if got := lowest(); got != 0 {
		t.Fatalf("unlimited cgroups: limit %d, want 0", got)
	}
	writeFile(t, filepath.Join(root, "a/memory.max"), "209715200\n") // the parent: 200 MiB
	if got := lowest(); got != 200<<20 {
		t.Fatalf("parent limit: %d, want %d", got, 200<<20)
	}
	writeFile(t, filepath.Join(root, "memory/x/memory.limit_in_bytes"), "157286400\n") // v1: 150 MiB
	if got := lowest(); got != 150<<20 {
		t.Fatalf("v1 limit: %d, want %d", got, 150<<20)
	}
}

// The memory budget defaults to the connection cap times the message size,
// lowered to an eighth of a cgroup limit, never below one message; a configured
// budget is kept.
func TestMemoryBudgetDefault(t *testing.T) {
	s := defaultConfig().Server
	if got := memoryBudget(s, 0); got != 1024<<20 {
		t.Errorf("no cgroup: %d, want 1 GiB", got)
	}
	if got := memoryBudget(s, 200<<20); got != 25<<20 {
		t.Errorf("200 MiB cgroup: %d, want 25 MiB", got)
	}
	if got := memoryBudget(s, 4<<20); got != 1<<20 {
		t.Errorf("4 MiB cgroup: %d, want one message (1 MiB)", got)
	}
	s.MemoryBudget = 8 << 20
	if got := memoryBudget(s, 150<<20); got != 8<<20 {
		t.Errorf("configured: %d, want 8 MiB", got)
	}
}

func TestMemoryBudgetKeys(t *testing.T) {
	c, err := load(t, "[server]\nmemory_budget = 67108864\nmemory_budget_per_client = 16777216\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.MemoryBudget != 64<<20 || c.Server.MemoryBudgetPerClient != 16<<20 {
		t.Errorf("memory budget = %d, per client %d", c.Server.MemoryBudget, c.Server.MemoryBudgetPerClient)
	}
	for toml, key := range map[string]string{
		"memory_budget = 1000":                                         "server.memory_budget",
		"memory_budget_per_client = 4096":                              "server.memory_budget_per_client",
		"memory_budget = 2097152\nmemory_budget_per_client = 4194304":  "server.memory_budget_per_client",
		"max_message_size = 4096\nmemory_budget = 4095":                "server.memory_budget",
		"memory_budget = 2097152\nmemory_budget_per_client = -1048576": "server.memory_budget_per_client",
	} {
		_, err := load(t, "[server]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}
