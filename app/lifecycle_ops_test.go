package app

import (
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// stepClock is a clock the test moves forward.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClockedService(t *testing.T) (*Service, *stepClock) {
	t.Helper()
	clk := &stepClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	return New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, Clock: clk}), clk
}

// aesCreate14With is aesCreate14 with extra 1.x attributes.
func aesCreate14With(name string, extra ...*kmip.Item) *kmip.Item {
	c := aesCreate14(128, name)
	c.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(extra...)
	return c
}

func dateAttr14(name string, t time.Time) *kmip.Item { return attribute1x(name, kmip.DateTime(0, t)) }

// TestDatesDriveState: an Activation Date that passes makes the key Active,
// a Deactivation Date that passes makes it Deactivated, as every read sees
// (KMIP 1.4 §3.22 transitions 4 and 6), and the next write persists it.
func TestDatesDriveState(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	now := clk.Now()
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("",
		dateAttr14("Activation Date", now.Add(time.Hour)),
		dateAttr14("Deactivation Date", now.Add(3*time.Hour)))))
	if st := state(t, s, v14, id); st != domain.PreActive {
		t.Fatalf("before the Activation Date: %s", st)
	}
	clk.advance(2 * time.Hour)
	if st := state(t, s, v14, id); st != domain.Active {
		t.Fatalf("after the Activation Date: %s", st)
	}
	if st := state(t, s, v21, id); st != domain.Active {
		t.Fatalf("after the Activation Date (2.1): %s", st)
	}
	// Activate is refused now: the key is already Active.
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationActivate, uidItem(id))), kmip.ResultReasonWrongKeyLifecycleState)
	clk.advance(2 * time.Hour)
	if st := state(t, s, v14, id); st != domain.Deactivated {
		t.Fatalf("after the Deactivation Date: %s", st)
	}
	// A Deactivated key may be destroyed: Destroy sees the effective state
	// and persists the whole path.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	if st := state(t, s, v14, id); st != domain.Destroyed {
		t.Fatalf("after Destroy: %s", st)
	}
}

func hasLink(links []*kmip.Item, lt kmip.LinkType, id string) bool {
	for _, l := range links {
		t, _ := l.Child(kmip.TagLinkType).AsEnum()
		to, _ := l.Child(kmip.TagLinkedObjectIdentifier).AsText()
		if t == uint32(lt) && to == id {
			return true
		}
	}
	return false
}

func usageLimits14(total int64) *kmip.Item {
	return attribute1x("Usage Limits", kmip.Struct(0,
		kmip.Long(kmip.TagUsageLimitsTotal, total),
		kmip.Long(kmip.TagUsageLimitsCount, total),
		kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject))))
}

func withContinue(m *kmip.Item) *kmip.Item {
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionContinue)))
	return m
}

// TestCriticalExtensionRejectsWholeMessage: "the receiver SHALL reject the
// entire message" (KMIP 1.4 §6.16, KMIP 2.1 §9.13), so no earlier item runs;
// a non-critical extension is ignored.
func TestCriticalExtensionRejectsWholeMessage(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	ext := func(crit bool) *kmip.Item {
		return kmip.Struct(kmip.TagMessageExtension, kmip.Text(kmip.TagVendorIdentification, "acme"),
			kmip.Bool(kmip.TagCriticalityIndicator, crit), kmip.Struct(kmip.TagVendorExtension))
	}
	m := withContinue(msg(v14, aesCreate14(128, "only-if-accepted"), batchItem(kmip.OperationQuery).Add(ext(true))))
	_, rs := send(t, s, alice, m)
	if len(rs) != 1 || rs[0].reason != kmip.ResultReasonFeatureNotSupported {
		t.Fatalf("critical extension: %+v", rs)
	}
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("only-if-accepted")))))
	if n := len(p.ChildrenOf(kmip.TagUniqueIdentifier)); n != 0 {
		t.Fatalf("the rejected message created %d objects", n)
	}
	_, rs = send(t, s, alice, msg(v14, aesCreate14(128, "").Add(ext(false))))
	mustOK(t, rs[0])
}
