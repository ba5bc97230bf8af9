// Package audit runs kmipd with an audit trail (issue 14.7, 14.8) against
// two identities, alice and bob, under an "encrypt_only" policy (Encrypt and
// Locate allowed to everyone, Get to the owner only): the records a session
// leaves, that they hold no secret, that kmipd audit verify finds a changed
// byte, that an unwritable audit file refuses requests with nothing
// committed, and that SIGHUP rotation keeps one chain.
package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

const policies = `{"encrypt_only": {"preset": {"SYMMETRIC_KEY": {
  "ACTIVATE": "ALLOW_OWNER", "REVOKE": "ALLOW_OWNER", "DESTROY": "ALLOW_OWNER", "DECRYPT": "ALLOW_OWNER",
  "ADD_ATTRIBUTE": "ALLOW_OWNER", "GET_ATTRIBUTES": "ALLOW_ALL", "GET": "ALLOW_OWNER",
  "ENCRYPT": "ALLOW_ALL", "LOCATE": "ALLOW_ALL"}}}}`

type target struct {
	srv        *harness.Server
	alice, bob *kmipclient.Client
	audit      string // the audit file
	admin      string // the admin listener's host:port
}

func start(t *testing.T) *target {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policies.json"), []byte(policies), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	path := filepath.Join(logs, "audit.log")
	admin := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	srv := harness.Start(t, harness.Options{
		ExtraServerTOML: fmt.Sprintf("policy_path = %q", dir),
		ExtraTOML:       fmt.Sprintf("[audit]\npath = %q\n[admin]\naddress = %q\n", path, admin),
	})
	return &target{srv: srv, alice: srv.Dial(t, "alice", 1, 4), bob: srv.Dial(t, "bob", 1, 4), audit: path, admin: admin}
}

// metric returns the line of /metrics that starts with name.
func (tg *target) metric(t *testing.T, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + tg.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func reason(err error) kmip.ResultReason {
	var oe *kmipclient.OperationError
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return 0
}

const encDec = kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt

func create(t *testing.T, c *kmipclient.Client) *kmip.Item {
	payload := kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, encDec, "")
	payload[1].Add(kmipclient.Attribute("Operation Policy Name", kmip.Text(0, "encrypt_only")))
	return kmipclient.BatchItem(kmip.OperationCreate, payload...)
}

func createAES(t *testing.T, c *kmipclient.Client) string {
	t.Helper()
	payload := create(t, c).Child(kmip.TagRequestPayload).Children()
	out := harness.Call(t, c, kmip.OperationCreate, payload...)
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	harness.Call(t, c, kmip.OperationActivate, uid(id))
	return id
}

// register registers an object of type typ with the given key block.
func register(t *testing.T, c *kmipclient.Client, typ kmip.ObjectType, obj *kmip.Item) string {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(typ)),
		kmip.Struct(kmip.TagTemplateAttribute, kmipclient.Attribute("Cryptographic Usage Mask",
			kmip.Int(kmip.TagCryptographicUsageMask, int32(encDec)))), obj)
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	return id
}

func aesKey(material []byte) *kmip.Item {
	return kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, material)),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, int32(8*len(material)))))
}

func password(pin []byte) *kmip.Item {
	return kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
		kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, pin))))
}

func encrypt(c *kmipclient.Client, id string, plaintext []byte) (*kmip.Item, error) {
	return c.Call(kmip.OperationEncrypt, uid(id), kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))), kmip.Bytes(kmip.TagData, plaintext))
}

// record is one audit line, as far as the tests look.
type record struct {
	Event, Req, Client, Addr, Version, Op, Status, Reason string
	Item                                                  int
	UIDs                                                  []string `json:"uids"`
	Keys                                                  []string
}

func records(t *testing.T, path string) []record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

// find returns the result records of client's op.
func find(recs []record, client, op string) []record {
	var out []record
	for _, r := range recs {
		if r.Event == "result" && r.Client == client && r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

func verify(t *testing.T, files ...string) harness.Result {
	t.Helper()
	return harness.Run(t, t.TempDir(), append([]string{"audit", "verify"}, files...)...)
}

// TestScriptedSession: alice and bob's session leaves one intent and one
// result per item, with who, from where, what and which key, and never a
// secret byte; audit verify passes, then names the line with a changed byte.
func TestScriptedSession(t *testing.T) {
	tg := start(t)
	material := []byte("0123456789abcdefKNOWN-KEY-BYTES!")
	pin := []byte("PIN-493817-hunter2")
	plaintext := []byte("attack at dawn, the whole fleet.")
	k := createAES(t, tg.alice)
	reg := register(t, tg.alice, kmip.ObjectTypeSymmetricKey, aesKey(material))
	pw := register(t, tg.alice, kmip.ObjectTypeSecretData, password(pin))
	got := harness.Call(t, tg.alice, kmip.OperationGet, uid(k))
	kMaterial, _ := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	harness.Call(t, tg.alice, kmip.OperationGet, uid(reg))
	harness.Call(t, tg.alice, kmip.OperationGet, uid(pw))
	if _, err := tg.bob.Call(kmip.OperationGet, uid(k)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Fatalf("bob Get: %v, want Permission Denied", err)
	}
	harness.Call(t, tg.bob, kmip.OperationLocate)
	ct, err := encrypt(tg.bob, k, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.alice.Call(kmip.OperationDecrypt, uid(k), ct.Child(kmip.TagIVCounterNonce), kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)), kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))),
		ct.Child(kmip.TagData)); err != nil {
		t.Fatal(err)
	}

	recs := records(t, tg.audit)
	intents, results := 0, 0
	for _, r := range recs {
		switch r.Event {
		case "intent":
			intents++
		case "result":
			results++
		}
		if !strings.HasPrefix(r.Addr, "127.0.0.1:") || r.Version != "1.4" || r.Req == "" || (r.Client != "alice" && r.Client != "bob") {
			t.Errorf("record %+v: want the client, its address, version 1.4 and a request id", r)
		}
	}
	if intents != results || results != 11 {
		t.Errorf("%d intents and %d results, want 11 of each (one per request)", intents, results)
	}
	for _, want := range []struct {
		client, op, status, reason string
		key                        string
	}{
		{"alice", "Get", "Success", "", k},
		{"bob", "Get", "OperationFailed", "PermissionDenied", k},
		{"bob", "Locate", "Success", "", ""},
		{"bob", "Encrypt", "Success", "", k},
		{"alice", "Decrypt", "Success", "", k},
		{"alice", "Register", "Success", "", ""},
	} {
		rs := find(recs, want.client, want.op)
		if len(rs) == 0 {
			t.Errorf("no result record for %s %s", want.client, want.op)
			continue
		}
		r := rs[0]
		if r.Status != want.status || r.Reason != want.reason || (want.key != "" && (len(r.Keys) != 1 || r.Keys[0] != want.key)) {
			t.Errorf("%s %s: %+v, want %s %s key %q", want.client, want.op, r, want.status, want.reason, want.key)
		}
	}
	if loc := find(recs, "bob", "Locate"); len(loc) == 1 && len(loc[0].UIDs) != 1 {
		t.Errorf("bob's Locate record names %v, want the one key he may see", loc[0].UIDs)
	}
	b, _ := os.ReadFile(tg.audit)
	serverLog := tg.srv.LogContents(t) // DEBUG level
	for name, secret := range map[string][]byte{"registered key": material, "password": pin,
		"plaintext": plaintext, "generated key": kMaterial} {
		for _, form := range []string{string(secret), hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
			base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)} {
			if bytes.Contains(b, []byte(form)) {
				t.Errorf("the audit file holds the %s (%q)", name, form)
			}
			if strings.Contains(serverLog, form) {
				t.Errorf("the server log holds the %s (%q)", name, form)
			}
		}
	}
	if fi, err := os.Stat(tg.audit); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, %v; want 0600", fi.Mode(), err)
	}

	if r := verify(t, tg.audit); r.ExitCode != 0 || !strings.Contains(r.Stdout, "22 records, chain intact") {
		t.Fatalf("audit verify: exit %d %q %q", r.ExitCode, r.Stdout, r.Stderr)
	}
	changed := filepath.Join(t.TempDir(), "changed.log")
	lines := bytes.SplitAfter(b, []byte("\n"))
	at := len(lines[0]) + len(lines[1]) + len(lines[2]) + 40 // line 4
	b[at] ^= 0x01
	os.WriteFile(changed, b, 0o600)
	if r := verify(t, changed); r.ExitCode != 1 || !strings.Contains(r.Stderr, changed+" line 4: ") {
		t.Fatalf("audit verify of a changed file: exit %d %q; want 1 naming line 4", r.ExitCode, r.Stderr)
	}
}

// state is the State of id as owner sees it, and whether it has a Contact
// Information attribute.
func state(t *testing.T, c *kmipclient.Client, id string) (kmip.State, bool) {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationGetAttributes, uid(id))
	var st uint32
	contact := false
	for _, a := range out.ChildrenOf(kmip.TagAttribute) {
		switch name, _ := a.Child(kmip.TagAttributeName).AsText(); name {
		case "State":
			st, _ = a.Child(kmip.TagAttributeValue).AsEnum()
		case "Contact Information":
			contact = true
		}
	}
	return kmip.State(st), contact
}

func locate(t *testing.T, c *kmipclient.Client) []string {
	t.Helper()
	var ids []string
	for _, it := range harness.Call(t, c, kmip.OperationLocate).ChildrenOf(kmip.TagUniqueIdentifier) {
		id, _ := it.AsText()
		ids = append(ids, id)
	}
	return ids
}

// TestUnwritableAuditFileCommitsNothing: with the audit file immutable, or
// its path a directory after a rotation, every request fails and nothing it
// would have done is in the store; once the file is writable again the
// trail continues, one intact chain.
func TestUnwritableAuditFileCommitsNothing(t *testing.T) {
	for _, how := range []string{"immutable", "directory"} {
		t.Run(how, func(t *testing.T) {
			tg := start(t)
			k := createAES(t, tg.alice)
			old := createAES(t, tg.alice)
			harness.Call(t, tg.alice, kmip.OperationRevoke, uid(old), kmip.Struct(kmip.TagRevocationReason,
				kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeCessationOfOperation))))
			before := locate(t, tg.alice)
			files := []string{tg.audit}
			var restore func()
			switch how {
			case "immutable":
				if out, err := exec.Command("chattr", "+i", tg.audit).CombinedOutput(); err != nil {
					t.Skipf("chattr +i: %v %s", err, out)
				}
				restore = func() { exec.Command("chattr", "-i", tg.audit).Run() }
				t.Cleanup(restore)
			case "directory":
				os.Rename(tg.audit, tg.audit+".1")
				if err := os.Mkdir(tg.audit, 0o700); err != nil {
					t.Fatal(err)
				}
				tg.srv.Signal(syscall.SIGHUP)
				waitLog(t, tg.srv, "SIGHUP: reload failed") // the audit file could not be reopened
				restore = func() { os.Remove(tg.audit) }
				files = []string{tg.audit + ".1", tg.audit}
			}
			attempts := []struct {
				name string
				c    *kmipclient.Client
				item *kmip.Item
			}{
				{"Create", tg.alice, create(t, tg.alice)},
				{"Register", tg.alice, kmipclient.BatchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
					kmip.Struct(kmip.TagTemplateAttribute), password([]byte("1234")))},
				{"Add Attribute", tg.alice, kmipclient.BatchItem(kmip.OperationAddAttribute, uid(k),
					kmipclient.Attribute("Contact Information", kmip.Text(0, "x")))},
				{"Revoke", tg.alice, kmipclient.BatchItem(kmip.OperationRevoke, uid(k), kmip.Struct(kmip.TagRevocationReason,
					kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))},
				{"Destroy", tg.alice, kmipclient.BatchItem(kmip.OperationDestroy, uid(old))},
				{"Get", tg.alice, kmipclient.BatchItem(kmip.OperationGet, uid(k))},
				{"bob's Encrypt", tg.bob, kmipclient.BatchItem(kmip.OperationEncrypt, uid(k), kmip.Bytes(kmip.TagData, []byte("x")))},
			}
			for _, a := range attempts {
				resp, err := a.c.RoundTrip(a.c.Request(a.item))
				if err != nil {
					t.Fatalf("%s: %v", a.name, err)
				}
				rs, _ := kmipclient.Results(resp)
				if len(rs) != 1 || reason(rs[0].Err) != kmip.ResultReasonGeneralFailure || rs[0].Payload != nil {
					t.Errorf("%s with the audit file unwritable: %+v, want General Failure and no payload", a.name, rs)
				}
			}
			restore()
			after := locate(t, tg.alice)
			if strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("objects %v, were %v: a refused request created one", after, before)
			}
			if st, contact := state(t, tg.alice, k); st != kmip.StateActive || contact {
				t.Errorf("key %s: state %s, Contact Information %v: a refused request changed it", k, st, contact)
			}
			if st, _ := state(t, tg.alice, old); st != kmip.StateDeactivated {
				t.Errorf("key %s: state %s, want Deactivated: a refused Destroy stood", old, st)
			}
			if !strings.Contains(tg.srv.LogContents(t), "audit record not written") {
				t.Error("the log does not say the audit record was not written")
			}
			if got, want := tg.metric(t, "kmipd_audit_write_failures_total"), fmt.Sprintf("kmipd_audit_write_failures_total %d", len(attempts)); got != want {
				t.Errorf("metric %q, want %q (the intent record of each refused request)", got, want)
			}
			if r := verify(t, files...); r.ExitCode != 0 {
				t.Errorf("audit verify %v: exit %d %q", files, r.ExitCode, r.Stderr)
			}
		})
	}
}

func waitLog(t *testing.T, srv *harness.Server, substr string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(srv.LogContents(t), substr) {
			return
		}
	}
	t.Fatalf("the log never said %q:\n%s", substr, srv.LogContents(t))
}

// TestRotationBySIGHUP: after mv audit.log audit.log.1 and SIGHUP, kmipd
// writes a new audit.log (0600) continuing the chain, and keeps it across
// a restart; audit verify audit.log.1 audit.log passes.
func TestRotationBySIGHUP(t *testing.T) {
	tg := start(t)
	createAES(t, tg.alice)
	if err := os.Rename(tg.audit, tg.audit+".1"); err != nil {
		t.Fatal(err)
	}
	tg.srv.Signal(syscall.SIGHUP)
	waitLog(t, tg.srv, `"reload":"audit","time"`) // "SIGHUP: reloaded"
	harness.Call(t, tg.bob, kmip.OperationLocate)
	if fi, err := os.Stat(tg.audit); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Fatalf("new audit file: %v, %v; want a non-empty 0600 file", fi, err)
	}
	if recs := records(t, tg.audit); len(recs) != 2 || recs[0].Op != "Locate" {
		t.Errorf("new file holds %+v, want bob's Locate only", recs)
	}
	tg.srv.Restart(t)
	harness.Call(t, tg.srv.Dial(t, "alice", 1, 4), kmip.OperationLocate)
	both := []string{tg.audit + ".1", tg.audit}
	if r := verify(t, both...); r.ExitCode != 0 || !strings.Contains(r.Stdout, "8 records") {
		t.Fatalf("audit verify %v: exit %d %q %q", both, r.ExitCode, r.Stdout, r.Stderr)
	}
	if r := verify(t, tg.audit, tg.audit+".1"); r.ExitCode != 1 {
		t.Errorf("audit verify of the files out of order: exit %d, want 1", r.ExitCode)
	}
}

// TestSIGHUPWithoutAudit: SIGHUP no longer ends kmipd, with or without an
// audit file.
func TestSIGHUPWithoutAudit(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	srv.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	harness.Call(t, srv.Dial(t, "alice", 1, 4), kmip.OperationQuery)
}

// TestSealedTrailIsHMACd: with sealing on, the chain is HMAC'd under a key
// kept wrapped by the KEK beside the trail; verify needs the configuration
// (its KEK) and then passes, and fails after one byte is changed.
func TestSealedTrailIsHMACd(t *testing.T) {
	dir := t.TempDir()
	kek := filepath.Join(dir, "seal.key")
	if r := harness.Run(t, dir, "seal", "keygen", kek); r.ExitCode != 0 {
		t.Fatalf("seal keygen: %+v", r)
	}
	path := filepath.Join(dir, "audit.log")
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf("[audit]\npath = %q\n[seal]\ntype = \"file\"\nkey_file = %q\n", path, kek)})
	c := srv.Dial(t, "alice", 1, 4)
	harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...)
	harness.Call(t, c, kmip.OperationLocate)
	srv.Stop(t)
	trail, _ := os.ReadFile(path)
	if !strings.Contains(string(trail), `"mac":"`) || strings.Contains(string(trail), `"hash":"`) {
		t.Fatalf("a sealed server's trail is not HMAC'd:\n%s", trail)
	}
	if fi, err := os.Stat(path + ".mackey"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the wrapped MAC key: %v", err)
	}
	if r := harness.Run(t, dir, "audit", "verify", path); r.ExitCode != 1 || !strings.Contains(r.Stderr, "needs the key") {
		t.Errorf("verify without the configuration: %+v", r)
	}
	if r := harness.Run(t, dir, "audit", "verify", "-config", srv.ConfigPath, path); r.ExitCode != 0 {
		t.Fatalf("verify with the configuration: %+v", r)
	}
	i := strings.Index(string(trail), `"operation":"`) + len(`"operation":"`)
	trail[i] ^= 0x01
	os.WriteFile(path, trail, 0o600)
	if r := harness.Run(t, dir, "audit", "verify", "-config", srv.ConfigPath, path); r.ExitCode != 1 || !strings.Contains(r.Stderr, "line 1") {
		t.Errorf("verify of a changed sealed trail: %+v", r)
	}
}
