package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// TestPolicyNameChangesGovernAccess: a client cannot change an object's
// Operation Policy Name after creation (KMIP 1.4 Table 91), and Get
// Attributes reports exactly the policy access checks enforce. Before, Add
// and Set Attribute answered Success and stored a second, reported but
// unenforced, Operation Policy Name: an owner "withdrawing" a group's access
// saw the new name while the group still read the key.
func TestPolicyNameChangesGovernAccess(t *testing.T) {
	t.Parallel()
	// "shared": owners may read and change attributes, group "readers" may Get.
	shared := sharedPolicy()
	for _, op := range []kmip.Operation{kmip.OperationAddAttribute, kmip.OperationModifyAttribute,
		kmip.OperationDeleteAttribute, kmip.OperationSetAttribute, kmip.OperationGetAttributes} {
		shared.Preset[symKey][uint32(op)] = domain.AllowOwner
	}
	policies := mapPolicies{"shared": shared}
	reader := domain.Principal{Name: "rita", Groups: []string{"readers"}, HasGroupInfo: true}
	opn := func(v string) *kmip.Item { return attribute1x("Operation Policy Name", kmip.Text(0, v)) }
	check := func(t *testing.T, s *Service, id, want string) {
		t.Helper()
		got := attrs14(t, s, id)["Operation Policy Name"]
		if len(got) != 1 {
			t.Fatalf("Get Attributes reports %d Operation Policy Names, want 1: %v", len(got), got)
		}
		if v, _ := got[0].AsText(); v != want {
			t.Errorf("Get Attributes reports Operation Policy Name %q, want %q", v, want)
		}
		r := sendOne(t, s, reader, v14, batchItem(kmip.OperationGet, uidItem(id)))
		if want == "shared" {
			mustOK(t, r)
		} else {
			mustFail(t, r, kmip.ResultReasonPermissionDenied)
		}
	}

	// KMIP 1.4 Table 91: set at creation by the client or the server, not
	// modifiable or deletable by the client; it always has a value, so an
	// Add Attribute finds it present.
	for _, tc := range []struct {
		name string
		v    version
		item func(id string) *kmip.Item
		want kmip.ResultReason
	}{
		{"modify", v14, func(id string) *kmip.Item {
			return batchItem(kmip.OperationModifyAttribute, uidItem(id), opn("default"))
		}, kmip.ResultReasonPermissionDenied},
		{"add", v14, func(id string) *kmip.Item {
			return batchItem(kmip.OperationAddAttribute, uidItem(id), opn("default"))
		}, kmip.ResultReasonIllegalOperation},
		{"delete", v14, func(id string) *kmip.Item {
			return batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "Operation Policy Name"))
		}, kmip.ResultReasonPermissionDenied},
		{"set", v21, func(id string) *kmip.Item {
			return batchItem(kmip.OperationSetAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.Text(kmip.TagOperationPolicyName, "default")))
		}, kmip.ResultReasonInvalidAttribute}, // KMIP 2.x has no Operation Policy Name
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newPolicyService(t, policies)
			id := createWithPolicy(t, s, alice, "shared")
			check(t, s, id, "shared")
			mustFail(t, sendOne(t, s, alice, tc.v, tc.item(id)), tc.want)
			check(t, s, id, "shared")
		})
	}
}

// TestReKeyByNonOwnerKeepsPolicy: the replacement key of a Re-key belongs to
// the existing key's owner, so a client allowed to re-key someone else's key
// cannot give the replacement another operation policy — one under which it
// may Get keys — and so read the key the owner will go on using. The owner
// may still choose one, as when creating a key.
func TestReKeyByNonOwnerKeepsPolicy(t *testing.T) {
	t.Parallel()
	rekey, get := uint32(kmip.OperationReKey), uint32(kmip.OperationGet)
	policies := mapPolicies{
		// "ops" members may re-key, not read, keys under "rotated".
		"rotated": {Name: "rotated",
			Preset: domain.Rules{symKey: {rekey: domain.AllowOwner, get: domain.AllowOwner}},
			Groups: map[string]domain.Rules{"ops": {symKey: {rekey: domain.AllowAll}}}},
		// "ops" members may read keys under "team".
		"team": {Name: "team", Groups: map[string]domain.Rules{"ops": {symKey: {get: domain.AllowAll}}}},
	}
	s := newPolicyService(t, policies)
	op := domain.Principal{Name: "oscar", Groups: []string{"ops"}, HasGroupInfo: true}
	opn := func(v string) *kmip.Item {
		return kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Operation Policy Name", kmip.Text(0, v)))
	}
	id := createWithPolicy(t, s, alice, "rotated")
	mustFail(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)

	r := sendOne(t, s, op, v14, batchItem(kmip.OperationReKey, uidItem(id), opn("team")))
	if r.status == kmip.ResultStatusSuccess {
		repl := createdID(t, r)
		mustFail(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(repl))), kmip.ResultReasonPermissionDenied)
	} else {
		mustFail(t, r, kmip.ResultReasonPermissionDenied)
	}
	// Re-keying without naming a policy, or naming the same one, is allowed.
	repl := createdID(t, sendOne(t, s, op, v14, batchItem(kmip.OperationReKey, uidItem(id), opn("rotated"))))
	obj, err := s.cfg.Store.Get(t.Context(), repl)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Owner != "alice" || obj.Policy != "rotated" {
		t.Errorf("replacement owned by %q under %q, want alice under rotated", obj.Owner, obj.Policy)
	}
	mustFail(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(repl))), kmip.ResultReasonPermissionDenied)
	// The owner may choose the replacement's policy.
	mine := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(repl), opn("team"))))
	mustOK(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(mine))))
}

// TestEveryRoutedOperationIsChecked proves the access check of each routed
// operation: every operation that names an object refuses a client the
// object's policy does not allow (bob, on alice's keys under "default"),
// Locate shows him only what that policy lets anyone locate (her public key), creating operations make objects he owns, and
// the rest touch no object. An operation added to the route table without
// being classified here fails the test.
func TestEveryRoutedOperationIsChecked(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "alice-key")))
	priv, pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "alice-pair"))))
	data := kmip.Bytes(kmip.TagData, []byte("sixteen byte msg"))
	split := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCreateSplitKey,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uidItem(id),
		kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)))))
	parts := split.ChildrenOf(kmip.TagUniqueIdentifier)
	if len(parts) != 2 {
		t.Fatalf("split into %d parts", len(parts))
	}
	reason := kmip.Struct(kmip.TagRevocationReason, kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeUnspecified)))
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

	// Operations on a named object: bob must get Permission Denied.
	objectOps := map[kmip.Operation]struct {
		v       version
		payload []*kmip.Item
	}{
		kmip.OperationGet:                {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationGetAttributes:      {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationGetAttributeList:   {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationAddAttribute:       {v14, []*kmip.Item{uidItem(id), attribute1x("Name", nameItem("bobs"))}},
		kmip.OperationModifyAttribute:    {v14, []*kmip.Item{uidItem(id), attribute1x("Name", nameItem("bobs"))}},
		kmip.OperationDeleteAttribute:    {v14, []*kmip.Item{uidItem(id), kmip.Text(kmip.TagAttributeName, "Name")}},
		kmip.OperationSetAttribute:       {v21, []*kmip.Item{uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.DateTime(kmip.TagActivationDate, later))}},
		kmip.OperationAdjustAttribute:    {v21, []*kmip.Item{uidItem(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagUsageLimits)), kmip.Enum(kmip.TagAdjustmentType, uint32(kmip.AdjustmentTypeIncrement))}},
		kmip.OperationActivate:           {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationRevoke:             {v14, []*kmip.Item{uidItem(id), reason}},
		kmip.OperationDestroy:            {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationArchive:            {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationRecover:            {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationReKey:              {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationCheck:              {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationObtainLease:        {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationGetUsageAllocation: {v14, []*kmip.Item{uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, 1)}},
		kmip.OperationCreateSplitKey: {v21, []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uidItem(id),
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2), kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR))}},
		kmip.OperationJoinSplitKey: {v21, append([]*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))},
			parts[0].Clone(), parts[1].Clone())},
		// Cryptographic operations use the key under the Get rule of the
		// reserved policies; Re-key Key Pair and Derive Key under their own.
		kmip.OperationEncrypt:         {v14, []*kmip.Item{uidItem(id), data}},
		kmip.OperationDecrypt:         {v14, []*kmip.Item{uidItem(id), data}},
		kmip.OperationMAC:             {v14, []*kmip.Item{uidItem(id), data}},
		kmip.OperationMACVerify:       {v14, []*kmip.Item{uidItem(id), data, kmip.Bytes(kmip.TagMACData, []byte("mac"))}},
		kmip.OperationSign:            {v14, []*kmip.Item{uidItem(priv), data}},
		kmip.OperationSignatureVerify: {v14, []*kmip.Item{uidItem(priv), data, kmip.Bytes(kmip.TagSignatureData, []byte("sig"))}},
		kmip.OperationReKeyKeyPair:    {v14, []*kmip.Item{kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, priv)}},
		kmip.OperationDeriveKey: {v14, []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), uidItem(id),
			kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
			kmip.Struct(kmip.TagDerivationParameters,
				kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
				kmip.Bytes(kmip.TagDerivationData, []byte("context"))),
			kmip.Struct(kmip.TagTemplateAttribute,
				attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
				attribute1x("Cryptographic Length", kmip.Int(0, 128))),
		}},
		// Export under the Get rule; an Import replacing the key under its Destroy rule.
		kmip.OperationExport: {v14, []*kmip.Item{uidItem(id)}},
		// Validate reads what it names under the Get rule, before it looks at the type.
		kmip.OperationValidate: {v14, []*kmip.Item{uidItem(id)}},
		kmip.OperationImport: {v14, []*kmip.Item{uidItem(id), kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			kmip.Bool(kmip.TagReplaceExisting, true), kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, make([]byte, 16))),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128)))}},
	}
	creating := map[kmip.Operation]bool{kmip.OperationCreate: true, kmip.OperationRegister: true, kmip.OperationCreateKeyPair: true}
	noObject := map[kmip.Operation]bool{kmip.OperationDiscoverVersions: true, kmip.OperationQuery: true,
		kmip.OperationInterop: true, kmip.OperationLog: true, kmip.OperationPoll: true, kmip.OperationCancel: true,
		kmip.OperationRNGRetrieve: true, kmip.OperationRNGSeed: true, kmip.OperationHash: true,
		kmip.OperationSetEndpointRole: true, kmip.OperationPing: true}

	for op := range operations {
		if !s.offers(op) {
			continue
		}
		tc, isObjectOp := objectOps[op]
		switch {
		case isObjectOp:
			r := sendOne(t, s, bob, tc.v, batchItem(op, tc.payload...))
			if r.status != kmip.ResultStatusOperationFailed || r.reason != kmip.ResultReasonPermissionDenied {
				t.Errorf("%s by a client the policy does not allow: status %s reason %s, want Permission Denied", op, r.status, r.reason)
			}
		case op == kmip.OperationLocate:
			// The default policy lets anyone locate public keys, nothing else.
			ids := mustOK(t, sendOne(t, s, bob, v14, batchItem(op))).ChildrenOf(kmip.TagUniqueIdentifier)
			if len(ids) != 1 || ids[0].Value != pub {
				t.Errorf("Locate showed bob %d of alice's objects, want her public key only", len(ids))
			}
		case creating[op], noObject[op]:
		default:
			t.Errorf("routed operation %s is not classified by this test", op)
		}
	}
	// Creating operations: bob owns what he makes, and alice cannot read it.
	mine := createdID(t, sendOne(t, s, bob, v14, aesCreate14(128, "bob-key")))
	obj, err := s.cfg.Store.Get(t.Context(), mine)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Owner != "bob" {
		t.Errorf("created object owned by %q, want bob", obj.Owner)
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(mine))), kmip.ResultReasonPermissionDenied)
	// Alice's key is untouched.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	if st := state(t, s, v14, id); st != domain.PreActive {
		t.Errorf("alice's key is %s after bob's refused requests", st)
	}
}

// TestReKeyKeyPairByNonOwnerKeepsOwner: like Re-key, Re-key Key Pair makes
// the replacement pair its existing owner's. It made the caller the owner,
// so a client allowed only to re-key someone else's pair took the new
// private key for itself (Get under Allow Owner) and its owner lost it.
func TestReKeyKeyPairByNonOwnerKeepsOwner(t *testing.T) {
	t.Parallel()
	rkp, get := uint32(kmip.OperationReKeyKeyPair), uint32(kmip.OperationGet)
	pk, pub := uint32(kmip.ObjectTypePrivateKey), uint32(kmip.ObjectTypePublicKey)
	rotated := &domain.Policy{Name: "rotated",
		Preset: domain.Rules{pk: {rkp: domain.AllowOwner, get: domain.AllowOwner}, pub: {rkp: domain.AllowOwner, get: domain.AllowOwner}},
		Groups: map[string]domain.Rules{"ops": {pk: {rkp: domain.AllowAll}, pub: {rkp: domain.AllowAll}}}}
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Policies: mapPolicies{"rotated": rotated}})
	req := keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "pair")
	req.Child(kmip.TagRequestPayload).Child(kmip.TagCommonTemplateAttribute).Add(attribute1x("Operation Policy Name", kmip.Text(0, "rotated")))
	priv, _ := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, req)))
	op := domain.Principal{Name: "oscar", Groups: []string{"ops"}, HasGroupInfo: true}
	mustFail(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(priv))), kmip.ResultReasonPermissionDenied)

	npriv, npub := pairIDs(t, mustOK(t, sendOne(t, s, op, v14, batchItem(kmip.OperationReKeyKeyPair, kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, priv)))))
	for _, id := range []string{npriv, npub} {
		if o := storedObj(t, s, id); o.Owner != "alice" || o.Policy != "rotated" {
			t.Errorf("replacement %s owned by %q under %q, want alice under rotated", id, o.Owner, o.Policy)
		}
	}
	mustFail(t, sendOne(t, s, op, v14, batchItem(kmip.OperationGet, uidItem(npriv))), kmip.ResultReasonPermissionDenied)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(npriv))))
}
