package app

import (
	"crypto/x509"

	"github.com/kmipd/kmipd/domain/kmip"
)

// ecAlgFor names EC keys for a client of version v: KMIP 1.4 and 2.x have
// the generic EC algorithm; older clients know only ECDSA.
func ecAlgFor(v version, alg kmip.CryptographicAlgorithm) kmip.CryptographicAlgorithm {
	if alg == kmip.CryptographicAlgorithmEC && !v.atLeast(1, 4) {
		return kmip.CryptographicAlgorithmECDSA
	}
	return alg
}

// parseCertificate parses an X.509 certificate, refusing one that does not.
// A certificate whose key is on a curve Go cannot use is read without its
// key (parseForeignECCertificate): Register stores it as registered.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		if cert, _, ok := parseForeignECCertificate(der); ok {
			return cert, nil
		}
		return nil, invalidField("Certificate Value is not a DER X.509 certificate: %v", err)
	}
	return cert, nil
}

// sameAlgorithmFamily accepts ECDSA, ECDH and ECMQV for a key the material
// says is EC: the client names the use, the material only the curve.
func sameAlgorithmFamily(client, derived *kmip.Item) bool {
	d, ok := derived.AsEnum()
	if !ok || derived.Tag != kmip.TagCryptographicAlgorithm {
		return false
	}
	c, _ := client.AsEnum()
	ec := map[kmip.CryptographicAlgorithm]bool{kmip.CryptographicAlgorithmEC: true, kmip.CryptographicAlgorithmECDSA: true,
		kmip.CryptographicAlgorithmECDH: true, kmip.CryptographicAlgorithmECMQV: true}
	return ec[kmip.CryptographicAlgorithm(d)] && ec[kmip.CryptographicAlgorithm(c)]
}
