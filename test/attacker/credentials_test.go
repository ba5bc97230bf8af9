package attacker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// passwordFile writes "user:bcrypt(password)" lines for users (user,
// password pairs) to path.
func passwordFile(t *testing.T, path string, users ...string) {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(users); i += 2 {
		h, err := bcrypt.GenerateFromPassword([]byte(users[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%s\n", users[i], h)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// verifying starts kmipd with auth.credentials = "verify", users user1,
// user2 and alice in the password file, read every poll, and the certificate
// "gateway" allowed to act for them; it returns the target and the password
// file's path.
func verifying(t *testing.T, poll string) (*target, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passwords")
	passwordFile(t, path, "user1", "pw-one", "user2", "pw-two", "alice", "pw-alice")
	tg := start(t, harness.Options{ExtraTOML: fmt.Sprintf("[auth]\ncredentials = \"verify\"\npassword_file = %q\n"+
		"credential_certificates = [\"gateway\"]\npassword_poll_interval = %q\n", path, poll)})
	return tg, path
}

// asUser runs op on c with a Username and Password Credential in the
// request header (user "" sends none).
func asUser(c *kmipclient.Client, user, password string, op kmip.Operation, payload ...*kmip.Item) (*kmip.Item, error) {
	req := c.Request(kmipclient.BatchItem(op, payload...))
	if user != "" {
		hdr := req.Child(kmip.TagRequestHeader)
		kids := hdr.Children()
		cred := kmip.Struct(kmip.TagCredential,
			kmip.Enum(kmip.TagCredentialType, uint32(kmip.CredentialTypeUsernameAndPassword)),
			kmip.Struct(kmip.TagCredentialValue, kmip.Text(kmip.TagUsername, user), kmip.Text(kmip.TagPassword, password)))
		hdr.Value = append(append(append([]*kmip.Item{}, kids[:len(kids)-1]...), kmip.Struct(kmip.TagAuthentication, cred)), kids[len(kids)-1])
	}
	resp, err := c.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rs, err := kmipclient.Results(resp)
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%d batch items", len(rs))
	}
	return rs[0].Payload, rs[0].Err
}

func aesPayload() []*kmip.Item {
	return kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")
}

// TestCredentialUsersIsolated: two users behind one gateway certificate are
// kept apart by the default policy as two certificates are, at 1.4 and 2.1.
func TestCredentialUsersIsolated(t *testing.T) {
	tg, _ := verifying(t, "100ms")
	for _, minor := range [][2]int32{{1, 4}, {2, 1}} {
		gw := tg.srv.Dial(t, "gateway", minor[0], minor[1])
		out, err := asUser(gw, "user1", "pw-one", kmip.OperationCreate, aesPayload()...)
		if err != nil {
			t.Fatalf("%d.%d: user1 Create: %v", minor[0], minor[1], err)
		}
		id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
		if _, err := asUser(gw, "user1", "pw-one", kmip.OperationGet, uid(id)); err != nil {
			t.Errorf("user1 Get of its own key: %v", err)
		}
		if _, err := asUser(gw, "user2", "pw-two", kmip.OperationGet, uid(id)); reason(err) != kmip.ResultReasonPermissionDenied {
			t.Errorf("user2 Get of user1's key: %v, want Permission Denied", err)
		}
		if _, err := asUser(gw, "", "", kmip.OperationGet, uid(id)); reason(err) != kmip.ResultReasonPermissionDenied {
			t.Errorf("the gateway itself Get of user1's key: %v, want Permission Denied", err)
		}
		if _, err := tg.bob.Call(kmip.OperationGet, uid(id)); reason(err) != kmip.ResultReasonPermissionDenied {
			t.Errorf("bob Get of user1's key: %v, want Permission Denied", err)
		}
		out, err = asUser(gw, "user2", "pw-two", kmip.OperationLocate)
		if err != nil || len(out.ChildrenOf(kmip.TagUniqueIdentifier)) != 0 {
			t.Errorf("user2 Locate: %v %v, want nothing", out, err)
		}
	}
}

// TestCredentialRefused: a wrong password, an unknown user and a
// certificate acting for another user without being listed are each
// answered Authentication Not Successful and the connection closed; the log
// names the user and the client's address at WARN, never the password.
func TestCredentialRefused(t *testing.T) {
	tg, _ := verifying(t, "100ms")
	for _, c := range []struct{ cert, user, password string }{
		{"gateway", "user1", "pw-two-wrong"},
		{"gateway", "mallory", "pw-one"},
		{"alice", "user1", "pw-one"}, // right password, certificate not listed
	} {
		cl := tg.srv.Dial(t, c.cert, 1, 4)
		if _, err := asUser(cl, c.user, c.password, kmip.OperationCreate, aesPayload()...); reason(err) != kmip.ResultReasonAuthenticationNotSuccessful {
			t.Errorf("%+v: %v, want Authentication Not Successful", c, err)
		}
		if _, err := cl.Call(kmip.OperationQuery); err == nil {
			t.Errorf("%+v: the connection stays open after a refused credential", c)
		}
	}
	logs := tg.srv.LogContents(t)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "pw-one") || strings.Contains(line, "pw-two") || strings.Contains(line, "pw-alice") {
			t.Fatalf("a password is in the log: %s", line)
		}
	}
	for _, want := range []string{`user \"user1\" from certificate \"gateway\": unknown user or wrong password`,
		`user \"mallory\"`, `not in auth.credential_certificates`} {
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, want) && strings.Contains(line, `"remote":"127.0.0.1:`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no WARN line with the client's address says %s", want)
		}
	}
	// A certificate not listed may present a credential of its own name: the
	// request runs as the certificate's identity, as without one.
	out, err := asUser(tg.alice, "alice", "pw-alice", kmip.OperationCreate, aesPayload()...)
	if err != nil {
		t.Fatalf("alice with her own credential: %v", err)
	}
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	harness.Call(t, tg.alice, kmip.OperationGet, uid(id))
}

// TestCredentialReload: a password changed in the file takes effect without
// a restart, and the old one is refused.
func TestCredentialReload(t *testing.T) {
	tg, path := verifying(t, "100ms")
	gw := tg.srv.Dial(t, "gateway", 1, 4)
	if _, err := asUser(gw, "user1", "pw-one", kmip.OperationQuery); err != nil {
		t.Fatal(err)
	}
	passwordFile(t, path, "user1", "pw-new", "user2", "pw-two")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := tg.srv.Dial(t, "gateway", 1, 4)
		_, err := asUser(c, "user1", "pw-new", kmip.OperationQuery)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new password is still refused: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := tg.srv.Dial(t, "gateway", 1, 4)
	if _, err := asUser(c, "user1", "pw-one", kmip.OperationQuery); reason(err) != kmip.ResultReasonAuthenticationNotSuccessful {
		t.Errorf("the old password after the change: %v", err)
	}
}

// TestCredentialSIGHUP: SIGHUP reads the password file at once; a broken
// file keeps the one in force.
func TestCredentialSIGHUP(t *testing.T) {
	tg, path := verifying(t, "1h")
	hup := func() {
		if err := syscall.Kill(tg.srv.PID(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	try := func(password string) error {
		_, err := asUser(tg.srv.Dial(t, "gateway", 1, 4), "user1", password, kmip.OperationQuery)
		return err
	}
	if err := os.WriteFile(path, []byte("user1:not-bcrypt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup()
	waitLog(t, tg.srv, `SIGHUP: reload failed`)
	if err := try("pw-one"); err != nil {
		t.Fatalf("a broken file on SIGHUP dropped the one in force: %v", err)
	}
	passwordFile(t, path, "user1", "pw-new")
	hup()
	deadline := time.Now().Add(10 * time.Second)
	for try("pw-new") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the new password is still refused after SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := try("pw-one"); reason(err) != kmip.ResultReasonAuthenticationNotSuccessful {
		t.Errorf("the old password after SIGHUP: %v", err)
	}
}

// waitLog waits until the server's log holds s.
func waitLog(t *testing.T, srv *harness.Server, s string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(srv.LogContents(t), s); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q", s)
		}
	}
}

// TestCredentialsIgnoredByDefault: without auth.credentials the Credential
// is not checked and changes nothing (today's behaviour): both "users"
// behind one certificate are that certificate, even with a wrong password.
func TestCredentialsIgnoredByDefault(t *testing.T) {
	tg := start(t, harness.Options{})
	gw := tg.srv.Dial(t, "gateway", 1, 4)
	out, err := asUser(gw, "user1", "anything", kmip.OperationCreate, aesPayload()...)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if _, err := asUser(gw, "user2", "wrong", kmip.OperationGet, uid(id)); err != nil {
		t.Errorf("ignored credentials: user2 Get: %v, want success (the request runs as the certificate)", err)
	}
}
