package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// failingKeygen is fakeCrypto whose key generation fails with err.
type failingKeygen struct {
	fakeCrypto
	err error
}

func (f failingKeygen) GenerateSymmetricKey(context.Context, ports.SymmetricKeySpec) (ports.Key, error) {
	return ports.Key{}, f.err
}

// logLine is one JSON log line.
type logLine map[string]any

// logLines parses the JSON lines of buf.
func logLines(t *testing.T, buf *bytes.Buffer) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// failedLine returns the "operation failed" log line, failing without one.
func failedLine(t *testing.T, buf *bytes.Buffer) logLine {
	t.Helper()
	for _, l := range logLines(t, buf) {
		if l["message"] == "operation failed" {
			return l
		}
	}
	t.Fatalf("no \"operation failed\" line in the log:\n%s", buf.String())
	return nil
}

// resultMessage is the Result Message of the only batch item of a one-item request.
func resultMessage(t *testing.T, s *Service, v version, item *kmip.Item) (kmip.ResultReason, string) {
	t.Helper()
	resp, rs := send(t, s, alice, msg(v, item))
	if len(rs) != 1 || rs[0].status != kmip.ResultStatusOperationFailed {
		t.Fatalf("want one failed batch item, got %+v", rs)
	}
	m, _ := resp.Child(kmip.TagBatchItem).Child(kmip.TagResultMessage).AsText()
	return rs[0].reason, m
}

// TestCreateEngineErrorsKeepTheirCause: a Create the engine refuses
// answers a client error only for a permanent refusal, and the log keeps
// the engine's error (its CKR code) in every case; a transient error —
// even one the engine also calls unsupported — is General Failure, never
// Invalid Field "AES is not a supported symmetric key algorithm".
func TestCreateEngineErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		reason kmip.ResultReason
		level  string
	}{
		{"unavailable", fmt.Errorf("%w: pkcs11: generating a AES key: CKR_DEVICE_REMOVED", ports.ErrUnavailable),
			kmip.ResultReasonGeneralFailure, "error"},
		{"unavailable and unsupported", fmt.Errorf("%w: pkcs11: the token has no mechanism for AES key generation (%w: CKR_TOKEN_NOT_PRESENT)", ports.ErrUnsupported, ports.ErrUnavailable),
			kmip.ResultReasonGeneralFailure, "error"},
		{"unknown", fmt.Errorf("pkcs11: generating a AES key: CKR_GENERAL_ERROR"),
			kmip.ResultReasonGeneralFailure, "error"},
		{"unsupported", fmt.Errorf("%w: pkcs11: generating a AES key: CKR_MECHANISM_INVALID", ports.ErrUnsupported),
			kmip.ResultReasonInvalidField, "info"},
		{"invalid length", fmt.Errorf("%w: pkcs11: generating a AES key: CKR_KEY_SIZE_RANGE", ports.ErrInvalidLength),
			kmip.ResultReasonInvalidField, "info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := New(Config{Store: newMemStore(), Crypto: failingKeygen{err: tc.err}, Clock: fixedClock{testNow},
				Log: zerolog.New(&logs)})
			reason, msg := resultMessage(t, s, v14, aesCreate14(128, ""))
			if reason != tc.reason {
				t.Fatalf("reason %s (%q), want %s", reason, msg, tc.reason)
			}
			if strings.Contains(msg, "CKR_") || strings.Contains(msg, "pkcs11") {
				t.Errorf("the engine's error reached the client: %q", msg)
			}
			l := failedLine(t, &logs)
			code := tc.err.Error()[strings.Index(tc.err.Error(), "CKR_"):][:len("CKR_")+5]
			if errText, _ := l["error"].(string); !strings.Contains(errText, code) {
				t.Errorf("log error %q does not keep the engine's cause %s", errText, code)
			}
			if l["level"] != tc.level {
				t.Errorf("logged at %v, want %s", l["level"], tc.level)
			}
		})
	}
}

// TestKeyMissingFromHSM: an object whose key is gone from the HSM is
// answered Key Value Not Present with a message saying the key material is
// unavailable — not Item Not Found, the object exists — and logged at WARN
// with the object's Unique Identifier, and counted.
func TestKeyMissingFromHSM(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		f := newKeeperFake(true)
		var logs bytes.Buffer
		s := New(Config{Store: newMemStore(), Crypto: f, Clock: fixedClock{testNow}, Log: zerolog.New(&logs)})
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
		o := storedObj(t, s, id)
		f.mu.Lock()
		delete(f.keys, o.KeyRef) // the token object is deleted behind kmipd's back
		f.mu.Unlock()

		for i, item := range []*kmip.Item{
			batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(make([]byte, 16))),
			batchItem(kmip.OperationGet, uidItem(id)),
		} {
			logs.Reset()
			reason, msg := resultMessage(t, s, v, item)
			if reason != kmip.ResultReasonKeyValueNotPresent || !strings.Contains(msg, "key material") || !strings.Contains(msg, "unavailable") {
				t.Errorf("%s item %d: %s %q, want Key Value Not Present saying the key material is unavailable", v, i, reason, msg)
			}
			l := failedLine(t, &logs)
			if l["level"] != "warn" || l["id"] != id {
				t.Errorf("%s item %d: logged %v, want level warn with id %s", v, i, l, id)
			}
		}
		if n := s.KeyMaterialUnavailable(); n != 2 {
			t.Errorf("%s: KeyMaterialUnavailable() = %d, want 2", v, n)
		}
		// The object is there: Get Attributes works, and Destroy cleans up.
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
	}
}
