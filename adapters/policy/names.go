package policy

import (
	"sort"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// objectTypeNames are PyKMIP's ObjectType member names, the keys policy files
// use (kmip.core.enums.ObjectType).
var objectTypeNames = map[string]kmip.ObjectType{
	"CERTIFICATE":         kmip.ObjectTypeCertificate,
	"SYMMETRIC_KEY":       kmip.ObjectTypeSymmetricKey,
	"PUBLIC_KEY":          kmip.ObjectTypePublicKey,
	"PRIVATE_KEY":         kmip.ObjectTypePrivateKey,
	"SPLIT_KEY":           kmip.ObjectTypeSplitKey,
	"TEMPLATE":            kmip.ObjectTypeTemplate,
	"SECRET_DATA":         kmip.ObjectTypeSecretData,
	"OPAQUE_DATA":         kmip.ObjectTypeOpaqueObject,
	"PGP_KEY":             kmip.ObjectTypePGPKey,
	"CERTIFICATE_REQUEST": kmip.ObjectTypeCertificateRequest,
}

// operationNames are PyKMIP's Operation member names (kmip.core.enums.Operation).
var operationNames = map[string]kmip.Operation{
	"CREATE": 0x01, "CREATE_KEY_PAIR": 0x02, "REGISTER": 0x03, "REKEY": 0x04, "DERIVE_KEY": 0x05,
	"CERTIFY": 0x06, "RECERTIFY": 0x07, "LOCATE": 0x08, "CHECK": 0x09, "GET": 0x0A,
	"GET_ATTRIBUTES": 0x0B, "GET_ATTRIBUTE_LIST": 0x0C, "ADD_ATTRIBUTE": 0x0D, "MODIFY_ATTRIBUTE": 0x0E,
	"DELETE_ATTRIBUTE": 0x0F, "OBTAIN_LEASE": 0x10, "GET_USAGE_ALLOCATION": 0x11, "ACTIVATE": 0x12,
	"REVOKE": 0x13, "DESTROY": 0x14, "ARCHIVE": 0x15, "RECOVER": 0x16, "VALIDATE": 0x17, "QUERY": 0x18,
	"CANCEL": 0x19, "POLL": 0x1A, "NOTIFY": 0x1B, "PUT": 0x1C, "REKEY_KEY_PAIR": 0x1D,
	"DISCOVER_VERSIONS": 0x1E, "ENCRYPT": 0x1F, "DECRYPT": 0x20, "SIGN": 0x21, "SIGNATURE_VERIFY": 0x22,
	"MAC": 0x23, "MAC_VERIFY": 0x24, "RNG_RETRIEVE": 0x25, "RNG_SEED": 0x26, "HASH": 0x27,
	"CREATE_SPLIT_KEY": 0x28, "JOIN_SPLIT_KEY": 0x29, "IMPORT": 0x2A, "EXPORT": 0x2B, "LOG": 0x2C,
	"LOGIN": 0x2D, "LOGOUT": 0x2E, "DELEGATED_LOGIN": 0x2F, "ADJUST_ATTRIBUTE": 0x30,
	"SET_ATTRIBUTE": 0x31, "SET_ENDPOINT_ROLE": 0x32, "PKCS_11": 0x33, "INTEROP": 0x34, "REPROVISION": 0x35,
}

// permissionNames are PyKMIP's Policy member names.
var permissionNames = map[string]domain.Permission{
	"ALLOW_ALL":    domain.AllowAll,
	"ALLOW_OWNER":  domain.AllowOwner,
	"DISALLOW_ALL": domain.DisallowAll,
}

var (
	objectTypeByValue = invert(objectTypeNames)
	operationByValue  = invert(operationNames)
)

func invert[V comparable](m map[string]V) map[V]string {
	out := make(map[V]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// ObjectTypeName returns the policy-file spelling of an Object Type value
// ("SYMMETRIC_KEY"), or its hexadecimal value when PyKMIP has no name for it.
func ObjectTypeName(v uint32) string {
	if n, ok := objectTypeByValue[kmip.ObjectType(v)]; ok {
		return n
	}
	return kmip.ObjectType(v).String()
}

// OperationName returns the policy-file spelling of an Operation value ("GET").
func OperationName(v uint32) string {
	if n, ok := operationByValue[kmip.Operation(v)]; ok {
		return n
	}
	return kmip.Operation(v).String()
}

// Grant is one rule of a policy, spelled as in policy files.
type Grant struct {
	// Group is empty for a preset rule.
	Group      string
	ObjectType string
	Operation  string
	Permission domain.Permission
}

// Grants lists every rule of p, preset first, then by group, object type and
// operation name.
func Grants(p *domain.Policy) []Grant {
	var out []Grant
	add := func(group string, r domain.Rules) {
		for ot, ops := range r {
			for op, perm := range ops {
				out = append(out, Grant{Group: group, ObjectType: ObjectTypeName(ot), Operation: OperationName(op), Permission: perm})
			}
		}
	}
	add("", p.Preset)
	for g, r := range p.Groups {
		add(g, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.ObjectType != b.ObjectType {
			return a.ObjectType < b.ObjectType
		}
		return a.Operation < b.Operation
	})
	return out
}
