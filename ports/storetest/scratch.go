package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// Scratch checks ports.ScratchStore on stores opened by open: values round
// trip, are replaced, deleted and expire, keep their quotas, survive a
// reopen, and are refused after Close; AddScratch adds only where no
// unexpired value is, one of concurrent adders winning.
func Scratch(t *testing.T, open Opener) {
	t.Helper()
	ctx := context.Background()
	s, path := fresh(t, open)
	ss, ok := s.(ports.ScratchStore)
	if !ok {
		t.Fatal("store does not implement ports.ScratchStore")
	}
	later := time.Now().Add(time.Hour)
	if err := ss.PutScratch(ctx, "", []byte("x"), later); err == nil {
		t.Fatal("PutScratch with an empty key succeeded")
	}
	if _, err := ss.GetScratch(ctx, "absent"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetScratch(absent): %v, want ErrNotFound", err)
	}
	if err := ss.DeleteScratch(ctx, "absent"); err != nil {
		t.Fatalf("DeleteScratch(absent): %v", err)
	}
	val := []byte("state\x00\xff")
	if err := ss.PutScratch(ctx, "a", val, later); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store keeps a copy
	got, err := ss.GetScratch(ctx, "a")
	if err != nil || !bytes.Equal(got, []byte("state\x00\xff")) {
		t.Fatalf("GetScratch(a) = %q, %v", got, err)
	}
	if err := ss.PutScratch(ctx, "a", []byte("second"), later); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.GetScratch(ctx, "a"); err != nil || string(got) != "second" {
		t.Fatalf("GetScratch(a) after replace = %q, %v", got, err)
	}
	if err := ss.PutScratch(ctx, "empty", nil, later); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.GetScratch(ctx, "empty"); err != nil || len(got) != 0 {
		t.Fatalf("GetScratch(empty) = %q, %v", got, err)
	}
	// Expired values are never returned, and writing more purges them.
	if err := ss.PutScratch(ctx, "old", []byte("v"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.GetScratch(ctx, "old"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetScratch(expired): %v, want ErrNotFound", err)
	}
	if err := ss.PutScratch(ctx, "b", []byte("b"), later); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteScratch(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.GetScratch(ctx, "b"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetScratch after delete: %v, want ErrNotFound", err)
	}
	// Take returns a value once, even to concurrent callers.
	if err := ss.PutScratch(ctx, "t", []byte("once"), later); err != nil {
		t.Fatal(err)
	}
	const takers = 8
	got1 := make(chan []byte, takers)
	for range takers {
		go func() {
			v, err := ss.TakeScratch(ctx, "t")
			if err != nil && !errors.Is(err, ports.ErrNotFound) {
				t.Errorf("TakeScratch: %v", err)
			}
			got1 <- v
		}()
	}
	won := 0
	for range takers {
		if v := <-got1; v != nil {
			won++
			if string(v) != "once" {
				t.Errorf("TakeScratch = %q", v)
			}
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent TakeScratch calls got the value, want 1", won)
	}
	if _, err := ss.GetScratch(ctx, "t"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("GetScratch after TakeScratch: %v, want ErrNotFound", err)
	}
	if err := ss.PutScratch(ctx, "old2", []byte("v"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.TakeScratch(ctx, "old2"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("TakeScratch(expired): %v, want ErrNotFound", err)
	}
	scratchQuotas(t, ss)
	scratchAdd(t, ss)
	// Scratch values are durable and do not disturb the objects.
	if ids, err := s.Locate(ctx, ports.LocateQuery{}); err != nil || len(ids) != 0 {
		t.Fatalf("Locate with only scratch values = %v, %v", ids, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ss.PutScratch(ctx, "c", nil, later); !errors.Is(err, ports.ErrClosed) {
		t.Fatalf("PutScratch after Close: %v, want ErrClosed", err)
	}
	if _, err := ss.GetScratch(ctx, "a"); !errors.Is(err, ports.ErrClosed) {
		t.Fatalf("GetScratch after Close: %v, want ErrClosed", err)
	}
	s = openAt(t, open, path)
	ss = s.(ports.ScratchStore)
	if got, err := ss.GetScratch(ctx, "a"); err != nil || string(got) != "second" {
		t.Fatalf("GetScratch(a) after reopen = %q, %v", got, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ss.GetScratch(cctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetScratch with an ended context: %v, want context.Canceled", err)
	}
}

// scratchQuotas checks that PutScratch keeps its quotas: values and bytes
// under a prefix are bounded, the value being replaced and expired values
// do not count, other prefixes are not affected, and a refused value is
// not stored.
func scratchQuotas(t *testing.T, ss ports.ScratchStore) {
	t.Helper()
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	ten := bytes.Repeat([]byte("q"), 10)
	two := ports.ScratchQuota{Prefix: "q/a/", MaxValues: 2}
	put := func(key string, v []byte, expires time.Time, q ...ports.ScratchQuota) error {
		return ss.PutScratch(ctx, key, v, expires, q...)
	}
	if err := put("q/a/old", ten, time.Now().Add(-time.Second), two); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"q/a/1", "q/a/2", "q/a/1", "q/b/1", "q/a"} {
		if err := put(k, ten, later, two); err != nil {
			t.Fatalf("PutScratch(%s) within its quota: %v", k, err)
		}
	}
	if err := put("q/a/3", ten, later, two); !errors.Is(err, ports.ErrQuotaExceeded) {
		t.Fatalf("PutScratch of a third value under a two-value quota: %v, want ErrQuotaExceeded", err)
	}
	if _, err := ss.GetScratch(ctx, "q/a/3"); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("a refused value was stored: %v", err)
	}
	// q/a/1, q/a/2, q/b/1 and q/a hold 40 bytes under "q/".
	bytesQ := ports.ScratchQuota{Prefix: "q/", MaxBytes: 45}
	if err := put("q/c/1", ten, later, bytesQ); !errors.Is(err, ports.ErrQuotaExceeded) {
		t.Fatalf("PutScratch past a byte quota: %v, want ErrQuotaExceeded", err)
	}
	if err := put("q/c/1", ten[:5], later, bytesQ); err != nil {
		t.Fatalf("PutScratch filling a byte quota exactly: %v", err)
	}
	if err := put("q/c/1", ten[:4], later, bytesQ, ports.ScratchQuota{MaxValues: 1000}); err != nil {
		t.Fatalf("PutScratch replacing a value within its quotas: %v", err)
	}
	for _, k := range []string{"q/a/1", "q/a/2", "q/b/1", "q/a", "q/c/1"} {
		if err := ss.DeleteScratch(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
}

// scratchAdd checks AddScratch: it adds an absent or expired value, refuses
// a present one with ErrExists and leaves it, and of concurrent adders of
// one key exactly one wins, every one then reading the winner's value.
func scratchAdd(t *testing.T, ss ports.ScratchStore) {
	t.Helper()
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	if err := ss.AddScratch(ctx, "", []byte("x"), later); err == nil {
		t.Fatal("AddScratch with an empty key succeeded")
	}
	if err := ss.AddScratch(ctx, "add/1", []byte("first"), later); err != nil {
		t.Fatalf("AddScratch(absent): %v", err)
	}
	if err := ss.AddScratch(ctx, "add/1", []byte("second"), later); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("AddScratch(present): %v, want ErrExists", err)
	}
	if got, err := ss.GetScratch(ctx, "add/1"); err != nil || string(got) != "first" {
		t.Fatalf("GetScratch after a refused AddScratch = %q, %v; want the first value", got, err)
	}
	if err := ss.PutScratch(ctx, "add/old", []byte("v"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ss.AddScratch(ctx, "add/old", []byte("new"), later); err != nil {
		t.Fatalf("AddScratch over an expired value: %v", err)
	}
	if got, err := ss.GetScratch(ctx, "add/old"); err != nil || string(got) != "new" {
		t.Fatalf("GetScratch after AddScratch over an expired value = %q, %v", got, err)
	}
	const adders = 8
	won := make(chan int, adders)
	for i := range adders {
		go func() {
			err := ss.AddScratch(ctx, "add/race", []byte{byte(i)}, later)
			switch {
			case err == nil:
				won <- i
			case errors.Is(err, ports.ErrExists):
				won <- -1
			default:
				t.Errorf("AddScratch: %v", err)
				won <- -1
			}
		}()
	}
	winner, wins := -1, 0
	for range adders {
		if i := <-won; i >= 0 {
			winner, wins = i, wins+1
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent AddScratch calls added their value, want 1", wins)
	}
	if got, err := ss.GetScratch(ctx, "add/race"); err != nil || !bytes.Equal(got, []byte{byte(winner)}) {
		t.Fatalf("GetScratch after the race = %v, %v; want the winner's %d", got, err, winner)
	}
	for _, k := range []string{"add/1", "add/old", "add/race"} {
		if err := ss.DeleteScratch(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
}
