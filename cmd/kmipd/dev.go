package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// ensureDevPKI creates the development directory and its PKI on first start
// (reusing them afterwards) and points the configuration's certificate keys
// at it, unless the file or a flag already set them.
func ensureDevPKI(dir string, cfg *Config) (*kmiptls.DevPKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("-dev-dir %q: %w", dir, err)
	}
	pki, err := kmiptls.GenerateDevPKI(dir, kmiptls.DevPKIOptions{})
	if err != nil {
		return nil, fmt.Errorf("-dev-dir %q: development PKI: %w", dir, err)
	}
	s := &cfg.Server
	for _, p := range []struct {
		dst *string
		src string
	}{
		{&s.CertificatePath, pki.ServerCert},
		{&s.KeyPath, pki.ServerKey},
		{&s.CAPath, pki.CACert},
	} {
		if *p.dst == "" {
			*p.dst = p.src
		}
	}
	return &pki, nil
}

// devClientConf returns a PyKMIP client configuration (pykmip.conf) for the
// development PKI's client certificate.
func devClientConf(host string, port int, pki kmiptls.DevPKI) string {
	return fmt.Sprintf(`[client]
host=%s
port=%d
certfile=%s
keyfile=%s
ca_certs=%s
cert_reqs=CERT_REQUIRED
ssl_version=PROTOCOL_SSLv23
do_handshake_on_connect=True
suppress_ragged_eofs=True
`, host, port, pki.ClientCert, pki.ClientKey, pki.CACert)
}

// writeDevBanner writes DIR/pykmip.conf and prints to w where the
// development certificates are and how a PyKMIP client connects.
func writeDevBanner(w io.Writer, dir string, pki kmiptls.DevPKI, addr *net.TCPAddr) error {
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	conf := devClientConf(host, addr.Port, pki)
	confPath := filepath.Join(dir, "pykmip.conf")
	werr := os.WriteFile(confPath, []byte(conf), 0o600)
	var b strings.Builder
	fmt.Fprintf(&b, "kmipd development mode (not for production): %s\n\n", dir)
	fmt.Fprintf(&b, "  CA certificate:      %s\n", pki.CACert)
	fmt.Fprintf(&b, "  client certificate:  %s\n", pki.ClientCert)
	fmt.Fprintf(&b, "  client key:          %s\n\n", pki.ClientKey)
	fmt.Fprintf(&b, "PyKMIP client configuration (written to %s):\n\n%s\n", confPath, conf)
	fmt.Fprintf(&b, "PyKMIP example:\n\n")
	fmt.Fprintf(&b, "from kmip.core import enums\n")
	fmt.Fprintf(&b, "from kmip.pie.client import ProxyKmipClient\n")
	fmt.Fprintf(&b, "with ProxyKmipClient(hostname=%q, port=%d, cert=%q, key=%q, ca=%q, config_file=None) as c:\n",
		host, addr.Port, pki.ClientCert, pki.ClientKey, pki.CACert)
	fmt.Fprintf(&b, "    print(c.create(enums.CryptographicAlgorithm.AES, 256))\n\n")
	fmt.Fprintf(&b, "kmipctl example (make build puts it in bin/):\n\n")
	fmt.Fprintf(&b, "  bin/kmipctl create -config %s -name demo\n\n", confPath)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return werr
}
