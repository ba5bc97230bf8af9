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
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var config string
	if len(args) >= 3 && args[0] == "verify" && args[1] == "-config" {
		config, args = args[2], append([]string{"verify"}, args[3:]...)
	}
	if len(args) < 2 || args[0] != "verify" || isHelp(args[1:]) || strings.HasPrefix(args[1], "-") {
		fmt.Fprintf(stderr, "Usage: kmipd audit verify [-config FILE] AUDITFILE...\n\n"+
			"Checks that the audit files, given oldest first (audit.log.2 audit.log.1\n"+
			"audit.log), form one unbroken hash chain: no record changed, removed,\n"+
			"inserted or reordered. Exit status 1 names the first bad line.\n"+
			"A trail written with sealing on is HMAC'd under a key wrapped by the seal's KEK\n"+
			"(audit.path + \".mackey\"): -config names the kmipd configuration whose [seal]\n"+
			"and [audit] give the KEK and the key file.\n")
		return helpOrUsage(args)
	}
	files := args[1:]
	key, code := auditVerifyKey(ctx, config, stderr)
	if code != exitOK {
		return code
	}
	n, err := audit.Verify(files, key)
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

// auditVerifyKey is the MAC key of the trail that the configuration file
// config describes (nil without -config or without sealing).
func auditVerifyKey(ctx context.Context, config string, stderr io.Writer) ([]byte, int) {
	if config == "" {
		return nil, exitOK
	}
	var sf serveFlags
	fs := newServeFlagSet(&sf, io.Discard)
	sf.config = config
	cfg, err := loadConfig(fs, &sf)
	if err == nil && cfg.Audit.Path == "" {
		err = keyErr("audit.path", "is not set: the configuration has no audit trail")
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return nil, exitConfig
	}
	k, err := cfg.Seal.openKEKs()
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return nil, exitConfig
	}
	if k == nil {
		return nil, exitOK
	}
	defer k.Close()
	key, err := auditMACKey(ctx, k, cfg.Audit.Path, false)
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: audit verify: the MAC key %s: %s\n", cfg.Audit.Path+macKeySuffix, oneLine(err.Error()))
		return nil, exitFailed
	}
	return key, exitOK
}
