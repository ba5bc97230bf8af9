// Command kmip-bench is kmipd's load generator. It speaks KMIP (TTLV over
// mutually authenticated TLS) to any KMIP server and has three subcommands:
//
//	kmip-bench load  -addr HOST:PORT -ca CA -cert CERT -key KEY [-op get] [-conns 8] [-duration 5s] ...
//	kmip-bench null  -addr HOST:PORT -ca CA -cert CERT -key KEY
//	kmip-bench suite -kmipd bin/kmipd [-out docs/bench]
//
// load runs one operation on N persistent connections and prints ops/s and
// latency percentiles; null serves the null responder (kmipd's transport with
// a handler that does nothing); suite is `make bench`: it starts kmipd on
// SQLite and bbolt, pykmip-server and the null responder, runs the same loads
// on each and writes a Markdown report.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: kmip-bench load|null|suite [flags] (-h for each)")
		return 2
	}
	var err error
	switch args[0] {
	case "load":
		err = cmdLoad(ctx, args[1:], stdout, stderr)
	case "null":
		err = cmdNull(ctx, args[1:], stderr)
	case "suite":
		err = cmdSuite(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "kmip-bench: unknown command %q (want load, null or suite)\n", args[0])
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmip-bench: %v\n", err)
		return 1
	}
	return 0
}

// tlsFlags are the PEM files of a client or server identity.
type tlsFlags struct{ ca, cert, key string }

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ca, "ca", "", "CA certificate `file` (PEM)")
	fs.StringVar(&f.cert, "cert", "", "certificate `file` (PEM)")
	fs.StringVar(&f.key, "key", "", "private key `file` (PEM)")
}

// clientTLS returns a client configuration presenting cert/key and trusting
// ca. It keeps no session cache, so every connection does a full handshake.
func clientTLS(ca, cert, key string) (*tls.Config, error) {
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", ca)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}, RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, nil
}

func parseProtocol(s string) (protocol, error) {
	maj, min, ok := strings.Cut(s, ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if !ok || err1 != nil || err2 != nil {
		return protocol{}, fmt.Errorf("-kmip %q is not MAJOR.MINOR", s)
	}
	switch s {
	case "1.2", "1.4", "2.0":
	default:
		return protocol{}, fmt.Errorf("-kmip %q: the load generator speaks 1.2, 1.4 and 2.0", s)
	}
	return protocol{int32(a), int32(b)}, nil
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kmip-bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf tlsFlags
	tf.register(fs)
	addr := fs.String("addr", "127.0.0.1:5696", "server `host:port`; several, comma-separated, spread the connections round-robin over them (nodes on one store)")
	op := fs.String("op", "get", "operation: "+strings.Join(ops, ", "))
	conns := fs.Int("conns", 8, "concurrent persistent connections")
	dur := fs.Duration("duration", 5*time.Second, "how long to run")
	maxOps := fs.Int64("max-ops", 0, "stop after this many successful operations (0: no cap)")
	batch := fs.Int("batch", 1, "operations per request message")
	ver := fs.String("kmip", "1.4", "KMIP protocol version: 1.2, 1.4 or 2.0")
	newConn := fs.Bool("new-conn", false, "open a new TLS connection (full handshake) per request message")
	noVerify := fs.Bool("no-verify", false, "do not verify the server's certificate (handshake-rate measurements: the generator's own verification would bound them)")
	resume := fs.Bool("resume", false, "with -new-conn: resume TLS sessions from the tickets the server sent")
	alternate := fs.Bool("alternate", false, "with -new-conn and several -addr: each connection goes to the next server, so -resume resumes on another node than the one that sent the ticket")
	names := fs.Int("locate-names", 100, "distinct names the locate setup creates")
	https := fs.String("https", "", "post to https://ADDR/kmip in this encoding (ttlv or json) instead of the TTLV port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := parseProtocol(*ver)
	if err != nil {
		return err
	}
	cfg, err := clientTLS(tf.ca, tf.cert, tf.key)
	if err != nil {
		return err
	}
	r, err := runLoad(ctx, &loadSpec{Addrs: strings.Split(*addr, ","), TLS: cfg, Op: *op, Conns: *conns, Duration: *dur, MaxOps: *maxOps,
		Batch: *batch, Proto: p, NewConn: *newConn || *resume, Resume: *resume, Alternate: *alternate, NoVerify: *noVerify, LocateNames: *names, HTTPS: *https, Progress: stderr, ProgressEvery: 5 * time.Second})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r)
	return nil
}

func cmdNull(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kmip-bench null", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf tlsFlags
	tf.register(fs)
	addr := fs.String("addr", "127.0.0.1:5697", "listen `host:port`")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the responder to `file` until it stops")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback `host:port`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *pprofAddr != "" {
		pl, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		ps := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go ps.Serve(pl)
		defer ps.Close()
	}
	cfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: tf.cert, KeyFile: tf.key, CAFile: tf.ca, AuthSuite: "TLS1.2"})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &kmiptls.Server{Handler: nullHandler{}, TLSConfig: cfg}
	fmt.Fprintf(stderr, "kmip-bench null: listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
