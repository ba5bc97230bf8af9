//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// A Ref is "<class>/<hex CKA_ID>" with class secret, private or public:
// the object class and CKA_ID find the token object from any process using
// the same token. The two halves of a key pair share their CKA_ID.
const (
	refSecret  = "secret"
	refPrivate = "private"
	refPublic  = "public"
)

// Ed25519 (PKCS#11 3.0) names miekg/pkcs11 lacks.
const (
	ckkECEdwards           = 0x40
	ckmECEdwardsKeyPairGen = 0x1055
	ckmEdDSA               = 0x1057
)

// ed25519Params is CKA_EC_PARAMS for Ed25519: the DER of id-Ed25519 (RFC 8410).
var ed25519Params = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}

var refClasses = map[string]uint{refSecret: pkcs11.CKO_SECRET_KEY, refPrivate: pkcs11.CKO_PRIVATE_KEY, refPublic: pkcs11.CKO_PUBLIC_KEY}

func makeRef(class string, id []byte) string { return class + "/" + hex.EncodeToString(id) }

// parseRef splits a Ref; a malformed one is ErrNotFound (no such key here).
func parseRef(ref string) (class string, id []byte, err error) {
	class, h, ok := strings.Cut(ref, "/")
	if _, known := refClasses[class]; ok && known {
		if id, err = hex.DecodeString(h); err == nil && len(id) > 0 {
			return class, id, nil
		}
	}
	return "", nil, fmt.Errorf("%w: pkcs11: %q is not a key reference of this engine", ports.ErrNotFound, ref)
}

func newID() ([]byte, error) {
	id := make([]byte, 16)
	_, err := rand.Read(id)
	return id, err
}

// keyObj is a key object found in (or placed in) the token, with what the
// operations need to know about it.
type keyObj struct {
	h       pkcs11.ObjectHandle
	class   uint
	keyType uint
	curve   elliptic.Curve // EC keys
	ref     string         // empty for a session object made for one call
}

// lookup finds the object under key.Ref, from the handle cache or the
// token. A reference with no token object (deleted from the token, or not
// one of this engine's) is a *ports.KeyMaterialError naming key.ID.
// Finding nothing while logged out is reported as CKR_USER_NOT_LOGGED_IN
// (private objects are invisible then), so do() logs in again and retries.
func (e *Engine) lookup(s pkcs11.SessionHandle, key ports.KeyHandle) (keyObj, error) {
	ref := key.Ref
	e.mu.Lock()
	o, ok := e.handles[ref]
	e.mu.Unlock()
	if ok {
		return o, nil
	}
	class, id, err := parseRef(ref)
	if err != nil {
		return keyObj{}, &ports.KeyMaterialError{ID: key.ID, Ref: ref}
	}
	h, found, err := e.find(s, refClasses[class], id)
	if err != nil {
		return keyObj{}, err
	}
	if !found {
		return keyObj{}, &ports.KeyMaterialError{ID: key.ID, Ref: ref}
	}
	o = keyObj{h: h, class: refClasses[class], ref: ref}
	if err := e.describe(s, &o); err != nil {
		return keyObj{}, err
	}
	e.remember(o)
	return o, nil
}

func (e *Engine) find(s pkcs11.SessionHandle, class uint, id []byte) (pkcs11.ObjectHandle, bool, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
	}
	if err := e.p.FindObjectsInit(s, tmpl); err != nil {
		return 0, false, err
	}
	hs, _, err := e.p.FindObjects(s, 1)
	if ferr := e.p.FindObjectsFinal(s); err == nil {
		err = ferr
	}
	if err != nil {
		return 0, false, err
	}
	if len(hs) == 0 {
		if info, err := e.p.GetSessionInfo(s); err != nil {
			return 0, false, err
		} else if info.State != pkcs11.CKS_RW_USER_FUNCTIONS && info.State != pkcs11.CKS_RO_USER_FUNCTIONS {
			return 0, false, pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN)
		}
		return 0, false, nil
	}
	return hs[0], true, nil
}

// describe reads the key type (and the curve of an EC key).
func (e *Engine) describe(s pkcs11.SessionHandle, o *keyObj) error {
	attrs, err := e.p.GetAttributeValue(s, o.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		return err
	}
	o.keyType = ulong(attrs[0].Value)
	if o.keyType == pkcs11.CKK_EC {
		attrs, err := e.p.GetAttributeValue(s, o.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil)})
		if err != nil {
			return err
		}
		if o.curve, err = curveFromParams(attrs[0].Value); err != nil {
			return err
		}
	}
	return nil
}

// forget drops ref from the handle cache.
func (e *Engine) forget(ref string) {
	e.mu.Lock()
	delete(e.handles, ref)
	e.mu.Unlock()
}

// ulong decodes a CK_ULONG attribute value (native byte order, little-endian on the platforms kmipd runs).
func ulong(b []byte) uint {
	var v uint
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint(b[i])
	}
	return v
}

// usage is the set of CKA_ usage flags of a key.
type usage struct{ encrypt, decrypt, sign, verify, wrap, unwrap, derive bool }

// usageFor maps a KMIP Cryptographic Usage Mask onto the flags the key
// type allows; a zero mask allows everything the type can do.
func usageFor(mask int32, allowed usage) usage {
	if mask == 0 {
		return allowed
	}
	m := kmip.CryptographicUsageMask(mask)
	has := func(bits kmip.CryptographicUsageMask) bool { return m&bits != 0 }
	return usage{
		encrypt: allowed.encrypt && has(kmip.CryptographicUsageMaskEncrypt),
		decrypt: allowed.decrypt && has(kmip.CryptographicUsageMaskDecrypt),
		sign:    allowed.sign && has(kmip.CryptographicUsageMaskSign|kmip.CryptographicUsageMaskMACGenerate),
		verify:  allowed.verify && has(kmip.CryptographicUsageMaskVerify|kmip.CryptographicUsageMaskMACVerify),
		wrap:    allowed.wrap && has(kmip.CryptographicUsageMaskWrapKey),
		unwrap:  allowed.unwrap && has(kmip.CryptographicUsageMaskUnwrapKey),
		derive:  allowed.derive && has(kmip.CryptographicUsageMaskDeriveKey|kmip.CryptographicUsageMaskKeyAgreement),
	}
}

// attrs are the usage attributes an object of class has (PKCS#11 gives
// public keys only the public-key operations and private keys the others).
func (u usage) attrs(class uint) []*pkcs11.Attribute {
	a := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_DERIVE, u.derive)}
	if class != pkcs11.CKO_PRIVATE_KEY {
		a = append(a, pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, u.encrypt), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, u.verify),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, u.wrap))
	}
	if class != pkcs11.CKO_PUBLIC_KEY {
		a = append(a, pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, u.decrypt), pkcs11.NewAttribute(pkcs11.CKA_SIGN, u.sign),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, u.unwrap))
	}
	return a
}

var (
	allSymmetric = usage{true, true, true, true, true, true, true}
	macOnly      = usage{sign: true, verify: true, derive: true}
	rsaPrivate   = usage{decrypt: true, sign: true, unwrap: true}
	rsaPublic    = usage{encrypt: true, verify: true, wrap: true}
	ecPrivate    = usage{sign: true, derive: true}
	ecPublic     = usage{verify: true}
	edPrivate    = usage{sign: true}
	edPublic     = usage{verify: true}
)

// allUsage is what each asymmetric key type allows, private (true) and public.
var allUsage = map[bool]map[uint]usage{
	true:  {pkcs11.CKK_RSA: rsaPrivate, pkcs11.CKK_EC: ecPrivate, ckkECEdwards: edPrivate},
	false: {pkcs11.CKK_RSA: rsaPublic, pkcs11.CKK_EC: ecPublic, ckkECEdwards: edPublic},
}

// objAttrs are the attributes every key object gets: class, key type,
// token or session object, label and ID, privacy, sensitivity and
// extractability (secret and private keys), usage.
func (e *Engine) objAttrs(class, keyType uint, token bool, label string, id []byte, u usage) []*pkcs11.Attribute {
	a := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, token),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if id != nil {
		a = append(a, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	}
	if class == pkcs11.CKO_PUBLIC_KEY {
		a = append(a, pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false))
	} else {
		ext := e.cfg.Extractable || !token // session objects live for one call
		a = append(a, pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, !ext),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, ext))
	}
	return append(a, u.attrs(class)...)
}

// secretSpec is how one KMIP symmetric algorithm lives in the token.
type secretSpec struct {
	keyType, genMech uint
	bytes            int
	allowed          usage
}

// secretFor maps a KMIP algorithm and length (bits) to the token's key
// type. 3DES accepts 192 or 168 bits (three keys) and 128 or 112 (two
// keys, CKK_DES2), as the software engine; HMAC keys are generic secrets,
// usable with every HMAC mechanism.
func secretFor(alg kmip.CryptographicAlgorithm, bits int) (secretSpec, error) {
	bad := func(allowed string) (secretSpec, error) {
		return secretSpec{}, fmt.Errorf("%w: %d bits for %s (allowed: %s)", ports.ErrInvalidLength, bits, alg, allowed)
	}
	switch alg {
	case kmip.CryptographicAlgorithmAES:
		if bits == 128 || bits == 192 || bits == 256 {
			return secretSpec{pkcs11.CKK_AES, pkcs11.CKM_AES_KEY_GEN, bits / 8, allSymmetric}, nil
		}
		return bad("128, 192, 256")
	case kmip.CryptographicAlgorithmDES3:
		switch bits {
		case 168, 192:
			return secretSpec{pkcs11.CKK_DES3, pkcs11.CKM_DES3_KEY_GEN, 24, allSymmetric}, nil
		case 112, 128:
			return secretSpec{pkcs11.CKK_DES2, pkcs11.CKM_DES2_KEY_GEN, 16, allSymmetric}, nil
		case 64:
			return secretSpec{}, fmt.Errorf("%w: pkcs11: single-length (64-bit) 3DES keys", ports.ErrUnsupported)
		}
		return bad("112, 128, 168, 192")
	case kmip.CryptographicAlgorithmHMAC_SHA1, kmip.CryptographicAlgorithmHMAC_SHA224, kmip.CryptographicAlgorithmHMAC_SHA256,
		kmip.CryptographicAlgorithmHMAC_SHA384, kmip.CryptographicAlgorithmHMAC_SHA512, kmip.CryptographicAlgorithmHMAC_MD5:
		if bits >= 8 && bits%8 == 0 && bits <= 8*maxMaterial {
			return secretSpec{pkcs11.CKK_GENERIC_SECRET, pkcs11.CKM_GENERIC_SECRET_KEY_GEN, bits / 8, macOnly}, nil
		}
		return bad("a positive multiple of 8")
	}
	return secretSpec{}, fmt.Errorf("%w: pkcs11: symmetric algorithm %s", ports.ErrUnsupported, alg)
}

// maxMaterial bounds key material handed to the token (64 KiB).
const maxMaterial = 64 << 10

// GenerateSymmetricKey generates an AES, 3DES or HMAC (generic secret) key
// as a token object labelled spec.ID. It returns the Ref, no material.
func (e *Engine) GenerateSymmetricKey(ctx context.Context, spec ports.SymmetricKeySpec) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	ss, err := secretFor(kmip.CryptographicAlgorithm(spec.Algorithm), spec.Length)
	if err != nil {
		return ports.Key{}, err
	}
	if err := e.need(ss.genMech, kmip.CryptographicAlgorithm(spec.Algorithm).String()+" key generation"); err != nil {
		return ports.Key{}, err
	}
	id, err := newID()
	if err != nil {
		return ports.Key{}, err
	}
	tmpl := e.objAttrs(pkcs11.CKO_SECRET_KEY, ss.keyType, true, spec.ID, id, usageFor(spec.UsageMask, ss.allowed))
	if ss.keyType != pkcs11.CKK_DES3 && ss.keyType != pkcs11.CKK_DES2 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, ss.bytes))
	}
	ref := makeRef(refSecret, id)
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		h, err := e.p.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(ss.genMech, nil)}, tmpl)
		if err == nil {
			e.remember(keyObj{h: h, class: pkcs11.CKO_SECRET_KEY, keyType: ss.keyType, ref: ref})
		}
		return err
	})
	if err != nil {
		return ports.Key{}, translate(opErr{op: "generating a " + kmip.CryptographicAlgorithm(spec.Algorithm).String() + " key"}, err)
	}
	return ports.Key{Ref: ref, NonExtractable: !e.cfg.Extractable}, nil
}

// maxCached bounds the handle cache; past it the cache starts afresh.
const maxCached = 4096

func (e *Engine) remember(o keyObj) {
	e.mu.Lock()
	if e.handles != nil {
		if len(e.handles) >= maxCached {
			e.handles = map[string]keyObj{}
		}
		e.handles[o.ref] = o
	}
	e.mu.Unlock()
}

// Curves the engine maps (kmipparams.Curve chooses one) to their OIDs.
var curveOIDs = map[elliptic.Curve]asn1.ObjectIdentifier{
	elliptic.P224(): {1, 3, 132, 0, 33},
	elliptic.P256(): {1, 2, 840, 10045, 3, 1, 7},
	elliptic.P384(): {1, 3, 132, 0, 34},
	elliptic.P521(): {1, 3, 132, 0, 35},
}

func curveParams(c elliptic.Curve) []byte {
	b, _ := asn1.Marshal(curveOIDs[c])
	return b
}

func curveFromParams(p []byte) (elliptic.Curve, error) {
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(p, &oid); err == nil {
		for c, o := range curveOIDs {
			if o.Equal(oid) {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: pkcs11: EC key on a curve this engine does not know", ports.ErrUnsupported)
}

// RSA modulus lengths GenerateKeyPair accepts (multiples of 8).
const (
	minRSABits = 1024
	maxRSABits = 4096
)

// GenerateKeyPair generates an RSA or EC (P-224, P-256, P-384, P-521) key
// pair as token objects sharing one CKA_ID, labelled PrivateID and
// PublicID. The private half comes back as a Ref only; the public half
// with its Ref and material: PKCS#1 RSAPublicKey for RSA (as the software
// engine and PyKMIP), X.509 SubjectPublicKeyInfo for EC.
func (e *Engine) GenerateKeyPair(ctx context.Context, spec ports.KeyPairSpec) (ports.KeyPair, error) {
	if err := ctx.Err(); err != nil {
		return ports.KeyPair{}, err
	}
	id, err := newID()
	if err != nil {
		return ports.KeyPair{}, err
	}
	alg := kmip.CryptographicAlgorithm(spec.Algorithm)
	var (
		mech            uint
		pubT, privT     []*pkcs11.Attribute
		curve           elliptic.Curve
		keyType         uint
		pubAll, privAll usage
	)
	switch alg {
	case kmip.CryptographicAlgorithmRSA:
		if spec.Length%8 != 0 || spec.Length < 512 || spec.Length > maxRSABits {
			return ports.KeyPair{}, fmt.Errorf("%w: %d-bit RSA (allowed: %d to %d in steps of 8)", ports.ErrInvalidLength, spec.Length, minRSABits, maxRSABits)
		}
		if spec.Length < minRSABits {
			return ports.KeyPair{}, fmt.Errorf("%w: pkcs11: RSA keys under %d bits", ports.ErrUnsupported, minRSABits)
		}
		mech, keyType, pubAll, privAll = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, pkcs11.CKK_RSA, rsaPublic, rsaPrivate
		pubT = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, spec.Length), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})}
	case kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmECDH:
		if curve, err = kmipparams.Curve(kmip.RecommendedCurve(spec.Curve), spec.Length); err != nil {
			return ports.KeyPair{}, err
		}
		mech, keyType, pubAll, privAll = pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.CKK_EC, ecPublic, ecPrivate
		pubT = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, curveParams(curve))}
	case kmip.CryptographicAlgorithmEd25519:
		if spec.Length != 0 && spec.Length != 256 && spec.Length != 255 {
			return ports.KeyPair{}, fmt.Errorf("%w: %d-bit Ed25519 (allowed: 256)", ports.ErrInvalidLength, spec.Length)
		}
		if spec.Curve != 0 && kmip.RecommendedCurve(spec.Curve) != kmip.RecommendedCurveCURVE25519 {
			return ports.KeyPair{}, fmt.Errorf("%w: Ed25519 on curve %s", ports.ErrInvalidInput, kmip.RecommendedCurve(spec.Curve))
		}
		mech, keyType, pubAll, privAll = ckmECEdwardsKeyPairGen, ckkECEdwards, edPublic, edPrivate
		pubT = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, ed25519Params)}
	default:
		return ports.KeyPair{}, fmt.Errorf("%w: pkcs11: key pair algorithm %s", ports.ErrUnsupported, alg)
	}
	if err := e.need(mech, alg.String()+" key pair generation"); err != nil {
		return ports.KeyPair{}, err
	}
	pubT = append(pubT, e.objAttrs(pkcs11.CKO_PUBLIC_KEY, keyType, true, spec.PublicID, id, usageFor(spec.PublicMask, pubAll))...)
	privT = e.objAttrs(pkcs11.CKO_PRIVATE_KEY, keyType, true, spec.PrivateID, id, usageFor(spec.PrivateMask, privAll))
	var material []byte
	var format kmip.KeyFormatType
	pubRef, privRef := makeRef(refPublic, id), makeRef(refPrivate, id)
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		pub, priv, err := e.p.GenerateKeyPair(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
		if err != nil {
			return err
		}
		po := keyObj{h: pub, class: pkcs11.CKO_PUBLIC_KEY, keyType: keyType, curve: curve, ref: pubRef}
		e.remember(po)
		e.remember(keyObj{h: priv, class: pkcs11.CKO_PRIVATE_KEY, keyType: keyType, curve: curve, ref: privRef})
		pk, err := e.readPublic(s, po)
		if err == nil {
			if k, ok := pk.(*rsa.PublicKey); ok {
				material, format = x509.MarshalPKCS1PublicKey(k), kmip.KeyFormatTypePKCS_1
				return nil
			}
			material, err = x509.MarshalPKIXPublicKey(pk)
			format = kmip.KeyFormatTypeX_509
		}
		if err != nil {
			// Leave no half-reported pair behind in the token.
			e.forget(pubRef)
			e.forget(privRef)
			_ = e.p.DestroyObject(s, pub)
			_ = e.p.DestroyObject(s, priv)
		}
		return err
	})
	if err != nil {
		return ports.KeyPair{}, translate(opErr{op: "generating an " + alg.String() + " key pair"}, err)
	}
	return ports.KeyPair{
		Private: ports.Key{Ref: privRef, NonExtractable: !e.cfg.Extractable},
		Public:  ports.Key{Ref: pubRef, Material: material, Format: uint32(format)},
	}, nil
}

// readPublic reads a public key object's key (or the public half of an RSA private key object).
func (e *Engine) readPublic(s pkcs11.SessionHandle, o keyObj) (crypto.PublicKey, error) {
	switch o.keyType {
	case pkcs11.CKK_RSA:
		a, err := e.p.GetAttributeValue(s, o.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return nil, err
		}
		n, ex := new(big.Int).SetBytes(a[0].Value), new(big.Int).SetBytes(a[1].Value)
		if n.Sign() == 0 || !ex.IsInt64() || ex.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("%w: pkcs11: the token returned an unusable RSA public key", ports.ErrInvalidInput)
		}
		return &rsa.PublicKey{N: n, E: int(ex.Int64())}, nil
	case pkcs11.CKK_EC, ckkECEdwards:
		if o.class != pkcs11.CKO_PUBLIC_KEY {
			break
		}
		a, err := e.p.GetAttributeValue(s, o.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, err
		}
		pt := a[0].Value
		var inner []byte
		if rest, err := asn1.Unmarshal(pt, &inner); err == nil && len(rest) == 0 {
			pt = inner
		}
		if o.keyType == ckkECEdwards {
			if len(pt) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("%w: pkcs11: the token returned an unusable Ed25519 key", ports.ErrInvalidInput)
			}
			return ed25519.PublicKey(pt), nil
		}
		k, err := ecdsa.ParseUncompressedPublicKey(o.curve, pt)
		if err != nil {
			return nil, fmt.Errorf("%w: pkcs11: the token returned an unusable EC point", ports.ErrInvalidInput)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: pkcs11: reading the public key of a key of type 0x%x", ports.ErrUnsupported, o.keyType)
}

// parseAsym decodes asymmetric key material in any DER form a client may
// register (PKCS#1, PKCS#8, SEC 1, X.509 SubjectPublicKeyInfo or
// certificate). priv is nil for a public key.
func parseAsym(id string, m []byte) (priv crypto.Signer, pub crypto.PublicKey, err error) {
	if len(m) == 0 {
		return nil, nil, fmt.Errorf("%w: key %q has no material", ports.ErrInvalidInput, id)
	}
	if len(m) > maxMaterial {
		return nil, nil, fmt.Errorf("%w: key %q: %d bytes of key material", ports.ErrInvalidLength, id, len(m))
	}
	if k, err := x509.ParsePKCS1PrivateKey(m); err == nil {
		return k, k.Public(), nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(m); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return checkAsym(id, s, s.Public())
		}
	}
	if k, err := x509.ParseECPrivateKey(m); err == nil {
		return k, k.Public(), nil
	}
	if k, err := x509.ParsePKCS1PublicKey(m); err == nil {
		return nil, k, nil
	}
	if k, err := x509.ParsePKIXPublicKey(m); err == nil {
		return checkAsym(id, nil, k)
	}
	if c, err := x509.ParseCertificate(m); err == nil {
		return checkAsym(id, nil, c.PublicKey)
	}
	if isSecp256k1(m) {
		return nil, nil, fmt.Errorf("%w: pkcs11: key %q is on secp256k1, which this engine does not support", ports.ErrUnsupported, id)
	}
	return nil, nil, fmt.Errorf("%w: key %q: cannot decode the asymmetric key material", ports.ErrInvalidInput, id)
}

// isSecp256k1 reports whether m is a secp256k1 key that crypto/x509 cannot
// read (the software engine supports the curve; tokens rarely do).
func isSecp256k1(m []byte) bool {
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey} {
		if d, _, err := keyformat.Secp256k1Private(f, m); err == nil {
			clear(d)
			return true
		}
	}
	k, err := keyformat.Decode(kmip.KeyFormatTypeX_509, kmip.Bytes(kmip.TagKeyMaterial, m))
	return err == nil && k.Kind == keyformat.ECPublic && keyformat.IsSecp256k1(k.ECPublic.Curve)
}

func checkAsym(id string, priv crypto.Signer, pub crypto.PublicKey) (crypto.Signer, crypto.PublicKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return priv, pub, nil
	case *ecdsa.PublicKey:
		if _, ok := curveOIDs[k.Curve]; ok {
			return priv, pub, nil
		}
	case ed25519.PublicKey:
		return priv, pub, nil
	}
	return nil, nil, fmt.Errorf("%w: pkcs11: key %q of type %T", ports.ErrUnsupported, id, pub)
}

// asymAttrs are the key-value attributes of a private or public Go key.
func asymAttrs(priv crypto.Signer, pub crypto.PublicKey) (keyType uint, curve elliptic.Curve, a []*pkcs11.Attribute, err error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return 0, nil, nil, fmt.Errorf("%w: pkcs11: multi-prime RSA keys", ports.ErrUnsupported)
		}
		k.Precompute()
		return pkcs11.CKK_RSA, nil, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()),
		}, nil
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			return 0, nil, nil, fmt.Errorf("%w: EC private key: %v", ports.ErrInvalidInput, err)
		}
		return pkcs11.CKK_EC, k.Curve, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, curveParams(k.Curve)),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, d),
		}, nil
	case ed25519.PrivateKey:
		return ckkECEdwards, nil, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, ed25519Params),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, k.Seed()),
		}, nil
	case nil:
	default:
		return 0, nil, nil, fmt.Errorf("%w: pkcs11: private key of type %T", ports.ErrUnsupported, priv)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return pkcs11.CKK_RSA, nil, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()),
		}, nil
	case ed25519.PublicKey:
		der, _ := asn1.Marshal([]byte(k))
		return ckkECEdwards, nil, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, ed25519Params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, der),
		}, nil
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		if err != nil {
			return 0, nil, nil, fmt.Errorf("%w: EC public key: %v", ports.ErrInvalidInput, err)
		}
		der, _ := asn1.Marshal(pt)
		return pkcs11.CKK_EC, k.Curve, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, curveParams(k.Curve)),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, der),
		}, nil
	}
	return 0, nil, nil, fmt.Errorf("%w: pkcs11: public key of type %T", ports.ErrUnsupported, pub)
}

// secretValue normalizes symmetric material for the token: 3DES keys of 8
// bytes (single DES run as EDE) become K||K||K, as the software engine reads them.
func secretValue(alg kmip.CryptographicAlgorithm, m []byte) (secretSpec, []byte, error) {
	if len(m) == 0 {
		return secretSpec{}, nil, fmt.Errorf("%w: no key material", ports.ErrInvalidInput)
	}
	if alg == kmip.CryptographicAlgorithmDES3 && len(m) == 8 {
		m = append(append(append([]byte{}, m...), m...), m...)
	}
	bits := 8 * len(m)
	if alg == 0 {
		return secretSpec{}, nil, fmt.Errorf("%w: no cryptographic algorithm for the key", ports.ErrInvalidInput)
	}
	ss, err := secretFor(alg, bits)
	if err != nil {
		return secretSpec{}, nil, err
	}
	return ss, m, nil
}

// ImportKey places spec's material in the token as a token object with the
// same attributes as a generated key (Register, keys created before the
// switch to the HSM): Raw symmetric keys (AES, 3DES, HMAC), RSA private
// keys (PKCS#1, PKCS#8), EC private keys (PKCS#8, SEC 1), RSA and EC public
// keys (PKCS#1, X.509).
func (e *Engine) ImportKey(ctx context.Context, spec ports.ImportSpec) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	id, err := newID()
	if err != nil {
		return ports.Key{}, err
	}
	var (
		tmpl  []*pkcs11.Attribute
		o     keyObj
		class string
	)
	switch kmip.ObjectType(spec.ObjectType) {
	case kmip.ObjectTypeSymmetricKey:
		if f := kmip.KeyFormatType(spec.Format); f != 0 && f != kmip.KeyFormatTypeRaw {
			return ports.Key{}, fmt.Errorf("%w: pkcs11: importing a symmetric key in format %s (Raw only)", ports.ErrUnsupported, f)
		}
		ss, m, err := secretValue(kmip.CryptographicAlgorithm(spec.Algorithm), spec.Material)
		if err != nil {
			return ports.Key{}, err
		}
		class, o = refSecret, keyObj{class: pkcs11.CKO_SECRET_KEY, keyType: ss.keyType}
		tmpl = append(e.objAttrs(pkcs11.CKO_SECRET_KEY, ss.keyType, true, spec.ID, id, usageFor(spec.UsageMask, ss.allowed)),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, m))
	case kmip.ObjectTypePrivateKey, kmip.ObjectTypePublicKey:
		priv, pub, err := parseAsym(spec.ID, spec.Material)
		if err != nil {
			return ports.Key{}, err
		}
		wantPriv := kmip.ObjectType(spec.ObjectType) == kmip.ObjectTypePrivateKey
		if wantPriv && priv == nil {
			return ports.Key{}, fmt.Errorf("%w: key %q: a private key's material holds a public key", ports.ErrInvalidInput, spec.ID)
		}
		if !wantPriv {
			priv = nil
		}
		kt, curve, vals, err := asymAttrs(priv, pub)
		if err != nil {
			return ports.Key{}, err
		}
		all := allUsage[wantPriv][kt]
		pclass := uint(pkcs11.CKO_PUBLIC_KEY)
		class = refPublic
		if wantPriv {
			pclass, class = pkcs11.CKO_PRIVATE_KEY, refPrivate
		}
		o = keyObj{class: pclass, keyType: kt, curve: curve}
		tmpl = append(e.objAttrs(pclass, kt, true, spec.ID, id, usageFor(spec.UsageMask, all)), vals...)
	default:
		return ports.Key{}, fmt.Errorf("%w: pkcs11: importing a %s", ports.ErrUnsupported, kmip.ObjectType(spec.ObjectType))
	}
	o.ref = makeRef(class, id)
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		h, err := e.p.CreateObject(s, tmpl)
		if err == nil {
			o.h = h
			e.remember(o)
		}
		return err
	})
	if err != nil {
		return ports.Key{}, translate(opErr{op: "importing a key"}, err)
	}
	if class == refPublic {
		return ports.Key{Ref: o.ref}, nil
	}
	return ports.Key{Ref: o.ref, NonExtractable: !e.cfg.Extractable}, nil
}

// ExportKey returns the material of the key under key.Ref: Raw for secret
// keys, PKCS#8 for private keys, X.509 SubjectPublicKeyInfo for public
// keys. A sensitive or non-extractable key is ErrNotExtractable.
func (e *Engine) ExportKey(ctx context.Context, key ports.KeyHandle) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	var out ports.Key
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		o, err := e.lookup(s, key)
		if err != nil {
			return err
		}
		out, err = e.export(s, o)
		return err
	})
	if err != nil {
		return ports.Key{}, translate(opErr{op: "exporting a key"}, err)
	}
	out.Ref = key.Ref
	return out, nil
}

func (e *Engine) export(s pkcs11.SessionHandle, o keyObj) (ports.Key, error) {
	if o.class == pkcs11.CKO_PUBLIC_KEY {
		pk, err := e.readPublic(s, o)
		if err != nil {
			return ports.Key{}, err
		}
		der, err := x509.MarshalPKIXPublicKey(pk)
		return ports.Key{Material: der, Format: uint32(kmip.KeyFormatTypeX_509)}, err
	}
	a, err := e.p.GetAttributeValue(s, o.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil), pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil)})
	if err != nil {
		return ports.Key{}, err
	}
	if len(a[0].Value) != 1 || a[0].Value[0] == 0 || len(a[1].Value) != 1 || a[1].Value[0] != 0 {
		return ports.Key{}, fmt.Errorf("%w: pkcs11: the token keeps this key sensitive or non-extractable", ports.ErrNotExtractable)
	}
	get := func(types ...uint) ([][]byte, error) {
		q := make([]*pkcs11.Attribute, len(types))
		for i, t := range types {
			q[i] = pkcs11.NewAttribute(t, nil)
		}
		a, err := e.p.GetAttributeValue(s, o.h, q)
		if err != nil {
			return nil, err
		}
		v := make([][]byte, len(a))
		for i := range a {
			v[i] = a[i].Value
		}
		return v, nil
	}
	bi := func(b []byte) *big.Int { return new(big.Int).SetBytes(b) }
	switch {
	case o.class == pkcs11.CKO_SECRET_KEY:
		v, err := get(pkcs11.CKA_VALUE)
		if err != nil {
			return ports.Key{}, err
		}
		return ports.Key{Material: v[0], Format: uint32(kmip.KeyFormatTypeRaw)}, nil
	case o.keyType == pkcs11.CKK_RSA:
		v, err := get(pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT, pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKA_PRIME_1, pkcs11.CKA_PRIME_2)
		if err != nil {
			return ports.Key{}, err
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: bi(v[0]), E: int(bi(v[1]).Int64())}, D: bi(v[2]), Primes: []*big.Int{bi(v[3]), bi(v[4])}}
		if err := k.Validate(); err != nil {
			return ports.Key{}, fmt.Errorf("%w: pkcs11: the token returned an inconsistent RSA key", ports.ErrInvalidInput)
		}
		k.Precompute()
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return ports.Key{Material: der, Format: uint32(kmip.KeyFormatTypePKCS_8)}, err
	case o.keyType == pkcs11.CKK_EC:
		v, err := get(pkcs11.CKA_VALUE)
		if err != nil {
			return ports.Key{}, err
		}
		d := make([]byte, (o.curve.Params().BitSize+7)/8)
		if len(v[0]) > len(d) {
			return ports.Key{}, fmt.Errorf("%w: pkcs11: the token returned an inconsistent EC key", ports.ErrInvalidInput)
		}
		copy(d[len(d)-len(v[0]):], v[0])
		k, err := ecdsa.ParseRawPrivateKey(o.curve, d)
		if err != nil {
			return ports.Key{}, fmt.Errorf("%w: pkcs11: the token returned an inconsistent EC key", ports.ErrInvalidInput)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return ports.Key{Material: der, Format: uint32(kmip.KeyFormatTypePKCS_8)}, err
	case o.keyType == ckkECEdwards:
		v, err := get(pkcs11.CKA_VALUE)
		if err != nil {
			return ports.Key{}, err
		}
		if len(v[0]) != ed25519.SeedSize {
			return ports.Key{}, fmt.Errorf("%w: pkcs11: the token returned an inconsistent Ed25519 key", ports.ErrInvalidInput)
		}
		der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(v[0]))
		return ports.Key{Material: der, Format: uint32(kmip.KeyFormatTypePKCS_8)}, err
	}
	return ports.Key{}, fmt.Errorf("%w: pkcs11: exporting a key of type 0x%x", ports.ErrUnsupported, o.keyType)
}

// DestroyKey destroys the token object under key.Ref. A key already gone
// (or never kept: no Ref) is not an error.
func (e *Engine) DestroyKey(ctx context.Context, key ports.KeyHandle) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key.Ref == "" {
		return nil
	}
	if _, _, err := parseRef(key.Ref); err != nil {
		return err
	}
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		// Never destroy through a cached handle: on an HSM that reuses
		// handle numbers, a handle cached before another node destroyed the
		// key could name some other object by now. Find it afresh.
		e.forget(key.Ref)
		o, err := e.lookup(s, key)
		if errors.Is(err, ports.ErrKeyMaterialUnavailable) {
			return nil
		}
		if err != nil {
			return err
		}
		e.forget(key.Ref)
		err = e.p.DestroyObject(s, o.h)
		if isRV(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
			return nil // gone between the search and the destroy
		}
		return err
	})
	return translate(opErr{op: "destroying a key"}, err)
}

// role is what an operation needs of its key.
type role int

const (
	roleSecret role = iota
	rolePrivate
	rolePublic
)

// resolve finds the object an operation uses: the token object under
// key.Ref, or, for a key given as Material, a session object (CKA_TOKEN
// false) created for this call; the returned cleanup destroys it. For
// rolePublic a private key stands for its public half: the public object
// with the same CKA_ID, or for RSA a session object made from its modulus
// and exponent.
func (e *Engine) resolve(s pkcs11.SessionHandle, key ports.KeyHandle, r role) (keyObj, func(), error) {
	none := func() {}
	if key.Ref != "" {
		o, err := e.lookup(s, key)
		if err != nil {
			return keyObj{}, none, err
		}
		switch {
		case r == roleSecret && o.class != pkcs11.CKO_SECRET_KEY, r != roleSecret && o.class == pkcs11.CKO_SECRET_KEY:
			return keyObj{}, none, fmt.Errorf("%w: key %q is not the kind of key the operation needs", ports.ErrInvalidInput, key.ID)
		case r == rolePrivate && o.class == pkcs11.CKO_PUBLIC_KEY:
			return keyObj{}, none, fmt.Errorf("%w: key %q is a public key; the operation needs the private key", ports.ErrInvalidInput, key.ID)
		case r == rolePublic && o.class == pkcs11.CKO_PRIVATE_KEY:
			_, id, _ := parseRef(key.Ref)
			if po, err := e.lookup(s, ports.KeyHandle{ID: key.ID, Ref: makeRef(refPublic, id)}); err == nil {
				return po, none, nil
			} else if !errors.Is(err, ports.ErrKeyMaterialUnavailable) {
				return keyObj{}, none, err
			}
			pk, err := e.readPublic(s, o)
			if err != nil {
				return keyObj{}, none, err
			}
			return e.sessionKey(s, nil, pk)
		}
		return o, none, nil
	}
	if len(key.Material) == 0 {
		return keyObj{}, none, fmt.Errorf("%w: key %q has neither material nor a token reference", ports.ErrInvalidInput, key.ID)
	}
	if r == roleSecret {
		ss, m, err := secretValue(kmip.CryptographicAlgorithm(key.Algorithm), key.Material)
		if err != nil {
			return keyObj{}, none, err
		}
		return e.sessionSecret(s, ss.keyType, m)
	}
	priv, pub, err := parseAsym(key.ID, key.Material)
	if err != nil {
		var ok bool
		if priv, pub, ok = rawEd25519(key); !ok {
			return keyObj{}, none, err
		}
	}
	if r == rolePrivate && priv == nil {
		return keyObj{}, none, fmt.Errorf("%w: key %q is a public key; the operation needs the private key", ports.ErrInvalidInput, key.ID)
	}
	if r == rolePublic {
		priv = nil
	}
	return e.sessionKey(s, priv, pub)
}

// sessionSecret creates a session secret key object for one call.
func (e *Engine) sessionSecret(s pkcs11.SessionHandle, keyType uint, m []byte) (keyObj, func(), error) {
	tmpl := append(e.objAttrs(pkcs11.CKO_SECRET_KEY, keyType, false, "kmipd-call", nil, allSymmetric), pkcs11.NewAttribute(pkcs11.CKA_VALUE, m))
	h, err := e.p.CreateObject(s, tmpl)
	if err != nil {
		return keyObj{}, func() {}, err
	}
	return keyObj{h: h, class: pkcs11.CKO_SECRET_KEY, keyType: keyType}, func() { _ = e.p.DestroyObject(s, h) }, nil
}

// sessionKey creates a session private (priv non-nil) or public key object for one call.
func (e *Engine) sessionKey(s pkcs11.SessionHandle, priv crypto.Signer, pub crypto.PublicKey) (keyObj, func(), error) {
	kt, curve, vals, err := asymAttrs(priv, pub)
	if err != nil {
		return keyObj{}, func() {}, err
	}
	class, all := uint(pkcs11.CKO_PUBLIC_KEY), allUsage[false][kt]
	if priv != nil {
		class, all = pkcs11.CKO_PRIVATE_KEY, allUsage[true][kt]
	}
	h, err := e.p.CreateObject(s, append(e.objAttrs(class, kt, false, "kmipd-call", nil, all), vals...))
	if err != nil {
		return keyObj{}, func() {}, err
	}
	return keyObj{h: h, class: class, keyType: kt, curve: curve}, func() { _ = e.p.DestroyObject(s, h) }, nil
}

// rawEd25519 reads Raw Ed25519 material as the software engine does: a
// 32-byte seed (private key), seed || public key (64 bytes), or a 32-byte
// public key.
func rawEd25519(k ports.KeyHandle) (crypto.Signer, crypto.PublicKey, bool) {
	if kmip.CryptographicAlgorithm(k.Algorithm) != kmip.CryptographicAlgorithmEd25519 {
		return nil, nil, false
	}
	m := k.Material
	switch {
	case len(m) == ed25519.SeedSize && k.ObjectType == uint32(kmip.ObjectTypePrivateKey):
		p := ed25519.NewKeyFromSeed(m)
		return p, p.Public(), true
	case len(m) == ed25519.PrivateKeySize:
		p := ed25519.NewKeyFromSeed(m[:ed25519.SeedSize])
		if !bytes.Equal(p[ed25519.SeedSize:], m[ed25519.SeedSize:]) {
			return nil, nil, false
		}
		return p, p.Public(), true
	case len(m) == ed25519.PublicKeySize:
		return nil, ed25519.PublicKey(m), true
	}
	return nil, nil, false
}
