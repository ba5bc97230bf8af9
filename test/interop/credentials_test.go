package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPCredentials: PyKMIP's ProxyKmipClient(username=, password=)
// sends a Username and Password Credential in every request header. With
// auth.credentials = "verify", two users behind the one certificate
// "gateway" are isolated by the default policy, and a wrong password is
// refused with Authentication Not Successful.
func TestPyKMIPCredentials(t *testing.T) {
	requirePyKMIP(t)
	path := filepath.Join(t.TempDir(), "passwords")
	var b strings.Builder
	for _, up := range [][2]string{{"user1", "pw-one"}, {"user2", "pw-two"}} {
		h, err := bcrypt.GenerateFromPassword([]byte(up[1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%s\n", up[0], h)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf(
		"[auth]\ncredentials = \"verify\"\npassword_file = %q\ncredential_certificates = [\"gateway\"]\n", path)})
	r := newAccessRunner(t, srv, "gateway", "other")
	gw, other := r.ids["gateway"], r.ids["other"]
	r.ids["user1"] = identity{Cert: gw.Cert, Key: gw.Key, Username: "user1", Password: "pw-one"}
	r.ids["user2"] = identity{Cert: gw.Cert, Key: gw.Key, Username: "user2", Password: "pw-two"}
	r.ids["user1-wrong"] = identity{Cert: gw.Cert, Key: gw.Key, Username: "user1", Password: "pw-two"}
	r.ids["other-as-user1"] = identity{Cert: other.Cert, Key: other.Key, Username: "user1", Password: "pw-one"}

	key := r.allowed(action{As: "user1", Op: "create", Name: "cred-key"}).UID
	if key == "" {
		t.Fatal("user1 create returned no identifier")
	}
	r.allowed(action{As: "user1", Op: "get", UID: key})
	r.denied(action{As: "user2", Op: "get", UID: key}, "PERMISSION_DENIED")
	r.denied(action{As: "gateway", Op: "get", UID: key}, "PERMISSION_DENIED")
	if o := r.allowed(action{As: "user2", Op: "locate", Name: "cred-key"}); len(o.UIDs) != 0 {
		t.Errorf("user2 located user1's key: %v", o.UIDs)
	}
	if o := r.allowed(action{As: "user1", Op: "locate", Name: "cred-key"}); len(o.UIDs) != 1 {
		t.Errorf("user1 located %v, want its key", o.UIDs)
	}
	r.denied(action{As: "user1-wrong", Op: "get", UID: key}, "AUTHENTICATION_NOT_SUCCESSFUL")
	r.denied(action{As: "other-as-user1", Op: "get", UID: key}, "AUTHENTICATION_NOT_SUCCESSFUL")
	if strings.Contains(srv.LogContents(t), "pw-one") {
		t.Error("a password is in the log")
	}
}
