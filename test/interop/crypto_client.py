#!/usr/bin/python3
"""Cryptographic-operation scenarios run against kmipd with PyKMIP's
ProxyKmipClient (Debian python3-pykmip 0.10): create_key_pair, sign,
signature_verify, encrypt, decrypt, mac, derive_key and get with a
key_wrapping_specification.

Same stdin/stdout protocol as pykmip_client.py, whose Scenario class and
helpers it reuses; the scenario name is "crypto". Key material is compared
inside this process and never printed.
"""

import contextlib
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from kmip.core import enums
from kmip.pie import objects as pie_objects

from pykmip_client import check, expect_failure, run

R = enums.ResultReason
M = enums.CryptographicUsageMask


@contextlib.contextmanager
def opened(s, cert=None, key=None):
    """An open client (Scenario.client opens it), closed afterwards."""
    c = s.client(cert, key)
    try:
        yield c
    finally:
        c.close()


def active_key(s, c, alg, length, masks, name):
    uid = c.create(alg, length, name="%s-%s" % (name, s.tag), cryptographic_usage_mask=masks)
    c.activate(uid)
    return uid


def key_pair_sign(s):
    def run():
        with opened(s) as c:
            pub, priv = c.create_key_pair(
                enums.CryptographicAlgorithm.RSA, 2048,
                public_name="pub-" + s.tag, public_usage_mask=[M.VERIFY],
                private_name="priv-" + s.tag, private_usage_mask=[M.SIGN])
            check(pub != priv, "the two halves share an identifier")
            c.activate(priv)
            c.activate(pub)
            got = c.get(priv)
            check(isinstance(got, pie_objects.PrivateKey), "Get of the private key returned %s" % type(got).__name__)
            params = {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
                "padding_method": enums.PaddingMethod.PKCS1v15,
            }
            sig = c.sign(b"the message", uid=priv, cryptographic_parameters=params)
            ok = c.signature_verify(b"the message", sig, uid=pub, cryptographic_parameters=params)
            check(ok == enums.ValidityIndicator.VALID, "valid signature reported %s" % ok)
            bad = c.signature_verify(b"another message", sig, uid=pub, cryptographic_parameters=params)
            check(bad == enums.ValidityIndicator.INVALID, "forged message reported %s" % bad)
            return {"signature_bytes": len(sig)}
    s.flow(lambda: s.step("create_key_pair/sign/signature_verify", run))


def encrypt_decrypt(s):
    def run():
        with opened(s) as c:
            uid = active_key(s, c, enums.CryptographicAlgorithm.AES, 256, [M.ENCRYPT, M.DECRYPT], "enc")
            params = {
                "block_cipher_mode": enums.BlockCipherMode.CBC,
                "padding_method": enums.PaddingMethod.PKCS5,
                "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                "random_iv": True,
            }
            plain = b"forty-two bytes of perfectly ordinary text"
            ct, iv = c.encrypt(plain, uid=uid, cryptographic_parameters=params)
            check(iv is not None and len(iv) == 16, "no 16-byte IV returned for CBC with Random IV")
            check(len(ct) == 48 and ct[:16] != plain[:16], "ciphertext has the wrong shape")
            del params["random_iv"]
            back = c.decrypt(ct, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv)
            check(back == plain, "decrypt did not return the plaintext")
            return {"ciphertext_bytes": len(ct)}
    s.flow(lambda: s.step("encrypt/decrypt", run))

    def refusals():
        with opened(s) as c:
            uid = c.create(enums.CryptographicAlgorithm.AES, 128, cryptographic_usage_mask=[M.ENCRYPT])
            params = {"block_cipher_mode": enums.BlockCipherMode.ECB,
                      "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
            state = {R.PERMISSION_DENIED} if not s.v2 else {R.WRONG_KEY_LIFECYCLE_STATE}
            saw = {"pre_active": expect_failure(lambda: c.encrypt(b"0" * 16, uid=uid, cryptographic_parameters=params), state)}
            c.activate(uid)
            # PyKMIP's create always sets Encrypt and Decrypt; MAC Generate is missing.
            mask = {R.PERMISSION_DENIED} if not s.v2 else {R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK}
            saw["no_mac_bit"] = expect_failure(
                lambda: c.mac(b"data", uid=uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256), mask)
        with opened(s, s.args["bob_cert"], s.args["bob_key"]) as bob:
            saw["other_owner"] = expect_failure(
                lambda: bob.encrypt(b"0" * 16, uid=uid, cryptographic_parameters=params), {R.PERMISSION_DENIED})
        return saw
    s.flow(lambda: s.step("encrypt refusals", refusals))


def mac(s):
    def run():
        with opened(s) as c:
            uid = active_key(s, c, enums.CryptographicAlgorithm.HMAC_SHA256, 256, [M.MAC_GENERATE, M.MAC_VERIFY], "mac")
            key = c.get(uid).value
            got_uid, tag = c.mac(b"authenticate me", uid=uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
            check(got_uid == uid, "MAC answered for another key")
            h = hmac.HMAC(key, hashes.SHA256())
            h.update(b"authenticate me")
            check(tag == h.finalize(), "MAC differs from HMAC-SHA256 computed locally")
            return {"mac_bytes": len(tag)}
    s.flow(lambda: s.step("mac", run))


def derive_key(s):
    def run():
        with opened(s) as c:
            base = active_key(s, c, enums.CryptographicAlgorithm.AES, 256, [M.DERIVE_KEY], "base")
            params = {
                "cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256},
                "derivation_data": b"kmipd interop context",
            }
            uids = [c.derive_key(enums.ObjectType.SYMMETRIC_KEY, [base], enums.DerivationMethod.HMAC, params,
                                 cryptographic_length=128, cryptographic_algorithm=enums.CryptographicAlgorithm.AES)
                    for _ in range(2)]
            keys = [c.get(u) for u in uids]
            check(all(len(k.value) == 16 for k in keys), "derived keys are not 128 bits")
            check(keys[0].value == keys[1].value, "the same derivation gave different keys")
            h = hmac.HMAC(c.get(base).value, hashes.SHA256())
            h.update(b"kmipd interop context")
            check(keys[0].value == h.finalize()[:16], "derived key differs from HMAC-SHA256(base, data)")
            no_bit = active_key(s, c, enums.CryptographicAlgorithm.AES, 128, [M.ENCRYPT], "nobit")
            want = {R.INVALID_FIELD} if not s.v2 else {R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK}
            refused = expect_failure(lambda: c.derive_key(
                enums.ObjectType.SYMMETRIC_KEY, [no_bit], enums.DerivationMethod.HMAC, params,
                cryptographic_length=128, cryptographic_algorithm=enums.CryptographicAlgorithm.AES), want)
            return {"derived": len(uids), "no_derive_bit": refused}
    s.flow(lambda: s.step("derive_key", run))


def wrap(s):
    def run():
        with opened(s) as c:
            kek = active_key(s, c, enums.CryptographicAlgorithm.AES, 256, [M.WRAP_KEY, M.UNWRAP_KEY], "kek")
            target = c.create(enums.CryptographicAlgorithm.AES, 128, cryptographic_usage_mask=[M.ENCRYPT])
            spec = {
                "wrapping_method": enums.WrappingMethod.ENCRYPT,
                "encryption_key_information": {
                    "unique_identifier": kek,
                    "cryptographic_parameters": {"block_cipher_mode": enums.BlockCipherMode.NIST_KEY_WRAP},
                },
                "encoding_option": enums.EncodingOption.NO_ENCODING,
            }
            wrapped = c.get(target, key_wrapping_specification=spec)
            wd = wrapped.key_wrapping_data
            check(wd and wd.get("wrapping_method") == enums.WrappingMethod.ENCRYPT, "no Key Wrapping Data")
            clear = c.get(target).value
            check(wrapped.value != clear, "the key came back unwrapped")
            check(aes_key_unwrap(c.get(kek).value, wrapped.value) == clear, "RFC 3394 unwrap does not give the key")
            no_bit = active_key(s, c, enums.CryptographicAlgorithm.AES, 256, [M.ENCRYPT], "nowrap")
            spec["encryption_key_information"]["unique_identifier"] = no_bit
            want = {R.PERMISSION_DENIED} if not s.v2 else {R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK}
            refused = expect_failure(lambda: c.get(target, key_wrapping_specification=spec), want)
            return {"wrapped_bytes": len(wrapped.value), "no_wrap_bit": refused}
    s.flow(lambda: s.step("get with key_wrapping_specification", run))


def all_flows(s):
    for flow in (key_pair_sign, encrypt_decrypt, mac, derive_key, wrap):
        flow(s)


if __name__ == "__main__":
    sys.exit(run(all_flows))
