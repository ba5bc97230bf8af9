package kmip

// KMIP 1.x allocated tags and enumeration values in increasing order, one
// block per minor version, so the first version defining a tag or value is
// a range lookup; KMIP 2.0 and 2.1 did the same. The block boundaries are
// those of the KMIP 1.1-1.4 specifications' tag tables (§9.1.3.1) and of
// KMIP 2.0 as PyKMIP's enums record them, and of the KMIP 2.1 tables
// (§8 tags, §11 enumerations) for what 2.1 added.

// since is a version block: values from first on were introduced in major.minor.
type since struct {
	first        uint32
	major, minor int32
}

// tagBlocks are the blocks of the standard tags 0x420001-0x42FFFF.
var tagBlocks = []since{
	{0x420001, 1, 0},
	{0x4200A2, 1, 1}, // Device Identifier ...
	{0x4200B8, 1, 2}, // Key Value Location ...
	{0x4200D4, 1, 3}, // Offset Items ...
	{0x4200F8, 1, 4}, // Key Wrap Type ... Replace Existing (0x420124)
	{0x420125, 2, 0}, // Attributes ... Public Protection Storage Masks (0x420165)
	{0x420166, 2, 1}, // Object Groups, Constraints, Rotate ..., Asynchronous Request ...
}

// enumBlocks are the blocks of the enumerations whose values a server lists
// (Query answers) or answers with (Result Reason); other enumerations are
// not split by version here.
var enumBlocks = map[Tag][]since{
	TagOperation: {
		{0x01, 1, 0}, {0x1D, 1, 1}, // Re-key Key Pair, Discover Versions
		{0x1F, 1, 2}, // Encrypt ... Join Split Key
		{0x2A, 1, 4}, // Import, Export
		{0x2C, 2, 0}, // Log ... ReProvision
		{0x36, 2, 1}, // Set Defaults ... Ping
	},
	TagObjectType: {{0x01, 1, 0}, {0x09, 1, 2}, {0x0A, 2, 0}}, // PGP Key; Certificate Request
	// Result Reasons: each joined the version that brought the field or
	// feature it reports on (Encoding Option 1.1; Key Value Location and
	// Attestation 1.2; Sensitive, Extractable and Import 1.4), as the KMIP
	// 1.4 §9.1.3.2.29 table lists them; 2.0 defined 0x19-0x49 (its Table
	// 440 ends with Private and Public Protection Storage Unavailable,
	// 0x48-0x49, which PyKMIP's 2.0 enums omit) and 2.1 0x4A on (Unknown
	// Object Group, Constraint Violation, Duplicate Process Request).
	// General Failure is KMIP 1.0.
	TagResultReason: {
		{0x01, 1, 0},
		{0x12, 1, 1},  // Encoding Option Error
		{0x13, 1, 2},  // Key Value Not Present, Attestation Required/Failed
		{0x16, 1, 4},  // Sensitive, Not Extractable, Object Already Exists
		{0x19, 2, 0},  // Invalid Ticket ... Public Protection Storage Unavailable (0x49)
		{0x4A, 2, 1},  // Unknown Object Group ... Duplicate Process Request
		{0x100, 1, 0}, // General Failure
	},
	TagProfileName: {
		{0x01, 1, 3}, // the KMIPv1.0-v1.3 profiles
		{0x79, 1, 4}, // the KMIPv1.4 profiles
		{0x9D, 2, 0},
	},
}

// blockOf returns the version of the last block starting at or below v.
func blockOf(blocks []since, v uint32) (major, minor int32) {
	major, minor = blocks[0].major, blocks[0].minor
	for _, b := range blocks {
		if v >= b.first {
			major, minor = b.major, b.minor
		}
	}
	return major, minor
}

func atLeast(major, minor, wantMajor, wantMinor int32) bool {
	return major > wantMajor || (major == wantMajor && minor >= wantMinor)
}

// removedIn2 are the KMIP 1.x tags KMIP 2.0 designated "(Reserved)" (the
// KMIP 2.1 §8 tag table lists them so; PyKMIP's enums mark them "designated
// '(Reserved)' in KMIP 2.0"): templates and their Template-Attributes,
// Operation Policy Name, Custom Attribute (2.x has Vendor Attribute),
// Attribute Index, and the deprecated certificate identification attributes.
var removedIn2 = map[Tag]bool{
	TagAttributeIndex:                      true,
	TagCertificateIdentifier:               true,
	TagCertificateIssuer:                   true,
	TagCertificateIssuerAlternativeName:    true,
	TagCertificateIssuerDistinguishedName:  true,
	TagCertificateSubject:                  true,
	TagCertificateSubjectAlternativeName:   true,
	TagCertificateSubjectDistinguishedName: true,
	TagCommonTemplateAttribute:             true,
	TagCustomAttribute:                     true,
	TagIssuer:                              true,
	TagOperationPolicyName:                 true,
	TagPrivateKeyTemplateAttribute:         true,
	TagPublicKeyTemplateAttribute:          true,
	TagSerialNumber:                        true,
	TagTemplate:                            true,
	TagTemplateAttribute:                   true,
}

// RemovedIn reports whether tag t is a KMIP 1.x tag that protocol version
// major.minor no longer defines (KMIP 2.0 on: removedIn2).
func RemovedIn(t Tag, major, minor int32) bool {
	return major >= 2 && removedIn2[t]
}

// TagDefinedIn reports whether protocol version major.minor defines tag t:
// the tag was introduced in that version or before, and KMIP 2.x did not
// remove it (RemovedIn). Extension tags (0x54xxxx) are defined in every
// version.
func TagDefinedIn(t Tag, major, minor int32) bool {
	if uint32(t) < 0x420001 || uint32(t) > 0x42FFFF {
		return true
	}
	if RemovedIn(t, major, minor) {
		return false
	}
	sinceMajor, sinceMinor := blockOf(tagBlocks, uint32(t))
	return atLeast(major, minor, sinceMajor, sinceMinor)
}

// EnumDefinedIn reports whether protocol version major.minor defines value v
// of the enumeration of tag t; values of enumerations not split by version
// (and extension values, 0x8xxxxxxx) are defined in every version.
func EnumDefinedIn(t Tag, v uint32, major, minor int32) bool {
	blocks, ok := enumBlocks[t]
	if !ok || v >= 0x80000000 {
		return true
	}
	sinceMajor, sinceMinor := blockOf(blocks, v)
	return atLeast(major, minor, sinceMajor, sinceMinor)
}
