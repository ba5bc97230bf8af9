package software

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// FIPS 180-4 and FIPS 202 examples ("abc"), RFC 1321 (MD5), and the two
// digests of the OASIS conformance case CS-AC-M-7-14.
func TestHash(t *testing.T) {
	e := New()
	for _, c := range []struct {
		alg  kmip.HashingAlgorithm
		msg  []byte
		want string
	}{
		{kmip.HashingAlgorithmMD5, []byte("abc"), "900150983cd24fb0d6963f7d28e17f72"},
		{kmip.HashingAlgorithmSHA_1, []byte("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{kmip.HashingAlgorithmSHA_224, []byte("abc"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
		{kmip.HashingAlgorithmSHA_256, []byte("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{kmip.HashingAlgorithmSHA_384, []byte("abc"), "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{kmip.HashingAlgorithmSHA_512, []byte("abc"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{kmip.HashingAlgorithmSHA_512_224, []byte("abc"), "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa"},
		{kmip.HashingAlgorithmSHA_512_256, []byte("abc"), "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
		{kmip.HashingAlgorithmSHA3_224, []byte("abc"), "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
		{kmip.HashingAlgorithmSHA3_256, []byte("abc"), "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
		{kmip.HashingAlgorithmSHA3_384, []byte("abc"), "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
		{kmip.HashingAlgorithmSHA3_512, []byte("abc"), "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
		{kmip.HashingAlgorithmSHA_256, unhex("01020304050607080910111213141516"), "ad41233d22cf9322e3a7ff49a13da434797abed3bab80950a1a0d4e582b7ea72"},
		{kmip.HashingAlgorithmSHA_512, unhex("01020304050607080910111213141516"), "406a806f76c06b90c8aca278995d4271037f91124ebfaba5475f1f59ee21ebe3a0cc7f5ca6f2183d360bcc762cef68713de7c6498eb08dc591075ca62f7a0717"},
	} {
		got, err := e.Hash(ctx, uint32(c.alg), c.msg)
		if err != nil {
			t.Errorf("%s: %v", c.alg, err)
			continue
		}
		mustEqualHex(t, c.alg.String(), got, c.want)
	}
	if _, err := e.Hash(ctx, uint32(kmip.HashingAlgorithmTiger), []byte("abc")); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("Tiger: %v, want ErrUnsupported", err)
	}
}

func TestSeedRandom(t *testing.T) {
	n, err := New().SeedRandom(ctx, make([]byte, 48))
	if err != nil || n != 48 {
		t.Errorf("SeedRandom: %d %v", n, err)
	}
}
