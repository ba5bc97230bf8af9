package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kmipd/kmipd/adapters/audit"
)

func init() {
	subcommands["audit"] = subcommand{"audit verify FILE...: check the hash chain of audit files, oldest first", auditCmd}
}

// auditCmd runs "kmipd audit verify FILE...": exit 0 when the files are
// intact, 1 naming the first bad line otherwise.
func auditCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "verify" || isHelp(args[1:]) || strings.HasPrefix(args[1], "-") {
		fmt.Fprintf(stderr, "Usage: kmipd audit verify FILE...\n\n"+
			"Checks that the audit files, given oldest first (audit.log.2 audit.log.1\n"+
			"audit.log), form one unbroken hash chain: no record changed, removed,\n"+
			"inserted or reordered. Exit status 1 names the first bad line.\n")
		return helpOrUsage(args)
	}
	files := args[1:]
	n, err := audit.Verify(files, nil)
	if err != nil {
		var p *audit.Problem
		if !errors.As(err, &p) {
			fmt.Fprintf(stderr, "kmipd: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "kmipd: audit verify: %s line %d: %s\n", p.File, p.Line, p.Reason)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: %d records, chain intact\n", strings.Join(files, " "), n)
	return exitOK
}
