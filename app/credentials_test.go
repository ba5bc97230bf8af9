package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// fakeVerifier knows fixed passwords and counts its calls.
type fakeVerifier struct {
	passwords map[string]string
	down      bool
	calls     int
}

func (f *fakeVerifier) Verify(_ context.Context, user, password string) error {
	f.calls++
	if f.down {
		return fmt.Errorf("password file: %w", ports.ErrUnavailable)
	}
	if pw, ok := f.passwords[user]; !ok || pw != password {
		return fmt.Errorf("user %q: %w", user, ports.ErrBadCredential)
	}
	return nil
}

func newVerifier() *fakeVerifier {
	return &fakeVerifier{passwords: map[string]string{"user1": "pw1", "user2": "pw2", "alice": "alice-pw", "dev-42": "dev-pw"}}
}

// userPass is a Username and Password Credential; an empty password is left out.
func userPass(user, password string) *kmip.Item {
	val := kmip.Struct(kmip.TagCredentialValue, kmip.Text(kmip.TagUsername, user))
	if password != "" {
		val.Add(kmip.Text(kmip.TagPassword, password))
	}
	return kmip.Struct(kmip.TagCredential, kmip.Enum(kmip.TagCredentialType, uint32(kmip.CredentialTypeUsernameAndPassword)), val)
}

// credential is a Credential of type ct with the given value fields.
func credential(ct kmip.CredentialType, fields ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagCredential, kmip.Enum(kmip.TagCredentialType, uint32(ct)),
		kmip.Struct(kmip.TagCredentialValue, fields...))
}

// withAuth puts an Authentication holding creds in m's header, before its
// Batch Count (KMIP 1.4 §7.2 Table 282).
func withAuth(m *kmip.Item, creds ...*kmip.Item) *kmip.Item {
	hdr := m.Child(kmip.TagRequestHeader)
	kids := hdr.Children()
	out := append([]*kmip.Item{}, kids[:len(kids)-1]...)
	out = append(out, kmip.Struct(kmip.TagAuthentication, creds...), kids[len(kids)-1])
	hdr.Value = out
	return m
}

// serve runs req as a transport does: the hook first, then the message, or
// the Authentication Not Successful answer when the hook refuses.
func serve(t *testing.T, s *Service, hook func(context.Context, domain.Principal, *kmip.Item) (domain.Principal, error),
	cert domain.Principal, req *kmip.Item) result {
	t.Helper()
	ctx := ports.WithPeer(context.Background(), cert)
	who, err := hook(ctx, cert, req)
	var resp *kmip.Item
	if err != nil {
		if !errors.Is(err, ports.ErrNotAuthenticated) {
			t.Fatalf("refusal %v does not wrap ErrNotAuthenticated", err)
		}
		resp = s.HandleUnauthenticated(ctx, req)
	} else {
		resp = s.HandleMessage(ports.WithPeer(ctx, who), req)
	}
	items := resp.ChildrenOf(kmip.TagBatchItem)
	if len(items) != 1 {
		t.Fatalf("want 1 batch item, got %d", len(items))
	}
	st, _ := items[0].Child(kmip.TagResultStatus).AsEnum()
	rr, _ := items[0].Child(kmip.TagResultReason).AsEnum()
	return result{kmip.ResultStatus(st), kmip.ResultReason(rr), items[0].Child(kmip.TagResponsePayload)}
}

func createFor(v version) *kmip.Item {
	if v.major >= 2 {
		return aesCreate21(128, "")
	}
	return aesCreate14(128, "")
}

// TestCredentialUsersIsolated: with verify, two users behind one gateway
// certificate run as themselves, so the default policy keeps each one's key
// from the other, as it does for two certificates; the gateway's own
// requests (no Credential) run as the gateway.
func TestCredentialUsersIsolated(t *testing.T) {
	t.Parallel()
	gateway := domain.Principal{Name: "gateway"}
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			s := newService(t)
			hook := RequestAuth(&Credentials{Verifier: newVerifier(), Delegates: []string{"gateway"}, Log: zerolog.Nop()}, nil)
			id := createdID(t, serve(t, s, hook, gateway, withAuth(msg(v, createFor(v)), userPass("user1", "pw1"))))
			obj, err := s.cfg.Store.Get(context.Background(), id)
			if err != nil || obj.Owner != "user1" {
				t.Fatalf("owner %q (%v), want user1", obj.Owner, err)
			}
			mustOK(t, serve(t, s, hook, gateway, withAuth(msg(v, batchItem(kmip.OperationGet, uidItem(id))), userPass("user1", "pw1"))))
			mustFail(t, serve(t, s, hook, gateway, withAuth(msg(v, batchItem(kmip.OperationGet, uidItem(id))), userPass("user2", "pw2"))),
				kmip.ResultReasonPermissionDenied)
			mustFail(t, serve(t, s, hook, gateway, msg(v, batchItem(kmip.OperationGet, uidItem(id)))), kmip.ResultReasonPermissionDenied)
			mustFail(t, serve(t, s, hook, gateway, withAuth(msg(v, batchItem(kmip.OperationGet, uidItem(id))), userPass("user1", "pw2"))),
				kmip.ResultReasonAuthenticationNotSuccessful)
		})
	}
}

// TestCredentialsIgnored: without verification (the default) a Credential,
// even a wrong one, changes nothing: the request runs as its certificate.
func TestCredentialsIgnored(t *testing.T) {
	t.Parallel()
	cert := domain.Principal{Name: "gateway"}
	for _, v := range allVersions {
		s := newService(t)
		hook := RequestAuth(nil, nil)
		id := createdID(t, serve(t, s, hook, cert, withAuth(msg(v, createFor(v)), userPass("user1", "wrong"))))
		mustOK(t, serve(t, s, hook, cert, withAuth(msg(v, batchItem(kmip.OperationGet, uidItem(id))), userPass("user2", "pw2"))))
		if obj, _ := s.cfg.Store.Get(context.Background(), id); obj.Owner != "gateway" {
			t.Errorf("%s: owner %q, want the certificate's name", v, obj.Owner)
		}
	}
}

// TestCredentialRules: what a Credential must be to be accepted with verify,
// in every version it applies to.
func TestCredentialRules(t *testing.T) {
	t.Parallel()
	v10, v11, v12, v20 := version{1, 0}, version{1, 1}, version{1, 2}, version{2, 0}
	dev := func(serial, pw string) *kmip.Item {
		f := []*kmip.Item{kmip.Text(kmip.TagDeviceSerialNumber, serial), kmip.Text(kmip.TagDeviceIdentifier, "ignored")}
		if pw != "" {
			f = append(f, kmip.Text(kmip.TagPassword, pw))
		}
		return credential(kmip.CredentialTypeDevice, f...)
	}
	cases := []struct {
		name     string
		versions []version
		cert     string
		creds    []*kmip.Item
		want     string // the principal, "" for a refusal
		verifies bool   // whether the refusal comes from the verifier
	}{
		{"own name", allVersions, "alice", []*kmip.Item{userPass("alice", "alice-pw")}, "alice", true},
		{"own name, wrong password", allVersions, "alice", []*kmip.Item{userPass("alice", "pw1")}, "", true},
		{"another user from a certificate not delegated", allVersions, "alice", []*kmip.Item{userPass("user1", "pw1")}, "", false},
		{"delegated", allVersions, "gateway", []*kmip.Item{userPass("user1", "pw1")}, "user1", true},
		{"unknown user", allVersions, "gateway", []*kmip.Item{userPass("nobody", "pw1")}, "", true},
		{"no password", allVersions, "gateway", []*kmip.Item{userPass("user1", "")}, "", false},
		{"empty username", allVersions, "gateway", []*kmip.Item{userPass("", "pw1")}, "", false},
		{"no Credential", allVersions, "gateway", nil, "", false},
		{"five Credentials", allVersions, "gateway", []*kmip.Item{userPass("user1", "pw1"), userPass("user1", "pw1"),
			userPass("user1", "pw1"), userPass("user1", "pw1"), userPass("user1", "pw1")}, "", false},
		{"two users", allVersions, "gateway", []*kmip.Item{userPass("user1", "pw1"), userPass("user2", "pw2")}, "", false},
		{"all must be satisfied", allVersions, "gateway", []*kmip.Item{userPass("user1", "pw1"), userPass("user1", "bad")}, "", true},
		{"both satisfied", allVersions, "gateway", []*kmip.Item{userPass("user1", "pw1"), userPass("user1", "pw1")}, "user1", true},
		{"Device by serial number", allVersions[1:], "gateway", []*kmip.Item{dev("dev-42", "dev-pw")}, "dev-42", true},
		{"Device in 1.0", []version{v10}, "gateway", []*kmip.Item{dev("dev-42", "dev-pw")}, "", false},
		{"Device without password", []version{v11, v21}, "gateway", []*kmip.Item{dev("dev-42", "")}, "", false},
		{"Device without serial number", []version{v11, v21}, "gateway",
			[]*kmip.Item{credential(kmip.CredentialTypeDevice, kmip.Text(kmip.TagPassword, "dev-pw"))}, "", false},
		{"Attestation", []version{v12, v14, v21}, "gateway", []*kmip.Item{credential(kmip.CredentialTypeAttestation,
			kmip.Enum(kmip.TagAttestationType, 1))}, "", false},
		{"One Time Password", []version{v20, v21}, "gateway", []*kmip.Item{credential(kmip.CredentialTypeOneTimePassword,
			kmip.Text(kmip.TagUsername, "user1"), kmip.Text(kmip.TagPassword, "pw1"), kmip.Text(kmip.TagOneTimePassword, "123456"))}, "", false},
		{"Hashed Password", []version{v21}, "gateway", []*kmip.Item{credential(kmip.CredentialTypeHashedPassword,
			kmip.Text(kmip.TagUsername, "user1"), kmip.Bytes(kmip.TagHashedPassword, []byte("pw1")))}, "", false},
		{"Ticket", []version{v21}, "gateway", []*kmip.Item{credential(kmip.CredentialTypeTicket)}, "", false},
		{"no Credential Value", []version{v11, v21}, "gateway", []*kmip.Item{kmip.Struct(kmip.TagCredential,
			kmip.Enum(kmip.TagCredentialType, uint32(kmip.CredentialTypeUsernameAndPassword)))}, "", false},
	}
	for _, c := range cases {
		for _, v := range c.versions {
			var logs bytes.Buffer
			ver := newVerifier()
			hook := RequestAuth(&Credentials{Verifier: ver, Delegates: []string{"gateway"}, Log: zerolog.New(&logs)}, nil)
			req := withAuth(msg(v, batchItem(kmip.OperationQuery)), c.creds...)
			who, err := hook(context.Background(), domain.Principal{Name: c.cert}, req)
			switch {
			case c.want != "" && (err != nil || who.Name != c.want):
				t.Errorf("%s at %s: %+v %v, want %s", c.name, v, who, err, c.want)
			case c.want == "" && (!errors.Is(err, ports.ErrNotAuthenticated) || who.Name != ""):
				t.Errorf("%s at %s: %+v %v, want a refusal", c.name, v, who, err)
			case c.want == "" && !c.verifies && ver.calls != 0:
				t.Errorf("%s at %s: the verifier was asked before a refusal that needs none", c.name, v)
			}
			for _, secret := range []string{"alice-pw", "pw1", "pw2", "dev-pw", "bad"} {
				if err != nil && strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("%s at %s: a password shows in %v / %s", c.name, v, err, logs.String())
				}
			}
		}
	}
}

// TestCredentialsNoAuthentication: with verify, a request without an
// Authentication runs as its certificate, and a verifier outage refuses
// rather than lets through.
func TestCredentialsNoAuthentication(t *testing.T) {
	t.Parallel()
	ver := newVerifier()
	hook := RequestAuth(&Credentials{Verifier: ver, Log: zerolog.Nop()}, nil)
	who, err := hook(context.Background(), alice, msg(v14, batchItem(kmip.OperationQuery)))
	if err != nil || who.Name != "alice" || ver.calls != 0 {
		t.Errorf("no Authentication: %+v %v (verifier asked %d times)", who, err, ver.calls)
	}
	ver.down = true
	_, err = hook(context.Background(), alice, withAuth(msg(v14, batchItem(kmip.OperationQuery)), userPass("alice", "alice-pw")))
	if !errors.Is(err, ports.ErrNotAuthenticated) || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("verifier down: %v", err)
	}
}

// TestCredentialsThenThirdParty: the third-party service validates the
// user the credential proved and supplies that user's groups.
func TestCredentialsThenThirdParty(t *testing.T) {
	t.Parallel()
	asked := map[string]int{}
	thirdParty := func(_ context.Context, who domain.Principal) (domain.Principal, error) {
		asked[who.Name]++
		return domain.Principal{Name: who.Name, Groups: []string{"g-" + who.Name}, HasGroupInfo: true}, nil
	}
	hook := RequestAuth(&Credentials{Verifier: newVerifier(), Delegates: []string{"gateway"}, Log: zerolog.Nop()}, thirdParty)
	who, err := hook(context.Background(), domain.Principal{Name: "gateway"},
		withAuth(msg(v21, batchItem(kmip.OperationQuery)), userPass("user1", "pw1")))
	if err != nil || who.Name != "user1" || !who.HasGroupInfo || strings.Join(who.Groups, ",") != "g-user1" {
		t.Errorf("%+v %v, want user1 with its groups", who, err)
	}
	if asked["user1"] != 1 || asked["gateway"] != 0 {
		t.Errorf("third party asked %v, want user1 only", asked)
	}
	_, err = hook(context.Background(), domain.Principal{Name: "gateway"},
		withAuth(msg(v21, batchItem(kmip.OperationQuery)), userPass("user1", "nope")))
	if err == nil || asked["user1"] != 1 {
		t.Errorf("a refused credential reached the third party: %v %v", err, asked)
	}
}
