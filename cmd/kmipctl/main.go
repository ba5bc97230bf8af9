// Command kmipctl is a KMIP client for the command line: it connects to a
// KMIP server (kmipd or any other) with a client certificate and runs one
// operation per invocation, printing readable tables or, with -o json, JSON
// for scripts. It needs no Python and reads PyKMIP's pykmip.conf.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit statuses scripts can rely on.
const (
	exitOK       = 0
	exitFailed   = 1  // the server answered the operation with a failure
	exitInvalid  = 2  // verify or mac-verify: the signature or MAC does not match
	exitConnect  = 3  // no connection: TLS, network, or a reply that is not KMIP
	exitUsage    = 64 // EX_USAGE: a bad command line
	exitNoInput  = 66 // EX_NOINPUT: an input file cannot be read
	exitCantSave = 73 // EX_CANTCREAT: an output file cannot be written
)

// command is one kmipctl subcommand.
type command struct {
	summary string
	// run performs the command; fs is its flag set, already holding the
	// connection flags, and args the arguments after the command name.
	run func(ctx context.Context, e *env, args []string) error
}

// commands is the one table of subcommands; kmipctl -h lists it.
var commands = map[string]command{}

// env is what a command runs with: where it writes and how it connects.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(context.Background(), e, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "kmipctl: unknown command %q (kmipctl -h lists them)\n", args[0])
		return exitUsage
	}
	err := cmd.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	var st *statusError
	if errors.As(err, &st) {
		if st.msg != "" {
			fmt.Fprintf(e.stderr, "kmipctl %s: %s\n", args[0], st.msg)
		}
		return st.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "kmipctl %s: %v\n", args[0], err)
	return exitFailed
}

// statusError ends a command with a given exit status and message.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// usageError is a bad command line.
func usageError(format string, a ...any) error {
	return &statusError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kmipctl: a command-line KMIP client (kmipd or any KMIP 1.0-2.1 server)

Usage: kmipctl COMMAND [flags] [arguments]     kmipctl COMMAND -h for a command's flags

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Connection (flags of every command, else environment, else the config file):
  -config FILE     a PyKMIP client configuration (pykmip.conf); its [client] section, or -section
  -addr HOST:PORT  KMIPCTL_ADDR      (pykmip.conf: host, port; default 127.0.0.1:5696)
  -cert FILE       KMIPCTL_CERT      client certificate, PEM (pykmip.conf: certfile)
  -key FILE        KMIPCTL_KEY       its private key, PEM (pykmip.conf: keyfile)
  -ca FILE         KMIPCTL_CA        CA bundle that signed the server's certificate (pykmip.conf: ca_certs)
  -kmip VERSION    KMIPCTL_KMIP      protocol version, 1.0 to 2.1 (default 1.4)
  -o table|json    output format (default table)
  KMIPCTL_CONFIG names the config file when -config is absent.

Exit status: 0 success; 1 the server refused or failed the operation (its Result Reason
and message on stderr); 2 verify/mac-verify found the signature or MAC invalid; 3 no
connection (TLS, network, not a KMIP reply); 64 a bad command line; 66 an input file
cannot be read; 73 an output file cannot be written.
`)
}
