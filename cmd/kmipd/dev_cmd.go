package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

func init() {
	subcommands["dev"] = subcommand{"dev client NAME [-dev-dir DIR]: mint another client identity in the development PKI", devCmd}
}

// clientName is what a development client may be called: it becomes a
// certificate CN and part of file names.
var clientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// devClientArgs are the arguments of "kmipd dev client".
type devClientArgs struct {
	name, dir, host string
	port            int
}

// parseDevClientArgs reads "client NAME" and the flags, before or after the
// name; ok false means the command is done and code is its exit status.
func parseDevClientArgs(args []string, stderr io.Writer) (a devClientArgs, code int, ok bool) {
	fs := flag.NewFlagSet("kmipd dev client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.dir, "dev-dir", ".kmipd-dev", "`directory` of development mode's PKI")
	fs.StringVar(&a.host, "hostname", "127.0.0.1", "server host written to the client configuration")
	fs.IntVar(&a.port, "port", 5696, "server port written to the client configuration")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kmipd dev client NAME [-dev-dir DIR] [-hostname H] [-port P]\n\n"+
			"Issues a client certificate with subject CN NAME (clientAuth) from the development CA\n"+
			"in DIR (created as kmipd -dev would), and writes DIR/pykmip-NAME.conf for it. Objects\n"+
			"a client creates belong to its CN, so two names show access control at work.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "client" {
		fs.Usage()
		return a, helpOrUsage(args), false
	}
	// Flags may come before or after the name: kmipd dev client bob -dev-dir D.
	var rest []string
	for args = args[1:]; ; {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return a, exitOK, false
		} else if err != nil {
			return a, exitUsage, false
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	if len(rest) != 1 || !clientName.MatchString(rest[0]) || rest[0] == kmiptls.DevClientName {
		fmt.Fprintf(stderr, "kmipd: dev client: want one NAME of letters, digits, '.', '_' or '-' other than %q\n", kmiptls.DevClientName)
		return a, exitUsage, false
	}
	a.name = rest[0]
	return a, exitOK, true
}

// devCmd runs "kmipd dev client NAME": it issues a client certificate with
// CN NAME from the development CA (creating the PKI if needed) and writes a
// PyKMIP client configuration for it, so that access control can be tried
// with a second identity.
func devCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	a, code, ok := parseDevClientArgs(args, stderr)
	if !ok {
		return code
	}
	name, dir, host, port := a.name, &a.dir, &a.host, &a.port
	abs, err := filepath.Abs(*dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o700)
	}
	var pki kmiptls.DevPKI
	if err == nil {
		pki, err = kmiptls.GenerateDevPKI(abs, kmiptls.DevPKIOptions{})
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: -dev-dir %q: %s\n", *dir, oneLine(err.Error()))
		return exitConfig
	}
	cert, key, err := kmiptls.IssueClientCert(pki, abs, name, true)
	if err != nil {
		fmt.Fprintf(stderr, "kmipd: dev client %s: %s\n", name, oneLine(err.Error()))
		return exitFailed
	}
	conf := filepath.Join(abs, "pykmip-"+name+".conf")
	client := pki
	client.ClientCert, client.ClientKey = cert, key
	if err := os.WriteFile(conf, []byte(devClientConf(*host, *port, client)), 0o600); err != nil {
		fmt.Fprintf(stderr, "kmipd: %s\n", oneLine(err.Error()))
		return exitFailed
	}
	fmt.Fprintf(stdout, "client %q (certificate CN %s)\n  certificate: %s\n  key:         %s\n  pykmip.conf: %s\n\n"+
		"  bin/kmipctl create -config %s -name %s-key\n", name, name, cert, key, conf, conf, name)
	return exitOK
}
