package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/auth/slugs/slugstest"
	"github.com/kmipd/kmipd/test/harness"
)

// identity is a client certificate access_client.py connects with and,
// optionally, the Username and Password Credential it sends.
type identity struct {
	Cert     string `json:"cert"`
	Key      string `json:"key"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// action is one access_client.py action; its result comes back in outcome.
type action struct {
	As     string `json:"as"`
	Op     string `json:"op"`
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	Policy string `json:"policy,omitempty"`
}

type outcome struct {
	I      int      `json:"i"`
	OK     bool     `json:"ok"`
	Reason string   `json:"reason"`
	Error  string   `json:"error"`
	UID    string   `json:"uid"`
	UIDs   []string `json:"uids"`
	Policy string   `json:"policy"`
}

// accessRunner runs access_client.py actions against one server.
type accessRunner struct {
	t      *testing.T
	script string
	srv    *harness.Server
	ids    map[string]identity
}

func newAccessRunner(t *testing.T, srv *harness.Server, names ...string) *accessRunner {
	t.Helper()
	r := &accessRunner{t: t, script: script(t, "access_client.py"), srv: srv, ids: map[string]identity{}}
	for _, n := range names {
		cert, key, err := srv.PKI.IssueClientCert(filepath.Join(srv.Dir, "id-"+n), n)
		if err != nil {
			t.Fatal(err)
		}
		r.ids[n] = identity{Cert: cert, Key: key}
	}
	return r
}

// run runs the actions, each on its own connection, and returns their outcomes.
func (r *accessRunner) run(actions ...action) []outcome {
	r.t.Helper()
	in, err := json.Marshal(map[string]any{
		"host": r.srv.Host, "port": r.srv.Port, "ca": r.srv.PKI.CAFile,
		"kmip_version": "1.2", "identities": r.ids, "actions": actions,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	// A safety net against a hung client, not an assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, r.script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("access_client.py: %v\n%s", err, stderr.String())
	}
	var outs []outcome
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var o outcome
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			r.t.Fatalf("access_client.py printed %q", sc.Text())
		}
		outs = append(outs, o)
	}
	if len(outs) != len(actions) {
		r.t.Fatalf("%d outcomes for %d actions; stderr:\n%s", len(outs), len(actions), stderr.String())
	}
	return outs
}

// one runs a single action.
func (r *accessRunner) one(a action) outcome {
	r.t.Helper()
	return r.run(a)[0]
}

func (r *accessRunner) allowed(a action) outcome {
	r.t.Helper()
	o := r.one(a)
	if !o.OK {
		r.t.Errorf("%s %s %s%s: refused (%s: %s), want allowed", a.As, a.Op, a.UID, a.Name, o.Reason, o.Error)
	}
	return o
}

func (r *accessRunner) denied(a action, reasons ...string) {
	r.t.Helper()
	o := r.one(a)
	if o.OK {
		r.t.Errorf("%s %s %s%s: allowed, want refused", a.As, a.Op, a.UID, a.Name)
		return
	}
	for _, want := range reasons {
		if o.Reason == want {
			r.t.Logf("%s %s %s%s: refused with %s", a.As, a.Op, a.UID, a.Name, o.Reason)
			return
		}
	}
	r.t.Errorf("%s %s %s: refused with %s (%s), want one of %v", a.As, a.Op, a.UID, o.Reason, o.Error, reasons)
}

// waitFor runs a until its outcome is ok (want true) or refused (want
// false), for a policy change that the server picks up by polling. The
// bound is a safety net, far above the configured poll interval.
func (r *accessRunner) waitFor(a action, want bool, why string) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if o := r.one(a); o.OK == want {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: %s %s %s never became allowed=%v", why, a.As, a.Op, a.UID, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sharedPolicy is a PyKMIP policy file: owners may do everything to their
// keys, readers may find and read anyone's, admins may also destroy them,
// and clients without group information are treated like owners.
func sharedPolicy(extraGroup string) string {
	ownerOps := `{"LOCATE": "ALLOW_OWNER", "GET": "ALLOW_OWNER", "GET_ATTRIBUTES": "ALLOW_OWNER",
		"ACTIVATE": "ALLOW_OWNER", "DESTROY": "ALLOW_OWNER"}`
	groups := fmt.Sprintf(`"owners": {"SYMMETRIC_KEY": %s},
		"readers": {"SYMMETRIC_KEY": {"LOCATE": "ALLOW_ALL", "GET": "ALLOW_ALL", "GET_ATTRIBUTES": "ALLOW_ALL"}},
		"admins": {"SYMMETRIC_KEY": {"LOCATE": "ALLOW_ALL", "GET": "ALLOW_ALL", "DESTROY": "ALLOW_ALL"}}`, ownerOps)
	if extraGroup != "" {
		groups += `, "` + extraGroup + `": {"SYMMETRIC_KEY": {"GET": "ALLOW_ALL"}}`
	}
	return fmt.Sprintf(`{"shared": {"preset": {"SYMMETRIC_KEY": %s}, "groups": {%s}}}`, ownerOps, groups)
}

// TestPyKMIPAccessControl runs Debian's PyKMIP client as several identities
// against the real binary with two SLUGS services configured (the first one
// down) and a policy directory: owner isolation under the default policy,
// group grants from SLUGS under a policy file, unknown users refused, a
// policy change taking effect without restart, and failing closed when the
// SLUGS service goes down.
func TestPyKMIPAccessControl(t *testing.T) {
	requirePyKMIP(t)
	svc := slugstest.New(map[string][]string{
		"alice": {"owners"}, "bob": {"readers"}, "carol": {"staff"}, "dave": {"admins"},
	})
	defer svc.Close()
	dead := slugstest.New(nil)
	deadURL := dead.URL
	dead.Close()

	policyDir := t.TempDir()
	policyFile := filepath.Join(policyDir, "shared.json")
	if err := os.WriteFile(policyFile, []byte(sharedPolicy("")), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{
		ExtraServerTOML: fmt.Sprintf("policy_path = %q", policyDir),
		ExtraTOML: fmt.Sprintf(`
[policy]
poll_interval = "200ms"

[auth.slugs.down]
enabled = true
url = %q
timeout = "2s"

[auth.slugs.main]
enabled = true
url = %q
cache_ttl = "0s"

[auth.slugs.off]
enabled = false
url = "http://127.0.0.1:1/never-asked/"
`, deadURL, svc.URL),
	})
	r := newAccessRunner(t, srv, "alice", "bob", "carol", "dave", "mallory")
	tag := fmt.Sprint(time.Now().UnixNano())

	created := r.run(
		action{As: "alice", Op: "create", Name: "private-" + tag},
		action{As: "alice", Op: "create", Name: "shared-" + tag, Policy: "shared"},
	)
	for _, o := range created {
		if !o.OK || o.UID == "" {
			t.Fatalf("create failed: %+v", o)
		}
	}
	private, shared := created[0].UID, created[1].UID

	t.Run("owner-isolation", func(t *testing.T) {
		r.t = t
		if o := r.allowed(action{As: "alice", Op: "get_attributes", UID: private}); o.Policy != "default" {
			t.Errorf("Operation Policy Name %q, want default", o.Policy)
		}
		r.allowed(action{As: "alice", Op: "get", UID: private})
		for _, who := range []string{"bob", "carol", "dave"} {
			r.denied(action{As: who, Op: "get", UID: private}, "PERMISSION_DENIED")
			r.denied(action{As: who, Op: "destroy", UID: private}, "PERMISSION_DENIED")
			if o := r.one(action{As: who, Op: "locate", Name: "private-" + tag}); !o.OK || len(o.UIDs) != 0 {
				t.Errorf("%s located alice's private key: %+v", who, o)
			}
		}
		if o := r.one(action{As: "alice", Op: "locate", Name: "private-" + tag}); !o.OK || len(o.UIDs) != 1 || o.UIDs[0] != private {
			t.Errorf("alice cannot locate her key: %+v", o)
		}
	})

	t.Run("group-grants", func(t *testing.T) {
		r.t = t
		if o := r.allowed(action{As: "alice", Op: "get_attributes", UID: shared}); o.Policy != "shared" {
			t.Errorf("Operation Policy Name %q, want shared", o.Policy)
		}
		r.allowed(action{As: "bob", Op: "get", UID: shared})
		if o := r.one(action{As: "bob", Op: "locate", Name: "shared-" + tag}); !o.OK || len(o.UIDs) != 1 || o.UIDs[0] != shared {
			t.Errorf("reader cannot locate the shared key: %+v", o)
		}
		r.denied(action{As: "bob", Op: "destroy", UID: shared}, "PERMISSION_DENIED")
		r.denied(action{As: "carol", Op: "get", UID: shared}, "PERMISSION_DENIED")
		r.denied(action{As: "bob", Op: "activate", UID: shared}, "PERMISSION_DENIED")
	})

	t.Run("unknown-user-refused", func(t *testing.T) {
		r.t = t
		r.denied(action{As: "mallory", Op: "locate"}, "AUTHENTICATION_NOT_SUCCESSFUL", "CONNECTION")
		r.denied(action{As: "mallory", Op: "create", Name: "m-" + tag}, "AUTHENTICATION_NOT_SUCCESSFUL", "CONNECTION")
	})

	t.Run("policy-change-without-restart", func(t *testing.T) {
		r.t = t
		// Grant group "staff" Get in the policy file: carol gets in.
		if err := os.WriteFile(policyFile, []byte(sharedPolicy("staff")), 0o600); err != nil {
			t.Fatal(err)
		}
		r.waitFor(action{As: "carol", Op: "get", UID: shared}, true, "policy file changed")
		r.denied(action{As: "carol", Op: "destroy", UID: shared}, "PERMISSION_DENIED")
		// A malformed edit is skipped: the last good policy stays.
		if err := os.WriteFile(policyFile, []byte(`{"shared": {"preset": `), 0o600); err != nil {
			t.Fatal(err)
		}
		waitLog(t, srv, "failure loading policy file")
		r.allowed(action{As: "carol", Op: "get", UID: shared})
		// Removing the file removes the policy: nobody reaches the key.
		if err := os.Remove(policyFile); err != nil {
			t.Fatal(err)
		}
		r.waitFor(action{As: "alice", Op: "get", UID: shared}, false, "policy file removed")
		r.denied(action{As: "bob", Op: "get", UID: shared}, "PERMISSION_DENIED")
		// Bringing it back restores access, without a restart.
		if err := os.WriteFile(policyFile, []byte(sharedPolicy("")), 0o600); err != nil {
			t.Fatal(err)
		}
		r.waitFor(action{As: "bob", Op: "get", UID: shared}, true, "policy file restored")
		r.denied(action{As: "carol", Op: "get", UID: shared}, "PERMISSION_DENIED")
		// dave (admins) may destroy the shared key; alice's private key is
		// still only hers.
		r.allowed(action{As: "dave", Op: "destroy", UID: shared})
	})

	t.Run("slugs-down-fails-closed", func(t *testing.T) {
		r.t = t
		svc.SetDown(true)
		r.denied(action{As: "alice", Op: "get", UID: private}, "AUTHENTICATION_NOT_SUCCESSFUL", "CONNECTION")
		svc.SetDown(false)
		r.allowed(action{As: "alice", Op: "get", UID: private})
	})

	srv.Stop(t)
	logs := srv.LogContents(t)
	for _, want := range []string{"authentication service unavailable", "slugs.down", "authentication failed: unknown user",
		"request refused and connection closed", "loading policies for file", "removing policy"} {
		if !strings.Contains(logs, want) {
			t.Errorf("server log lacks %q", want)
		}
	}
	if strings.Contains(logs, "never-asked") {
		t.Error("a disabled SLUGS service was configured into the chain")
	}
}

// waitLog waits (bounded) until the server log contains s.
func waitLog(t *testing.T, srv *harness.Server, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(srv.LogContents(t), s) {
		if time.Now().After(deadline) {
			t.Fatalf("server log never showed %q", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
