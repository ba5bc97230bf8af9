package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
)

// connFlags are the connection settings every command takes.
type connFlags struct {
	config, section       string
	addr, cert, key, ca   string
	version, output       string
	timeout               time.Duration
	user, passwordFile    string
	serverName            string
	fs                    *flag.FlagSet
	major, minor          int32
	stdout, stderr        io.Writer
	stdin                 io.Reader
	cmdName, argsSynopsis string
}

// newFlags returns a flag set for command name with the connection flags;
// synopsis describes its positional arguments for -h.
func newFlags(e *env, name, synopsis, help string) *connFlags {
	c := &connFlags{stdout: e.stdout, stderr: e.stderr, stdin: e.stdin, cmdName: name, argsSynopsis: synopsis}
	fs := flag.NewFlagSet("kmipctl "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.config, "config", e.getenv("KMIPCTL_CONFIG"), "PyKMIP client configuration file (pykmip.conf)")
	fs.StringVar(&c.section, "section", "client", "section of the configuration file")
	fs.StringVar(&c.addr, "addr", e.getenv("KMIPCTL_ADDR"), "server HOST:PORT")
	fs.StringVar(&c.cert, "cert", e.getenv("KMIPCTL_CERT"), "client certificate (PEM)")
	fs.StringVar(&c.key, "key", e.getenv("KMIPCTL_KEY"), "client private key (PEM)")
	fs.StringVar(&c.ca, "ca", e.getenv("KMIPCTL_CA"), "CA bundle for the server certificate (PEM)")
	fs.StringVar(&c.serverName, "server-name", "", "name to verify in the server certificate (default: the host of -addr)")
	fs.StringVar(&c.version, "kmip", e.getenv("KMIPCTL_KMIP"), "KMIP protocol version, 1.0 to 2.1 (default 1.4)")
	fs.StringVar(&c.output, "o", "table", "output: table or json")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "deadline for the connection and each request")
	fs.StringVar(&c.user, "user", e.getenv("KMIPCTL_USER"), "user name of a Username and Password credential in each request")
	fs.StringVar(&c.passwordFile, "password-file", e.getenv("KMIPCTL_PASSWORD_FILE"), "file whose first line is that user's password")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: kmipctl %s [flags] %s\n\n%s\n\nFlags:\n", name, synopsis, help)
		fs.PrintDefaults()
	}
	c.fs = fs
	return c
}

// parse parses args and checks the output format and the protocol version;
// it returns the positional arguments, of which there must be between min
// and max (max < 0: any number).
func (c *connFlags) parse(args []string, min, max int) ([]string, error) {
	// Flags may follow positional arguments: kmipctl get UID -out key.bin.
	var rest []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &statusError{code: exitUsage}
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			rest = append(rest, args[1:]...)
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	if len(rest) < min || (max >= 0 && len(rest) > max) {
		return nil, usageError("wrong number of arguments; usage: kmipctl %s [flags] %s", c.cmdName, c.argsSynopsis)
	}
	if c.output != "table" && c.output != "json" {
		return nil, usageError("-o %q: want table or json", c.output)
	}
	v := c.version
	if v == "" {
		v = "1.4"
	}
	maj, min2, ok := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min2)
	if !ok || err1 != nil || err2 != nil || !((a == 1 && b >= 0 && b <= 4) || (a == 2 && b >= 0 && b <= 1)) {
		return nil, usageError("-kmip %q: want one of 1.0, 1.1, 1.2, 1.3, 1.4, 2.0, 2.1", v)
	}
	c.major, c.minor = int32(a), int32(b)
	return rest, nil
}

// v2 reports whether the chosen protocol version is KMIP 2.x.
func (c *connFlags) v2() bool { return c.major >= 2 }

// readConfig fills unset connection settings from the PyKMIP configuration
// file's section: host, port, certfile, keyfile, ca_certs.
func (c *connFlags) readConfig() error {
	if c.config == "" {
		return nil
	}
	f, err := os.Open(c.config)
	if err != nil {
		return &statusError{code: exitNoInput, msg: fmt.Sprintf("-config: %v", err)}
	}
	defer f.Close()
	values, found := map[string]string{}, false
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == c.section
			continue
		}
		if section != c.section {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if ok {
			values[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return &statusError{code: exitNoInput, msg: fmt.Sprintf("-config %s: %v", c.config, err)}
	}
	if !found {
		return usageError("-config %s: no [%s] section", c.config, c.section)
	}
	if c.addr == "" && (values["host"] != "" || values["port"] != "") {
		host, port := values["host"], values["port"]
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "5696"
		}
		c.addr = net.JoinHostPort(host, port)
	}
	for _, p := range []struct {
		dst *string
		key string
	}{{&c.cert, "certfile"}, {&c.key, "keyfile"}, {&c.ca, "ca_certs"}} {
		if *p.dst == "" {
			*p.dst = values[p.key]
		}
	}
	return nil
}

// dial connects to the server with the settings from flags, environment and
// configuration file.
func (c *connFlags) dial(ctx context.Context) (*kmipclient.Client, error) {
	if err := c.readConfig(); err != nil {
		return nil, err
	}
	if c.addr == "" {
		c.addr = "127.0.0.1:5696"
	}
	if c.cert == "" || c.key == "" || c.ca == "" {
		return nil, usageError("a client certificate, its key and the CA are needed: -cert, -key and -ca, KMIPCTL_CERT/KEY/CA, or -config pykmip.conf")
	}
	cert, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, &statusError{code: exitNoInput, msg: fmt.Sprintf("client certificate: %v", err)}
	}
	caPEM, err := os.ReadFile(c.ca)
	if err != nil {
		return nil, &statusError{code: exitNoInput, msg: fmt.Sprintf("CA bundle: %v", err)}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, &statusError{code: exitNoInput, msg: fmt.Sprintf("CA bundle %s: no PEM certificate", c.ca)}
	}
	name := c.serverName
	if name == "" {
		name, _, _ = net.SplitHostPort(c.addr)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cl, err := kmipclient.Dial(dctx, c.addr, cfg)
	if err != nil {
		return nil, &statusError{code: exitConnect, msg: fmt.Sprintf("connecting to %s: %v", c.addr, err)}
	}
	cl.Major, cl.Minor, cl.Timeout = c.major, c.minor, c.timeout
	if c.user != "" {
		if c.passwordFile == "" {
			cl.Close()
			return nil, usageError("-user needs -password-file (or KMIPCTL_PASSWORD_FILE): the password is never a flag")
		}
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			cl.Close()
			return nil, &statusError{code: exitNoInput, msg: fmt.Sprintf("-password-file: %v", err)}
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		cl.Credential = kmipclient.UsernamePassword(c.user, strings.TrimSuffix(pw, "\r"))
	}
	return cl, nil
}

// call dials, runs one operation and returns its response payload; a failed
// operation becomes exit status 1 with the server's reason and message.
func (c *connFlags) call(ctx context.Context, op kmip.Operation, payload ...*kmip.Item) (*kmip.Item, error) {
	cl, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out, err := cl.Call(op, payload...)
	if err != nil {
		var oe *kmipclient.OperationError
		if errors.As(err, &oe) {
			msg := fmt.Sprintf("%s failed: %s", op.String(), reasonName(oe.Reason))
			if oe.Message != "" {
				msg += ": " + oe.Message
			}
			return nil, &statusError{code: exitFailed, msg: msg}
		}
		return nil, &statusError{code: exitConnect, msg: fmt.Sprintf("%s: %v", op.String(), err)}
	}
	if out == nil {
		out = kmip.Struct(kmip.TagResponsePayload)
	}
	return out, nil
}

func reasonName(r kmip.ResultReason) string { return r.String() }
