package main

import "testing"

// TestNormalizeName checks the XML-encoding name rule (KMIP Profiles 1.4 §5.4.1.1)
// against names the OASIS conformance cases use.
func TestNormalizeName(t *testing.T) {
	for spec, want := range map[string]string{
		"Symmetric Key":                        "SymmetricKey",
		"Pre-Active":                           "PreActive",
		"SHA-256":                              "SHA_256",
		"PKCS#1":                               "PKCS_1",
		"X.509":                                "X_509",
		"3DES":                                 "DES3",
		"HMAC-SHA256":                          "HMAC_SHA256",
		"Transparent RSA Private Key":          "TransparentRSAPrivateKey",
		"Tape Library Server KMIP v1.2":        "TapeLibraryServerKMIPV1_2",
		"Content Commitment (Non Repudiation)": "ContentCommitmentNonRepudiation",
		"On-line storage":                      "OnLineStorage",
		"X.509 Certificate Identifier":         "X_509CertificateIdentifier",
		"PKCS#11 Function":                     "PKCS_11Function",
		"Polynomial Sharing GF (2^8)":          "PolynomialSharingGF2_8",
	} {
		if got := NormalizeName(spec); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", spec, got, want)
		}
	}
}
