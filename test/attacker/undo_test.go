package attacker

import (
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestUndoDoesNotResurrectDestroyedKey (issue 12.1): bob sends one batch
// with Batch Error Continuation Option Undo whose first item touches
// alice's key (a Get of her Fresh key clears Fresh; an Encrypt with her
// encrypt_only key spends its Usage Limits), then slow items (PBKDF2
// derivations from a key of his), then an item that fails. Meanwhile alice
// revokes her key for Key Compromise and destroys it. The Undo must not
// write bob's snapshot back: the key stays destroyed, without its value.
//
// The race is won when alice's Destroy is logged before bob's failing item;
// an attempt that loses it proves nothing, so the test retries with slower
// items and skips if it never wins.
func TestUndoDoesNotResurrectDestroyedKey(t *testing.T) {
	tg := start(t, harness.Options{ExtraServerTOML: `request_timeout = "300s"`})
	tg.bob.Timeout = 5 * time.Minute
	base := createAES(t, tg.bob, "", kmip.CryptographicUsageMaskDeriveKey)
	harness.Call(t, tg.bob, kmip.OperationActivate, uid(base))
	limits := kmipclient.Attribute("Usage Limits", kmip.Struct(0,
		kmip.Long(kmip.TagUsageLimitsTotal, 1<<20), kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte))))
	params := kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)))

	for _, tc := range []struct {
		name, policy string
		// first is bob's item on alice's key; touched reports whether it
		// has taken effect, as alice sees her key's attributes.
		first   func(id string) *kmip.Item
		touched func(attrs map[string]*kmip.Item) bool
	}{
		{"Get clears Fresh", "shared",
			func(id string) *kmip.Item { return kmipclient.BatchItem(kmip.OperationGet, uid(id)) },
			func(a map[string]*kmip.Item) bool { f, ok := a["Fresh"].AsBool(); return ok && !f }},
		{"Encrypt spends usage", "encrypt_only",
			func(id string) *kmip.Item {
				return kmipclient.BatchItem(kmip.OperationEncrypt, uid(id), params, kmip.Bytes(kmip.TagData, []byte("sixteen byte msg")))
			},
			func(a map[string]*kmip.Item) bool {
				count, ok := a["Usage Limits"].Child(kmip.TagUsageLimitsCount).AsLong()
				total, _ := a["Usage Limits"].Child(kmip.TagUsageLimitsTotal).AsLong()
				return ok && count < total
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, iterations := range []int32{1 << 19, 1 << 20, 1 << 21, 1 << 22} {
				if raceUndo(t, tg, base, iterations, tc.policy, []*kmip.Item{limits}, tc.first, tc.touched) {
					return
				}
				t.Logf("alice did not act before bob's batch failed (PBKDF2 %d iterations); retrying slower", iterations)
			}
			t.Skip("could not order alice's Destroy before the failing item of bob's batch")
		})
	}
}

// raceUndo runs one attempt: it reports false, having checked nothing, when
// alice's Destroy did not come before bob's failing item.
func raceUndo(t *testing.T, tg *target, base string, iterations int32, policy string, extra []*kmip.Item,
	first func(string) *kmip.Item, touched func(map[string]*kmip.Item) bool) bool {
	t.Helper()
	victim := createAES(t, tg.alice, policy, kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, extra...)
	harness.Call(t, tg.alice, kmip.OperationActivate, uid(victim))
	missing := "no-such-object-" + victim
	items := []*kmip.Item{first(victim)}
	for range 6 {
		items = append(items, kmipclient.BatchItem(kmip.OperationDeriveKey,
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), uid(base),
			kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodPBKDF2)),
			kmip.Struct(kmip.TagDerivationParameters,
				kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
				kmip.Bytes(kmip.TagSalt, []byte("salt of sixteen!")),
				kmip.Int(kmip.TagIterationCount, iterations)),
			kmip.Struct(kmip.TagTemplateAttribute,
				kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
				kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 256)),
				kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))))))
	}
	items = append(items, kmipclient.BatchItem(kmip.OperationGet, uid(missing)))
	req := tg.bob.Request(items...)
	req.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo)))

	type answer struct {
		resp *kmip.Item
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := tg.bob.RoundTrip(req)
		done <- answer{resp, err}
	}()
	// Alice waits until bob's first item has touched her key, then
	// revokes and destroys it.
	deadline := time.Now().Add(time.Minute)
	for !touched(attributes(t, tg.alice, victim)) {
		if time.Now().After(deadline) {
			t.Fatal("bob's first item never took effect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	harness.Call(t, tg.alice, kmip.OperationRevoke, uid(victim), kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))
	harness.Call(t, tg.alice, kmip.OperationDestroy, uid(victim))
	a := <-done
	if a.err != nil {
		t.Fatalf("bob's batch: %v", a.err)
	}
	results, err := kmipclient.Results(a.resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(items) || reason(results[len(results)-1].Err) != kmip.ResultReasonItemNotFound {
		t.Fatalf("bob's batch: %d results, last %v; want %d, the last Item Not Found", len(results), results[len(results)-1].Err, len(items))
	}
	if !loggedBefore(tg.srv.LogContents(t), victim) {
		return false
	}
	if st, _ := attributes(t, tg.alice, victim)["State"].AsEnum(); st != uint32(kmip.StateDestroyedCompromised) {
		t.Fatalf("alice's key is in state %s after bob's batch was undone, want Destroyed Compromised", kmip.State(st))
	}
	if p, err := tg.alice.Call(kmip.OperationGet, uid(victim)); err == nil {
		t.Fatalf("Get of alice's destroyed key succeeded after the Undo: %v", p.Child(kmip.TagObjectType))
	}
	return true
}

// attributes returns all of id's attributes as c sees them, by name.
func attributes(t *testing.T, c *kmipclient.Client, id string) map[string]*kmip.Item {
	t.Helper()
	out := map[string]*kmip.Item{}
	for _, a := range harness.Call(t, c, kmip.OperationGetAttributes, uid(id)).ChildrenOf(kmip.TagAttribute) {
		n, _ := a.Child(kmip.TagAttributeName).AsText()
		out[n] = a.Child(kmip.TagAttributeValue)
	}
	return out
}

// loggedBefore reports whether the server logged the Destroy of victim
// and, after it, the failure of a Get of bob's (the last item of his batch).
func loggedBefore(log, victim string) bool {
	destroyed := false
	for _, line := range strings.Split(log, "\n") {
		switch {
		case !destroyed && strings.Contains(line, `"op":"Destroy"`) && strings.Contains(line, victim) &&
			strings.Contains(line, "lifecycle change"):
			destroyed = true
		case destroyed && strings.Contains(line, `"client":"bob"`) && strings.Contains(line, "operation failed") &&
			strings.Contains(line, `"op":"Get"`):
			return true
		}
	}
	return false
}

// TestDeletedIdentifierCannotBeSquatted (issue 12.8): the identifier of an
// object that no longer exists (alice's Create, undone with her batch) is
// never given to another object: bob's Import under it, replacing or not,
// is Object Already Exists, and the identifier names nothing afterwards.
func TestDeletedIdentifierCannotBeSquatted(t *testing.T) {
	tg := start(t, harness.Options{})
	req := tg.alice.Request(
		kmipclient.BatchItem(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
			kmip.CryptographicUsageMaskEncrypt, "")...),
		kmipclient.BatchItem(kmip.OperationGet, uid("no-such-object")))
	req.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo)))
	resp, err := tg.alice.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	results, err := kmipclient.Results(resp)
	if err != nil || len(results) != 2 || results[0].Payload == nil {
		t.Fatalf("alice's batch: %v, %v", results, err)
	}
	gone, _ := results[0].Payload.Child(kmip.TagUniqueIdentifier).AsText()
	if _, err := tg.alice.Call(kmip.OperationGet, uid(gone)); reason(err) != kmip.ResultReasonItemNotFound {
		t.Fatalf("Get of the undone key: %v, want Item Not Found", err)
	}
	for _, replace := range []bool{false, true} {
		_, err := tg.bob.Call(kmip.OperationImport, uid(gone),
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			kmip.Bool(kmip.TagReplaceExisting, replace),
			kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))),
			kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("bob's own 128bit"))),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128))))
		if reason(err) != kmip.ResultReasonObjectAlreadyExists {
			t.Fatalf("bob's Import (Replace Existing %v) of a used identifier: %v, want Object Already Exists", replace, err)
		}
	}
	if _, err := tg.bob.Call(kmip.OperationGet, uid(gone)); reason(err) != kmip.ResultReasonItemNotFound {
		t.Fatalf("bob's Get of the used identifier: %v, want Item Not Found", err)
	}
}
