package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/kmipd/kmipd/adapters/policy"
	"github.com/kmipd/kmipd/domain"
)

func init() {
	subcommands["policy"] = subcommand{"policy check DIR|FILE...: validate operation policy files, print their grants", policyCmd}
}

// policyCmd runs "kmipd policy check DIR|FILE...".
func policyCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "check" || isHelp(args[1:]) {
		fmt.Fprintf(stderr, "Usage: kmipd policy check DIR|FILE...\n\n"+
			"Validates PyKMIP operation policy files (the *.json files of each DIR)\n"+
			"as the server loads them, and prints what each policy grants.\n"+
			"Exit status 1 when a file would be skipped.\n")
		return helpOrUsage(args)
	}
	var files []string
	for _, a := range args[1:] {
		fi, err := os.Stat(a)
		if err != nil {
			fmt.Fprintf(stderr, "kmipd: %v\n", err)
			return exitUsage
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			fmt.Fprintf(stderr, "kmipd: %v\n", err)
			return exitUsage
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				names = append(names, filepath.Join(a, e.Name()))
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			fmt.Fprintf(stdout, "%s: no *.json policy files\n", a)
		}
		files = append(files, names...)
	}
	return checkPolicyFiles(files, stdout)
}

// checkPolicyFiles parses each file in load order, reports errors, reserved
// names and collisions, and prints each policy's grants.
func checkPolicyFiles(files []string, out io.Writer) int {
	code := exitOK
	definedIn := map[string]string{}
	for _, f := range files {
		data, err := policy.ReadFile(f)
		if err == nil {
			var ps map[string]*domain.Policy
			if ps, err = policy.Parse(data); err == nil {
				printPolicies(out, f, ps, definedIn)
				continue
			}
		}
		fmt.Fprintf(out, "%s: ERROR: %v (the server would skip this file)\n", f, err)
		code = exitFailed
	}
	return code
}

func printPolicies(out io.Writer, file string, ps map[string]*domain.Policy, definedIn map[string]string) {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(out, "%s: OK, %d policies\n", file, len(names))
	for _, n := range names {
		if domain.IsReservedPolicy(n) {
			fmt.Fprintf(out, "  policy %q: WARNING: reserved name, the server ignores this policy\n", n)
			continue
		}
		if prev, ok := definedIn[n]; ok {
			fmt.Fprintf(out, "  policy %q: WARNING: also defined in %s; this later definition is in force, the earlier one returns if this one goes\n", n, prev)
		}
		definedIn[n] = file
		p := ps[n]
		fmt.Fprintf(out, "  policy %q:\n", n)
		if len(p.Groups) == 0 {
			fmt.Fprintf(out, "    clients with group information get the preset rules\n")
		} else {
			fmt.Fprintf(out, "    clients with group information get the most permissive rule of their groups\n")
		}
		if len(p.Preset) == 0 {
			fmt.Fprintf(out, "    clients without group information get nothing (no preset)\n")
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, g := range policy.Grants(p) {
			who := "preset"
			if g.Group != "" {
				who = "group " + g.Group
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", who, g.ObjectType, g.Operation, g.Permission)
		}
		tw.Flush()
		fmt.Fprintf(out, "    anything not listed: DISALLOW_ALL\n")
	}
}
