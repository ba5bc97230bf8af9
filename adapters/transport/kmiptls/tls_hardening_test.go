package kmiptls

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// smallBufListener shrinks the send buffer of accepted connections so that a
// peer that reads nothing blocks the server's writes quickly.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// tls13Sealer encrypts TLS 1.3 records with the client's application traffic
// secret, so that the test can send records Go's client has no API for.
type tls13Sealer struct {
	suite  uint16
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	seq    uint64
}

func hkdfExpandLabel[H hash.Hash](h func() H, secret []byte, label string, n int) []byte {
	var info []byte
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len("tls13 "+label)))
	info = append(info, "tls13 "+label...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return out
}

func newTLS13Sealer(t *testing.T, suite uint16, secret []byte) *tls13Sealer {
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384:
	default:
		t.Skipf("cipher suite %s not supported by the test's record sealer", tls.CipherSuiteName(suite))
	}
	s := &tls13Sealer{suite: suite}
	s.setSecret(secret)
	return s
}

// setSecret installs a traffic secret (RFC 8446 §7.3).
func (s *tls13Sealer) setSecret(secret []byte) {
	var key []byte
	if s.suite == tls.TLS_AES_128_GCM_SHA256 {
		key, s.iv = hkdfExpandLabel(sha256.New, secret, "key", 16), hkdfExpandLabel(sha256.New, secret, "iv", 12)
	} else {
		key, s.iv = hkdfExpandLabel(sha512.New384, secret, "key", 32), hkdfExpandLabel(sha512.New384, secret, "iv", 12)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	if s.aead, err = cipher.NewGCM(blk); err != nil {
		panic(err)
	}
	s.secret, s.seq = secret, 0
}

// keyUpdated moves to the next traffic secret, as the sender of a KeyUpdate
// must (RFC 8446 §7.2).
func (s *tls13Sealer) keyUpdated() {
	if s.suite == tls.TLS_AES_128_GCM_SHA256 {
		s.setSecret(hkdfExpandLabel(sha256.New, s.secret, "traffic upd", 32))
	} else {
		s.setSecret(hkdfExpandLabel(sha512.New384, s.secret, "traffic upd", 48))
	}
}

// seal appends one encrypted record of the given content type (22
// handshake, 23 application data).
func (s *tls13Sealer) seal(dst []byte, contentType byte, data []byte) []byte {
	inner := append(append([]byte{}, data...), contentType)
	n := len(inner) + s.aead.Overhead()
	hdr := []byte{23, 3, 3, byte(n >> 8), byte(n)}
	nonce := append([]byte{}, s.iv...)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(s.seq >> (8 * i))
	}
	s.seq++
	dst = append(dst, hdr...)
	dst = s.aead.Seal(dst, nonce, inner, hdr)
	if contentType == 22 && data[0] == 24 { // KeyUpdate
		s.keyUpdated()
	}
	return dst
}

// clientTrafficSecret extracts CLIENT_TRAFFIC_SECRET_0 from a key log.
func clientTrafficSecret(t *testing.T, keyLog []byte) []byte {
	sc := bufio.NewScanner(bytes.NewReader(keyLog))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "CLIENT_TRAFFIC_SECRET_0" {
			b, err := hex.DecodeString(f[2])
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("no CLIENT_TRAFFIC_SECRET_0 in the key log")
	return nil
}

// TestKeyUpdateFloodFromNonReadingClientCutOff: a TLS 1.3 client that sends
// KeyUpdate requests and reads nothing makes the server write while it waits
// for a request; those writes must be bounded by a deadline, or the
// connection (and its MaxConnections slot) is held forever.
func TestKeyUpdateFloodFromNonReadingClientCutOff(t *testing.T) {
	p := pki(t)
	cfg, _, err := NewTLSConfig(TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert})
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: &fakeHandler{}, TLSConfig: cfg, Settings: Settings{IdleTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(smallBufListener{l})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})

	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.(*net.TCPConn).SetReadBuffer(4096)
	var keyLog bytes.Buffer
	ccfg := adminConfig(t)
	ccfg.MinVersion, ccfg.KeyLogWriter = tls.VersionTLS13, &keyLog
	tc := tls.Client(raw, ccfg)
	raw.SetDeadline(time.Now().Add(20 * time.Second)) // safety net only
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	s := newTLS13Sealer(t, tc.ConnectionState().CipherSuite, clientTrafficSecret(t, keyLog.Bytes()))
	keyUpdate := []byte{24, 0, 0, 1, 1} // KeyUpdate, update_requested
	// Go's TLS stack closes after 16 consecutive records that carry no
	// application data, so each run of KeyUpdates is followed by one byte of
	// a (large, never finished) request message.
	request := []byte{0x42, 0x00, 0x78, 0x01, 0x00, 0x0F, 0xFF, 0xF0}
	sent := 0
	for {
		var batch []byte
		for range 16 {
			for range 15 {
				batch = s.seal(batch, 22, keyUpdate)
			}
			b := byte(0)
			if sent < len(request) {
				b = request[sent]
			}
			batch = s.seal(batch, 23, []byte{b})
			sent++
		}
		if _, err := raw.Write(batch); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("server stopped reading but never closed the connection: its writes have no deadline")
			}
			return // the server cut the connection off
		}
	}
}

// TestServeRefusesUnsafeTLSConfig: the server must not run with a TLS
// configuration that lets unverified client certificates through.
func TestServeRefusesUnsafeTLSConfig(t *testing.T) {
	pool := x509.NewCertPool()
	for name, cfg := range map[string]*tls.Config{
		"client cert not verified": {ClientAuth: tls.RequireAnyClientCert, ClientCAs: pool},
		"client cert optional":     {ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool},
		"no client CAs":            {ClientAuth: tls.RequireAndVerifyClientCert},
		"per-client config":        {ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }},
		"max version TLS 1.1":      {ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MaxVersion: tls.VersionTLS11},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &Server{Handler: &fakeHandler{}, TLSConfig: cfg}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			select {
			case err := <-served:
				if err == nil || errors.Is(err, ErrServerClosed) {
					t.Fatalf("Serve returned %v, want a configuration error", err)
				}
			case <-time.After(10 * time.Second): // safety net only
				srv.Shutdown(context.Background())
				t.Fatal("Serve accepted the configuration and is serving")
			}
			if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("listener not closed by Serve: %v", err)
			}
		})
	}
}

// TestLowMinVersionRaised: whatever TLSConfig.MinVersion says, TLS 1.0 and
// 1.1 are refused.
func TestLowMinVersionRaised(t *testing.T) {
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig.MinVersion = tls.VersionTLS10 })
	cfg := adminConfig(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := dial(t, ts.addr, cfg); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

// TestIdentityRequiresVerifiedChain: a certificate the TLS layer did not
// verify never yields an identity.
func TestIdentityRequiresVerifiedChain(t *testing.T) {
	p := pki(t)
	pair, err := tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{}
	if who, err := s.identity(tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}); err == nil {
		t.Fatalf("unverified certificate gave identity %q", who.Name)
	}
	who, err := s.identity(tls.ConnectionState{
		PeerCertificates: []*x509.Certificate{leaf},
		VerifiedChains:   [][]*x509.Certificate{{leaf}},
	})
	if err != nil || who.Name != DevClientName {
		t.Fatalf("verified certificate: identity %q, %v", who.Name, err)
	}
}

// TestResumedSessionKeepsIdentity: a resumed TLS session is served as the
// client whose certificate the original handshake verified, and the
// clientAuth EKU rule still applies.
func TestResumedSessionKeepsIdentity(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			ts := startServer(t, nil, func(s *Server) { s.RequireClientAuthEKU = true })
			cfg := adminConfig(t)
			cfg.MaxVersion = version
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i := range 2 {
				c, err := dial(t, ts.addr, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := roundTrip(c, testRequest); err != nil {
					t.Fatal(err)
				}
				if resumed := c.ConnectionState().DidResume; resumed != (i == 1) {
					t.Fatalf("connection %d: DidResume %v", i, resumed)
				}
				c.Close()
			}
			ts.h.mu.Lock()
			defer ts.h.mu.Unlock()
			for i, p := range ts.h.peers {
				if p.Name != DevClientName {
					t.Errorf("request %d served as %q", i, p.Name)
				}
			}
		})
	}
}

// TestServerAuthOnlyEKURefusedEvenWhenOff: with RequireClientAuthEKU off a
// certificate without the extension is served, but one whose extension lists
// only other usages is refused by crypto/tls's chain verification either way.
func TestServerAuthOnlyEKURefusedEvenWhenOff(t *testing.T) {
	ts := startServer(t, nil, nil)
	cert, key, err := IssueCert(pki(t), t.TempDir(), "srvonly", CertOptions{
		CommonName: "srvonly", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertRefused(t, ts, clientConfig(t, cert, key))
}
