package domain

import (
	"errors"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// TestEffectiveState walks state × Activation Date × Deactivation Date × now
// against KMIP 1.4 §3.22 transitions 4 and 6, written out by hand.
func TestEffectiveState(t *testing.T) {
	past, future := t0.Add(-time.Hour), t0.Add(time.Hour)
	var none time.Time
	cases := []struct {
		stored     State
		act, deact time.Time
		want       State
	}{
		{PreActive, none, none, PreActive},
		{PreActive, future, none, PreActive},
		{PreActive, past, none, Active},
		{PreActive, t0, none, Active}, // "the current date" counts as reached
		{PreActive, past, past, Deactivated},
		{PreActive, past, future, Active},
		{PreActive, future, past, PreActive}, // not yet active: no deactivation of a Pre-Active key
		{PreActive, none, past, PreActive},
		{Active, none, none, Active},
		{Active, none, past, Deactivated},
		{Active, none, t0, Deactivated},
		{Active, past, future, Active},
		{Deactivated, past, past, Deactivated},
		{Compromised, past, past, Compromised},
		{Destroyed, past, past, Destroyed},
		{DestroyedCompromised, past, none, DestroyedCompromised},
	}
	for _, c := range cases {
		if got := EffectiveState(c.stored, c.act, c.deact, t0); got != c.want {
			t.Errorf("EffectiveState(%s, act=%v, deact=%v) = %s, want %s", c.stored, c.act, c.deact, got, c.want)
		}
	}
}

func key(state State, dates map[string]time.Time) *Object {
	o := &Object{ID: "k", Type: uint32(kmip.ObjectTypeSymmetricKey), State: state, InitialDate: t0.Add(-48 * time.Hour)}
	for name, d := range dates {
		tag, _ := kmip.TagBySpecName(name)
		o.SetAttr(name, kmip.DateTime(tag, d))
	}
	o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask,
		int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt)))
	return o
}

func TestApplyDatesLeavesObjectsWithoutLifecycle(t *testing.T) {
	o := key(PreActive, map[string]time.Time{"Activation Date": t0.Add(-time.Hour)})
	o.Type = uint32(kmip.ObjectTypeOpaqueObject)
	if o.ApplyDates(t0) || o.State != PreActive {
		t.Fatalf("an Opaque Object moved to %s", o.State)
	}
	o.Type = uint32(kmip.ObjectTypeSymmetricKey)
	if !o.ApplyDates(t0) || o.State != Active {
		t.Fatalf("a key with a past Activation Date is %s", o.State)
	}
	if o.ApplyDates(t0) {
		t.Fatal("a second ApplyDates reported a change")
	}
}

// TestCheckDateChange follows the rules tables of KMIP 1.4 §3.24-§3.27.
func TestCheckDateChange(t *testing.T) {
	past, future, later := t0.Add(-time.Hour), t0.Add(time.Hour), t0.Add(2*time.Hour)
	var del time.Time
	cases := []struct {
		name  string
		obj   *Object
		attr  string
		value time.Time
		want  error
	}{
		{"activation while pre-active", key(PreActive, nil), "Activation Date", future, nil},
		{"activation in the past while pre-active", key(PreActive, nil), "Activation Date", past, nil},
		{"activation once active", key(Active, nil), "Activation Date", future, ErrWrongState},
		{"activation once its date passed", key(PreActive, map[string]time.Time{"Activation Date": past}), "Activation Date", future, ErrWrongState},
		{"activation deleted", key(PreActive, map[string]time.Time{"Activation Date": future}), "Activation Date", del, ErrWrongState},
		{"process start while active", key(Active, nil), "Process Start Date", future, nil},
		{"process start once reached", key(Active, map[string]time.Time{"Process Start Date": past}), "Process Start Date", future, ErrWrongState},
		{"process start before activation", key(PreActive, map[string]time.Time{"Activation Date": later}), "Process Start Date", future, ErrDateOrder},
		{"process start while deactivated", key(Deactivated, nil), "Process Start Date", future, ErrWrongState},
		{"protect stop after deactivation", key(Active, map[string]time.Time{"Deactivation Date": future}), "Protect Stop Date", later, ErrDateOrder},
		{"protect stop before deactivation", key(Active, map[string]time.Time{"Deactivation Date": later}), "Protect Stop Date", future, nil},
		{"protect stop once reached", key(Active, map[string]time.Time{"Protect Stop Date": past}), "Protect Stop Date", future, ErrWrongState},
		{"deactivation while active", key(Active, nil), "Deactivation Date", future, nil},
		{"deactivation once deactivated", key(Deactivated, nil), "Deactivation Date", future, ErrWrongState},
		{"deactivation after its date passed", key(Active, map[string]time.Time{"Deactivation Date": past}), "Deactivation Date", future, ErrWrongState},
		{"deactivation deleted", key(Active, map[string]time.Time{"Deactivation Date": future}), "Deactivation Date", del, ErrWrongState},
		{"compromised", key(Compromised, nil), "Deactivation Date", future, ErrWrongState},
		{"other attribute", key(Destroyed, nil), "Contact Information", del, nil},
	}
	for _, c := range cases {
		if err := CheckDateChange(c.obj, c.attr, c.value, t0); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// TestCheckUse: only Active keys are used; Process Start Date gates
// processing and Protect Stop Date gates protection (KMIP 1.4 §3.22, §3.25, §3.26).
func TestCheckUse(t *testing.T) {
	past, future := t0.Add(-time.Hour), t0.Add(time.Hour)
	cases := []struct {
		name string
		obj  *Object
		use  Usage
		want error
	}{
		{"pre-active", key(PreActive, nil), UseProtect, ErrWrongState},
		{"pre-active whose activation passed", key(PreActive, map[string]time.Time{"Activation Date": past}), UseProtect, nil},
		{"active", key(Active, nil), UseProcess, nil},
		{"deactivated", key(Deactivated, nil), UseProcess, ErrWrongState},
		{"active whose deactivation passed", key(Active, map[string]time.Time{"Deactivation Date": past}), UseProtect, ErrWrongState},
		{"compromised", key(Compromised, nil), UseProcess, ErrWrongState},
		{"before process start: process", key(Active, map[string]time.Time{"Process Start Date": future}), UseProcess, ErrUsageDate},
		{"before process start: protect", key(Active, map[string]time.Time{"Process Start Date": future}), UseProtect, nil},
		{"after protect stop: protect", key(Active, map[string]time.Time{"Protect Stop Date": past}), UseProtect, ErrUsageDate},
		{"after protect stop: process", key(Active, map[string]time.Time{"Protect Stop Date": past}), UseProcess, nil},
	}
	for _, c := range cases {
		if err := CheckUse(c.obj, c.use, t0); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	o := key(Active, nil)
	if err := CheckUsageMask(o, uint32(kmip.CryptographicUsageMaskEncrypt), t0); err != nil {
		t.Errorf("encrypt with an encrypt key: %v", err)
	}
	if err := CheckUsageMask(o, uint32(kmip.CryptographicUsageMaskSign), t0); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("sign with an encrypt/decrypt key: %v", err)
	}
}

func usageLimits(total, count int64) *kmip.Item {
	return kmip.Struct(kmip.TagUsageLimits,
		kmip.Long(kmip.TagUsageLimitsTotal, total),
		kmip.Long(kmip.TagUsageLimitsCount, count),
		kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject)))
}

// TestReKey follows KMIP 1.4 §4.4 Tables 172 and 173.
func TestReKey(t *testing.T) {
	at1 := t0.Add(-24 * time.Hour)
	old := key(Active, map[string]time.Time{
		"Activation Date": at1, "Process Start Date": at1.Add(time.Hour),
		"Protect Stop Date": at1.Add(48 * time.Hour), "Deactivation Date": at1.Add(72 * time.Hour),
	})
	old.Owner, old.Policy = "alice", PolicyDefault
	old.AddAttr("Name", kmip.Text(kmip.TagName, "a"))
	old.AddAttr("Name", kmip.Text(kmip.TagName, "b"))
	old.SetAttr("Usage Limits", usageLimits(100, 7))
	old.SetAttr("Revocation Reason", kmip.Struct(kmip.TagRevocationReason))
	old.SetAttr("Digest", kmip.Struct(kmip.TagDigest))
	old.AddAttr("Link", kmip.Struct(kmip.TagLink))

	now := t0
	offset := 2 * time.Hour
	r, err := old.ReKey("new", now, &offset)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "new" || r.Owner != "alice" || !r.InitialDate.Equal(now) || r.Payload != nil {
		t.Fatalf("replacement identity: %+v", r)
	}
	at2 := now.Add(offset)
	shift := at2.Sub(at1)
	for name, want := range map[string]time.Time{
		"Activation Date": at2, "Process Start Date": at1.Add(time.Hour).Add(shift),
		"Protect Stop Date": at1.Add(48 * time.Hour).Add(shift), "Deactivation Date": at1.Add(72 * time.Hour).Add(shift),
	} {
		if got, _ := r.Attr(name).AsTime(); !got.Equal(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if r.State != PreActive {
		t.Errorf("replacement activating in the future is %s", r.State)
	}
	if len(r.AttrValues("Name")) != 2 || len(old.AttrValues("Name")) != 0 {
		t.Errorf("names not moved: new %d, old %d", len(r.AttrValues("Name")), len(old.AttrValues("Name")))
	}
	for _, gone := range []string{"Revocation Reason", "Digest"} {
		if r.Attr(gone) != nil {
			t.Errorf("%s copied to the replacement", gone)
		}
	}
	links := r.AttrValues("Link")
	if len(links) != 1 {
		t.Fatalf("replacement has %d links, want only the Replaced Object Link", len(links))
	}
	if lt, _ := links[0].Child(kmip.TagLinkType).AsEnum(); lt != uint32(kmip.LinkTypeReplacedObjectLink) {
		t.Errorf("replacement link type %d", lt)
	}
	if id, _ := links[0].Child(kmip.TagLinkedObjectIdentifier).AsText(); id != "k" {
		t.Errorf("replacement links to %q", id)
	}
	ol := old.AttrValues("Link")
	if lt, _ := ol[len(ol)-1].Child(kmip.TagLinkType).AsEnum(); lt != uint32(kmip.LinkTypeReplacementObjectLink) {
		t.Errorf("existing key's new link type %d", lt)
	}
	if c, _ := r.Attr("Usage Limits").Child(kmip.TagUsageLimitsCount).AsLong(); c != 100 {
		t.Errorf("replacement Usage Limits Count %d, want the Total 100", c)
	}

	// Without an offset the dates are copied, and the state follows them.
	old2 := key(Active, map[string]time.Time{"Activation Date": at1})
	r2, err := old2.ReKey("n2", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r2.Attr("Activation Date").AsTime(); !got.Equal(at1) || r2.State != Active {
		t.Errorf("no offset: activation %v state %s", got, r2.State)
	}
	// An offset needs an Activation Date to move the others by.
	if _, err := key(Active, nil).ReKey("n3", now, &offset); !errors.Is(err, ErrNoActivationDate) {
		t.Errorf("offset without activation date: %v", err)
	}
}

func TestAllocateUsage(t *testing.T) {
	o := key(Active, nil)
	if err := o.AllocateUsage(1, t0); !errors.Is(err, ErrNotApplicable) {
		t.Fatalf("no Usage Limits: %v", err)
	}
	o.SetAttr("Usage Limits", usageLimits(10, 10))
	if err := o.AllocateUsage(4, t0); err != nil {
		t.Fatal(err)
	}
	if c, _ := o.Attr("Usage Limits").Child(kmip.TagUsageLimitsCount).AsLong(); c != 6 {
		t.Fatalf("count after allocating 4 of 10: %d", c)
	}
	if !o.UsageAvailable(6) || o.UsageAvailable(7) {
		t.Fatal("UsageAvailable disagrees with the count")
	}
	if err := o.AllocateUsage(7, t0); !errors.Is(err, ErrUsageLimit) {
		t.Fatalf("over-allocation: %v", err)
	}
	o.State = Deactivated
	if err := o.AllocateUsage(1, t0); !errors.Is(err, ErrWrongState) {
		t.Fatalf("deactivated key: %v", err)
	}
}

func TestArchiveRecover(t *testing.T) {
	o := key(Active, nil)
	if o.Archived() {
		t.Fatal("new object archived")
	}
	if err := o.Archive(t0); err != nil || !o.Archived() {
		t.Fatalf("archive: %v", err)
	}
	if err := o.Archive(t0); !errors.Is(err, ErrArchived) {
		t.Fatalf("second archive: %v", err)
	}
	o.Recover()
	if o.Archived() || o.Attr("Archive Date") != nil {
		t.Fatal("recover kept the Archive Date")
	}
}
