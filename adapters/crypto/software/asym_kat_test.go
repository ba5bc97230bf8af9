package software

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func asymKey(ot kmip.ObjectType, alg kmip.CryptographicAlgorithm, f kmip.KeyFormatType, m []byte) ports.KeyHandle {
	return ports.KeyHandle{ID: "k", ObjectType: uint32(ot), Algorithm: uint32(alg), Format: uint32(f), Material: m}
}

func pyRSA() (priv, pub ports.KeyHandle) {
	return asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_1, unhex(pyRSAPrivPKCS1)),
		asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypeX_509, unhex(pyRSAPubSPKI))
}

// Signatures and ciphertexts made by OpenSSL through pyca/cryptography with
// the same key: PKCS#1 v1.5 signatures are deterministic, so the engine's
// must match byte for byte.
func TestRSAAgainstOpenSSL(t *testing.T) {
	e := New()
	priv, pub := pyRSA()
	pkcs := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	sig, err := e.Sign(ctx, priv, pkcs, []byte("abc"), false)
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "PKCS#1 v1.5 SHA-256 signature", sig, pyRSASigPKCS1SHA256)
	// The same by Digital Signature Algorithm, and over a given digest.
	dsa := ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption)}
	sig, _ = e.Sign(ctx, priv, dsa, []byte("abc"), false)
	mustEqualHex(t, "by Digital Signature Algorithm", sig, pyRSASigPKCS1SHA256)
	d, _ := e.Hash(ctx, uint32(kmip.HashingAlgorithmSHA_256), []byte("abc"))
	sig, _ = e.Sign(ctx, priv, pkcs, d, true)
	mustEqualHex(t, "over the digest", sig, pyRSASigPKCS1SHA256)

	pss := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPSS), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}
	for name, c := range map[string]struct {
		p   ports.CryptoParams
		sig string
	}{"PKCS#1 v1.5": {pkcs, pyRSASigPKCS1SHA256}, "PSS": {pss, pyRSASigPSSSHA256}} {
		for _, k := range []ports.KeyHandle{pub, priv} {
			ok, err := e.Verify(ctx, k, c.p, []byte("abc"), false, unhex(c.sig))
			if err != nil || !ok {
				t.Errorf("%s verify with %s key: %v %v", name, kmip.KeyFormatType(k.Format), ok, err)
			}
			ok, err = e.Verify(ctx, k, c.p, []byte("abd"), false, unhex(c.sig))
			if err != nil || ok {
				t.Errorf("%s verify of other data: %v %v", name, ok, err)
			}
		}
	}
	// PSS with SHA-1 does not verify a SHA-256 signature (CS-AC-M-3).
	pss1 := pss
	pss1.HashingAlgorithm = uint32(kmip.HashingAlgorithmSHA_1)
	if ok, err := e.Verify(ctx, pub, pss1, []byte("abc"), false, unhex(pyRSASigPSSSHA256)); ok || err != nil {
		t.Errorf("PSS SHA-1 verify: %v %v", ok, err)
	}

	oaep := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_384),
		MaskGenerator: uint32(kmip.MaskGeneratorMGF1), MaskGeneratorHashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256), PSource: []byte("lbl")}
	out, err := e.Decrypt(ctx, priv, oaep, ports.CipherInput{Data: unhex(pyRSAOAEPSHA384MGF256)})
	if err != nil || string(out.Data) != "kmipd" {
		t.Errorf("OAEP SHA-384/MGF1-SHA-256 decrypt: %q %v", out.Data, err)
	}
	wrongLabel := oaep
	wrongLabel.PSource = []byte("other")
	if _, err := e.Decrypt(ctx, priv, wrongLabel, ports.CipherInput{Data: unhex(pyRSAOAEPSHA384MGF256)}); !errors.Is(err, ports.ErrCryptoFailure) {
		t.Errorf("OAEP with the wrong label: %v", err)
	}
	v15 := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5)}
	out, err = e.Decrypt(ctx, priv, v15, ports.CipherInput{Data: unhex(pyRSAPKCS1Ciphertext)})
	if err != nil || string(out.Data) != "kmipd" {
		t.Errorf("PKCS#1 v1.5 decrypt: %q %v", out.Data, err)
	}
	// Round trips through the public key, every OAEP hash.
	for _, h := range []kmip.HashingAlgorithm{kmip.HashingAlgorithmSHA_1, kmip.HashingAlgorithmSHA_224, kmip.HashingAlgorithmSHA_256, kmip.HashingAlgorithmSHA_384, kmip.HashingAlgorithmSHA_512} {
		p := ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodOAEP), HashingAlgorithm: uint32(h)}
		ct, err := e.Encrypt(ctx, pub, p, ports.CipherInput{Data: []byte("secret")})
		if err != nil {
			t.Fatalf("OAEP %s: %v", h, err)
		}
		pt, err := e.Decrypt(ctx, priv, p, ports.CipherInput{Data: ct.Data})
		if err != nil || string(pt.Data) != "secret" {
			t.Errorf("OAEP %s round trip: %q %v", h, pt.Data, err)
		}
	}
	// Errors: no padding, decrypting with a public key, MD5 PSS with another MGF hash.
	if _, err := e.Encrypt(ctx, pub, ports.CryptoParams{}, ports.CipherInput{Data: []byte("x")}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("RSA without padding: %v", err)
	}
	if _, err := e.Decrypt(ctx, pub, v15, ports.CipherInput{Data: unhex(pyRSAPKCS1Ciphertext)}); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("decrypt with a public key: %v", err)
	}
	if _, err := e.Sign(ctx, pub, pkcs, []byte("abc"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("sign with a public key: %v", err)
	}
	if _, err := e.Sign(ctx, priv, ports.CryptoParams{HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_256)}, []byte("abc"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("RSA signature without padding: %v", err)
	}
	if _, err := e.Sign(ctx, priv, pkcs, []byte("short"), true); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("digest of the wrong size: %v", err)
	}
	garbage := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_1, []byte("not DER"))
	if _, err := e.Sign(ctx, garbage, pkcs, []byte("abc"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("undecodable key: %v", err)
	}
}

// Every RSA signature hash, both paddings, on a generated key; the private
// key also arrives as PKCS#8.
func TestRSASignatureHashes(t *testing.T) {
	e := New()
	pair, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if pair.Private.Format != uint32(kmip.KeyFormatTypePKCS_1) || pair.Public.Format != uint32(kmip.KeyFormatTypePKCS_1) {
		t.Errorf("RSA formats %d/%d, want PKCS#1", pair.Private.Format, pair.Public.Format)
	}
	k, err := x509.ParsePKCS1PrivateKey(pair.Private.Material)
	if err != nil || k.N.BitLen() != 2048 {
		t.Fatalf("private key: %v", err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	privs := []ports.KeyHandle{
		asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_1, pair.Private.Material),
		asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_8, p8),
	}
	pub := asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_1, pair.Public.Material)
	for _, h := range []kmip.HashingAlgorithm{kmip.HashingAlgorithmMD5, kmip.HashingAlgorithmSHA_1, kmip.HashingAlgorithmSHA_224, kmip.HashingAlgorithmSHA_256, kmip.HashingAlgorithmSHA_384, kmip.HashingAlgorithmSHA_512} {
		for _, pad := range []kmip.PaddingMethod{kmip.PaddingMethodPKCS1V1_5, kmip.PaddingMethodPSS} {
			p := ports.CryptoParams{PaddingMethod: uint32(pad), HashingAlgorithm: uint32(h)}
			for _, priv := range privs {
				sig, err := e.Sign(ctx, priv, p, []byte("message"), false)
				if err != nil {
					t.Fatalf("%s %s: %v", pad, h, err)
				}
				if ok, err := e.Verify(ctx, pub, p, []byte("message"), false, sig); !ok || err != nil {
					t.Errorf("%s %s: own signature does not verify (%v)", pad, h, err)
				}
				sig[10] ^= 1
				if ok, _ := e.Verify(ctx, pub, p, []byte("message"), false, sig); ok {
					t.Errorf("%s %s: tampered signature verifies", pad, h)
				}
			}
		}
	}
	// Go's check that the signature is what crypto/rsa computes.
	sig, _ := e.Sign(ctx, privs[0], ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_512WithRSAEncryption)}, []byte("m"), false)
	d := sha512.Sum512([]byte("m"))
	if rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA512, d[:], sig) != nil {
		t.Error("SHA-512 with RSA signature is not PKCS#1 v1.5 SHA-512")
	}
}

func TestECDSA(t *testing.T) {
	e := New()
	priv := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeECPrivateKey, unhex(pyECPrivSEC1))
	pub := asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmEC, kmip.KeyFormatTypeX_509, unhex(pyECPubSPKI))
	p := ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmECDSAWithSHA256)}
	ok, err := e.Verify(ctx, pub, p, []byte("abc"), false, unhex(pyECDSASigSHA256))
	if err != nil || !ok {
		t.Errorf("OpenSSL ECDSA P-256 signature: %v %v", ok, err)
	}
	for _, c := range []struct {
		curve kmip.RecommendedCurve
		bits  int
		h     kmip.HashingAlgorithm
	}{
		{kmip.RecommendedCurveP_224, 224, kmip.HashingAlgorithmSHA_224},
		{kmip.RecommendedCurveP_256, 256, kmip.HashingAlgorithmSHA_256},
		{0, 384, kmip.HashingAlgorithmSHA_384},
		{kmip.RecommendedCurveP_521, 0, kmip.HashingAlgorithmSHA_512},
	} {
		pair, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmECDSA), Curve: uint32(c.curve), Length: c.bits})
		if err != nil {
			t.Fatalf("%s/%d: %v", c.curve, c.bits, err)
		}
		if pair.Private.Format != uint32(kmip.KeyFormatTypePKCS_8) || pair.Public.Format != uint32(kmip.KeyFormatTypeX_509) {
			t.Errorf("EC formats %d/%d", pair.Private.Format, pair.Public.Format)
		}
		pk, err := x509.ParsePKIXPublicKey(pair.Public.Material)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int{224: 224, 256: 256, 384: 384, 0: 521}[c.bits]; pk.(*ecdsa.PublicKey).Curve.Params().BitSize != want {
			t.Errorf("curve of %d bits, want %d", pk.(*ecdsa.PublicKey).Curve.Params().BitSize, want)
		}
		kp := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmECDSA, kmip.KeyFormatType(pair.Private.Format), pair.Private.Material)
		kv := asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmECDSA, kmip.KeyFormatType(pair.Public.Format), pair.Public.Material)
		p := ports.CryptoParams{HashingAlgorithm: uint32(c.h)}
		sig, err := e.Sign(ctx, kp, p, []byte("data"), false)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.Verify(ctx, kv, p, []byte("data"), false, sig); !ok || err != nil {
			t.Errorf("%s: own signature: %v %v", c.h, ok, err)
		}
		if ok, _ := e.Verify(ctx, kv, p, []byte("date"), false, sig); ok {
			t.Errorf("%s: signature verifies other data", c.h)
		}
	}
	for _, bad := range []ports.KeyPairSpec{
		{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Length: 255},
		{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Curve: uint32(kmip.RecommendedCurveP_256), Length: 384},
	} {
		if _, err := e.GenerateKeyPair(ctx, bad); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("%+v: %v, want ErrInvalidLength", bad, err)
		}
	}
	// secp256k1 is supported (secp256k1_test.go); the Brainpool curves are not.
	if _, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmEC), Curve: uint32(kmip.RecommendedCurveBRAINPOOLP160R1)}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("brainpoolP160r1: %v, want ErrUnsupported", err)
	}
	// An ECDSA key cannot sign as RSA.
	if _, err := e.Sign(ctx, priv, ports.CryptoParams{DigitalSignatureAlgorithm: uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption)}, []byte("x"), false); !errors.Is(err, ports.ErrInvalidInput) {
		t.Errorf("EC key as RSA: %v", err)
	}
}

// RFC 8032 §7.1 TEST 1 and TEST 3, and §7.3 (Ed25519ph, "abc").
func TestEd25519(t *testing.T) {
	e := New()
	for _, c := range []struct{ seed, pub, msg, sig string }{
		{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
		{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	} {
		seed := unhex(c.seed)
		priv := ed25519.NewKeyFromSeed(seed)
		p8, _ := x509.MarshalPKCS8PrivateKey(priv)
		spki, _ := x509.MarshalPKIXPublicKey(priv.Public())
		for _, k := range []ports.KeyHandle{
			asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatTypePKCS_8, p8),
			asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatTypeRaw, seed),
		} {
			sig, err := e.Sign(ctx, k, ports.CryptoParams{}, unhex(c.msg), false)
			if err != nil {
				t.Fatal(err)
			}
			mustEqualHex(t, "Ed25519 signature", sig, c.sig)
		}
		for _, k := range []ports.KeyHandle{
			asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatTypeX_509, spki),
			asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatTypeRaw, unhex(c.pub)),
		} {
			if ok, err := e.Verify(ctx, k, ports.CryptoParams{}, unhex(c.msg), false, unhex(c.sig)); !ok || err != nil {
				t.Errorf("verify: %v %v", ok, err)
			}
		}
	}
	// Ed25519ph over SHA-512("abc").
	seed := unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
	k := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatTypeRaw, seed)
	d := sha512.Sum512([]byte("abc"))
	sig, err := e.Sign(ctx, k, ports.CryptoParams{}, d[:], true)
	if err != nil {
		t.Fatal(err)
	}
	mustEqualHex(t, "Ed25519ph", sig, "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")

	pair, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmEd25519)})
	if err != nil {
		t.Fatal(err)
	}
	kp := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatType(pair.Private.Format), pair.Private.Material)
	kv := asymKey(kmip.ObjectTypePublicKey, kmip.CryptographicAlgorithmEd25519, kmip.KeyFormatType(pair.Public.Format), pair.Public.Material)
	sig, _ = e.Sign(ctx, kp, ports.CryptoParams{}, []byte("hi"), false)
	if ok, err := e.Verify(ctx, kv, ports.CryptoParams{}, []byte("hi"), false, sig); !ok || err != nil {
		t.Errorf("generated Ed25519 pair: %v %v", ok, err)
	}
}

func TestRSAKeyLengths(t *testing.T) {
	e := New()
	for _, bits := range []int{0, 511, 1020 + 1, 4104, 8192} {
		if _, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: bits}); !errors.Is(err, ports.ErrInvalidLength) {
			t.Errorf("RSA-%d: %v, want ErrInvalidLength", bits, err)
		}
	}
	// Go refuses RSA under 1024 bits by default ...
	if _, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 512}); !errors.Is(err, ports.ErrUnsupported) {
		t.Errorf("RSA-512 by default: %v, want ErrUnsupported", err)
	}
	// ... and allows it with GODEBUG=rsa1024min=0.
	t.Setenv("GODEBUG", "rsa1024min=0")
	pair, err := e.GenerateKeyPair(ctx, ports.KeyPairSpec{Algorithm: uint32(kmip.CryptographicAlgorithmRSA), Length: 512})
	if err != nil {
		t.Fatalf("RSA-512 with rsa1024min=0: %v", err)
	}
	priv := asymKey(kmip.ObjectTypePrivateKey, kmip.CryptographicAlgorithmRSA, kmip.KeyFormatTypePKCS_1, pair.Private.Material)
	if _, err := e.Sign(ctx, priv, ports.CryptoParams{PaddingMethod: uint32(kmip.PaddingMethodPKCS1V1_5), HashingAlgorithm: uint32(kmip.HashingAlgorithmSHA_1)}, []byte("x"), false); err != nil {
		t.Errorf("signing with RSA-512: %v", err)
	}
}
