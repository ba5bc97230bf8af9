package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// cryptoParams decodes a Cryptographic Parameters structure (KMIP 1.4 §3.6,
// KMIP 2.1 §4.12). A nil item decodes to the zero value.
func cryptoParams(it *kmip.Item) (ports.CryptoParams, error) {
	var p ports.CryptoParams
	if it == nil {
		return p, nil
	}
	if it.Type != kmip.TypeStructure {
		return p, invalidField("Cryptographic Parameters must be a Structure")
	}
	if err := checkValue(it); err != nil {
		return p, err
	}
	enum := func(tag kmip.Tag) uint32 { v, _ := it.Child(tag).AsEnum(); return v }
	integer := func(tag kmip.Tag) int { v, _ := it.Child(tag).AsInt(); return int(v) }
	p.BlockCipherMode = enum(kmip.TagBlockCipherMode)
	p.PaddingMethod = enum(kmip.TagPaddingMethod)
	p.HashingAlgorithm = enum(kmip.TagHashingAlgorithm)
	p.KeyRoleType = enum(kmip.TagKeyRoleType)
	p.DigitalSignatureAlgorithm = enum(kmip.TagDigitalSignatureAlgorithm)
	p.CryptographicAlgorithm = enum(kmip.TagCryptographicAlgorithm)
	p.MaskGenerator = enum(kmip.TagMaskGenerator)
	p.MaskGeneratorHashingAlgorithm = enum(kmip.TagMaskGeneratorHashingAlgorithm)
	p.RandomIV, _ = it.Child(kmip.TagRandomIV).AsBool()
	p.IVLength = integer(kmip.TagIVLength)
	p.TagLength = integer(kmip.TagTagLength)
	p.FixedFieldLength = integer(kmip.TagFixedFieldLength)
	p.InvocationFieldLength = integer(kmip.TagInvocationFieldLength)
	p.CounterLength = integer(kmip.TagCounterLength)
	if v, ok := it.Child(kmip.TagInitialCounterValue).AsInt(); ok {
		p.InitialCounterValue, p.InitialCounterSet = int64(v), true
	} else if v, ok := it.Child(kmip.TagInitialCounterValue).AsLong(); ok {
		p.InitialCounterValue, p.InitialCounterSet = v, true
	}
	if it.Child(kmip.TagSaltLength) != nil {
		p.SaltLength, p.SaltLengthSet = integer(kmip.TagSaltLength), true
	}
	p.PSource, _ = it.Child(kmip.TagPSource).AsBytes()
	p.TrailerField = integer(kmip.TagTrailerField)
	return p, nil
}

// paramsFor returns the Cryptographic Parameters a request giving req (nil:
// none) runs with on obj (keyParams): the key's, with what the request adds. A request that
// contradicts every instance the key carries is refused (paramsConflict).
func paramsFor(req *kmip.Item, obj *domain.Object) (ports.CryptoParams, error) {
	p, consistent, err := keyParams(req, obj)
	if err == nil && !consistent {
		err = paramsConflict()
	}
	return p, err
}

// keyParams merges a request's Cryptographic Parameters req with the
// Cryptographic Parameters attribute of key obj. Without a request value the
// key's instance of lowest index applies (KMIP 1.4 §4.29: "If omitted, then
// the Cryptographic Parameters associated with the key SHALL be used");
// without a key value the request's does. With both, the key's parameters
// bind its use: the request must match one of the key's instances (KMIP 1.4
// §2.1.6 says so of wrapping keys: "the server SHALL verify that they match
// one of the instances"), field by field: each field the request gives that
// the instance also gives must be equal, except that a request may ask for
// Random IV when the instance does not. The result is that instance with the
// fields the request adds. consistent is false when no instance matches, so
// a client cannot choose ECB on a GCM key, its own IV on a Random IV key, or
// another tag length, padding or hash than the key's.
func keyParams(req *kmip.Item, obj *domain.Object) (p ports.CryptoParams, consistent bool, err error) {
	if p, err = cryptoParams(req); err != nil {
		return p, true, err
	}
	instances := obj.AttrValuesOf(kmip.TagCryptographicParameters)
	switch {
	case len(instances) == 0:
		return p, true, nil
	case req == nil:
		p, err = cryptoParams(instances[0])
		return p, true, err
	}
	for _, inst := range instances {
		if merged, ok := mergeParams(req, inst); ok {
			p, err = cryptoParams(merged)
			return p, true, err
		}
	}
	return p, false, nil
}

// mergeParams returns the key's Cryptographic Parameters instance key with
// the fields of the request's req that key lacks, false when req gives a
// field key gives with another value (Random IV true over false excepted).
func mergeParams(req, key *kmip.Item) (*kmip.Item, bool) {
	out := key.Clone()
	for _, f := range req.Children() {
		have := out.Child(f.Tag)
		switch {
		case have == nil:
			out.Add(f.Clone())
		case have.Equal(f):
		case f.Tag == kmip.TagRandomIV && isTrue(f) && !isTrue(have):
			have.Value = f.Value
		default:
			return nil, false
		}
	}
	return out, true
}

func isTrue(it *kmip.Item) bool { b, _ := it.AsBool(); return b }

// paramsConflict answers a request whose Cryptographic Parameters contradict
// the key's: KMIP 2.x Bad Cryptographic Parameters; KMIP 1.x, which has no
// such reason, Permission Denied ("Object specified is not able to be used
// for encryption", KMIP 1.4 §11.30-35).
func paramsConflict() error {
	return kindErr(errKindParamsConflict, "the request's Cryptographic Parameters contradict the key's")
}

// keyUse is how an operation uses a key: the usage mask bit it needs, the
// object types it accepts, and whether it only processes protected data
// (decrypt, verify), which KMIP also allows with a Deactivated or
// Compromised key (KMIP 1.4 §3.22, Table 2.1 of §4 "Usage").
type keyUse struct {
	bit     kmip.CryptographicUsageMask
	types   []kmip.ObjectType
	process bool
}

var (
	symmetricOrAsymmetric = []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePublicKey, kmip.ObjectTypePrivateKey}
	useEncrypt            = keyUse{bit: kmip.CryptographicUsageMaskEncrypt, types: symmetricOrAsymmetric}
	useDecrypt            = keyUse{bit: kmip.CryptographicUsageMaskDecrypt, types: symmetricOrAsymmetric, process: true}
	useSign               = keyUse{bit: kmip.CryptographicUsageMaskSign, types: []kmip.ObjectType{kmip.ObjectTypePrivateKey}}
	useVerify             = keyUse{bit: kmip.CryptographicUsageMaskVerify, types: []kmip.ObjectType{kmip.ObjectTypePublicKey, kmip.ObjectTypeCertificate}, process: true}
	useMAC                = keyUse{bit: kmip.CryptographicUsageMaskMACGenerate, types: []kmip.ObjectType{kmip.ObjectTypeSymmetricKey}}
	useMACVerify          = keyUse{bit: kmip.CryptographicUsageMaskMACVerify, types: []kmip.ObjectType{kmip.ObjectTypeSymmetricKey}, process: true}
	useWrap               = keyUse{bit: kmip.CryptographicUsageMaskWrapKey, types: symmetricOrAsymmetric}
	useUnwrap             = keyUse{bit: kmip.CryptographicUsageMaskUnwrapKey, types: symmetricOrAsymmetric, process: true}
	useDerive             = keyUse{bit: kmip.CryptographicUsageMaskDeriveKey, types: []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypeSecretData}}
)

// errKeyUnusable is why a key cannot serve an operation: errKindWrongObjectType,
// errKindWrongState, errKindUsageMask or errKindNoKeyValue.
type errKeyUnusable struct {
	kind errKind
	msg  string
}

func (e *errKeyUnusable) Error() string { return e.msg }

// usableError makes a key-usage refusal a client error of its kind: KMIP 1.x
// lists only Permission Denied ("Object specified is not able to be used
// for encryption", KMIP 1.4 §11.30-35) but Key Value Not Present; KMIP 2.x
// has a reason for each cause (KMIP 2.1 §6.1 error tables). Other errors
// pass through.
func usableError(err error) error {
	var ku *errKeyUnusable
	if !errors.As(err, &ku) {
		return err
	}
	return kindErr(ku.kind, "%s", ku.msg)
}

// checkUse decides whether obj may serve use at now: its type, its
// lifecycle state and usage dates (domain.CheckUse: Active, within the
// Process Start / Protect Stop window) and its Cryptographic Usage Mask. A
// Deactivated or Compromised key may still process protected data (decrypt,
// verify, unwrap) "under extraordinary circumstances and when special
// permission is granted" (KMIP 1.4 §3.22); special says the object's policy
// grants it, by a rule of its own for the operation.
func checkUse(obj *domain.Object, use keyUse, now time.Time, special bool) error {
	typeOK := false
	for _, t := range use.types {
		typeOK = typeOK || obj.Type == uint32(t)
	}
	if !typeOK {
		return &errKeyUnusable{errKindWrongObjectType, kmip.ObjectType(obj.Type).String() + " objects cannot be used for this operation"}
	}
	u := domain.UseProtect
	if use.process {
		u = domain.UseProcess
	}
	err := domain.CheckUse(obj, u, now)
	if errors.Is(err, domain.ErrWrongState) && use.process && special &&
		(obj.State == domain.Deactivated || obj.State == domain.Compromised) {
		err = nil
	}
	switch {
	case errors.Is(err, domain.ErrWrongState) && obj.State == domain.PreActive:
		// KMIP 1.4 §3.22: a Pre-Active object "SHALL NOT be used for any
		// cryptographic purpose"; unlike the reference server, kmipd holds
		// Derive Key to that too.
		return &errKeyUnusable{errKindWrongState, "the key is Pre-Active and cannot be used for this operation; Activate it first"}
	case errors.Is(err, domain.ErrWrongState):
		return &errKeyUnusable{errKindWrongState, "the key is " + obj.State.String() + " and cannot be used for this operation"}
	case errors.Is(err, domain.ErrUsageDate):
		return &errKeyUnusable{errKindWrongState, "the key's usage dates do not allow this operation now"}
	case err != nil:
		return err
	}
	mask, _ := obj.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	if uint32(mask)&uint32(use.bit) == 0 {
		return &errKeyUnusable{errKindUsageMask, "the key's Cryptographic Usage Mask lacks " + use.bit.String()}
	}
	return nil
}

// specialPermission reports whether obj's operation policy has a rule of
// its own for the call's operation (see checkUse).
func (s *Service) specialPermission(ctx context.Context, c *call, obj *domain.Object) bool {
	p, ok := s.cfg.Policies.Policy(ctx, obj.Policy)
	return ok && policyNames(p, obj.Type, c.op)
}

// spendUsage takes what a protecting operation on n bytes uses from the
// key's Usage Limits (KMIP 1.4 §3.21: bytes, or one object), in one store
// transaction; exhausted limits are Permission Denied, as the OASIS cases
// (CS-BC-M-7) answer. Keys without Usage Limits are not limited.
func (s *Service) spendUsage(ctx context.Context, c *call, obj *domain.Object, n int) error {
	ul := obj.AttrOf(kmip.TagUsageLimits)
	if ul == nil {
		return nil
	}
	units := int64(n)
	if u, _ := ul.Child(kmip.TagUsageLimitsUnit).AsEnum(); u == uint32(kmip.UsageLimitsUnitObject) {
		units = 1
	}
	if units == 0 {
		return nil
	}
	now := s.cfg.Clock.Now()
	var before *domain.Object
	err := s.cfg.Store.Update(ctx, obj.ID, func(o *domain.Object) error {
		before = o.Clone()
		o.ApplyDates(now)
		return o.AllocateUsage(units, now)
	})
	if errors.Is(err, domain.ErrUsageLimit) {
		return errorf(kmip.ResultReasonPermissionDenied, "the key's usage limits are exhausted")
	}
	if err != nil {
		return err
	}
	s.noteWrite(c, before) // not undone: the units were spent (domain.Reverted)
	return nil
}

// keyHandle describes obj's key material to the engine.
func keyHandle(obj *domain.Object) (ports.KeyHandle, error) {
	h := ports.KeyHandle{ID: obj.ID, ObjectType: obj.Type, Ref: obj.KeyRef}
	if alg, ok := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum(); ok {
		h.Algorithm = alg
	}
	if l, ok := obj.AttrOf(kmip.TagCryptographicLength).AsInt(); ok {
		h.Length = int(l)
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	if kb == nil {
		return h, &errKeyUnusable{errKindNoKeyValue, "the key value is not present on the server"}
	}
	if kb.Child(kmip.TagKeyWrappingData) != nil {
		return h, &errKeyUnusable{errKindNoKeyValue, "the key is stored wrapped and cannot be used by the server"}
	}
	if alg, ok := kb.Child(kmip.TagCryptographicAlgorithm).AsEnum(); ok && h.Algorithm == 0 {
		h.Algorithm = alg
	}
	if l, ok := kb.Child(kmip.TagCryptographicLength).AsInt(); ok && h.Length == 0 {
		h.Length = int(l)
	}
	h.Format, _ = kb.Child(kmip.TagKeyFormatType).AsEnum()
	if kb.Child(kmip.TagKeyValue) == nil && h.Ref != "" {
		return h, nil // held by the engine (an HSM)
	}
	material := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial)
	if m, ok := material.AsBytes(); ok {
		if ec, foreign := keyformat.IsForeignEC(m); foreign {
			return h, errorf(kmip.ResultReasonFeatureNotSupported,
				"the key is on an elliptic curve (%s) the server cannot compute with; it is stored as registered", ec.Curve)
		}
		h.Material = m
		h.Format = realFormat(obj, kmip.KeyFormatType(h.Format), m)
		return h, nil
	}
	// Transparent keys (a structure of components) reach engines in the DER
	// form they all read: PKCS#8 for private keys, X.509 for public keys,
	// Raw for symmetric keys.
	k, err := keyformat.Decode(kmip.KeyFormatType(h.Format), material)
	if err != nil {
		return h, &errKeyUnusable{errKindNoKeyValue, "the key material is not in a format the server can use"}
	}
	der := kmip.KeyFormatTypeRaw
	switch {
	case k.Private():
		der = kmip.KeyFormatTypePKCS_8
	case k.Public():
		der = kmip.KeyFormatTypeX_509
	}
	it, err := keyformat.Encode(k, der, keyformat.Uncompressed)
	m, ok := it.AsBytes()
	if err != nil || !ok {
		return h, &errKeyUnusable{errKindNoKeyValue, "the key material is not in a format the server can use"}
	}
	h.Format, h.Material = uint32(der), m
	return h, nil
}

// useKey loads the object the request names, checks access under the
// operation's rule and that the key may serve use, and returns it with the
// handle the engine needs.
func (s *Service) useKey(ctx context.Context, c *call, use keyUse) (*domain.Object, ports.KeyHandle, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, ports.KeyHandle{}, err
	}
	if obj.Payload == nil {
		return nil, ports.KeyHandle{}, kindErr(errKindNoKeyValue, "the object has been destroyed")
	}
	if err := checkUse(obj, use, s.cfg.Clock.Now(), s.specialPermission(ctx, c, obj)); err != nil {
		return nil, ports.KeyHandle{}, usableError(err)
	}
	h, err := keyHandle(obj)
	if err == nil && h.Material == nil && h.Ref != "" {
		if _, ok := s.keeper(); !ok {
			err = errNotKept
		}
	}
	if err != nil {
		return nil, ports.KeyHandle{}, usableError(err)
	}
	return obj, h, nil
}

// engineError maps the engine's refusals of a cryptographic operation to
// Result Reasons: an unsupported algorithm, mode or padding and unusable
// input are Invalid Field in KMIP 1.x (PyKMIP answers so) and Unsupported /
// Bad Cryptographic Parameters in KMIP 2.x; failed checks are Cryptographic
// Failure (KMIP 1.4 §11.30-35). The engine's error stays the Cause for the
// log; a transient error is passed through (General Failure, logged).
func engineError(err error) error {
	switch {
	case transient(err):
		return err
	case errors.Is(err, ports.ErrUnsupported):
		msg := "the cryptographic parameters are not supported" + engineDetail(err, ports.ErrUnsupported)
		return kindErr(errKindUnsupportedParams, "%s", msg).because(err)
	case errors.Is(err, ports.ErrInvalidInput), errors.Is(err, ports.ErrInvalidLength):
		msg := "the data or parameters are not valid for the operation" + engineDetail(err, ports.ErrInvalidInput, ports.ErrInvalidLength)
		return kindErr(errKindBadCryptoInput, "%s", msg).because(err)
	case errors.Is(err, ports.ErrCryptoFailure):
		return errorf(kmip.ResultReasonCryptographicFailure, "cryptographic failure").because(err)
	}
	return err
}

// capability returns the engine's implementation of an optional capability,
// or Operation Not Supported.
func capability[T any](s *Service) (T, error) {
	impl, ok := s.cfg.Crypto.(T)
	if !ok {
		var zero T
		return zero, errorf(kmip.ResultReasonOperationNotSupported, "the cryptographic engine does not support this operation")
	}
	return impl, nil
}

// realFormat names the encoding a public or private key's bytes really have
// when it was registered Raw, or PKCS8 holding the RSAPrivateKey syntax (KMIP
// 1.4 §2.1.3), so the engine reads them as what they are.
func realFormat(obj *domain.Object, format kmip.KeyFormatType, m []byte) uint32 {
	t := kmip.ObjectType(obj.Type)
	if (format == kmip.KeyFormatTypeRaw || format == kmip.KeyFormatTypePKCS_8) &&
		(t == kmip.ObjectTypePublicKey || t == kmip.ObjectTypePrivateKey) {
		if _, real, ok := keyformat.Recognise(m); ok {
			return uint32(real)
		}
	}
	return uint32(format)
}

// engineDetail is the engine's own reason for refusing a request (which
// field, and why: "IV of 12 bytes (want 16)"), as ": reason", or "" when the
// engine gave none beyond its sentinel. Engines never put key material in
// their errors; the sentinel's own text is left out, and so is a reason
// that speaks of an HSM's internals (a PKCS#11 return code), which only the
// log shows.
func engineDetail(err error, sentinels ...error) string {
	msg := err.Error()
	for _, s := range sentinels {
		if i := strings.Index(msg, s.Error()); i >= 0 {
			msg = strings.TrimPrefix(msg[i+len(s.Error()):], ": ")
			break
		}
	}
	if msg == "" || strings.Contains(msg, "pkcs11") || strings.Contains(msg, "CKR_") {
		return ""
	}
	return ": " + msg
}
