package kmiptls

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestHandshakeCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "read", Err: timeoutErr{}}, "timeout"},
		{errors.New("EOF"), "eof"},
		{errors.New("tls: client didn't provide a certificate"), "no_certificate"},
		{fmt.Errorf("tls: failed to verify certificate: %w", x509.UnknownAuthorityError{}), "bad_certificate"},
		{errors.New(`client certificate "x" is a CA certificate (CA:TRUE)`), "client_refused"},
		{errors.New("client certificate has no subject common name"), "client_refused"},
		{errors.New("tls: client offered only unsupported versions: [301]"), "protocol"},
		{errors.New("something else"), "other"},
		{errors.New("tls: no cipher suite supported by both client and server"), "protocol"},
	} {
		if got := HandshakeCause(tc.err); got != tc.want {
			t.Errorf("HandshakeCause(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
