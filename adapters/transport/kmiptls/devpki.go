package kmiptls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DevPKI names the files of a development PKI: a CA, a server certificate and
// the client certificate of the identity "admin". It is for `make run` and
// tests, never for production.
type DevPKI struct {
	Dir        string
	CACert     string // ca.pem
	CAKey      string // ca.key, kept so that further certificates can be issued
	ServerCert string // server.pem
	ServerKey  string // server.key
	ClientCert string // client-admin.pem
	ClientKey  string // client-admin.key
}

// DevPKIOptions tunes GenerateDevPKI; the zero value is ready to use.
type DevPKIOptions struct {
	// Hosts are extra DNS names or IP addresses for the server certificate,
	// besides localhost, 127.0.0.1 and ::1.
	Hosts []string
}

// DevClientName is the subject CN of the client certificate GenerateDevPKI
// creates.
const DevClientName = "admin"

func devPKIPaths(dir string) DevPKI {
	return DevPKI{
		Dir:        dir,
		CACert:     filepath.Join(dir, "ca.pem"),
		CAKey:      filepath.Join(dir, "ca.key"),
		ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey:  filepath.Join(dir, "server.key"),
		ClientCert: filepath.Join(dir, "client-"+DevClientName+".pem"),
		ClientKey:  filepath.Join(dir, "client-"+DevClientName+".key"),
	}
}

func (p DevPKI) files() []string {
	return []string{p.CACert, p.CAKey, p.ServerCert, p.ServerKey, p.ClientCert, p.ClientKey}
}

// GenerateDevPKI returns the development PKI in dir, creating it when dir
// holds none of its files; an existing complete set is loaded and never
// overwritten, a partial set is an error. Keys are ECDSA P-256 in PKCS#8 PEM
// files of mode 0600; the CA lives 10 years, the leaves 2 years.
func GenerateDevPKI(dir string, o DevPKIOptions) (DevPKI, error) {
	p := devPKIPaths(dir)
	var missing, present []string
	for _, f := range p.files() {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, filepath.Base(f))
		} else if err != nil {
			return DevPKI{}, err
		} else {
			present = append(present, filepath.Base(f))
		}
	}
	switch {
	case len(missing) == 0:
		if _, _, err := loadCA(p); err != nil {
			return DevPKI{}, err
		}
		return p, nil
	case len(present) > 0:
		return DevPKI{}, fmt.Errorf("dev PKI %q is incomplete (missing %s); remove the directory to regenerate it",
			dir, strings.Join(missing, ", "))
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return DevPKI{}, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return DevPKI{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: "kmipd development CA", Organization: []string{"kmipd"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return DevPKI{}, err
	}
	if err := writeCertAndKey(p.CACert, p.CAKey, caDER, caKey); err != nil {
		return DevPKI{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return DevPKI{}, err
	}

	hosts := append([]string{"localhost", "127.0.0.1", "::1"}, o.Hosts...)
	srv := CertOptions{CommonName: "kmipd", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			srv.IPAddresses = append(srv.IPAddresses, ip)
		} else {
			srv.DNSNames = append(srv.DNSNames, h)
		}
	}
	if err := issue(ca, caKey, p.ServerCert, p.ServerKey, srv); err != nil {
		return DevPKI{}, err
	}
	cli := CertOptions{CommonName: DevClientName, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if err := issue(ca, caKey, p.ClientCert, p.ClientKey, cli); err != nil {
		return DevPKI{}, err
	}
	return p, nil
}

// CertOptions describes a leaf certificate for IssueCert.
type CertOptions struct {
	// CommonName is the subject CN; empty means a subject without CN.
	CommonName string
	// ExtraCommonNames adds further CN attributes to the subject (to test
	// the rejection of ambiguous identities).
	ExtraCommonNames []string
	DNSNames         []string
	IPAddresses      []net.IP
	// ExtKeyUsage is the extended key usage; nil omits the extension.
	ExtKeyUsage []x509.ExtKeyUsage
	// NotBefore and NotAfter bound the validity; zero means one hour ago and
	// two years from now.
	NotBefore, NotAfter time.Time
	// IsCA marks the certificate as a CA (basic constraints CA:TRUE, key
	// usage certSign), to test that such a certificate cannot be a client's.
	IsCA bool
}

// IssueCert signs a leaf certificate with the PKI's CA and writes it to
// dir/name.pem and dir/name.key (ECDSA P-256, PKCS#8, mode 0600).
func IssueCert(p DevPKI, dir, name string, o CertOptions) (certPath, keyPath string, err error) {
	ca, caKey, err := loadCA(p)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := issue(ca, caKey, certPath, keyPath, o); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// IssueClientCert issues a client certificate with subject CN cn into
// dir/client-<cn>.pem and .key, with the clientAuth extended key usage when
// clientAuthEKU is true and without any extended key usage extension otherwise.
func IssueClientCert(p DevPKI, dir, cn string, clientAuthEKU bool) (certPath, keyPath string, err error) {
	o := CertOptions{CommonName: cn}
	if clientAuthEKU {
		o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return IssueCert(p, dir, "client-"+cn, o)
}

func issue(ca *x509.Certificate, caKey crypto.Signer, certPath, keyPath string, o CertOptions) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: o.CommonName},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  o.ExtKeyUsage,
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPAddresses,
	}
	if o.IsCA {
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if len(o.ExtraCommonNames) > 0 {
		// pkix.Name drops CommonName when ExtraNames holds a CN, so all of
		// them go into ExtraNames.
		for _, cn := range append([]string{o.CommonName}, o.ExtraCommonNames...) {
			tmpl.Subject.ExtraNames = append(tmpl.Subject.ExtraNames,
				pkix.AttributeTypeAndValue{Type: oidCommonName, Value: cn})
		}
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.AddDate(2, 0, 0)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	return writeCertAndKey(certPath, keyPath, der, key)
}

func writeCertAndKey(certPath, keyPath string, der []byte, key crypto.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	clear(keyDER)
	err = os.WriteFile(keyPath, keyPEM, 0o600)
	clear(keyPEM)
	if err != nil {
		return err
	}
	return os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func loadCA(p DevPKI) (*x509.Certificate, crypto.Signer, error) {
	b, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, nil, err
	}
	certs, err := parsePEMCerts(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p.CACert, err)
	}
	kb, err := os.ReadFile(p.CAKey)
	if err != nil {
		return nil, nil, err
	}
	blk, _ := pem.Decode(kb)
	clear(kb)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, nil, fmt.Errorf("%s: no PKCS#8 PEM private key found", p.CAKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	clear(blk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p.CAKey, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: key cannot sign", p.CAKey)
	}
	return certs[0], signer, nil
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// WriteCRL writes to path a PEM CRL signed by the PKI's CA that revokes the
// certificates of the PEM files certFiles (none: an empty list), valid until
// nextUpdate (zero: a week from now).
func WriteCRL(p DevPKI, path string, nextUpdate time.Time, certFiles ...string) error {
	ca, caKey, err := loadCA(p)
	if err != nil {
		return err
	}
	now := time.Now()
	if nextUpdate.IsZero() {
		nextUpdate = now.AddDate(0, 0, 7)
	}
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(now.UnixNano()),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: nextUpdate,
	}
	if !tmpl.ThisUpdate.Before(nextUpdate) {
		tmpl.ThisUpdate = nextUpdate.Add(-time.Hour)
	}
	for _, f := range certFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		certs, err := parsePEMCerts(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: certs[0].SerialNumber, RevocationTime: now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, caKey)
	if err != nil {
		return err
	}
	// Written beside path and renamed, so that a poller never reads half.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
