package codec

import (
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// objectTypes are the Object Types a request may name, with the last
// version defining each (Template: KMIP 1.x only).
var objectTypes = map[kmip.ObjectType]int32{
	kmip.ObjectTypeCertificate: 2, kmip.ObjectTypeSymmetricKey: 2, kmip.ObjectTypePublicKey: 2,
	kmip.ObjectTypePrivateKey: 2, kmip.ObjectTypeSplitKey: 2, kmip.ObjectTypeTemplate: 1,
	kmip.ObjectTypeSecretData: 2, kmip.ObjectTypeOpaqueObject: 2, kmip.ObjectTypePGPKey: 2,
	kmip.ObjectTypeCertificateRequest: 2,
}

// ObjectType reads a request's Object Type: required, an Enumeration, and
// a type version v defines.
func ObjectType(v Version, payload *kmip.Item) (kmip.ObjectType, error) {
	it := payload.Child(kmip.TagObjectType)
	if it == nil {
		return 0, fail(Missing, specName(kmip.TagObjectType), "is required")
	}
	e, ok := it.AsEnum()
	if !ok {
		return 0, fail(Malformed, specName(kmip.TagObjectType), "must be an Enumeration")
	}
	t := kmip.ObjectType(e)
	if !ObjectTypeIn(v, t) {
		return 0, fail(BadObjectType, specName(kmip.TagObjectType), "unknown Object Type %d", e)
	}
	return t, nil
}

// ObjectTypeIn reports whether a request of version v may name Object
// Type t: Templates exist only in KMIP 1.x.
func ObjectTypeIn(v Version, t kmip.ObjectType) bool {
	last, known := objectTypes[t]
	return known && v.Major <= last
}

// Offset reads a Re-key, Re-key Key Pair or Re-certify request's Offset,
// nil when absent.
func Offset(payload *kmip.Item) (*time.Duration, error) {
	it := payload.Child(kmip.TagOffset)
	if it == nil {
		return nil, nil
	}
	secs, ok := it.AsInterval()
	if !ok {
		return nil, fail(Malformed, specName(kmip.TagOffset), "must be an Interval")
	}
	d := time.Duration(secs) * time.Second
	return &d, nil
}

// newObjectContainers hold the attributes of a new object: the 1.x
// Template-Attribute or the 2.x Attributes.
var newObjectContainers = []kmip.Tag{kmip.TagTemplateAttribute, kmip.TagAttributes}

// CreateRequest is a Create (KMIP 1.4 §4.1, KMIP 2.1 §6.1.7), a Register's
// or a Derive Key's attribute part: the Object Type and the attributes
// (with the Templates a 1.x request references).
type CreateRequest struct {
	ObjectType kmip.ObjectType
	Attributes AttributeSet
}

// DecodeCreate reads a Create, Register, Derive Key or Join Split Key
// request's Object Type and attributes.
func DecodeCreate(v Version, payload *kmip.Item) (CreateRequest, error) {
	t, err := ObjectType(v, payload)
	if err != nil {
		return CreateRequest{}, err
	}
	set, err := NewObjectAttributes(v, payload)
	return CreateRequest{ObjectType: t, Attributes: set}, err
}

// NewObjectAttributes reads the attributes a request gives the object it
// makes (Template-Attribute or Attributes).
func NewObjectAttributes(v Version, payload *kmip.Item) (AttributeSet, error) {
	return DecodeAttributes(v, payload, newObjectContainers...)
}

// KeyPairAttributes are the three attribute containers of a Create Key
// Pair or Re-key Key Pair request (KMIP 1.4 §4.2 Tables 164-166: Common,
// Private Key and Public Key Template-Attribute; KMIP 2.1 §6.1.8: Common,
// Private Key and Public Key Attributes).
type KeyPairAttributes struct{ Common, Private, Public AttributeSet }

// keyPairContainers names the three containers in version v.
func keyPairContainers(v Version) (common, private, public kmip.Tag) {
	if v.v2() {
		return kmip.TagCommonAttributes, kmip.TagPrivateKeyAttributes, kmip.TagPublicKeyAttributes
	}
	return kmip.TagCommonTemplateAttribute, kmip.TagPrivateKeyTemplateAttribute, kmip.TagPublicKeyTemplateAttribute
}

// DecodeKeyPair reads a key pair request's three attribute containers.
func DecodeKeyPair(v Version, payload *kmip.Item) (KeyPairAttributes, error) {
	var kp KeyPairAttributes
	common, private, public := keyPairContainers(v)
	var err error
	for _, c := range []struct {
		tag kmip.Tag
		set *AttributeSet
	}{{common, &kp.Common}, {private, &kp.Private}, {public, &kp.Public}} {
		if *c.set, err = DecodeAttributes(v, payload, c.tag); err != nil {
			return KeyPairAttributes{}, err
		}
	}
	return kp, nil
}

// Half is the attributes of one half of a key pair: the Common ones,
// overridden for single-valued attributes and joined for multi-valued ones
// by the half's own (KMIP 1.4 §4.2 order of precedence).
func Half(common, own []domain.Attribute) []domain.Attribute {
	overridden := map[string]bool{}
	for _, a := range own {
		if r, ok := domain.AttrRuleFor(a.Name); !ok || !r.Multi {
			overridden[a.Name] = true
		}
	}
	var out []domain.Attribute
	for _, a := range common {
		if !overridden[a.Name] {
			out = append(out, a)
		}
	}
	return append(out, own...)
}

// ReKeyRequest is a Re-key (KMIP 1.4 §4.4, KMIP 2.1 §6.1.46) or
// Re-certify request's Offset and the attributes it sets on the
// replacement; it references no Templates.
type ReKeyRequest struct {
	Offset     *time.Duration
	Attributes []domain.Attribute
}

// DecodeReKey reads a Re-key or Re-certify request.
func DecodeReKey(v Version, payload *kmip.Item) (ReKeyRequest, error) {
	offset, err := Offset(payload)
	if err != nil {
		return ReKeyRequest{}, err
	}
	set, err := NewObjectAttributes(v, payload)
	if err != nil {
		return ReKeyRequest{}, err
	}
	attrs, err := set.Only()
	return ReKeyRequest{Offset: offset, Attributes: attrs}, err
}

// ReKeyKeyPairRequest is a Re-key Key Pair (KMIP 1.4 §4.5, KMIP 2.1
// §6.1.45) request's Offset and attribute containers.
type ReKeyKeyPairRequest struct {
	Offset     *time.Duration
	Attributes KeyPairAttributes
}

// DecodeReKeyKeyPair reads a Re-key Key Pair request.
func DecodeReKeyKeyPair(v Version, payload *kmip.Item) (ReKeyKeyPairRequest, error) {
	offset, err := Offset(payload)
	if err != nil {
		return ReKeyKeyPairRequest{}, err
	}
	kp, err := DecodeKeyPair(v, payload)
	return ReKeyKeyPairRequest{Offset: offset, Attributes: kp}, err
}

// LocateRequest is a Locate (KMIP 1.4 §4.9, KMIP 2.1 §6.1.29) request's
// paging, the attributes it matches (a 2.x Attributes structure or the 1.x
// Attribute structures listed in the payload), its Object Group Member
// and its Storage Status Mask (On-line Storage when not given, KMIP 1.4
// §4.9).
type LocateRequest struct {
	MaxItems      int // -1: not given
	OffsetItems   int
	Attributes    []domain.Attribute
	GroupMember   *kmip.ObjectGroupMember
	StorageStatus uint32
}

// DecodeLocate reads a Locate request.
func DecodeLocate(v Version, payload *kmip.Item) (LocateRequest, error) {
	req := LocateRequest{MaxItems: -1, StorageStatus: uint32(kmip.StorageStatusMaskOnLineStorage)}
	for _, f := range []struct {
		tag kmip.Tag
		out *int
	}{{kmip.TagMaximumItems, &req.MaxItems}, {kmip.TagOffsetItems, &req.OffsetItems}} {
		if it := payload.Child(f.tag); it != nil {
			n, ok := it.AsInt()
			if !ok || n < 0 {
				return LocateRequest{}, fail(Malformed, specName(f.tag), "must be a non-negative Integer")
			}
			*f.out = int(n)
		}
	}
	set, err := DecodeAttributes(v, payload, kmip.TagAttributes)
	if err != nil {
		return LocateRequest{}, err
	}
	if req.Attributes, err = set.Only(); err != nil {
		return LocateRequest{}, err
	}
	if it := payload.Child(kmip.TagObjectGroupMember); it != nil {
		m, ok := it.AsEnum()
		if !ok {
			return LocateRequest{}, fail(Malformed, specName(kmip.TagObjectGroupMember), "must be an Enumeration")
		}
		gm := kmip.ObjectGroupMember(m)
		req.GroupMember = &gm
	}
	if it := payload.Child(kmip.TagStorageStatusMask); it != nil {
		m, ok := it.AsInt()
		if !ok {
			return LocateRequest{}, fail(Malformed, specName(kmip.TagStorageStatusMask), "must be an Integer")
		}
		req.StorageStatus = uint32(m)
	}
	return req, nil
}

// RevokeRequest is a Revoke (KMIP 1.4 §4.20, KMIP 2.1 §6.1.47) request:
// the Revocation Reason (always a structure holding a known or extension
// Revocation Reason Code) and the Compromise Occurrence Date (zero: none).
type RevokeRequest struct {
	Reason       *kmip.Item
	Code         kmip.RevocationReasonCode
	CompromiseAt time.Time
}

// Compromise reports whether the reason marks the object Compromised (Key
// Compromise, CA Compromise).
func (r RevokeRequest) Compromise() bool {
	return r.Code == kmip.RevocationReasonCodeKeyCompromise || r.Code == kmip.RevocationReasonCodeCACompromise
}

// DecodeRevoke reads a Revoke request. The Revocation Reason Code is read
// from the Revocation Reason structure or, as some clients send it, from
// the payload; a Compromise Occurrence Date is only given with a
// compromise ("SHALL NOT be specified for other Revocation Reason
// enumerations", KMIP 1.4 Table 212, KMIP 2.1 Table 295).
func DecodeRevoke(payload *kmip.Item) (RevokeRequest, error) {
	reason := payload.Child(kmip.TagRevocationReason)
	codeItem := reason.Child(kmip.TagRevocationReasonCode)
	if codeItem == nil {
		codeItem = payload.Child(kmip.TagRevocationReasonCode)
	}
	code, ok := codeItem.AsEnum()
	if !ok {
		return RevokeRequest{}, fail(Missing, specName(kmip.TagRevocationReasonCode), "is required")
	}
	if _, known := kmip.EnumName(kmip.TagRevocationReasonCode, code); !known && code < 0x80000000 {
		return RevokeRequest{}, fail(Malformed, specName(kmip.TagRevocationReasonCode), "%d is not recognized", code) // 1.4 §11.21
	}
	if reason == nil {
		reason = kmip.Struct(kmip.TagRevocationReason, codeItem.Clone())
	} else {
		reason = reason.Clone()
	}
	req := RevokeRequest{Reason: reason, Code: kmip.RevocationReasonCode(code)}
	if it := payload.Child(kmip.TagCompromiseOccurrenceDate); it != nil {
		t, ok := it.AsTime()
		if !ok {
			return RevokeRequest{}, fail(Malformed, specName(kmip.TagCompromiseOccurrenceDate), "must be a Date-Time")
		}
		if !req.Compromise() {
			return RevokeRequest{}, fail(Malformed, specName(kmip.TagCompromiseOccurrenceDate), "is only given with Key Compromise or CA Compromise")
		}
		req.CompromiseAt = t
	}
	return req, nil
}

// newObjectContainer is the one container a Certify or Re-certify request
// gives the new certificate's attributes in: a Template-Attribute in KMIP
// 1.x, Attributes in KMIP 2.x.
func newObjectContainer(v Version) kmip.Tag {
	if v.v2() {
		return kmip.TagAttributes
	}
	return kmip.TagTemplateAttribute
}

// CertifyAttributes reads the attributes a Certify request (KMIP 1.4 §4.7,
// KMIP 2.1 §6.1.6) gives the new certificate.
func CertifyAttributes(v Version, payload *kmip.Item) (AttributeSet, error) {
	return DecodeAttributes(v, payload, newObjectContainer(v))
}

// DecodeReCertify reads a Re-certify request (KMIP 1.4 §4.8, KMIP 2.1
// §6.1.45): its Offset and the new certificate's attributes, which
// reference no Templates.
func DecodeReCertify(v Version, payload *kmip.Item) (ReKeyRequest, error) {
	offset, err := Offset(payload)
	if err != nil {
		return ReKeyRequest{}, err
	}
	set, err := CertifyAttributes(v, payload)
	if err != nil {
		return ReKeyRequest{}, err
	}
	attrs, err := set.Only()
	return ReKeyRequest{Offset: offset, Attributes: attrs}, err
}

// Derivation is the derivation a Derive Key request (KMIP 1.4 §4.6, KMIP
// 2.1 §6.1.11) asks for: the Derivation Method and the Derivation
// Parameters (§2.1.14). CryptoParams is the Cryptographic Parameters
// structure, nil when absent, which app reads as every operation does.
type Derivation struct {
	Method       uint32
	CryptoParams *kmip.Item
	Data         []byte
	Salt         []byte
	IV           []byte
	Iterations   int // 0: not given
}

// DecodeDerivation reads a Derive Key request's Derivation Method and
// Derivation Parameters.
func DecodeDerivation(payload *kmip.Item) (Derivation, error) {
	methodItem := payload.Child(kmip.TagDerivationMethod)
	if methodItem == nil {
		return Derivation{}, fail(Missing, specName(kmip.TagDerivationMethod), "is required")
	}
	method, ok := methodItem.AsEnum()
	if _, known := kmip.EnumName(kmip.TagDerivationMethod, method); !ok || !known {
		return Derivation{}, fail(Malformed, specName(kmip.TagDerivationMethod), "is not a known Derivation Method")
	}
	dp := payload.Child(kmip.TagDerivationParameters)
	if dp == nil {
		return Derivation{}, fail(Missing, specName(kmip.TagDerivationParameters), "are required")
	}
	d := Derivation{Method: method, CryptoParams: dp.Child(kmip.TagCryptographicParameters)}
	d.Data, _ = dp.Child(kmip.TagDerivationData).AsBytes()
	d.Salt, _ = dp.Child(kmip.TagSalt).AsBytes()
	d.IV, _ = dp.Child(kmip.TagInitializationVector).AsBytes()
	if n, ok := dp.Child(kmip.TagIterationCount).AsInt(); ok {
		if n <= 0 {
			return Derivation{}, fail(Malformed, "Derivation Parameters: Iteration Count", "must be positive")
		}
		d.Iterations = int(n)
	}
	return d, nil
}
