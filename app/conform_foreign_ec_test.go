package app

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// OpenSSL-made test vectors: a brainpoolP256r1 private key (PKCS#8), a P-256
// private key with explicit curve parameters (PKCS#8), and a self-signed
// brainpoolP256r1 certificate (CN "bp").
const (
	brainpoolPKCS8Hex = "308188020100301406072a8648ce3d020106092b2403030208010107046d306b02010104205ce82f19ae0974ec290baf15e895587becafd14589d04677052bd96beb4bfd23a1440342000487ae66573b48d60f83061654bdce2a7a412d52f7de8ed6e5ba050fbf1260f2311469d2429184f7ccbe8b94093f383dfe647888ef7786047b51e5b329413ea04c"
	explicitP256Hex   = "308201790201003082010306072a8648ce3d02013081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101046d306b02010104200a3be21190dac7361ac2ed567f7da5359b403edfebfa404d79679f600217dc33a14403420004b2d65adc347a38345941b06a5450756caced5bed472b585ac6ec7e5f0557c281ffa56960fc40a68e1ab8414c120c71be511fc6ca614f94d624214b4079c42c1f"
	brainpoolCertHex  = "3082017030820116a003020102021468d694a5b6a7a2762f0d3a412bdcb8071540be64300a06082a8648ce3d040302300d310b300906035504030c026270301e170d3236313230373134333532335a170d3236313230393134333532335a300d310b300906035504030c026270305a301406072a8648ce3d020106092b24030302080101070342000487ae66573b48d60f83061654bdce2a7a412d52f7de8ed6e5ba050fbf1260f2311469d2429184f7ccbe8b94093f383dfe647888ef7786047b51e5b329413ea04ca3533051301d0603551d0e041604140f1685ddced69181105798c36f30d29ed3e241e3301f0603551d230418301680140f1685ddced69181105798c36f30d29ed3e241e3300f0603551d130101ff040530030101ff300a06082a8648ce3d040302034800304502201308857e0c49f0a9e5e64560a10e2cf544f708a97eeb95c45cb050f19d64c07102210082c0e6839e7f1eca08d9d195998e89515ae00ecb54932767fed763a5990004e6"
)

func fromHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForeignECMaterialStoredAsRegistered: EC keys and certificates on
// curves Go cannot use (brainpool, explicit parameters) are registered at
// every version (Register must not depend on parsing what it only stores),
// with the attributes they determine; Get returns them as registered, and
// an operation that needs the curve is refused naming it.
func TestForeignECMaterialStoredAsRegistered(t *testing.T) {
	t.Parallel()
	bp, explicit, cert := fromHex(t, brainpoolPKCS8Hex), fromHex(t, explicitP256Hex), fromHex(t, brainpoolCertHex)
	for _, v := range allVersions {
		s := newCryptoService()
		ecAlg := ecAlgFor(v, kmip.CryptographicAlgorithmEC)
		for name, der := range map[string][]byte{"brainpool": bp, "explicit": explicit} {
			what := v.String() + " " + name
			key := kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(der)))
			req := register(kmip.ObjectTypePrivateKey, key, attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskSign))))
			if v.major >= 2 {
				req = register21(kmip.ObjectTypePrivateKey, key, mask(kmip.CryptographicUsageMaskSign))
			}
			r := sendOne(t, s, alice, v, req)
			if r.status != kmip.ResultStatusSuccess {
				t.Errorf("%s: Register refused: %s", what, r.reason)
				continue
			}
			id := createdID(t, r)
			kb, _ := getBlock(t, s, v, id, kmip.TagPrivateKey, 0)
			if m, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(m, der) {
				t.Errorf("%s: Get did not return the key as registered", what)
			}
			a := attrsOf(t, s, id)
			if alg := a["Cryptographic Algorithm"]; len(alg) != 1 || alg[0].Value != uint32(ecAlg) {
				t.Errorf("%s: algorithm %v, want %s", what, alg, ecAlg)
			}
			if l := a["Cryptographic Length"]; len(l) != 1 || l[0].Value != int32(256) {
				t.Errorf("%s: length %v, want 256", what, l)
			}
			if !v.atLeast(1, 2) {
				continue // Sign exists from KMIP 1.2
			}
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(id))))
			resp, _ := send(t, s, alice, msg(v, batchItem(kmip.OperationSign, uidItem(id), kmip.Bytes(kmip.TagData, []byte("m")))))
			item := resp.Child(kmip.TagBatchItem)
			reason, _ := item.Child(kmip.TagResultReason).AsEnum()
			m, _ := item.Child(kmip.TagResultMessage).AsText()
			if kmip.ResultReason(reason) != kmip.ResultReasonFeatureNotSupported || !strings.Contains(m, "elliptic curve") {
				t.Errorf("%s: Sign answered %s %q, want Feature Not Supported naming the curve", what, kmip.ResultReason(reason), m)
			}
		}

		r := sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypeCertificate, kmip.Struct(kmip.TagCertificate,
			kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)), kmip.Bytes(kmip.TagCertificateValue, cert))))
		if r.status != kmip.ResultStatusSuccess {
			t.Errorf("%s: brainpool certificate refused: %s", v, r.reason)
			continue
		}
		a := attrsOf(t, s, createdID(t, r))
		if l := a["Cryptographic Length"]; len(l) != 1 || l[0].Value != int32(256) {
			t.Errorf("%s: certificate key length %v, want 256", v, l)
		}
		if len(a["X.509 Certificate Subject"]) != 1 {
			t.Errorf("%s: the certificate's subject was not derived", v)
		}
	}
}
