package app

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// engineRNGs lists the generators the crypto engine describes, the one its
// keys come from first (ports.RNGDescriber, ports.RNGLister). Engines that
// describe nothing are Unspecified, as KMIP 2.1 §4.46 requires "if the
// specific details of the random number generator are unknown".
func (s *Service) engineRNGs() []ports.RNGInfo {
	unspecified := ports.RNGInfo{Algorithm: uint32(kmip.RNGAlgorithmUnspecified)}
	if l, ok := s.cfg.Crypto.(ports.RNGLister); ok {
		if rs := l.RNGs(); len(rs) > 0 {
			return rs
		}
	}
	if d, ok := s.cfg.Crypto.(ports.RNGDescriber); ok {
		return []ports.RNGInfo{d.RNG()}
	}
	return []ports.RNGInfo{unspecified}
}

// rngFields are the RNG Parameters fields (KMIP 2.1 §2.1.18) of info.
func rngFields(info ports.RNGInfo) []*kmip.Item {
	if info.Algorithm == 0 {
		info.Algorithm = uint32(kmip.RNGAlgorithmUnspecified)
	}
	out := []*kmip.Item{kmip.Enum(kmip.TagRNGAlgorithm, info.Algorithm)}
	if info.CryptoAlgorithm != 0 {
		out = append(out, kmip.Enum(kmip.TagCryptographicAlgorithm, info.CryptoAlgorithm))
	}
	if info.Length != 0 {
		out = append(out, kmip.Int(kmip.TagCryptographicLength, int32(info.Length)))
	}
	if info.HashAlgorithm != 0 {
		out = append(out, kmip.Enum(kmip.TagHashingAlgorithm, info.HashAlgorithm))
	}
	if info.DRBGAlgorithm != 0 {
		out = append(out, kmip.Enum(kmip.TagDRBGAlgorithm, info.DRBGAlgorithm))
	}
	return out
}

// serverRNG returns the Random Number Generator attribute value of the
// objects the server generates.
func (s *Service) serverRNG() *kmip.Item {
	if d, ok := s.cfg.Crypto.(ports.RNGDescriber); ok {
		return kmip.Struct(kmip.TagRandomNumberGenerator, rngFields(d.RNG())...)
	}
	return kmip.Struct(kmip.TagRandomNumberGenerator, rngFields(ports.RNGInfo{})...)
}

// checkRequestedRNG enforces KMIP 2.1 §4.46 for server-generated objects:
// a client that names a Random Number Generator must get that one, so a
// request naming another is refused rather than silently ignored.
func (s *Service) checkRequestedRNG(c *call, obj *domain.Object) error {
	given := obj.AttrOf(kmip.TagRandomNumberGenerator)
	if given == nil || !operations[c.op].generates {
		return nil
	}
	if !given.Equal(s.serverRNG()) {
		return kindErr(errKindBadAttrValue, "the server cannot use the requested random number generator")
	}
	return nil
}

// setServerAttrs gives a new object the attributes the server sets on
// creation or registration, keeping any a client may set and did:
//   - Fresh true (KMIP 1.4 §3.34): no client has received the object yet;
//   - Sensitive false and Extractable true unless given, with Always
//     Sensitive and Never Extractable following them (KMIP 1.4 §3.46-3.49);
//   - Original Creation Date: now, unless a registering client gave it;
//   - Random Number Generator for server-generated objects (KMIP 2.1 §4.46);
//   - Short Unique Identifier, the SHA-256 of the Unique Identifier (§4.56);
//   - Protection Storage Mask Software: kmipd keeps every object in its
//     store (§4.44);
//   - Lease Time, the configured lease, on cryptographic objects when the
//     server limits leases (KMIP 1.4 §3.20: set by the server only).
func (s *Service) setServerAttrs(c *call, obj *domain.Object, now time.Time) error {
	if err := s.checkRequestedRNG(c, obj); err != nil {
		return err
	}
	if err := checkQuantumSafe(c, obj); err != nil {
		return err
	}
	setDefault := func(name string, v *kmip.Item) {
		if obj.Attr(name) == nil {
			obj.SetAttr(name, v)
		}
	}
	setDefault(kmip.TagFresh.SpecName(), kmip.Bool(kmip.TagFresh, true))
	setDefault(kmip.TagSensitive.SpecName(), kmip.Bool(kmip.TagSensitive, false))
	setDefault(kmip.TagExtractable.SpecName(), kmip.Bool(kmip.TagExtractable, true))
	sensitive, _ := obj.AttrOf(kmip.TagSensitive).AsBool()
	extractable, _ := obj.AttrOf(kmip.TagExtractable).AsBool()
	obj.SetAttrOf(kmip.TagAlwaysSensitive, kmip.Bool(kmip.TagAlwaysSensitive, sensitive))
	obj.SetAttrOf(kmip.TagNeverExtractable, kmip.Bool(kmip.TagNeverExtractable, !extractable))
	if operations[c.op].generates {
		obj.SetAttrOf(kmip.TagOriginalCreationDate, kmip.DateTime(kmip.TagOriginalCreationDate, now))
		setDefault(kmip.TagRandomNumberGenerator.SpecName(), s.serverRNG())
	} else {
		setDefault(kmip.TagOriginalCreationDate.SpecName(), kmip.DateTime(kmip.TagOriginalCreationDate, now))
	}
	sum := sha256.Sum256([]byte(obj.ID))
	obj.SetAttrOf(kmip.TagShortUniqueIdentifier, kmip.Bytes(kmip.TagShortUniqueIdentifier, sum[:]))
	obj.SetAttrOf(kmip.TagProtectionStorageMask, kmip.Int(kmip.TagProtectionStorageMask, int32(kmip.ProtectionStorageMaskSoftware)))
	if lease := s.leaseSeconds(); lease > 0 && domain.HasLifecycle(obj.Type) {
		obj.SetAttrOf(kmip.TagLeaseTime, kmip.Interval(kmip.TagLeaseTime, lease))
	}
	return nil
}

// trackServerAttrs keeps the attributes that record an object's history in
// step with a change: once Sensitive is false the object has not always been
// sensitive, once Extractable is true it has not never been extractable
// (KMIP 1.4 §3.47, §3.49).
func trackServerAttrs(obj *domain.Object) {
	if v, ok := obj.AttrOf(kmip.TagSensitive).AsBool(); ok && !v && obj.AttrOf(kmip.TagAlwaysSensitive) != nil {
		obj.SetAttrOf(kmip.TagAlwaysSensitive, kmip.Bool(kmip.TagAlwaysSensitive, false))
	}
	if v, ok := obj.AttrOf(kmip.TagExtractable).AsBool(); ok && v && obj.AttrOf(kmip.TagNeverExtractable) != nil {
		obj.SetAttrOf(kmip.TagNeverExtractable, kmip.Bool(kmip.TagNeverExtractable, false))
	}
}

// checkRelease refuses to hand out an object's value that its attributes
// protect (KMIP 1.4 §11.12, KMIP 2.1 §4.55 and §4.23): a Sensitive object
// only encrypted under a wrapping key, a non-Extractable one never.
// encrypted says the value leaves encrypted (encryptsOnRelease): a
// MAC/Signature-only wrapping leaves the key readable, and an operation that
// applies no wrapping (splitting) passes false. Get calls it before
// answering. KMIP before 1.4 has neither reason and answers Permission Denied.
func checkRelease(obj *domain.Object, encrypted bool) error {
	if v, ok := obj.AttrOf(kmip.TagExtractable).AsBool(); ok && !v {
		return kindErr(errKindNotExtractable, "the object is not extractable")
	}
	if v, _ := obj.AttrOf(kmip.TagSensitive).AsBool(); v && !encrypted {
		return kindErr(errKindSensitive, "the object is sensitive and may only be retrieved encrypted under a wrapping key")
	}
	return nil
}

// clearFresh records that a client received the object's value: Fresh
// becomes false (KMIP 1.4 §3.34, OASIS BL-M-13-21). Get calls it after
// answering successfully; objects already not fresh are not rewritten.
func (s *Service) clearFresh(ctx context.Context, c *call, obj *domain.Object) error {
	if v, _ := obj.AttrOf(kmip.TagFresh).AsBool(); !v {
		return nil
	}
	var before *domain.Object
	err := s.cfg.Store.Update(ctx, obj.ID, func(o *domain.Object) error {
		before = o.Clone() // the store writes a revision even when nothing changes
		if v, _ := o.AttrOf(kmip.TagFresh).AsBool(); !v {
			return nil
		}
		o.SetAttrOf(kmip.TagFresh, kmip.Bool(kmip.TagFresh, false))
		o.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, s.cfg.Clock.Now()))
		return nil
	})
	if err == nil {
		s.noteWrite(c, before) // not undone: the value was served (domain.Reverted)
	}
	return err
}

// quantumSafeAlgorithms are the symmetric algorithms whose keys of 256 bits
// or more keep 128-bit strength against Grover's search; no asymmetric
// algorithm kmipd knows is quantum safe.
var quantumSafeAlgorithms = map[kmip.CryptographicAlgorithm]bool{
	kmip.CryptographicAlgorithmAES: true, kmip.CryptographicAlgorithmARIA: true,
	kmip.CryptographicAlgorithmCamellia: true, kmip.CryptographicAlgorithmChaCha20: true,
	kmip.CryptographicAlgorithmChaCha20Poly1305: true, kmip.CryptographicAlgorithmHMAC_SHA256: true,
	kmip.CryptographicAlgorithmHMAC_SHA384: true, kmip.CryptographicAlgorithmHMAC_SHA512: true,
}

// checkQuantumSafe refuses to generate an object that must be Quantum Safe
// (KMIP 2.1 §4.45) with an algorithm and length that are not; the reference
// test QS-M-2-21 answers General Failure. Objects a client registers are
// the client's claim and are not checked.
func checkQuantumSafe(c *call, obj *domain.Object) error {
	if want, _ := obj.AttrOf(kmip.TagQuantumSafe).AsBool(); !want || !operations[c.op].generates {
		return nil
	}
	alg, _ := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, _ := obj.AttrOf(kmip.TagCryptographicLength).AsInt()
	if !quantumSafeAlgorithms[kmip.CryptographicAlgorithm(alg)] || length < 256 {
		return errorf(kmip.ResultReasonGeneralFailure, "the requested key would not be quantum safe")
	}
	return nil
}

// mayOmitKeyValue reports whether an object of type t may be registered
// without its Key Value, as metadata whose key lives elsewhere (KMIP 1.4
// §3.41-3.42: Key Value Present, Key Value Location; OASIS TC-MDO-1-14).
func mayOmitKeyValue(t kmip.ObjectType) bool {
	r, _ := domain.AttrRuleFor(kmip.TagKeyValuePresent.SpecName())
	return r.AppliesToType(uint32(t))
}

// generationAttrs are the attributes that describe how and when an object
// was made; a replacement the server generates from another object (Re-key)
// gets its own rather than copies (KMIP 2.1 §4.46: the Random Number
// Generator "SHALL NOT be copied from the original object").
var generationAttrs = []string{kmip.TagRandomNumberGenerator.SpecName(), kmip.TagFresh.SpecName(), kmip.TagOriginalCreationDate.SpecName(),
	kmip.TagAlwaysSensitive.SpecName(), kmip.TagNeverExtractable.SpecName(), kmip.TagShortUniqueIdentifier.SpecName(), kmip.TagProtectionStorageMask.SpecName()}

// renewServerAttrs replaces, on a replacement object repl derived from old,
// the generation attributes copied from old with the server's values for a
// new object; values the request itself gave are kept. Re-key calls it.
func (s *Service) renewServerAttrs(c *call, old, repl *domain.Object, now time.Time) error {
	for _, name := range generationAttrs {
		if v := repl.Attr(name); v != nil && v.Equal(old.Attr(name)) {
			repl.DeleteAttr(name)
		}
	}
	return s.setServerAttrs(c, repl, now)
}
