package main

import (
	"fmt"
	"sort"
)

// valueTextFixes restores value names whose superscripts the text
// conversion of the specification lost (KMIP 1.4 §9.1.3.2.8, KMIP 2.1 §11.54).
var valueTextFixes = map[string]string{
	"Polynomial Sharing GF (216)": "Polynomial Sharing GF (2^16)",
	"Polynomial Sharing GF (28)":  "Polynomial Sharing GF (2^8)",
}

// tagFix corrects what the object tables of the specifications do not give, or
// give ambiguously, for a tag. Enum "Tag" is the Tag Enumeration itself
// (KMIP 2.1 §11.56), synthesised by the registry from the tag table.
type tagFix struct {
	Type string // "" keeps the extracted type, "-" clears it
	Enum string
}

var tagFixes = map[string]tagFix{
	// Boolean in KMIP 1.x, Enumeration in 2.x (KMIP 2.1 §11.3).
	"AsynchronousIndicator": {Type: "-", Enum: "AsynchronousIndicator"},
	// Integer in KMIP 1.x, an Item Type Enumeration in 2.x (KMIP 2.1 §11.23).
	"ExtensionType": {Type: "-", Enum: "ItemType"},
	// Text String, Enumeration or Integer (KMIP 2.1 §2.1.x Unique Identifier).
	"UniqueIdentifier": {Type: "-", Enum: "UniqueIdentifier"},
	// Structure (vendor attribute) or a Tag Enumeration (KMIP 2.1 §7.x Attribute Reference).
	"AttributeReference": {Type: "-", Enum: "Tag"},
	"Tag":                {Type: "Enumeration", Enum: "Tag"},
	// The KMIP 2.1 tables give these as Structures by a copy error; the
	// conformance cases and §11.38/§11.39 use Enumerations.
	"PKCS_11Function":   {Type: "Enumeration", Enum: "PKCS_11Function"},
	"PKCS_11ReturnCode": {Type: "Enumeration", Enum: "PKCS_11ReturnCode"},
	// Uses the Hashing Algorithm set (KMIP 1.4 §2.1.5).
	"MaskGeneratorHashingAlgorithm": {Type: "Enumeration", Enum: "HashingAlgorithm"},
}

// typeFixes gives the item type of tags that appear only in the operation
// payload tables, which have no Encoding column (KMIP 1.4 §4, KMIP 2.1 §6),
// and corrects self-contradictory tables (KMIP 2.1 §7.27, §7.28 name the
// structure and its Byte String field alike; the conformance cases use Byte
// Strings). "-" marks a tag whose type varies.
var typeFixes = map[string]string{
	"AttributeValue":                     "-", // depends on the attribute
	"CustomAttribute":                    "-", // any type (KMIP 1.4 §3.43)
	"AdjustmentValue":                    "-", // Integer, Long Integer, Big Integer, Date-Time or Interval (KMIP 2.1 §6.1.1)
	"KeyMaterial":                        "-", // Byte String or Structure (KMIP 1.4 §2.1.4)
	"KeyValue":                           "-", // Byte String (wrapped) or Structure (KMIP 1.4 §2.1.3)
	"LinkedObjectIdentifier":             "-", // Text String, Enumeration or Integer (KMIP 2.1 §4.28)
	"CommonTemplateAttribute":            "Structure",
	"PrivateKeyTemplateAttribute":        "Structure",
	"PublicKeyTemplateAttribute":         "Structure",
	"TemplateAttribute":                  "Structure",
	"RequestPayload":                     "Structure",
	"ResponsePayload":                    "Structure",
	"RandomNumberGenerator":              "Structure",
	"CommonProtectionStorageMasks":       "Structure",
	"PrivateProtectionStorageMasks":      "Structure",
	"PublicProtectionStorageMasks":       "Structure",
	"MaximumItems":                       "Integer",
	"OffsetItems":                        "Integer",
	"LocatedItems":                       "Integer",
	"RequestCount":                       "Integer",
	"Offset":                             "Interval",
	"ValidityDate":                       "DateTime",
	"PrivateKeyUniqueIdentifier":         "TextString",
	"PublicKeyUniqueIdentifier":          "TextString",
	"ReplacedUniqueIdentifier":           "TextString",
	"CertificateRequestUniqueIdentifier": "TextString",
	"Comment":                            "TextString",
	"InteropIdentifier":                  "TextString",
	"AlternateFailoverEndpoints":         "TextString",
	"DigestedData":                       "ByteString",
	"ServerHashedPassword":               "ByteString",
	"Data":                               "ByteString",
	"PKCS_11InputParameters":             "ByteString",
	"PKCS_11OutputParameters":            "ByteString",
	"AlwaysSensitive":                    "Boolean",
	"ReplaceExisting":                    "Boolean",
	"Ephemeral":                          "Boolean",
}

// noSetByName lists tags that share a name with a set without using it.
var noSetByName = map[string]bool{
	"Data": true, // Byte String; the Data Enumeration (KMIP 2.1 §11.13) is for Cryptographic Usage data items
}

// applyOverrides links tags to their enumeration sets and adds the sets the
// specification texts only reference (PKCS#11 functions and return codes).
func applyOverrides(sf *specFile) {
	sets := map[string]*enumSet{}
	for i := range sf.Enums {
		sets[sf.Enums[i].Name] = &sf.Enums[i]
	}
	for _, extra := range pkcs11Sets() {
		if _, ok := sets[extra.Name]; !ok {
			sf.Enums = append(sf.Enums, extra)
		}
	}
	sort.Slice(sf.Enums, func(i, j int) bool { return sf.Enums[i].Name < sf.Enums[j].Name })
	sets = map[string]*enumSet{}
	for i := range sf.Enums {
		sets[sf.Enums[i].Name] = &sf.Enums[i]
	}
	for i := range sf.Tags {
		t := &sf.Tags[i]
		if ty, ok := typeFixes[t.Name]; ok {
			if ty == "-" {
				ty = ""
			}
			t.Type = ty
		}
		if fix, ok := tagFixes[t.Name]; ok {
			switch fix.Type {
			case "":
			case "-":
				t.Type = ""
			default:
				t.Type = fix.Type
			}
			t.Enum = fix.Enum
			continue
		}
		if t.Enum == "" && !noSetByName[t.Name] {
			if _, ok := sets[t.Name]; ok {
				t.Enum = t.Name
			}
		}
		if t.Enum == "" {
			continue
		}
		if sets[t.Enum].Mask {
			t.Mask = true
			t.Type = "Integer"
		} else if t.Type == "" && len(t.TypesSeen) == 0 {
			t.Type = "Enumeration"
		}
	}
}

// pkcs11Sets returns the PKCS#11 Function enumeration (KMIP 2.1 §11.38: the
// 1-based offset of the function in CK_FUNCTION_LIST_3_0) and the PKCS#11
// Return Code enumeration (KMIP 2.1 §11.39: the CK_RV values), named as the
// conformance cases write them (C_Initialize, OK).
func pkcs11Sets() []enumSet {
	funcs := []string{
		"C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList",
		"C_GetSlotInfo", "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo", "C_InitToken",
		"C_InitPIN", "C_SetPIN", "C_OpenSession", "C_CloseSession", "C_CloseAllSessions",
		"C_GetSessionInfo", "C_GetOperationState", "C_SetOperationState", "C_Login", "C_Logout",
		"C_CreateObject", "C_CopyObject", "C_DestroyObject", "C_GetObjectSize", "C_GetAttributeValue",
		"C_SetAttributeValue", "C_FindObjectsInit", "C_FindObjects", "C_FindObjectsFinal", "C_EncryptInit",
		"C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit", "C_Decrypt",
		"C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate",
		"C_DigestKey", "C_DigestFinal", "C_SignInit", "C_Sign", "C_SignUpdate",
		"C_SignFinal", "C_SignRecoverInit", "C_SignRecover", "C_VerifyInit", "C_Verify",
		"C_VerifyUpdate", "C_VerifyFinal", "C_VerifyRecoverInit", "C_VerifyRecover", "C_DigestEncryptUpdate",
		"C_DecryptDigestUpdate", "C_SignEncryptUpdate", "C_DecryptVerifyUpdate", "C_GenerateKey", "C_GenerateKeyPair",
		"C_WrapKey", "C_UnwrapKey", "C_DeriveKey", "C_SeedRandom", "C_GenerateRandom",
		"C_GetFunctionStatus", "C_CancelFunction", "C_WaitForSlotEvent",
		// PKCS#11 3.0 additions.
		"C_GetInterfaceList", "C_GetInterface", "C_LoginUser", "C_SessionCancel",
		"C_MessageEncryptInit", "C_EncryptMessage", "C_EncryptMessageBegin", "C_EncryptMessageNext", "C_MessageEncryptFinal",
		"C_MessageDecryptInit", "C_DecryptMessage", "C_DecryptMessageBegin", "C_DecryptMessageNext", "C_MessageDecryptFinal",
		"C_MessageSignInit", "C_SignMessage", "C_SignMessageBegin", "C_SignMessageNext", "C_MessageSignFinal",
		"C_MessageVerifyInit", "C_VerifyMessage", "C_VerifyMessageBegin", "C_VerifyMessageNext", "C_MessageVerifyFinal",
	}
	f := enumSet{Name: "PKCS_11Function", Refs: []string{"KMIP 2.1 §11.38", "PKCS#11 3.0 CK_FUNCTION_LIST_3_0"}}
	for i, n := range funcs {
		f.Values = append(f.Values, enumEntry{Name: n, Spec: n, Value: fmt.Sprintf("0x%08X", i+1), Versions: []string{"2.1"}})
	}
	rcs := []struct {
		name string
		v    uint32
	}{
		{"OK", 0x00}, {"CANCEL", 0x01}, {"HOST_MEMORY", 0x02}, {"SLOT_ID_INVALID", 0x03},
		{"GENERAL_ERROR", 0x05}, {"FUNCTION_FAILED", 0x06}, {"ARGUMENTS_BAD", 0x07},
		{"NO_EVENT", 0x08}, {"NEED_TO_CREATE_THREADS", 0x09}, {"CANT_LOCK", 0x0A},
		{"ATTRIBUTE_READ_ONLY", 0x10}, {"ATTRIBUTE_SENSITIVE", 0x11}, {"ATTRIBUTE_TYPE_INVALID", 0x12},
		{"ATTRIBUTE_VALUE_INVALID", 0x13}, {"ACTION_PROHIBITED", 0x1B}, {"DATA_INVALID", 0x20},
		{"DATA_LEN_RANGE", 0x21}, {"DEVICE_ERROR", 0x30}, {"DEVICE_MEMORY", 0x31}, {"DEVICE_REMOVED", 0x32},
		{"ENCRYPTED_DATA_INVALID", 0x40}, {"ENCRYPTED_DATA_LEN_RANGE", 0x41}, {"FUNCTION_CANCELED", 0x50},
		{"FUNCTION_NOT_PARALLEL", 0x51}, {"FUNCTION_NOT_SUPPORTED", 0x54}, {"KEY_HANDLE_INVALID", 0x60},
		{"KEY_SIZE_RANGE", 0x62}, {"KEY_TYPE_INCONSISTENT", 0x63}, {"KEY_NOT_NEEDED", 0x64},
		{"KEY_CHANGED", 0x65}, {"KEY_NEEDED", 0x66}, {"KEY_INDIGESTIBLE", 0x67},
		{"KEY_FUNCTION_NOT_PERMITTED", 0x68}, {"KEY_NOT_WRAPPABLE", 0x69}, {"KEY_UNEXTRACTABLE", 0x6A},
		{"MECHANISM_INVALID", 0x70}, {"MECHANISM_PARAM_INVALID", 0x71}, {"OBJECT_HANDLE_INVALID", 0x82},
		{"OPERATION_ACTIVE", 0x90}, {"OPERATION_NOT_INITIALIZED", 0x91}, {"PIN_INCORRECT", 0xA0},
		{"PIN_INVALID", 0xA1}, {"PIN_LEN_RANGE", 0xA2}, {"PIN_EXPIRED", 0xA3}, {"PIN_LOCKED", 0xA4},
		{"SESSION_CLOSED", 0xB0}, {"SESSION_COUNT", 0xB1}, {"SESSION_HANDLE_INVALID", 0xB3},
		{"SESSION_PARALLEL_NOT_SUPPORTED", 0xB4}, {"SESSION_READ_ONLY", 0xB5}, {"SESSION_EXISTS", 0xB6},
		{"SESSION_READ_ONLY_EXISTS", 0xB7}, {"SESSION_READ_WRITE_SO_EXISTS", 0xB8},
		{"SIGNATURE_INVALID", 0xC0}, {"SIGNATURE_LEN_RANGE", 0xC1}, {"TEMPLATE_INCOMPLETE", 0xD0},
		{"TEMPLATE_INCONSISTENT", 0xD1}, {"TOKEN_NOT_PRESENT", 0xE0}, {"TOKEN_NOT_RECOGNIZED", 0xE1},
		{"TOKEN_WRITE_PROTECTED", 0xE2}, {"UNWRAPPING_KEY_HANDLE_INVALID", 0xF0},
		{"UNWRAPPING_KEY_SIZE_RANGE", 0xF1}, {"UNWRAPPING_KEY_TYPE_INCONSISTENT", 0xF2},
		{"USER_ALREADY_LOGGED_IN", 0x100}, {"USER_NOT_LOGGED_IN", 0x101}, {"USER_PIN_NOT_INITIALIZED", 0x102},
		{"USER_TYPE_INVALID", 0x103}, {"USER_ANOTHER_ALREADY_LOGGED_IN", 0x104}, {"USER_TOO_MANY_TYPES", 0x105},
		{"WRAPPED_KEY_INVALID", 0x110}, {"WRAPPED_KEY_LEN_RANGE", 0x112}, {"WRAPPING_KEY_HANDLE_INVALID", 0x113},
		{"WRAPPING_KEY_SIZE_RANGE", 0x114}, {"WRAPPING_KEY_TYPE_INCONSISTENT", 0x115},
		{"RANDOM_SEED_NOT_SUPPORTED", 0x120}, {"RANDOM_NO_RNG", 0x121}, {"DOMAIN_PARAMS_INVALID", 0x130},
		{"CURVE_NOT_SUPPORTED", 0x140}, {"BUFFER_TOO_SMALL", 0x150}, {"SAVED_STATE_INVALID", 0x160},
		{"INFORMATION_SENSITIVE", 0x170}, {"STATE_UNSAVEABLE", 0x180}, {"CRYPTOKI_NOT_INITIALIZED", 0x190},
		{"CRYPTOKI_ALREADY_INITIALIZED", 0x191}, {"MUTEX_BAD", 0x1A0}, {"MUTEX_NOT_LOCKED", 0x1A1},
		{"FUNCTION_REJECTED", 0x200}, {"VENDOR_DEFINED", 0x80000000},
	}
	r := enumSet{Name: "PKCS_11ReturnCode", Refs: []string{"KMIP 2.1 §11.39", "PKCS#11 3.0 CK_RV"}}
	for _, rc := range rcs {
		r.Values = append(r.Values, enumEntry{Name: rc.name, Spec: "CKR_" + rc.name, Value: fmt.Sprintf("0x%08X", rc.v), Versions: []string{"2.1"}})
	}
	return []enumSet{f, r}
}
