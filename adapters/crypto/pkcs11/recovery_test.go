//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// roundTrip encrypts and decrypts with h and reports any error.
func roundTrip(e *Engine, h ports.KeyHandle, msg []byte) error {
	p := ports.CryptoParams{BlockCipherMode: uint32(kmip.BlockCipherModeGCM)}
	ct, err := e.Encrypt(ctx, h, p, ports.CipherInput{Data: msg})
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	pt, err := e.Decrypt(ctx, h, p, ports.CipherInput{Data: ct.Data, IV: ct.IV, Tag: ct.Tag})
	if err != nil {
		return fmt.Errorf("decrypt: %w", err)
	}
	if !bytes.Equal(pt.Data, msg) {
		return fmt.Errorf("round trip gave %q", pt.Data)
	}
	return nil
}

// TestRecoversClosedSessions closes every session of the application on
// the slot behind the engine's back (C_CloseAllSessions, which also ends
// the login): the next operations reopen, log in again and succeed.
func TestRecoversClosedSessions(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 256, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	if err := roundTrip(e, h, []byte("before")); err != nil {
		t.Fatal(err)
	}
	r := rawSession(t)
	if err := r.p.CloseAllSessions(r.slot); err != nil {
		t.Fatal(err)
	}
	gen := e.generation()
	if err := roundTrip(e, h, []byte("after C_CloseAllSessions")); err != nil {
		t.Fatalf("after the sessions were closed: %v", err)
	}
	if e.generation() == gen {
		t.Error("the engine did not reopen its sessions")
	}
	if _, err := e.GenerateSymmetricKey(ctx, aesSpec(id+"-2", 128, 0)); err != nil {
		t.Errorf("generating after the sessions were closed: %v", err)
	}
}

// TestRecoversLogout logs the application out behind the engine's back:
// the sessions stay open but private objects vanish from them until the
// engine logs in again.
func TestRecoversLogout(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 256, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	for i, step := range []string{"cached handle", "fresh lookup", "generation"} {
		r := rawSession(t)
		if err := r.p.Logout(r.s); err != nil {
			t.Fatal(err)
		}
		gen := e.generation()
		switch i {
		case 1:
			e.dropCache()
			fallthrough
		case 0:
			err = roundTrip(e, h, []byte(step))
		case 2:
			_, err = e.GenerateSymmetricKey(ctx, aesSpec(id+"-2", 128, 0))
		}
		if err != nil {
			t.Errorf("%s after C_Logout: %v", step, err)
		}
		if e.generation() == gen {
			t.Errorf("%s after C_Logout: the engine did not log in again", step)
		}
	}
}

// TestPoolExhaustedCancel: with every session in use, a call waits for one
// and returns when its context is canceled; the pool still works after.
func TestPoolExhaustedCancel(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Sessions = 2 })
	var held []session
	for range 2 {
		s, err := e.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, s)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		_, err := e.RandomBytes(cctx, 16)
		done <- err
	}()
	cancel() // the call cannot get a session; only the cancellation ends it
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("call on an exhausted pool: %v, want context.Canceled", err)
	}
	for _, s := range held {
		e.release(s, false)
	}
	if b, err := e.RandomBytes(ctx, 16); err != nil || len(b) != 16 {
		t.Errorf("after the sessions came back: %d bytes, %v", len(b), err)
	}
}

// TestConcurrent: 32 goroutines encrypt, decrypt and sign with shared kept
// keys through a pool of 4 sessions (run with -race).
func TestConcurrent(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Sessions = 4 })
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 256, 0))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{PrivateID: id + "-priv", PublicID: id + "-pub", Algorithm: uint32(kmip.CryptographicAlgorithmEC), Length: 256})
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	priv := ports.KeyHandle{ID: id + "-priv", Ref: kp.Private.Ref}
	pub := ports.KeyHandle{ID: id + "-pub", Ref: kp.Public.Ref}
	sp := ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				msg := []byte(fmt.Sprintf("goroutine %d message %d", g, i))
				if err := roundTrip(e, h, msg); err != nil {
					errs <- err
					return
				}
				sig, err := e.Sign(ctx, priv, sp, msg, false)
				if err != nil {
					errs <- fmt.Errorf("sign: %w", err)
					return
				}
				if ok, err := e.Verify(ctx, pub, sp, msg, false, sig); !ok || err != nil {
					errs <- fmt.Errorf("verify: %v %w", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func (e *Engine) generation() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

// TestRecoversFinalize: another part of the process finalizes the library
// (C_Finalize): the engine initializes it again, reopens and logs in.
func TestRecoversFinalize(t *testing.T) {
	e := newEngine(t, nil)
	id := uid(t)
	k, err := e.GenerateSymmetricKey(ctx, aesSpec(id, 128, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := kept(id, k, kmip.CryptographicAlgorithmAES, kmip.ObjectTypeSymmetricKey)
	r := rawSession(t)
	if err := r.p.Finalize(); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(e, h, []byte("after C_Finalize")); err != nil {
		t.Fatalf("after C_Finalize: %v", err)
	}
}

// TestPersistentLossIsUnavailable: when the token is still lost after the
// engine reopened its sessions, the call answers ErrUnavailable (one
// reopen and one retry, not a loop), and the engine works again once the
// token does.
func TestPersistentLossIsUnavailable(t *testing.T) {
	e := newEngine(t, nil)
	gen := e.generation()
	calls := 0
	err := e.do(ctx, func(pkcs11.SessionHandle) error {
		calls++
		return pkcs11.Error(pkcs11.CKR_DEVICE_REMOVED)
	})
	if !errors.Is(err, ports.ErrUnavailable) || calls != 2 || e.generation() != gen+1 {
		t.Errorf("persistent CKR_DEVICE_REMOVED: %v after %d calls, %d reopens; want ErrUnavailable after 2 calls, 1 reopen", err, calls, e.generation()-gen)
	}
	if b, err := e.RandomBytes(ctx, 4); err != nil || len(b) != 4 {
		t.Errorf("after the loss: %v", err)
	}
}

// TestClosed: calls after Close answer ErrClosed, and Close is idempotent.
func TestClosed(t *testing.T) {
	e := newEngine(t, nil)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RandomBytes(ctx, 4); !errors.Is(err, ports.ErrClosed) {
		t.Errorf("RandomBytes after Close: %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
