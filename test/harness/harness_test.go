package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var itoa = strconv.Itoa

func TestStartStopRestart(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			s := Start(t, Options{Storage: storage})
			if err := handshake(s.Addr, s.ClientTLSConfig(t, "alice")); err != nil {
				t.Fatalf("handshake with an issued client certificate: %v", err)
			}
			if _, err := os.Stat(s.DBPath); err != nil {
				t.Errorf("storage file: %v", err)
			}
			log := s.LogContents(t)
			for _, want := range []string{`"message":"kmipd started"`, `"storage":"` + storage + `"`, `"addr":"` + s.Addr + `"`} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, log)
				}
			}
			s.Restart(t)
			if err := handshake(s.Addr, s.ClientTLSConfig(t, "")); err != nil {
				t.Fatalf("handshake after restart: %v", err)
			}
			s.Kill(t)
			s.Restart(t) // after a crash, on the same data
			s.Stop(t)
			if got := strings.Count(s.LogContents(t), `"message":"kmipd stopped"`); got != 2 {
				t.Errorf("log shows %d clean stops, want 2", got)
			}
		})
	}
}

func TestHandshakeNeedsTrustedServer(t *testing.T) {
	s := Start(t, Options{})
	cfg := s.ClientTLSConfig(t, "")
	cfg.RootCAs = nil // the system roots do not know the development CA
	if err := handshake(s.Addr, cfg); err == nil {
		t.Fatal("handshake succeeded without trusting the development CA; the readiness check proves nothing")
	}
}

// TestConfigErrors runs the real binary on broken configurations: each must
// exit 2 with one line naming the key or file, before creating anything.
func TestConfigErrors(t *testing.T) {
	pkiDir := t.TempDir()
	s := &Server{Dir: pkiDir}
	// A server that is never started, only for its PKI and config text.
	pki, err := NewPKI(filepath.Join(pkiDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	s.PKI = pki
	for _, tc := range []struct {
		name, server, extra string
		want                []string
	}{
		{"unknown key", "colour = \"blue\"", "", []string{"kmipd: config: server.colour: unknown key"}},
		{"unknown storage key", "", "busy_timeout = 3", []string{"kmipd: config: storage.busy_timeout: unknown key"}},
		{"bad port", "", "", []string{"kmipd: config: server.port: 70000 is not a port number"}},
		{"missing cert", "", "", []string{"kmipd: server.certificate_path \"/nonexistent/server.pem\": open /nonexistent/server.pem: no such file"}},
		{"bad storage type", "", "", []string{"kmipd: config: storage.type: \"mysql\" is not one of"}},
		{"bad logging level", "", "", []string{"kmipd: config: server.logging_level: \"CHATTY\""}},
		{"bad duration", "read_timeout = 30", "", []string{"kmipd: config: server.read_timeout:"}},
		{"pkcs11 without its table", "", "", []string{`kmipd: config: crypto.pkcs11.module: required when crypto.type is pkcs11`}},
		{"pkcs11 module missing", "", "[crypto.pkcs11]\nmodule = \"/nonexistent/libpkcs11.so\"\ntoken_label = \"t\"\npin_file = \"/nonexistent/pin\"",
			[]string{`kmipd: crypto.pkcs11.module "/nonexistent/libpkcs11.so": open /nonexistent/libpkcs11.so: no such file`}},
		{"policy path not a directory", "", "", []string{`kmipd: server.policy_path "`, `": not a directory`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s.Host, s.Port = "127.0.0.1", 70000
			s.DBPath = filepath.Join(dir, "kmipd.db")
			s.LogPath = filepath.Join(dir, "kmipd.log")
			o := Options{Storage: "sqlite", ExtraServerTOML: tc.server, ExtraTOML: tc.extra}
			if tc.name != "bad port" {
				s.Port = freePort(t)
			}
			text := s.config(o.Storage, o)
			switch tc.name {
			case "missing cert":
				text = strings.Replace(text, s.PKI.ServerCertFile, "/nonexistent/server.pem", 1)
			case "bad storage type":
				text = strings.Replace(text, `type = "sqlite"`, `type = "mysql"`, 1)
			case "bad logging level":
				text = strings.Replace(text, `logging_level = "DEBUG"`, `logging_level = "CHATTY"`, 1)
			case "pkcs11 without its table", "pkcs11 module missing":
				text = strings.Replace(text, `type = "software"`, `type = "pkcs11"`, 1)
			case "policy path not a directory":
				text = strings.Replace(text, "[server]\n", "[server]\npolicy_path = \""+s.PKI.CAFile+"\"\n", 1)
			}
			cfgPath := filepath.Join(dir, "kmipd.toml")
			if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			r := Run(t, dir, "-config", cfgPath)
			if r.ExitCode != 78 {
				t.Errorf("exit status %d, want 78 (EX_CONFIG)", r.ExitCode)
			}
			if strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", r.Stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr %q lacks %q", r.Stderr, w)
				}
			}
			for _, p := range []string{s.DBPath, s.LogPath} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s exists after a configuration error (stat: %v)", p, err)
				}
			}
		})
	}
}

func TestUnknownSubcommand(t *testing.T) {
	r := Run(t, t.TempDir(), "frobnicate")
	if r.ExitCode != 64 || !strings.Contains(r.Stderr, `unknown command "frobnicate"`) || !strings.Contains(r.Stderr, "Usage") {
		t.Errorf("got %+v", r)
	}
}

func TestVersion(t *testing.T) {
	r := Run(t, t.TempDir(), "-version")
	if r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "kmipd ") {
		t.Errorf("got %+v", r)
	}
}

// freePortPair returns a port p such that p and p+1 were both free (kmipd
// -dev serves HTTPS on the KMIP port + 1).
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := freePort(t)
		if l, err := net.Listen("tcp", "127.0.0.1:"+itoa(p+1)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no two consecutive free ports")
	return 0
}

// TestDevMode starts kmipd -dev twice on one directory: the first start
// creates the PKI and prints a banner whose client configuration works; the
// second reuses the PKI.
func TestDevMode(t *testing.T) {
	dir := t.TempDir()
	devDir := filepath.Join(dir, "dev")
	port := freePortPair(t)
	var caPEM []byte
runs:
	for run, tries := 1, 0; run <= 2; run++ {
		cmd := exec.Command(Binary(t), "-dev", "-dev-dir", "dev", "-port", itoa(port))
		cmd.Dir = dir
		var stdout, stderr SyncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()

		// Wait for the "listening" line; the banner is printed by then.
		deadline := time.Now().Add(startTimeout)
		for !strings.Contains(stderr.String(), "kmipd: listening on 127.0.0.1:"+itoa(port)) {
			select {
			case err := <-done:
				if tries++; tries < 3 && strings.Contains(stderr.String(), "address already in use") {
					// Another process took a port between freePortPair and kmipd.
					port, run = freePortPair(t), run-1
					continue runs
				}
				t.Fatalf("kmipd -dev exited: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("kmipd -dev printed no listening line within %v:\n%s", startTimeout, stderr.String())
			}
		}
		// stdout reaches its buffer through a pipe of its own: it may trail
		// the stderr line; the HTTPS example is the banner's last part.
		for !strings.Contains(stdout.String(), "curl --cacert") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		banner := stdout.String()
		conf, err := os.ReadFile(filepath.Join(devDir, "pykmip.conf"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(banner, string(conf)) {
			t.Errorf("banner does not show pykmip.conf:\n%s\n--- pykmip.conf:\n%s", banner, conf)
		}
		client := parseINI(t, string(conf))["client"]
		for _, k := range []string{"certfile", "keyfile", "ca_certs"} {
			if !filepath.IsAbs(client[k]) || !strings.HasPrefix(client[k], devDir) {
				t.Errorf("pykmip.conf %s = %q, want an absolute path in %s", k, client[k], devDir)
			}
			if !strings.Contains(banner, "\""+client[k]+"\"") {
				t.Errorf("the banner's Python example does not use %s %q", k, client[k])
			}
		}
		if client["host"] != "127.0.0.1" || client["port"] != itoa(port) || client["cert_reqs"] != "CERT_REQUIRED" ||
			client["ssl_version"] != "PROTOCOL_SSLv23" {
			t.Errorf("pykmip.conf [client] = %v", client)
		}
		if !strings.Contains(banner, "ProxyKmipClient(hostname=\"127.0.0.1\", port="+itoa(port)) ||
			!strings.Contains(banner, "config_file=None") || !strings.Contains(banner, "CryptographicAlgorithm.AES, 256") {
			t.Errorf("banner lacks the Python example:\n%s", banner)
		}

		if run == 1 {
			runBannerExample(t, banner)
		}

		// The files the banner names are what the server accepts.
		cert, err := tls.LoadX509KeyPair(client["certfile"], client["keyfile"])
		if err != nil {
			t.Fatal(err)
		}
		roots, err := loadRoots(client["ca_certs"])
		if err != nil {
			t.Fatal(err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "127.0.0.1"}
		if err := handshake("127.0.0.1:"+itoa(port), cfg); err != nil {
			t.Errorf("handshake with the banner's client configuration: %v", err)
		}
		// Development mode serves KMIP over HTTPS on the next port, and says so.
		httpsURL := "https://127.0.0.1:" + itoa(port+1) + "/kmip"
		if !strings.Contains(banner, httpsURL) || !strings.Contains(banner, "curl --cacert "+client["ca_certs"]) {
			t.Errorf("banner lacks the HTTPS example for %s:\n%s", httpsURL, banner)
		}
		if err := handshake("127.0.0.1:"+itoa(port+1), cfg); err != nil {
			t.Errorf("handshake with the HTTPS listener: %v", err)
		}
		if run == 1 {
			runBannerCurl(t, banner)
		}
		ca, err := os.ReadFile(client["ca_certs"])
		if err != nil {
			t.Fatal(err)
		}
		if run == 2 && !bytes.Equal(ca, caPEM) {
			t.Error("the second start replaced the development CA")
		}
		caPEM = ca
		if _, err := os.Stat(filepath.Join(devDir, "kmipd.db")); err != nil {
			t.Errorf("dev database: %v", err)
		}

		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("kmipd -dev did not exit 0 after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			t.Fatalf("kmipd -dev did not exit within %v of SIGTERM", stopTimeout)
		}
	}
}

// runBannerCurl runs the banner's curl command, when curl is installed,
// and checks that the Query it sends succeeds.
func runBannerCurl(t *testing.T, banner string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("curl not installed: the banner's HTTPS example is not run")
		return
	}
	i := strings.Index(banner, "  curl ")
	if i < 0 {
		t.Fatal("no curl command in the banner")
	}
	cmdText := banner[i:]
	if j := strings.Index(cmdText, "\n\n"); j >= 0 {
		cmdText = cmdText[:j]
	}
	out, err := exec.Command("sh", "-c", cmdText).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"tag":"ResultStatus","type":"Enumeration","value":"Success"`) {
		t.Errorf("the banner's curl example: %v\n%s\n%s", err, cmdText, out)
	}
}

// parseINI reads the sections and key=value lines of a small INI file.
func parseINI(t *testing.T, s string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var sec map[string]string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			sec = map[string]string{}
			out[line[1:len(line)-1]] = sec
		case sec != nil && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			sec[strings.TrimSpace(k)] = strings.TrimSpace(v)
		default:
			t.Fatalf("not INI: %q", line)
		}
	}
	return out
}

// runBannerExample runs the development banner's Python example with
// Debian's PyKMIP and requires it to print the new key's identifier. It is
// skipped when PyKMIP is not installed, except on CI.
func runBannerExample(t *testing.T, banner string) {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import kmip").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PyKMIP is not importable by %s: %v: %s", python, err, out)
		}
		t.Logf("skipping the banner's Python example: PyKMIP is not importable by %s", python)
		return
	}
	_, example, ok := strings.Cut(banner, "PyKMIP example:\n\n")
	if !ok {
		t.Fatalf("no Python example in the banner:\n%s", banner)
	}
	example, ctlExample, _ := strings.Cut(example, "kmipctl example")
	example = strings.TrimSpace(example)
	if n := strings.Count(example, "\n") + 1; n != 4 {
		t.Errorf("the Python example has %d lines, want 4:\n%s", n, example)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net, not an assertion
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", example)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // PyKMIP warns there about its absent default configuration file
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the banner's Python example failed: %v\n%s%s\n--- example:\n%s", err, out, stderr.Bytes(), example)
	}
	if id := strings.TrimSpace(string(out)); id == "" || strings.ContainsAny(id, " \n") {
		t.Errorf("the banner's Python example printed %q, want one key identifier (stderr %q)", out, stderr.Bytes())
	}
	runKmipctlExample(t, ctlExample)
}

// runKmipctlExample runs the banner's kmipctl line with a kmipctl built from
// this tree, and requires it to print the new key's identifier.
func runKmipctlExample(t *testing.T, text string) {
	t.Helper()
	var line string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "bin/kmipctl ") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no kmipctl line in the banner:\n%s", text)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kmipctl")
	if b, err := exec.Command("go", "build", "-C", root, "-o", bin, "./cmd/kmipctl").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kmipctl: %v\n%s", err, b)
	}
	args := strings.Fields(line)[1:]
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Unique Identifier") {
		t.Errorf("the banner's kmipctl line %q: %v\n%s", line, err, out)
	}
}
