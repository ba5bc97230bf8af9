package main

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// cgroupRoot is where the cgroup file systems are mounted; tests change it.
var cgroupRoot = "/sys/fs/cgroup"

// cgroupMemoryLimit returns the lowest memory limit set on kmipd's cgroup or
// one of its ancestors, in bytes, or 0 when none is set or none can be read.
// It reads cgroup v2 (memory.max) and v1 (memory.limit_in_bytes), locating
// kmipd's cgroup from /proc/self/cgroup and falling back to the root of the
// mount, which is kmipd's own cgroup in a container with a cgroup namespace.
func cgroupMemoryLimit() int64 {
	return lowestCgroupLimit(selfCgroups())
}

// lowestCgroupLimit returns the lowest memory limit set on the cgroups in
// paths (see selfCgroups) or their ancestors, or 0.
func lowestCgroupLimit(paths map[string]string) int64 {
	lowest := int64(0)
	for _, f := range cgroupLimitFiles(paths) {
		if v := readCgroupLimit(f); v > 0 && (lowest == 0 || v < lowest) {
			lowest = v
		}
	}
	return lowest
}

// selfCgroups returns kmipd's cgroup paths from /proc/self/cgroup: the v2
// path under "" and the v1 memory controller's under "memory".
func selfCgroups() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			out[""] = parts[2]
		case containsWord(parts[1], "memory"):
			out["memory"] = parts[2]
		}
	}
	return out
}

func containsWord(list, w string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == w {
			return true
		}
	}
	return false
}

// cgroupLimitFiles lists the limit files of the cgroups in paths and of
// their ancestors, under the v2 and v1 mount points.
func cgroupLimitFiles(paths map[string]string) []string {
	var files []string
	add := func(dir, cg, name string) {
		for p := path.Clean("/" + cg); ; p = path.Dir(p) {
			files = append(files, filepath.Join(dir, filepath.FromSlash(p), name))
			if p == "/" {
				return
			}
		}
	}
	for _, v2 := range []string{cgroupRoot, filepath.Join(cgroupRoot, "unified")} {
		add(v2, paths[""], "memory.max")
	}
	add(filepath.Join(cgroupRoot, "memory"), paths["memory"], "memory.limit_in_bytes")
	return files
}

// readCgroupLimit returns the limit in file f, or 0 when f is missing or
// says there is none ("max" in v2, a value near 2^63 in v1).
func readCgroupLimit(f string) int64 {
	b, err := os.ReadFile(f)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= 1<<60 {
		return 0
	}
	return v
}

// memoryBudget returns server.memory_budget, or its default when it is 0:
// max_connections × max_message_size, lowered to an eighth of cgroupLimit
// when one is set (but never below max_message_size). Measured with 1 MiB
// requests, the process's resident set grows by about four times the bytes
// in the budget (their decoded copies, TLS buffers, garbage not yet
// collected), and the rest of the process needs room too.
func memoryBudget(s ServerConfig, cgroupLimit int64) int64 {
	if s.MemoryBudget > 0 {
		return s.MemoryBudget
	}
	b := int64(s.MaxConnections) * int64(s.MaxMessageSize)
	if cgroupLimit > 0 {
		b = min(b, cgroupLimit/8)
	}
	return max(b, int64(s.MaxMessageSize))
}

// applyMemoryLimit sets Go's soft memory limit to 90% of cgroupLimit when
// one is set and GOMEMLIMIT is not, so that the garbage collector works
// harder before the kernel's OOM killer would act; it returns the limit set,
// or 0.
func applyMemoryLimit(cgroupLimit int64, log zerolog.Logger) int64 {
	if cgroupLimit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := cgroupLimit / 10 * 9
	debug.SetMemoryLimit(limit)
	log.Info().Int64("cgroup_memory_limit", cgroupLimit).Int64("go_memory_limit", limit).
		Msg("Go memory limit set from the cgroup's")
	return limit
}
