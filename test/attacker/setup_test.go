// Package attacker runs kmipd as a hostile client with a valid certificate
// would meet it: two identities, alice (the victim) and bob (the attacker),
// against the real binary with a policy directory holding the policies
// "shared" (Get, Get Attributes, Locate and Encrypt allowed to everyone on
// symmetric keys) and "encrypt_only" (Encrypt, Get Attributes and Locate
// allowed to everyone, Get to the owner only). Each test is one break found in
// a review (issue 12); each must fail on a server that has the break.
package attacker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// policies is the policy directory's one file: the two policies the review
// used. Without a SLUGS service clients have no groups, so the preset rules
// apply to everyone.
const policies = `{
  "shared": {"preset": {"SYMMETRIC_KEY": {` + ownerOps + `,
    "GET": "ALLOW_ALL", "GET_ATTRIBUTES": "ALLOW_ALL", "LOCATE": "ALLOW_ALL", "ENCRYPT": "ALLOW_ALL"}}},
  "encrypt_only": {"preset": {"SYMMETRIC_KEY": {` + ownerOps + `,
    "ENCRYPT": "ALLOW_ALL", "GET_ATTRIBUTES": "ALLOW_ALL", "LOCATE": "ALLOW_ALL", "GET": "ALLOW_OWNER"}}}
}`

// ownerOps lets the owner run the lifecycle and the operations the policies
// do not share.
const ownerOps = `"ACTIVATE": "ALLOW_OWNER", "REVOKE": "ALLOW_OWNER", "DESTROY": "ALLOW_OWNER",
    "DECRYPT": "ALLOW_OWNER", "GET_ATTRIBUTE_LIST": "ALLOW_OWNER", "ADD_ATTRIBUTE": "ALLOW_OWNER",
    "MODIFY_ATTRIBUTE": "ALLOW_OWNER", "DELETE_ATTRIBUTE": "ALLOW_OWNER"`

// target is a running kmipd and the two identities that attack it.
type target struct {
	srv        *harness.Server
	alice, bob *kmipclient.Client
}

// start runs kmipd with the review's policies and connects alice and bob at
// KMIP 1.4. o's ExtraServerTOML is extended with the policy directory.
func start(t *testing.T, o harness.Options) *target {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policies.json"), []byte(policies), 0o600); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("policy_path = %q", dir)
	if o.ExtraServerTOML != "" {
		line += "\n" + o.ExtraServerTOML
	}
	o.ExtraServerTOML = line
	srv := harness.Start(t, o)
	return &target{srv: srv, alice: srv.Dial(t, "alice", 1, 4), bob: srv.Dial(t, "bob", 1, 4)}
}

// reason is the Result Reason of a failed operation, 0 for any other error
// or none.
func reason(err error) kmip.ResultReason {
	var oe *kmipclient.OperationError
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return 0
}

// createAES makes a 256-bit AES key for c under policy (none when empty)
// with the given usage mask, plus any extra attributes, and returns its id.
func createAES(t *testing.T, c *kmipclient.Client, policy string, mask kmip.CryptographicUsageMask, extra ...*kmip.Item) string {
	t.Helper()
	payload := kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, mask, "")
	if policy != "" {
		payload[1].Add(kmipclient.Attribute("Operation Policy Name", kmip.Text(0, policy)))
	}
	payload[1].Add(extra...)
	out := harness.Call(t, c, kmip.OperationCreate, payload...)
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if id == "" {
		t.Fatalf("create: no Unique Identifier in %v", out)
	}
	return id
}

// uid is the Unique Identifier payload field for id.
func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

// TestSetup proves the fixture: alice's "encrypt_only" key is usable by bob
// for Encrypt but not for Get, and her unshared key for neither.
func TestSetup(t *testing.T) {
	tg := start(t, harness.Options{})
	mask := kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt
	eo := createAES(t, tg.alice, "encrypt_only", mask)
	private := createAES(t, tg.alice, "", mask)
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(eo))
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(private))
	params := kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)))
	data := kmip.Bytes(kmip.TagData, []byte("sixteen byte msg"))
	if _, err := tg.bob.Call(kmip.OperationEncrypt, uid(eo), params, data); err != nil {
		t.Errorf("bob Encrypt under encrypt_only: %v", err)
	}
	if _, err := tg.bob.Call(kmip.OperationGet, uid(eo)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob Get under encrypt_only: %v, want Permission Denied", err)
	}
	if _, err := tg.bob.Call(kmip.OperationEncrypt, uid(private), params, data); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob Encrypt of an unshared key: %v, want Permission Denied", err)
	}
}

// eventuallyLogged reports whether the server's log holds substr within 5 s:
// the server logs a refusal from the connection's goroutine, which may run
// after the client has seen the refusal.
func eventuallyLogged(t *testing.T, srv *harness.Server, substr string) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(srv.LogContents(t), substr) {
			return true
		}
	}
	return false
}
