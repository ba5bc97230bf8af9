#!/usr/bin/python3
"""Object-type and key-format interoperability scenario against kmipd.

Run with Debian's /usr/bin/python3 (python3-pykmip 0.10). Reads the same JSON
object on stdin as pykmip_client.py (host, port, ca, cert, key,
kmip_version; the scenario field is ignored) and prints one JSON line per
step in the same shape, ending with {"step": "done", "ok": true} when every
step passed.

For every object type PyKMIP's client can register (X.509 Certificate,
Public Key in PKCS#1 and X.509, Private Key in PKCS#1, PKCS#8 and EC, Secret
Data, Opaque Object, Split Key) it registers one made here, gets it back and
compares; then it gets keys in another Key Format Type and checks the
conversion with the cryptography library, and checks the refusals (a
conversion that does not exist, malformed key material). Keys are generated
here and compared in this process; none is printed.
"""

import datetime
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pykmip_client as base  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from kmip.core import enums  # noqa: E402
from kmip.pie import objects as pie_objects  # noqa: E402

KFT = enums.KeyFormatType
R = enums.ResultReason
DER = serialization.Encoding.DER
NOENC = serialization.NoEncryption()
check = base.check


def self_signed(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kmipd")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def get_as(c, uid, fmt):
    """Get with a Key Format Type (the proxy's get: ProxyKmipClient.get has
    no format parameter); returns the Key Format Type and key material of
    the answer's Key Block (PyKMIP's Pie objects refuse some formats, e.g.
    ECPrivateKey), or raises like the client."""
    res = c.proxy.get(uid, key_format_type=types.SimpleNamespace(value=fmt))
    if res.result_status.value != enums.ResultStatus.SUCCESS:
        raise base.pie_exceptions.KmipOperationFailure(
            res.result_status.value, res.result_reason.value,
            res.result_message.value)
    kb = res.secret.key_block
    return kb.key_format_type.value, kb.key_value.key_material.value


def run(s):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(rsa_key, "objects-" + s.tag)
    pub = rsa_key.public_key()
    rsa_alg = enums.CryptographicAlgorithm.RSA
    ec_alg = enums.CryptographicAlgorithm.ECDSA
    pkcs1_pub = pub.public_bytes(DER, serialization.PublicFormat.PKCS1)
    spki = pub.public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs1_priv = rsa_key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NOENC)
    pkcs8_priv = rsa_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NOENC)
    ec_pkcs8 = ec_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NOENC)
    mask = [enums.CryptographicUsageMask.SIGN]
    vmask = [enums.CryptographicUsageMask.VERIFY]
    uids = {}

    objs = [
        ("certificate", pie_objects.X509Certificate(cert.public_bytes(DER)),
         lambda o: o.value == cert.public_bytes(DER)),
        ("public-pkcs1", pie_objects.PublicKey(rsa_alg, 2048, pkcs1_pub, KFT.PKCS_1, vmask),
         lambda o: o.value == pkcs1_pub and o.key_format_type == KFT.PKCS_1),
        ("public-x509", pie_objects.PublicKey(rsa_alg, 2048, spki, KFT.X_509, vmask),
         lambda o: o.value == spki and o.key_format_type == KFT.X_509),
        ("private-pkcs1", pie_objects.PrivateKey(rsa_alg, 2048, pkcs1_priv, KFT.PKCS_1, mask),
         lambda o: o.value == pkcs1_priv),
        ("private-pkcs8", pie_objects.PrivateKey(rsa_alg, 2048, pkcs8_priv, KFT.PKCS_8, mask),
         lambda o: o.value == pkcs8_priv),
        ("private-ec-pkcs8", pie_objects.PrivateKey(ec_alg, 256, ec_pkcs8, KFT.PKCS_8, mask),
         lambda o: o.value == ec_pkcs8),
        # KMIP 1.4 §2.1.3: PKCS8 admits the RSAPrivateKey syntax (what
        # PyKMIP's own tests send) and Raw is any byte encoding; both come
        # back as registered.
        ("private-pkcs8-label-pkcs1", pie_objects.PrivateKey(rsa_alg, 2048, pkcs1_priv, KFT.PKCS_8, mask),
         lambda o: o.value == pkcs1_priv and o.key_format_type == KFT.PKCS_8),
        ("private-raw", pie_objects.PrivateKey(rsa_alg, 2048, pkcs8_priv, KFT.RAW, mask),
         lambda o: o.value == pkcs8_priv and o.key_format_type == KFT.RAW),
        ("public-raw", pie_objects.PublicKey(rsa_alg, 2048, spki, KFT.RAW, vmask),
         lambda o: o.value == spki and o.key_format_type == KFT.RAW),
        ("secret-data", pie_objects.SecretData(b"pw-" + s.tag.encode(), enums.SecretDataType.PASSWORD),
         lambda o: o.value == b"pw-" + s.tag.encode()),
        ("opaque", pie_objects.OpaqueObject(b"opaque-" + s.tag.encode(), enums.OpaqueDataType.NONE),
         lambda o: o.value == b"opaque-" + s.tag.encode()),
        ("split-key", pie_objects.SplitKey(
            cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=128,
            key_value=bytes(range(16)), key_format_type=KFT.RAW, split_key_parts=3,
            key_part_identifier=2, split_key_threshold=2,
            split_key_method=enums.SplitKeyMethod.XOR),
         lambda o: o.value == bytes(range(16)) and o.split_key_parts == 3
         and o.key_part_identifier == 2 and o.split_key_threshold == 2
         and o.split_key_method == enums.SplitKeyMethod.XOR),
    ]

    for label, obj, same in objs:
        def one(label=label, obj=obj, same=same):
            c = s.client()
            try:
                def reg():
                    uids[label] = c.register(obj)
                    return {"uid": uids[label]}
                s.step("register-" + label, reg)

                def get():
                    got = c.get(uids[label])
                    check(type(got) is type(obj), "got a %s" % type(got).__name__)
                    check(same(got), "%s came back different" % label)
                    return {"type": type(got).__name__}
                s.step("get-" + label, get)
            finally:
                c.close()
        s.flow(one)

    def certificate_attributes():
        if "certificate" not in uids:
            return s.skip("certificate-attributes", "certificate not registered")
        c = s.client()
        try:
            want = {"Certificate Type": ["X_509"],
                    "Certificate Length": [len(cert.public_bytes(DER))]}
            names = [n for n in want if base.decodable(s, n)]
            if not names:
                return s.skip("certificate-attributes",
                              "PyKMIP cannot decode certificate attributes at KMIP %s" % s.args["kmip_version"])

            def attrs():
                _, got = c.get_attributes(uids["certificate"], names)
                m = base.attr_map(got)
                for n in names:
                    check(m.get(n) == want[n], "%s %r, want %r" % (n, m.get(n), want[n]))
                return m
            s.step("certificate-attributes", attrs)
        finally:
            c.close()
    s.flow(certificate_attributes)

    conversions = [
        ("public-pkcs1", KFT.X_509, lambda b: b == spki),
        ("public-x509", KFT.PKCS_1, lambda b: b == pkcs1_pub),
        ("private-pkcs1", KFT.PKCS_8,
         lambda b: serialization.load_der_private_key(b, None).private_numbers() == rsa_key.private_numbers()),
        ("private-pkcs8", KFT.PKCS_1,
         lambda b: serialization.load_der_private_key(b, None).private_numbers() == rsa_key.private_numbers()),
        ("private-ec-pkcs8", KFT.EC_PRIVATE_KEY,
         lambda b: serialization.load_der_private_key(b, None).private_numbers() == ec_key.private_numbers()),
        ("private-pkcs8-label-pkcs1", KFT.PKCS_1, lambda b: b == pkcs1_priv),
        ("private-raw", KFT.PKCS_1, lambda b: b == pkcs1_priv),
        ("public-raw", KFT.PKCS_1, lambda b: b == pkcs1_pub),
    ]
    for label, fmt, ok in conversions:
        def convert(label=label, fmt=fmt, ok=ok):
            if label not in uids:
                return s.skip("get-%s-as-%s" % (label, fmt.name), "not registered")
            c = s.client()
            try:
                def run_get():
                    got_fmt, material = get_as(c, uids[label], fmt)
                    check(got_fmt == fmt, "format %s" % got_fmt)
                    check(ok(material), "%s as %s is not the same key" % (label, fmt.name))
                    return {"format": fmt.name}
                s.step("get-%s-as-%s" % (label, fmt.name), run_get)
            finally:
                c.close()
        s.flow(convert)

    def sign_with_labelled_keys():
        if "private-pkcs8-label-pkcs1" not in uids or "public-raw" not in uids:
            return s.skip("sign-pkcs8-labelled-verify-raw", "keys not registered")
        c = s.client()
        try:
            def run_sign():
                priv, pub = uids["private-pkcs8-label-pkcs1"], uids["public-raw"]
                c.activate(priv)
                c.activate(pub)
                p = {"cryptographic_algorithm": rsa_alg, "padding_method": enums.PaddingMethod.PSS,
                     "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
                sig = c.sign(b"signed by a relabelled key", uid=priv, cryptographic_parameters=p)
                ok = c.signature_verify(b"signed by a relabelled key", sig, uid=pub, cryptographic_parameters=p)
                check(ok == enums.ValidityIndicator.VALID, "signature %s" % ok)
                return {"verified": True}
            s.step("sign-pkcs8-labelled-verify-raw", run_sign)
        finally:
            c.close()
    s.flow(sign_with_labelled_keys)

    def refusals():
        c = s.client()
        try:
            def no_conversion():
                uid = c.register(pie_objects.SymmetricKey(
                    enums.CryptographicAlgorithm.AES, 128, bytes(16), [enums.CryptographicUsageMask.ENCRYPT]))
                return base.expect_failure(lambda: get_as(c, uid, KFT.PKCS_1),
                                           {R.KEY_FORMAT_TYPE_NOT_SUPPORTED})
            s.step("get-symmetric-as-pkcs1-refused", no_conversion)

            def malformed():
                return base.expect_failure(lambda: c.register(pie_objects.PublicKey(
                    rsa_alg, 2048, b"\x30\x03\x02\x01\x01", KFT.PKCS_1, vmask)), {R.INVALID_FIELD})
            s.step("register-malformed-public-key-refused", malformed)

            def wrong_kind():
                return base.expect_failure(lambda: c.register(pie_objects.PrivateKey(
                    rsa_alg, 2048, spki, KFT.PKCS_8, mask)), {R.INVALID_FIELD})
            s.step("register-public-material-as-private-refused", wrong_kind)
        finally:
            c.close()
    s.flow(refusals)


if __name__ == "__main__":
    sys.exit(base.run(run))
