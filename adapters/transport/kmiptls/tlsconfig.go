package kmiptls

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// TLSOptions describes the server side of the KMIP TLS channel (KMIP 1.4 §10
// and the KMIP Profiles' "Basic" and "TLS 1.2" authentication suites). The
// file options carry the pykmip-server setting names in their errors.
type TLSOptions struct {
	// CertFile is the server certificate chain, PEM, leaf first
	// (pykmip-server certificate_path). Required.
	CertFile string
	// KeyFile is the server private key, PEM (PKCS#8, PKCS#1 or SEC 1)
	// (pykmip-server key_path). Empty means the key is in CertFile.
	KeyFile string
	// CAFile holds the PEM certificates of the CAs that issue client
	// certificates (pykmip-server ca_path); several may be concatenated.
	// Required: every client must present a certificate they signed.
	CAFile string
	// CipherSuites restricts the TLS 1.2 cipher suites (pykmip-server
	// tls_cipher_suites). Each name is an IANA/Go name such as
	// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or an OpenSSL name such as
	// AES128-SHA256, as PyKMIP accepts. Empty means DefaultCipherSuites,
	// which leave out the CBC suites with SHA-1 that Go would enable; name
	// those here to offer them again.
	// Go does not let TLS 1.3 suites be configured: they are always
	// enabled, and listing only TLS 1.3 suites raises MinVersion to TLS 1.3.
	CipherSuites []string
	// AuthSuite is pykmip-server's auth_suite: "Basic" or "TLS1.2". Both
	// mean TLS 1.2 or later here (PyKMIP's "Basic" would allow TLS 1.0,
	// which kmipd refuses). Empty means "TLS1.2".
	AuthSuite string
	// MinVersion is the lowest TLS version accepted: tls.VersionTLS12
	// (the default when zero) or tls.VersionTLS13.
	MinVersion uint16
}

// DefaultCipherSuites are the TLS 1.2 suites offered when TLSOptions names
// none: ECDHE key agreement with an AEAD cipher only. Go's own defaults would
// add TLS_ECDHE_{ECDSA,RSA}_WITH_AES_{128,256}_CBC_SHA, CBC with a SHA-1 MAC.
var DefaultCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// NewTLSConfig builds the server tls.Config: the server certificate, client
// certificates required and verified against CAFile, TLS 1.2 minimum (1.3
// preferred by Go), and the requested TLS 1.2 cipher suites. Warnings list
// requested settings that could not be honoured but did not prevent a usable
// configuration, e.g. cipher suites Go does not implement.
func NewTLSConfig(o TLSOptions) (cfg *tls.Config, warnings []string, err error) {
	switch {
	case o.AuthSuite == "", strings.EqualFold(o.AuthSuite, "Basic"), strings.EqualFold(o.AuthSuite, "TLS1.2"):
	default:
		return nil, nil, fmt.Errorf("auth_suite %q: unsupported, want \"Basic\" or \"TLS1.2\"", o.AuthSuite)
	}
	minVersion := o.MinVersion
	switch minVersion {
	case 0:
		minVersion = tls.VersionTLS12
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, nil, fmt.Errorf("TLS minimum version 0x%04x: unsupported, want TLS 1.2 or TLS 1.3", minVersion)
	}

	cert, err := loadKeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	if cert.Leaf != nil && time.Now().After(cert.Leaf.NotAfter) {
		warnings = append(warnings, fmt.Sprintf("certificate_path %q: server certificate expired on %s",
			o.CertFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	pool, err := loadCAPool(o.CAFile)
	if err != nil {
		return nil, nil, err
	}

	cfg = &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   minVersion,
		CipherSuites: slices.Clone(DefaultCipherSuites),
	}
	if len(o.CipherSuites) > 0 {
		sel, w, err := parseCipherSuites(o.CipherSuites)
		warnings = append(warnings, w...)
		if err != nil {
			return nil, warnings, err
		}
		cfg.CipherSuites = sel.tls12
		if len(sel.tls12) == 0 {
			// Only TLS 1.3 suites were named: an empty list would mean
			// Go's TLS 1.2 defaults, so TLS 1.2 is switched off instead.
			cfg.MinVersion = tls.VersionTLS13
			warnings = append(warnings, "tls_cipher_suites names only TLS 1.3 suites: TLS 1.2 is disabled")
		} else if cfg.MinVersion < tls.VersionTLS13 && !suitesFitKey(sel.tls12, cert) {
			warnings = append(warnings, "tls_cipher_suites: none of the TLS 1.2 suites fits the server key type; only TLS 1.3 clients can connect")
		}
	}
	return cfg, warnings, nil
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" {
		return tls.Certificate{}, errors.New("certificate_path: not set")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate_path %q: %w", certFile, err)
	}
	if _, err := parsePEMCerts(certPEM); err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate_path %q: %w", certFile, err)
	}
	keyPEM, keyName := certPEM, "certificate_path"
	if keyFile != "" {
		keyName = "key_path"
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, fmt.Errorf("key_path %q: %w", keyFile, err)
		}
	} else {
		keyFile = certFile
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	clear(keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s %q: %w", keyName, keyFile, err)
	}
	return cert, nil
}

func loadCAPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, errors.New("ca_path: not set (client certificates cannot be verified)")
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_path %q: %w", caFile, err)
	}
	certs, err := parsePEMCerts(b)
	if err != nil {
		return nil, fmt.Errorf("ca_path %q: %w", caFile, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// parsePEMCerts parses every CERTIFICATE block of b, ignoring other blocks.
func parsePEMCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}

// suitesFitKey reports whether at least one TLS 1.2 suite can be used with the
// server certificate's key: ECDSA suites need an ECDSA (or Ed25519) key, the
// others an RSA key.
func suitesFitKey(ids []uint16, cert tls.Certificate) bool {
	var ecKey bool
	switch cert.PrivateKey.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
		ecKey = true
	case *rsa.PrivateKey:
	default:
		return true // unknown signer (e.g. HSM): do not guess
	}
	for _, id := range ids {
		if strings.Contains(tls.CipherSuiteName(id), "_ECDSA_") == ecKey {
			return true
		}
	}
	return false
}

// suiteSelection is the outcome of parsing cipher suite names.
type suiteSelection struct {
	tls12 []uint16 // configurable suites, in request order, deduplicated
	tls13 []uint16 // TLS 1.3 suites named (always enabled anyway)
}

// knownSuites maps OpenSSL names to IANA names for the suites PyKMIP knows
// (kmip/services/auth.py) plus common ones Go implements. An IANA name in this
// table that Go does not implement is a warning, not an error.
var knownSuites = []struct{ iana, openssl string }{
	// PyKMIP's TLS 1.2 suites.
	{"TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"},
	{"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
	{"TLS_DH_DSS_WITH_AES_128_CBC_SHA256", "DH-DSS-AES128-SHA256"},
	{"TLS_DH_RSA_WITH_AES_128_CBC_SHA256", "DH-RSA-AES128-SHA256"},
	{"TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256"},
	{"TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256"},
	{"TLS_DH_DSS_WITH_AES_256_CBC_SHA256", "DH-DSS-AES256-SHA256"},
	{"TLS_DH_RSA_WITH_AES_256_CBC_SHA256", "DH-RSA-AES256-SHA256"},
	{"TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256"},
	{"TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384"},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
	{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
	{"TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", "ECDH-ECDSA-AES128-SHA256"},
	{"TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", "ECDH-ECDSA-AES256-SHA384"},
	{"TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", "ECDH-RSA-AES128-SHA256"},
	{"TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", "ECDH-RSA-AES256-SHA384"},
	// PyKMIP's TLS 1.0 ("Basic") suites, RFC 3268 and 3DES.
	{"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
	{"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
	{"TLS_DH_DSS_WITH_AES_128_CBC_SHA", "DH-DSS-AES128-SHA"},
	{"TLS_DH_RSA_WITH_AES_128_CBC_SHA", "DH-RSA-AES128-SHA"},
	{"TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"},
	{"TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"},
	{"TLS_DH_DSS_WITH_AES_256_CBC_SHA", "DH-DSS-AES256-SHA"},
	{"TLS_DH_RSA_WITH_AES_256_CBC_SHA", "DH-RSA-AES256-SHA"},
	{"TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"},
	{"TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"},
	{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
	{"TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE-DSS-DES-CBC3-SHA"},
	{"TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA"},
	{"TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE-RSA-DES-CBC3-SHA"},
	{"TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
	{"TLS_PSK_WITH_AES_128_CBC_SHA", "PSK-AES128-CBC-SHA"},
	{"TLS_PSK_WITH_AES_256_CBC_SHA", "PSK-AES256-CBC-SHA"},
	{"TLS_DHE_PSK_WITH_AES_128_CBC_SHA", "DHE-PSK-AES128-CBC-SHA"},
	{"TLS_DHE_PSK_WITH_AES_256_CBC_SHA", "DHE-PSK-AES256-CBC-SHA"},
	{"TLS_RSA_PSK_WITH_AES_128_CBC_SHA", "RSA-PSK-AES128-CBC-SHA"},
	{"TLS_RSA_PSK_WITH_AES_256_CBC_SHA", "RSA-PSK-AES256-CBC-SHA"},
	// PyKMIP's TLS 1.2 default list contains this name, which no OpenSSL
	// release defines; it is accepted and ignored like PyKMIP does.
	{"", "ECDH-ECDSA-AES256-SHA256"},
	// Other suites Go implements, by their OpenSSL names.
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
	{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
	{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
	{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
	{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
	{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
	{"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
	{"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
	{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
	{"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
	{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
	{"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
	// Common suites Go does not implement.
	{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256"},
	{"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"},
	{"TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305"},
	{"TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "CAMELLIA128-SHA"},
	{"TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "CAMELLIA256-SHA"},
	{"TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", "DHE-RSA-CAMELLIA128-SHA"},
	{"TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", "DHE-RSA-CAMELLIA256-SHA"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE-ECDSA-AES128-CCM"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE-ECDSA-AES256-CCM"},
}

// goSuites indexes Go's cipher suites (secure and insecure) by IANA name.
func goSuites() map[string]*tls.CipherSuite {
	m := map[string]*tls.CipherSuite{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			m[cs.Name] = cs
			// Go's constants drop the _SHA256 of the ChaCha20 suites.
			if n, ok := strings.CutSuffix(cs.Name, "_CHACHA20_POLY1305_SHA256"); ok && strings.Contains(n, "_WITH") {
				m[n+"_CHACHA20_POLY1305"] = cs
			}
		}
	}
	return m
}

// parseCipherSuites maps IANA/Go and OpenSSL cipher suite names to Go suites.
// Names Go does not implement, and insecure suites, yield warnings; an unknown
// name, or a list with no usable suite, is an error.
func parseCipherSuites(names []string) (suiteSelection, []string, error) {
	goByName := goSuites()
	ianaByOpenSSL := map[string]string{}
	knownIANA := map[string]bool{}
	for _, k := range knownSuites {
		ianaByOpenSSL[k.openssl] = k.iana
		if k.iana != "" {
			knownIANA[k.iana] = true
		}
	}

	var sel suiteSelection
	var warnings []string
	seen := map[uint16]bool{}
	for _, raw := range names {
		name := strings.ToUpper(strings.TrimSpace(raw))
		if name == "" {
			continue
		}
		iana := name
		if n, ok := ianaByOpenSSL[name]; ok {
			iana = n
		}
		cs, ok := goByName[iana]
		if !ok {
			if _, isOpenSSL := ianaByOpenSSL[name]; !isOpenSSL && !knownIANA[name] {
				return sel, warnings, fmt.Errorf("tls_cipher_suites: unknown cipher suite %q", raw)
			}
			warnings = append(warnings, fmt.Sprintf("tls_cipher_suites: %q is not implemented by Go's crypto/tls; ignored", raw))
			continue
		}
		if seen[cs.ID] {
			continue
		}
		seen[cs.ID] = true
		if len(cs.SupportedVersions) == 1 && cs.SupportedVersions[0] == tls.VersionTLS13 {
			sel.tls13 = append(sel.tls13, cs.ID)
			warnings = append(warnings, fmt.Sprintf("tls_cipher_suites: %q is a TLS 1.3 suite; TLS 1.3 suites cannot be configured and are always enabled", raw))
			continue
		}
		if cs.Insecure {
			warnings = append(warnings, fmt.Sprintf("tls_cipher_suites: %q (%s) is considered insecure; enabled as requested", raw, cs.Name))
		}
		sel.tls12 = append(sel.tls12, cs.ID)
	}
	if len(sel.tls12) == 0 && len(sel.tls13) == 0 {
		return sel, warnings, fmt.Errorf("tls_cipher_suites: none of %q is usable", names)
	}
	return sel, warnings, nil
}
