//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/ports"
)

// Engine is the PKCS#11 crypto engine. It is safe for concurrent use:
// calls share a pool of Config.Sessions logged-in sessions.
type Engine struct {
	cfg    Config
	module string
	p      *pkcs11.Ctx
	sem    chan struct{} // one slot per session the pool may hold
	done   chan struct{} // closed by Close

	mu      sync.Mutex
	slot    uint
	gen     uint64 // bumped each time the sessions are reopened
	idle    []pkcs11.SessionHandle
	handles map[string]keyObj // Ref -> object, valid for gen
	mechs   map[uint]bool     // mechanisms the token lists
	kwp     int               // kwpUnknown, kwpOK or kwpBroken (checkKWP)
	closed  bool
}

var (
	_ ports.CryptoEngine     = (*Engine)(nil)
	_ ports.KeyKeeper        = (*Engine)(nil)
	_ ports.Cipher           = (*Engine)(nil)
	_ ports.Signer           = (*Engine)(nil)
	_ ports.MACer            = (*Engine)(nil)
	_ ports.KeyPairGenerator = (*Engine)(nil)
	_ ports.KeyWrapper       = (*Engine)(nil)
	_ ports.Hasher           = (*Engine)(nil)
	_ ports.RandomSeeder     = (*Engine)(nil)
)

const (
	kwpUnknown = iota
	kwpOK
	kwpBroken
)

// modules counts the engines using each loaded module: C_Initialize and
// C_Finalize act on the whole process, so the last engine to close
// finalizes the library.
var (
	modulesMu sync.Mutex
	modules   = map[string]int{}
)

// New loads cfg.Module, finds the token by label (or slot), logs in with
// the user PIN and opens the session pool. Each error is one line naming
// what is wrong; none contains the PIN.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Module == "" {
		return nil, errors.New("pkcs11: no module configured (the path of the PKCS#11 library)")
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %q: %v", cfg.Module, errors.Unwrap(err))
	}
	if cfg.TokenLabel == "" && !cfg.SlotSet {
		return nil, errors.New("pkcs11: no token configured (token_label or slot)")
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = DefaultSessions
	}
	p := pkcs11.New(cfg.Module)
	if p == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %q: not a PKCS#11 library (dlopen or C_GetFunctionList failed)", cfg.Module)
	}
	if err := p.Initialize(); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p.Destroy()
		return nil, fmt.Errorf("pkcs11: module %q: C_Initialize: %s", cfg.Module, rvName(err))
	}
	modulesMu.Lock()
	modules[cfg.Module]++
	modulesMu.Unlock()
	e := &Engine{cfg: cfg, module: cfg.Module, p: p, gen: 1, sem: make(chan struct{}, cfg.Sessions), done: make(chan struct{}), handles: map[string]keyObj{}}
	if err := e.open(); err != nil {
		e.Close()
		return nil, err
	}
	// Warm the pool: every session the pool may hold, opened now.
	e.mu.Lock()
	for len(e.idle) < cfg.Sessions {
		sh, err := e.p.OpenSession(e.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			break // opened on demand later
		}
		e.idle = append(e.idle, sh)
	}
	e.mu.Unlock()
	return e, nil
}

// open finds the slot, opens a first session, logs in and reads the
// mechanism list. The caller holds e.mu or owns e exclusively.
func (e *Engine) open() error {
	slot, err := e.findSlot()
	if err != nil {
		return err
	}
	e.slot = slot
	sh, err := e.p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return withRV(fmt.Sprintf("pkcs11: %s: C_OpenSession: %s", e.tokenName(), rvName(err)), err)
	}
	if err := e.p.Login(sh, pkcs11.CKU_USER, e.cfg.PIN); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		_ = e.p.CloseSession(sh)
		switch {
		case isRV(err, pkcs11.CKR_PIN_INCORRECT):
			return fmt.Errorf("pkcs11: %s: PIN incorrect", e.tokenName())
		case isRV(err, pkcs11.CKR_PIN_LOCKED):
			return fmt.Errorf("pkcs11: %s: PIN locked", e.tokenName())
		case isRV(err, pkcs11.CKR_PIN_EXPIRED):
			return fmt.Errorf("pkcs11: %s: PIN expired", e.tokenName())
		case isRV(err, pkcs11.CKR_PIN_LEN_RANGE), isRV(err, pkcs11.CKR_ARGUMENTS_BAD):
			return fmt.Errorf("pkcs11: %s: PIN incorrect (wrong length or empty)", e.tokenName())
		case isRV(err, pkcs11.CKR_USER_PIN_NOT_INITIALIZED):
			return fmt.Errorf("pkcs11: %s: the user PIN is not initialized", e.tokenName())
		}
		return withRV(fmt.Sprintf("pkcs11: %s: C_Login: %s", e.tokenName(), rvName(err)), err)
	}
	e.idle = append(e.idle, sh)
	if list, err := e.p.GetMechanismList(slot); err == nil {
		e.mechs = map[uint]bool{}
		for _, m := range list {
			e.mechs[m.Mechanism] = true
		}
	}
	return nil
}

func (e *Engine) tokenName() string {
	if e.cfg.TokenLabel != "" {
		return fmt.Sprintf("token %q", e.cfg.TokenLabel)
	}
	return fmt.Sprintf("slot %d", e.cfg.Slot)
}

// findSlot returns the slot holding the configured token.
func (e *Engine) findSlot() (uint, error) {
	slots, err := e.p.GetSlotList(true)
	if err != nil {
		return 0, withRV(fmt.Sprintf("pkcs11: module %q: C_GetSlotList: %s", e.module, rvName(err)), err)
	}
	if e.cfg.TokenLabel == "" {
		for _, s := range slots {
			if s == e.cfg.Slot {
				return s, nil
			}
		}
		return 0, fmt.Errorf("pkcs11: module %q: no token in slot %d", e.module, e.cfg.Slot)
	}
	var labels []string
	for _, s := range slots {
		ti, err := e.p.GetTokenInfo(s)
		if err != nil {
			continue
		}
		label := strings.TrimRight(ti.Label, " \x00")
		if label == e.cfg.TokenLabel {
			return s, nil
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0 {
			labels = append(labels, fmt.Sprintf("%q", label))
		}
	}
	return 0, fmt.Errorf("pkcs11: module %q: no token labelled %q (tokens present: %s)", e.module, e.cfg.TokenLabel, orNone(labels))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Name returns "pkcs11".
func (e *Engine) Name() string { return "pkcs11" }

// Close waits for the calls in progress, logs out, closes the sessions
// and, when no other engine in the process uses the module, finalizes and
// unloads it. Calls after Close answer ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	e.mu.Unlock()
	for range cap(e.sem) {
		e.sem <- struct{}{} // every session back: no call is using the module
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.idle) > 0 {
		_ = e.p.Logout(e.idle[0])
	}
	_ = e.p.CloseAllSessions(e.slot)
	e.idle, e.handles = nil, nil
	modulesMu.Lock()
	modules[e.module]--
	last := modules[e.module] <= 0
	if last {
		delete(modules, e.module)
	}
	modulesMu.Unlock()
	if last {
		_ = e.p.Finalize()
	}
	e.p.Destroy()
	return nil
}

// session is a pooled session lent to one call.
type session struct {
	h   pkcs11.SessionHandle
	gen uint64
}

// acquire takes a session from the pool, waiting for one while all are
// busy (or until ctx ends).
func (e *Engine) acquire(ctx context.Context) (session, error) {
	if err := ctx.Err(); err != nil {
		return session{}, err
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return session{}, ctx.Err()
	case <-e.done:
		return session{}, fmt.Errorf("pkcs11: %w", ports.ErrClosed)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		<-e.sem
		return session{}, fmt.Errorf("pkcs11: %w", ports.ErrClosed)
	}
	if n := len(e.idle); n > 0 {
		sh := e.idle[n-1]
		e.idle = e.idle[:n-1]
		return session{sh, e.gen}, nil
	}
	sh, err := e.p.OpenSession(e.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		<-e.sem
		return session{gen: e.gen}, err // raw: do() decides whether it is a loss
	}
	return session{sh, e.gen}, nil
}

// release returns s to the pool; a session from before a reopen is dropped.
func (e *Engine) release(s session, broken bool) {
	e.mu.Lock()
	if !e.closed && !broken && s.gen == e.gen {
		e.idle = append(e.idle, s.h)
	} else if !e.closed && s.gen == e.gen {
		_ = e.p.CloseSession(s.h)
	}
	e.mu.Unlock()
	<-e.sem
}

// reopen discards every session and cached handle, re-initializes the
// module if it was finalized, and logs in again. Only the first caller
// that saw generation gen reopens; later ones find it done.
func (e *Engine) reopen(gen uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("pkcs11: %w", ports.ErrClosed)
	}
	if e.gen != gen {
		return nil
	}
	e.gen++
	e.idle = nil
	e.handles = map[string]keyObj{}
	_ = e.p.CloseAllSessions(e.slot)
	err := e.open()
	if err != nil && (isRV(err, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED) || isRV(err, pkcs11.CKR_DEVICE_ERROR) || isRV(err, pkcs11.CKR_DEVICE_REMOVED)) {
		_ = e.p.Finalize()
		if ierr := e.p.Initialize(); ierr != nil && !isRV(ierr, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			return fmt.Errorf("pkcs11: reinitializing module: %s", rvName(ierr))
		}
		err = e.open()
	}
	return err
}

// do runs f on a pooled session. When the session or the token was lost
// (lostSession), it reopens the sessions, logs in again and runs f once
// more; a second loss is ErrUnavailable. f's other errors are returned
// as they are (the caller translates them).
//
// An invalid object handle is checked too: the handle may come from the
// cache and the object be invisible because the login was lost (then it is
// a loss), or the cache be stale (then it is dropped and f runs once more).
func (e *Engine) do(ctx context.Context, f func(s pkcs11.SessionHandle) error) error {
	staleRetried := false
	for attempt := 0; ; attempt++ {
		s, err := e.acquire(ctx)
		if err == nil {
			err = f(s.h)
			if isRV(err, pkcs11.CKR_KEY_HANDLE_INVALID) || isRV(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
				if info, ierr := e.p.GetSessionInfo(s.h); ierr != nil {
					err = ierr
				} else if info.State != pkcs11.CKS_RW_USER_FUNCTIONS && info.State != pkcs11.CKS_RO_USER_FUNCTIONS {
					err = pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)
				} else if !staleRetried {
					staleRetried = true
					e.dropCache()
					e.release(s, false)
					attempt--
					continue
				}
			}
			// An operation left active (it cannot be cancelled in PKCS#11
			// 2.40) makes the session unusable: close it.
			e.release(s, lostSession(err) || isRV(err, pkcs11.CKR_OPERATION_ACTIVE))
		} else if s == (session{}) {
			return err // context ended or engine closed
		}
		if !lostSession(err) {
			return err
		}
		if attempt == 1 {
			return fmt.Errorf("%w: pkcs11: token still unusable after reopening the sessions: %s", ports.ErrUnavailable, rvName(err))
		}
		if rerr := e.reopen(s.gen); rerr != nil {
			return fmt.Errorf("%w: %v", ports.ErrUnavailable, rerr)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// dropCache forgets every cached handle.
func (e *Engine) dropCache() {
	e.mu.Lock()
	if e.handles != nil {
		e.handles = map[string]keyObj{}
	}
	e.mu.Unlock()
}

// lostSession reports a PKCS#11 answer that means the session, the login
// or the token is gone.
func lostSession(err error) bool {
	var rv pkcs11.Error
	if !errors.As(err, &rv) {
		return false
	}
	switch uint(rv) {
	case pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_SESSION_COUNT:
		return true
	}
	return false
}

// rvError is a one-line message that keeps the PKCS#11 return value it
// reports for errors.As.
type rvError struct {
	msg string
	rv  error
}

func (e *rvError) Error() string { return e.msg }
func (e *rvError) Unwrap() error { return e.rv }

func withRV(msg string, rv error) error { return &rvError{msg, rv} }

func isRV(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// rvName names a PKCS#11 return value ("CKR_PIN_INCORRECT"), or err's
// text for other errors.
func rvName(err error) string {
	var rv pkcs11.Error
	if !errors.As(err, &rv) {
		return err.Error()
	}
	if n, ok := ckrNames[uint(rv)]; ok {
		return n
	}
	return fmt.Sprintf("CKR 0x%X", uint(rv))
}

// opErr describes how an operation's token errors translate.
type opErr struct {
	op string
	// integrity: the operation ends in an integrity check (GCM tag, RSA
	// padding, key-unwrap check), so CKR_ENCRYPTED_DATA_INVALID and
	// CKR_WRAPPED_KEY_INVALID mean the check failed, and so do
	// CKR_GENERAL_ERROR and CKR_FUNCTION_FAILED, which is how SoftHSM2
	// reports it. Elsewhere those codes mean bad input or a token fault.
	integrity bool
	// keySize: the key's size is valid for the algorithm (an HMAC key of
	// any length), so CKR_KEY_SIZE_RANGE is the token's limit
	// (ErrUnsupported), not ErrInvalidLength.
	keySize bool
}

// translate turns a PKCS#11 error into the port's errors, naming the
// operation and the CKR_ code (never key bytes or the PIN). It is the one
// place the engine maps token answers; errors that are already port
// errors or context errors pass through.
func translate(o opErr, err error) error {
	if err == nil {
		return nil
	}
	var rv pkcs11.Error
	if !errors.As(err, &rv) {
		return err
	}
	code := uint(rv)
	var sentinel error
	switch code {
	case pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID, pkcs11.CKR_KEY_TYPE_INCONSISTENT,
		pkcs11.CKR_TEMPLATE_INCONSISTENT, pkcs11.CKR_FUNCTION_NOT_SUPPORTED, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID,
		pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, pkcs11.CKR_RANDOM_SEED_NOT_SUPPORTED, pkcs11.CKR_CURVE_NOT_SUPPORTED,
		pkcs11.CKR_KEY_NOT_WRAPPABLE, pkcs11.CKR_WRAPPING_KEY_TYPE_INCONSISTENT, pkcs11.CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
		pkcs11.CKR_DOMAIN_PARAMS_INVALID:
		sentinel = ports.ErrUnsupported
	case pkcs11.CKR_KEY_SIZE_RANGE, pkcs11.CKR_WRAPPING_KEY_SIZE_RANGE, pkcs11.CKR_UNWRAPPING_KEY_SIZE_RANGE:
		sentinel = ports.ErrInvalidLength
		if o.keySize {
			sentinel = ports.ErrUnsupported
		}
	case pkcs11.CKR_GENERAL_ERROR, pkcs11.CKR_FUNCTION_FAILED:
		if !o.integrity {
			return fmt.Errorf("pkcs11: %s: %s", o.op, rvName(err))
		}
		sentinel = ports.ErrCryptoFailure
	case pkcs11.CKR_DATA_LEN_RANGE, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE, pkcs11.CKR_DATA_INVALID,
		pkcs11.CKR_ARGUMENTS_BAD, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, pkcs11.CKR_TEMPLATE_INCOMPLETE,
		pkcs11.CKR_WRAPPED_KEY_LEN_RANGE, pkcs11.CKR_SIGNATURE_LEN_RANGE:
		sentinel = ports.ErrInvalidInput
	case pkcs11.CKR_ENCRYPTED_DATA_INVALID, pkcs11.CKR_WRAPPED_KEY_INVALID:
		sentinel = ports.ErrInvalidInput
		if o.integrity {
			sentinel = ports.ErrCryptoFailure
		}
	case pkcs11.CKR_SIGNATURE_INVALID:
		sentinel = ports.ErrCryptoFailure
	case pkcs11.CKR_ATTRIBUTE_SENSITIVE, pkcs11.CKR_KEY_UNEXTRACTABLE:
		sentinel = ports.ErrNotExtractable
	case pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID:
		// do() has looked the object up afresh: it is gone from the token.
		sentinel = ports.ErrKeyMaterialUnavailable
	case pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_DEVICE_MEMORY, pkcs11.CKR_HOST_MEMORY,
		pkcs11.CKR_SESSION_COUNT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED:
		sentinel = ports.ErrUnavailable
	default:
		return fmt.Errorf("pkcs11: %s: %s", o.op, rvName(err))
	}
	return fmt.Errorf("%w: pkcs11: %s: %s", sentinel, o.op, rvName(err))
}

var ckrNames = map[uint]string{
	pkcs11.CKR_ARGUMENTS_BAD:                    "CKR_ARGUMENTS_BAD",
	pkcs11.CKR_ATTRIBUTE_SENSITIVE:              "CKR_ATTRIBUTE_SENSITIVE",
	pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:           "CKR_ATTRIBUTE_TYPE_INVALID",
	pkcs11.CKR_ATTRIBUTE_VALUE_INVALID:          "CKR_ATTRIBUTE_VALUE_INVALID",
	pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED:     "CKR_CRYPTOKI_ALREADY_INITIALIZED",
	pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED:         "CKR_CRYPTOKI_NOT_INITIALIZED",
	pkcs11.CKR_CURVE_NOT_SUPPORTED:              "CKR_CURVE_NOT_SUPPORTED",
	pkcs11.CKR_DATA_INVALID:                     "CKR_DATA_INVALID",
	pkcs11.CKR_DATA_LEN_RANGE:                   "CKR_DATA_LEN_RANGE",
	pkcs11.CKR_DEVICE_ERROR:                     "CKR_DEVICE_ERROR",
	pkcs11.CKR_DEVICE_MEMORY:                    "CKR_DEVICE_MEMORY",
	pkcs11.CKR_DEVICE_REMOVED:                   "CKR_DEVICE_REMOVED",
	pkcs11.CKR_DOMAIN_PARAMS_INVALID:            "CKR_DOMAIN_PARAMS_INVALID",
	pkcs11.CKR_ENCRYPTED_DATA_INVALID:           "CKR_ENCRYPTED_DATA_INVALID",
	pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE:         "CKR_ENCRYPTED_DATA_LEN_RANGE",
	pkcs11.CKR_FUNCTION_FAILED:                  "CKR_FUNCTION_FAILED",
	pkcs11.CKR_FUNCTION_NOT_SUPPORTED:           "CKR_FUNCTION_NOT_SUPPORTED",
	pkcs11.CKR_GENERAL_ERROR:                    "CKR_GENERAL_ERROR",
	pkcs11.CKR_HOST_MEMORY:                      "CKR_HOST_MEMORY",
	pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:       "CKR_KEY_FUNCTION_NOT_PERMITTED",
	pkcs11.CKR_KEY_HANDLE_INVALID:               "CKR_KEY_HANDLE_INVALID",
	pkcs11.CKR_KEY_NOT_WRAPPABLE:                "CKR_KEY_NOT_WRAPPABLE",
	pkcs11.CKR_KEY_SIZE_RANGE:                   "CKR_KEY_SIZE_RANGE",
	pkcs11.CKR_KEY_TYPE_INCONSISTENT:            "CKR_KEY_TYPE_INCONSISTENT",
	pkcs11.CKR_KEY_UNEXTRACTABLE:                "CKR_KEY_UNEXTRACTABLE",
	pkcs11.CKR_MECHANISM_INVALID:                "CKR_MECHANISM_INVALID",
	pkcs11.CKR_MECHANISM_PARAM_INVALID:          "CKR_MECHANISM_PARAM_INVALID",
	pkcs11.CKR_OBJECT_HANDLE_INVALID:            "CKR_OBJECT_HANDLE_INVALID",
	pkcs11.CKR_OPERATION_ACTIVE:                 "CKR_OPERATION_ACTIVE",
	pkcs11.CKR_PIN_EXPIRED:                      "CKR_PIN_EXPIRED",
	pkcs11.CKR_PIN_INCORRECT:                    "CKR_PIN_INCORRECT",
	pkcs11.CKR_PIN_LEN_RANGE:                    "CKR_PIN_LEN_RANGE",
	pkcs11.CKR_PIN_LOCKED:                       "CKR_PIN_LOCKED",
	pkcs11.CKR_RANDOM_SEED_NOT_SUPPORTED:        "CKR_RANDOM_SEED_NOT_SUPPORTED",
	pkcs11.CKR_SESSION_CLOSED:                   "CKR_SESSION_CLOSED",
	pkcs11.CKR_SESSION_COUNT:                    "CKR_SESSION_COUNT",
	pkcs11.CKR_SESSION_HANDLE_INVALID:           "CKR_SESSION_HANDLE_INVALID",
	pkcs11.CKR_SIGNATURE_INVALID:                "CKR_SIGNATURE_INVALID",
	pkcs11.CKR_SIGNATURE_LEN_RANGE:              "CKR_SIGNATURE_LEN_RANGE",
	pkcs11.CKR_TEMPLATE_INCOMPLETE:              "CKR_TEMPLATE_INCOMPLETE",
	pkcs11.CKR_TEMPLATE_INCONSISTENT:            "CKR_TEMPLATE_INCONSISTENT",
	pkcs11.CKR_TOKEN_NOT_PRESENT:                "CKR_TOKEN_NOT_PRESENT",
	pkcs11.CKR_TOKEN_NOT_RECOGNIZED:             "CKR_TOKEN_NOT_RECOGNIZED",
	pkcs11.CKR_UNWRAPPING_KEY_SIZE_RANGE:        "CKR_UNWRAPPING_KEY_SIZE_RANGE",
	pkcs11.CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT: "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
	pkcs11.CKR_USER_ALREADY_LOGGED_IN:           "CKR_USER_ALREADY_LOGGED_IN",
	pkcs11.CKR_USER_NOT_LOGGED_IN:               "CKR_USER_NOT_LOGGED_IN",
	pkcs11.CKR_USER_PIN_NOT_INITIALIZED:         "CKR_USER_PIN_NOT_INITIALIZED",
	pkcs11.CKR_WRAPPED_KEY_INVALID:              "CKR_WRAPPED_KEY_INVALID",
	pkcs11.CKR_WRAPPED_KEY_LEN_RANGE:            "CKR_WRAPPED_KEY_LEN_RANGE",
	pkcs11.CKR_WRAPPING_KEY_SIZE_RANGE:          "CKR_WRAPPING_KEY_SIZE_RANGE",
	pkcs11.CKR_WRAPPING_KEY_TYPE_INCONSISTENT:   "CKR_WRAPPING_KEY_TYPE_INCONSISTENT",
}

// has reports whether the token lists mechanism m (true when the list
// could not be read: the token then answers for itself).
func (e *Engine) has(m uint) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mechs == nil || e.mechs[m]
}

// need returns ErrUnsupported naming what when the token lacks mechanism m.
func (e *Engine) need(m uint, what string) error {
	if !e.has(m) {
		return fmt.Errorf("%w: pkcs11: the token has no mechanism for %s", ports.ErrUnsupported, what)
	}
	return nil
}

// Stats tells how the session pool is used, for metrics: sessions lent to
// calls now, the pool's size, and how many times the engine reopened its
// sessions (a lost session, login or token recovered).
func (e *Engine) Stats() (inUse, capacity int, recoveries uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sem), cap(e.sem), e.gen - 1 // gen starts at 1
}
