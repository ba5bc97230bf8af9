package software

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// TestPBKDF2MatchesStdlib proves pbkdf2Key computes RFC 8018 PBKDF2: the
// same bytes as crypto/pbkdf2 over hashes, lengths (one and several blocks,
// partial blocks) and iteration counts around the deadline check interval.
func TestPBKDF2MatchesStdlib(t *testing.T) {
	for _, h := range []func() hash.Hash{sha1.New, sha256.New, sha512.New} {
		for _, n := range []int{1, 16, 20, 32, 33, 64, 100} {
			for _, iter := range []int{1, 2, pbkdf2CheckEvery, pbkdf2CheckEvery + 1} {
				want, err := pbkdf2.Key(h, "password", []byte("salt"), iter, n)
				if err != nil {
					t.Fatal(err)
				}
				got, err := pbkdf2Key(context.Background(), h, []byte("password"), []byte("salt"), iter, n)
				if err != nil || string(got) != string(want) {
					t.Fatalf("hash %T, %d bytes, %d iterations: %x, %v; want %x", h(), n, iter, got, err, want)
				}
			}
		}
	}
}

// TestPBKDF2StopsAtDeadline proves a derivation at the work bound stops
// soon after its request's deadline instead of running to the end.
func TestPBKDF2StopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := New().DeriveKey(ctx, ports.DeriveSpec{
		Method: uint32(kmip.DerivationMethodPBKDF2), Length: 512, Data: []byte("password"),
		Salt: []byte("salt"), Iterations: maxPBKDF2Work,
		Params: ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_512)},
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PBKDF2 past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("PBKDF2 returned %s after a 50ms deadline", d)
	}
}

// TestX931RSAStopsAtDeadline proves the X9.31 prime search observes ctx.
func TestX931RSAStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x931Engine(t).generateRSA(ctx, 4096); !errors.Is(err, context.Canceled) {
		t.Fatalf("X9.31 RSA with a canceled context: %v, want context.Canceled", err)
	}
}
