package domain

import "github.com/kmipd/kmipd/domain/kmip"

// Shorthands for the reserved policy tables below.
const (
	opLocate         = uint32(kmip.OperationLocate)
	opCheck          = uint32(kmip.OperationCheck)
	opGet            = uint32(kmip.OperationGet)
	opGetAttributes  = uint32(kmip.OperationGetAttributes)
	opGetAttrList    = uint32(kmip.OperationGetAttributeList)
	opAddAttribute   = uint32(kmip.OperationAddAttribute)
	opModifyAttr     = uint32(kmip.OperationModifyAttribute)
	opDeleteAttr     = uint32(kmip.OperationDeleteAttribute)
	opSetAttribute   = uint32(kmip.OperationSetAttribute)
	opObtainLease    = uint32(kmip.OperationObtainLease)
	opActivate       = uint32(kmip.OperationActivate)
	opRevoke         = uint32(kmip.OperationRevoke)
	opDestroy        = uint32(kmip.OperationDestroy)
	opArchive        = uint32(kmip.OperationArchive)
	opRecover        = uint32(kmip.OperationRecover)
	opReKey          = uint32(kmip.OperationReKey)
	opReKeyKeyPair   = uint32(kmip.OperationReKeyKeyPair)
	opDeriveKey      = uint32(kmip.OperationDeriveKey)
	opUsageAlloc     = uint32(kmip.OperationGetUsageAllocation)
	otCertificate    = uint32(kmip.ObjectTypeCertificate)
	otSymmetricKey   = uint32(kmip.ObjectTypeSymmetricKey)
	otPublicKey      = uint32(kmip.ObjectTypePublicKey)
	otPrivateKey     = uint32(kmip.ObjectTypePrivateKey)
	otSplitKey       = uint32(kmip.ObjectTypeSplitKey)
	otTemplate       = uint32(kmip.ObjectTypeTemplate)
	otSecretData     = uint32(kmip.ObjectTypeSecretData)
	otOpaqueObject   = uint32(kmip.ObjectTypeOpaqueObject)
	otPGPKey         = uint32(kmip.ObjectTypePGPKey)
	otCertificateReq = uint32(kmip.ObjectTypeCertificateRequest)
)

// publicReadable is the rule set of objects anyone may read but only the owner
// may change (Certificate and Public Key in the default policy).
func publicReadable() map[uint32]Permission {
	return map[uint32]Permission{
		opLocate: AllowAll, opCheck: AllowAll, opGet: AllowAll, opGetAttributes: AllowAll,
		opGetAttrList: AllowAll, opAddAttribute: AllowOwner, opModifyAttr: AllowOwner,
		opDeleteAttr: AllowOwner, opSetAttribute: AllowOwner, opObtainLease: AllowAll,
		opActivate: AllowOwner, opRevoke: AllowOwner, opDestroy: AllowOwner,
		opArchive: AllowOwner, opRecover: AllowOwner,
	}
}

// ownerOnly is the rule set of secret objects: every listed operation is
// Allow Owner (Symmetric Key, Private Key, Split Key, Secret Data, Opaque
// Data and PGP Key in the default policy).
func ownerOnly() map[uint32]Permission {
	m := map[uint32]Permission{}
	for _, op := range []uint32{opReKey, opReKeyKeyPair, opDeriveKey, opLocate, opCheck, opGet,
		opGetAttributes, opGetAttrList, opAddAttribute, opModifyAttr, opDeleteAttr, opSetAttribute,
		opObtainLease, opUsageAlloc, opActivate, opRevoke, opDestroy, opArchive, opRecover} {
		m[op] = AllowOwner
	}
	return m
}

// DefaultPolicy returns the built-in "default" operation policy exactly as the
// reference server defines it (pykmip-server "Reserved Operation Policies";
// Set Attribute added with the same rule as Modify Attribute, as PyKMIP's
// code does). The reference table's "Modify" row for Secret Data is its Modify
// Attribute row.
func DefaultPolicy() *Policy {
	return &Policy{Name: PolicyDefault, Preset: Rules{
		otCertificate:  publicReadable(),
		otPublicKey:    publicReadable(),
		otSymmetricKey: ownerOnly(),
		otPrivateKey:   ownerOnly(),
		otSplitKey:     ownerOnly(),
		otSecretData:   ownerOnly(),
		otOpaqueObject: ownerOnly(),
		otPGPKey:       ownerOnly(),
		// Certificate Request objects (KMIP 2.x) are as private as the key they ask to certify.
		otCertificateReq: ownerOnly(),
		otTemplate: {
			opLocate: AllowOwner, opGet: AllowOwner, opGetAttributes: AllowOwner, opGetAttrList: AllowOwner,
			opAddAttribute: AllowOwner, opModifyAttr: AllowOwner, opDeleteAttr: AllowOwner,
			opSetAttribute: AllowOwner, opDestroy: AllowOwner,
		},
	}}
}

// PublicPolicy returns the built-in "public" operation policy for templates
// shared with every user (pykmip-server "Reserved Operation Policies").
func PublicPolicy() *Policy {
	return &Policy{Name: PolicyPublic, Preset: Rules{
		otTemplate: {
			opLocate: AllowAll, opGet: AllowAll, opGetAttributes: AllowAll, opGetAttrList: AllowAll,
			opAddAttribute: DisallowAll, opModifyAttr: DisallowAll, opDeleteAttr: DisallowAll,
			opSetAttribute: DisallowAll, opDestroy: DisallowAll,
		},
	}}
}

// ReservedPolicy returns a fresh copy of the built-in policy of that name, or
// nil.
func ReservedPolicy(name string) *Policy {
	switch name {
	case PolicyDefault:
		return DefaultPolicy()
	case PolicyPublic:
		return PublicPolicy()
	}
	return nil
}

// The reserved policies as SharedReservedPolicy returns them, built once.
var (
	sharedDefault = DefaultPolicy()
	sharedPublic  = PublicPolicy()
)

// SharedReservedPolicy is ReservedPolicy without the copy, for policy
// sources consulted on every request: the returned policy is shared by
// every caller and must not be modified.
func SharedReservedPolicy(name string) *Policy {
	switch name {
	case PolicyDefault:
		return sharedDefault
	case PolicyPublic:
		return sharedPublic
	}
	return nil
}

// IsReservedPolicy reports whether name is a built-in policy name ("default"
// or "public", compared exactly as PyKMIP does), which policy files cannot
// redefine.
func IsReservedPolicy(name string) bool {
	return name == PolicyDefault || name == PolicyPublic
}
