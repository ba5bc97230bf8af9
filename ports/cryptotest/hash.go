package cryptotest

import (
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func exerciseHasher(t *testing.T, h ports.Hasher) {
	ctx := context.Background()
	// FIPS 180-4 and FIPS 202 examples.
	for _, c := range []struct {
		alg  kmip.HashingAlgorithm
		want string
	}{
		{kmip.HashingAlgorithmSHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{kmip.HashingAlgorithmSHA_256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{kmip.HashingAlgorithmSHA_512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{kmip.HashingAlgorithmSHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
	} {
		got, err := h.Hash(ctx, uint32(c.alg), []byte("abc"))
		if unsupported(t, err, "%s", c.alg) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.alg, err)
			continue
		}
		checkHex(t, c.alg.String(), got, c.want)
	}
	if _, err := h.Hash(ctx, 0x7fff, []byte("abc")); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("unknown hashing algorithm: %v, want ErrUnsupported", err)
	}
}

func exerciseSeeder(t *testing.T, s ports.RandomSeeder) {
	n, err := s.SeedRandom(context.Background(), make([]byte, 32))
	if err != nil || n < 0 || n > 32 {
		t.Errorf("SeedRandom(32 bytes) = %d, %v", n, err)
	}
}
