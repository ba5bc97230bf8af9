package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// mapPolicies is a policy source over a fixed map plus the reserved policies.
type mapPolicies map[string]*domain.Policy

func (m mapPolicies) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	if p := domain.ReservedPolicy(name); p != nil {
		return p, true
	}
	p, ok := m[name]
	return p, ok
}

var (
	symKey = uint32(kmip.ObjectTypeSymmetricKey)
	opGetV = uint32(kmip.OperationGet)
)

// sharedPolicy lets group "readers" get and locate any symmetric key, group
// "admins" also destroy them, and, without group information, only owners.
func sharedPolicy() *domain.Policy {
	loc, get, destroy := uint32(kmip.OperationLocate), opGetV, uint32(kmip.OperationDestroy)
	getAttrs := uint32(kmip.OperationGetAttributes)
	return &domain.Policy{Name: "shared",
		Preset: domain.Rules{symKey: {loc: domain.AllowOwner, get: domain.AllowOwner, destroy: domain.AllowOwner, getAttrs: domain.AllowOwner}},
		Groups: map[string]domain.Rules{
			"readers": {symKey: {loc: domain.AllowAll, get: domain.AllowAll}},
			"admins":  {symKey: {loc: domain.AllowAll, get: domain.AllowAll, destroy: domain.AllowAll}},
		}}
}

func newPolicyService(t *testing.T, ps ports.PolicySource) *Service {
	t.Helper()
	return New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, Policies: ps,
		Clock: fixedClock{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}})
}

func createWithPolicy(t *testing.T, s *Service, who domain.Principal, policy string) string {
	t.Helper()
	req := aesCreate14(128, "")
	if policy != "" {
		ta := req.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute)
		ta.Add(attribute1x("Operation Policy Name", kmip.Text(0, policy)))
	}
	return createdID(t, sendOne(t, s, who, v14, req))
}

// TestOperationPolicyNameAssigned: objects created without a policy get
// "default"; a named policy is kept; the creator owns the object.
func TestOperationPolicyNameAssigned(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t, mapPolicies{"shared": sharedPolicy()})
	for _, c := range []struct{ give, want string }{{"", "default"}, {"shared", "shared"}} {
		id := createWithPolicy(t, s, alice, c.give)
		obj, err := s.cfg.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Policy != c.want || obj.Owner != "alice" {
			t.Errorf("policy %q owner %q, want %q and alice", obj.Policy, obj.Owner, c.want)
		}
		got := attrs14(t, s, id)["Operation Policy Name"]
		if len(got) != 1 {
			t.Fatalf("Operation Policy Name not reported: %v", got)
		}
		if v, _ := got[0].AsText(); v != c.want {
			t.Errorf("Operation Policy Name = %q, want %q", v, c.want)
		}
	}
}

// TestGroupGrantsThroughTheService runs the decision through real requests:
// group members get what their groups grant, clients without group
// information fall back to the preset, and Locate is filtered the same way.
func TestGroupGrantsThroughTheService(t *testing.T) {
	t.Parallel()
	s := newPolicyService(t, mapPolicies{"shared": sharedPolicy()})
	id := createWithPolicy(t, s, alice, "shared")
	private := createWithPolicy(t, s, alice, "")
	reader := domain.Principal{Name: "rita", Groups: []string{"readers"}, HasGroupInfo: true}
	admin := domain.Principal{Name: "adam", Groups: []string{"readers", "admins"}, HasGroupInfo: true}
	outsider := domain.Principal{Name: "otto", Groups: []string{"staff"}, HasGroupInfo: true}
	owner := domain.Principal{Name: "alice", Groups: []string{"staff"}, HasGroupInfo: true}

	mustOK(t, sendOne(t, s, reader, v14, batchItem(kmip.OperationGet, uidItem(id))))
	mustFail(t, sendOne(t, s, reader, v14, batchItem(kmip.OperationDestroy, uidItem(id))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, outsider, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
	// The owner with group info in none of the policy's groups: groups
	// are enforced, so even the owner is refused.
	mustFail(t, sendOne(t, s, owner, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
	// Without group information the preset applies: Allow Owner.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	// The default policy has no groups: group members get its preset,
	// so the private key stays alice's.
	mustFail(t, sendOne(t, s, admin, v14, batchItem(kmip.OperationGet, uidItem(private))), kmip.ResultReasonPermissionDenied)
	mustOK(t, sendOne(t, s, owner, v14, batchItem(kmip.OperationGet, uidItem(private))))

	locate := func(who domain.Principal) int {
		return len(mustOK(t, sendOne(t, s, who, v14, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier))
	}
	if n := locate(reader); n != 1 {
		t.Errorf("reader located %d objects, want the shared one", n)
	}
	if n := locate(outsider); n != 0 {
		t.Errorf("outsider located %d objects", n)
	}
	if n := locate(alice); n != 2 {
		t.Errorf("owner without group info located %d, want 2", n)
	}
	mustOK(t, sendOne(t, s, admin, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
}

// TestUnknownPolicyAllowsNothing: an object whose policy does not exist (for
// example, its file was removed) is inaccessible, even to its owner, until
// the policy comes back.
func TestUnknownPolicyAllowsNothing(t *testing.T) {
	t.Parallel()
	ps := mapPolicies{"shared": sharedPolicy()}
	s := newPolicyService(t, ps)
	id := createWithPolicy(t, s, alice, "shared")
	delete(ps, "shared")
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
	if n := len(mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier)); n != 0 {
		t.Errorf("located %d objects under a missing policy", n)
	}
	ps["shared"] = sharedPolicy()
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
}

type fakeAuth struct {
	groups []string
	err    error
	calls  int
}

func (f *fakeAuth) Authenticate(_ context.Context, user string) ([]string, error) {
	f.calls++
	return f.groups, f.err
}

// TestThirdPartyAuth follows pykmip-server "Third-Party Integration".
func TestThirdPartyAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cert := domain.Principal{Name: "alice"}
	var logs bytes.Buffer
	log := zerolog.New(&logs)

	// No service enabled: certificate-only, no group information.
	who, err := ThirdPartyAuth(nil, log)(ctx, cert)
	if err != nil || who.Name != "alice" || who.HasGroupInfo {
		t.Errorf("no services: %+v %v", who, err)
	}

	// Tried in order; a refusal and an outage move on; the first success wins.
	unknown := &fakeAuth{err: ports.ErrUnknownUser}
	down := &fakeAuth{err: errors.Join(ports.ErrUnavailable, errors.New("connection refused"))}
	ok := &fakeAuth{groups: []string{"g1", "g2"}}
	never := &fakeAuth{groups: []string{"root"}}
	hook := ThirdPartyAuth([]NamedAuthenticator{{"slugs.a", unknown}, {"slugs.b", down}, {"slugs.c", ok}, {"slugs.d", never}}, log)
	who, err = hook(ctx, cert)
	if err != nil || who.Name != "alice" || !who.HasGroupInfo || strings.Join(who.Groups, ",") != "g1,g2" {
		t.Errorf("chain: %+v %v", who, err)
	}
	if unknown.calls != 1 || down.calls != 1 || ok.calls != 1 || never.calls != 0 {
		t.Errorf("calls %d %d %d %d: no service may be asked after the first success", unknown.calls, down.calls, ok.calls, never.calls)
	}
	if !strings.Contains(logs.String(), "authentication service unavailable") || !strings.Contains(logs.String(), "slugs.b") {
		t.Errorf("outage not logged clearly: %s", logs.String())
	}

	// A valid user in no group has group information (an empty list).
	who, err = ThirdPartyAuth([]NamedAuthenticator{{"s", &fakeAuth{}}}, log)(ctx, cert)
	if err != nil || !who.HasGroupInfo || len(who.Groups) != 0 {
		t.Errorf("user without groups: %+v %v", who, err)
	}

	// Every service failing refuses the client, with no identity.
	who, err = ThirdPartyAuth([]NamedAuthenticator{{"a", unknown}, {"b", down}}, log)(ctx, cert)
	if !errors.Is(err, ports.ErrNotAuthenticated) || who.Name != "" {
		t.Errorf("all failing: %+v %v", who, err)
	}
}

func TestHandleUnauthenticated(t *testing.T) {
	t.Parallel()
	s := newService(t)
	for _, c := range []struct {
		req  *kmip.Item
		want version
	}{
		{msg(v14, batchItem(kmip.OperationGet, uidItem("x"))), v14},
		{msg(v21, batchItem(kmip.OperationGet, uidItem("x"))), v21},
		{msg(version{1, 9}, batchItem(kmip.OperationGet, uidItem("x"))), v14},
		{kmip.Struct(kmip.TagRequestMessage), version{1, 0}},
	} {
		resp := s.HandleUnauthenticated(context.Background(), c.req)
		maj, _ := resp.Path(kmip.TagResponseHeader, kmip.TagProtocolVersion, kmip.TagProtocolVersionMajor).AsInt()
		min, _ := resp.Path(kmip.TagResponseHeader, kmip.TagProtocolVersion, kmip.TagProtocolVersionMinor).AsInt()
		rr, _ := resp.Path(kmip.TagBatchItem, kmip.TagResultReason).AsEnum()
		st, _ := resp.Path(kmip.TagBatchItem, kmip.TagResultStatus).AsEnum()
		if (version{maj, min}) != c.want || kmip.ResultReason(rr) != kmip.ResultReasonAuthenticationNotSuccessful ||
			kmip.ResultStatus(st) != kmip.ResultStatusOperationFailed {
			t.Errorf("version %d.%d reason %s status %s", maj, min, kmip.ResultReason(rr), kmip.ResultStatus(st))
		}
	}
}
