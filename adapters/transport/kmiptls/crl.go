package kmiptls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// DefaultCRLPollInterval is how often CRL.Run looks at the CRL file when
// CRLOptions.PollInterval is zero.
const DefaultCRLPollInterval = time.Second

// MaxCRLFileSize is the largest CRL file read; a larger one is refused like
// an unparsable one.
const MaxCRLFileSize = 64 << 20

// ErrRevoked reports a client certificate chain that holds a revoked
// certificate.
var ErrRevoked = errors.New("client certificate revoked")

// CRLOptions configure a CRL.
type CRLOptions struct {
	// CAFile is the PEM file of the CAs that issue client certificates
	// (pykmip-server ca_path): every CRL in the file must be signed by one
	// of them. Required.
	CAFile string
	// PollInterval is the pause between two looks at the file in Run. Zero
	// means DefaultCRLPollInterval.
	PollInterval time.Duration
	// Log receives a line per CRL file loaded or refused, and a warning for
	// a CRL past its Next Update; the zero Logger discards them.
	Log zerolog.Logger
}

// CRL is the set of certificates revoked by the certificate revocation lists
// of one file (PEM "X509 CRL" blocks, or one DER list), each signed by a CA
// of CAFile. Reload brings it up to date with the file; Run does so
// periodically, so that a new CRL takes effect without a restart. A file
// that cannot be read, or holds a list that does not parse or is not signed
// by a trusted CA, is logged and the lists in force stay in force. A list
// past its Next Update is still enforced, with a warning. CRL is safe for
// concurrent use.
type CRL struct {
	path     string
	cas      []*x509.Certificate
	interval time.Duration
	log      zerolog.Logger

	reloadMu sync.Mutex // one reload at a time; guards seen
	seen     fileState

	mu    sync.RWMutex
	lists []*revocationList
}

// fileState is what the last look saw of the CRL file.
type fileState struct {
	mtime   time.Time
	size    int64
	sum     [32]byte
	checked time.Time // when the file was last read
	failed  bool      // the last read failed
}

// revocationList is one verified CRL.
type revocationList struct {
	issuer     *x509.Certificate // the CA of CAFile that signed it
	revoked    map[string]bool   // serial numbers, decimal
	nextUpdate time.Time
	staleNoted bool // the Next Update warning was logged; guarded by CRL.mu
}

// OpenCRL loads the CRL file at path. A file that is missing, unreadable, or
// holds a list that does not parse or is not signed by a CA of o.CAFile is an
// error.
func OpenCRL(path string, o CRLOptions) (*CRL, error) {
	b, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("ca_path %q: %w", o.CAFile, err)
	}
	cas, err := parsePEMCerts(b)
	if err != nil {
		return nil, fmt.Errorf("ca_path %q: %w", o.CAFile, err)
	}
	c := &CRL{path: path, cas: cas, interval: o.PollInterval, log: o.Log}
	if c.interval <= 0 {
		c.interval = DefaultCRLPollInterval
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	data, err := readCRLFile(path)
	if err != nil {
		return nil, err
	}
	lists, err := c.parse(data)
	if err != nil {
		return nil, err
	}
	c.seen = fileState{mtime: fi.ModTime(), size: fi.Size(), sum: sha256.Sum256(data), checked: time.Now()}
	c.install(lists)
	return c, nil
}

// Check returns ErrRevoked, wrapped with the certificate's subject and
// serial number, when a certificate of chain (leaf first) is revoked by a
// list its issuer, the next certificate of the chain, signed.
func (c *CRL) Check(chain []*x509.Certificate) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, l := range c.lists {
			if sameCA(l.issuer, issuer) && l.revoked[cert.SerialNumber.String()] {
				return fmt.Errorf("%w: %q serial %s", ErrRevoked, cert.Subject.CommonName, cert.SerialNumber.Text(16))
			}
		}
	}
	return nil
}

// sameCA reports whether a and b are the same CA: same subject, same key.
func sameCA(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubject, b.RawSubject) && bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo)
}

// Run reloads the CRL file every PollInterval until ctx ends.
func (c *CRL) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Reload()
			c.warnStale(time.Now())
		}
	}
}

// Reload brings the lists up to date with the file. The file is read again
// when its size or modification time changed, when that time is too recent
// to rule out an unnoticed change within the file system's timestamp
// granularity, or when its last read failed; the lists are replaced only when
// the content changed and every list in it is valid.
func (c *CRL) Reload() {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	now := time.Now()
	old := c.seen
	fi, err := os.Stat(c.path)
	if err != nil {
		if !old.failed {
			c.log.Error().Err(err).Str("crl_path", c.path).Msg("CRL file unreadable; keeping the revocation lists in force")
		}
		c.seen.failed = true
		return
	}
	racy := !old.checked.After(old.mtime.Add(2 * time.Second))
	changed := fi.Size() != old.size || !fi.ModTime().Equal(old.mtime)
	if !changed && !racy && !old.failed {
		return
	}
	data, err := readCRLFile(c.path)
	if err == nil && bytes.Equal(sumOf(data), old.sum[:]) {
		c.seen = fileState{mtime: fi.ModTime(), size: fi.Size(), sum: old.sum, checked: now}
		return
	}
	var lists []*revocationList
	if err == nil {
		lists, err = c.parse(data)
	}
	if err != nil {
		// Remember the attempt, so that a bad file is logged again only
		// once it changes.
		c.seen = fileState{mtime: fi.ModTime(), size: fi.Size(), sum: old.sum, checked: now, failed: true}
		if !old.failed || changed {
			c.log.Error().Str("error", err.Error()).Str("crl_path", c.path).
				Msg("CRL file refused; keeping the revocation lists in force")
		}
		return
	}
	c.seen = fileState{mtime: fi.ModTime(), size: fi.Size(), sum: sha256.Sum256(data), checked: now}
	c.install(lists)
}

func sumOf(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// install puts lists in force and logs what they hold.
func (c *CRL) install(lists []*revocationList) {
	c.mu.Lock()
	c.lists = lists
	c.mu.Unlock()
	n := 0
	for _, l := range lists {
		n += len(l.revoked)
	}
	c.log.Info().Str("crl_path", c.path).Int("lists", len(lists)).Int("revoked", n).Msg("certificate revocation lists loaded")
	c.warnStale(time.Now())
}

// warnStale logs, once per list, that a list in force is past its Next
// Update; it is enforced all the same.
func (c *CRL) warnStale(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lists {
		if !l.staleNoted && !l.nextUpdate.IsZero() && now.After(l.nextUpdate) {
			l.staleNoted = true
			c.log.Warn().Str("crl_path", c.path).Str("issuer", l.issuer.Subject.String()).
				Time("next_update", l.nextUpdate).Msg("CRL is past its Next Update; still enforcing it, publish a fresh one")
		}
	}
}

// parse returns the lists of data: PEM "X509 CRL" blocks, or one DER list.
// Each must parse and be signed by a CA of CAFile.
func (c *CRL) parse(data []byte) ([]*revocationList, error) {
	var ders [][]byte
	if rest := bytes.TrimSpace(data); len(rest) > 0 && rest[0] == '-' {
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "X509 CRL" {
				ders = append(ders, blk.Bytes)
			}
		}
		if len(ders) == 0 {
			return nil, errors.New("no PEM \"X509 CRL\" block found")
		}
	} else {
		ders = [][]byte{data}
	}
	lists := make([]*revocationList, 0, len(ders))
	for n, der := range ders {
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("CRL %d: %w", n+1, err)
		}
		issuer := c.signer(rl)
		if issuer == nil {
			return nil, fmt.Errorf("CRL %d (issuer %q): not signed by a CA of ca_path", n+1, rl.Issuer.String())
		}
		l := &revocationList{issuer: issuer, revoked: map[string]bool{}, nextUpdate: rl.NextUpdate}
		for _, e := range rl.RevokedCertificateEntries {
			l.revoked[e.SerialNumber.String()] = true
		}
		lists = append(lists, l)
	}
	return lists, nil
}

// signer returns the CA of CAFile that signed rl, or nil.
func (c *CRL) signer(rl *x509.RevocationList) *x509.Certificate {
	for _, ca := range c.cas {
		if bytes.Equal(ca.RawSubject, rl.RawIssuer) && rl.CheckSignatureFrom(ca) == nil {
			return ca
		}
	}
	return nil
}

// readCRLFile reads the regular file f of at most MaxCRLFileSize bytes.
func readCRLFile(f string) ([]byte, error) {
	file, err := os.Open(f)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(file, MaxCRLFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxCRLFileSize {
		return nil, fmt.Errorf("more than the %d bytes a CRL file may have", MaxCRLFileSize)
	}
	return data, nil
}
