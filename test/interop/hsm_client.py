#!/usr/bin/python3
"""Scenarios run with PyKMIP's ProxyKmipClient (Debian python3-pykmip 0.10)
against kmipd whose crypto engine is PKCS#11 on a SoftHSM2 token, keys not
extractable: create and use keys that live in the token, refuse Get of
their material, register a known key into the token and check its
ciphertext against Python's own AES, sign with a token RSA key, and
destroy. Every identifier the Go test must check in the token itself is
reported in the step's "saw" (identifiers only, never key material).

Same stdin/stdout protocol as pykmip_client.py, whose Scenario class and
helpers it reuses.
"""

import contextlib
import os
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kmip.core import enums
from kmip.pie import objects as pie_objects

from pykmip_client import check, expect_failure, run

R = enums.ResultReason
M = enums.CryptographicUsageMask


@contextlib.contextmanager
def opened(s):
    c = s.client()
    try:
        yield c
    finally:
        c.close()


CBC = {
    "block_cipher_mode": enums.BlockCipherMode.CBC,
    "padding_method": enums.PaddingMethod.PKCS5,
    "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
}


def not_extractable(s):
    # KMIP 1.4 and 2.x name the reason; earlier versions answer Permission Denied.
    if s.args["kmip_version"] in ("1.0", "1.1", "1.2", "1.3"):
        return {R.PERMISSION_DENIED}
    return {R.NOT_EXTRACTABLE}


def token_key(s):
    def run():
        with opened(s) as c:
            uid = c.create(enums.CryptographicAlgorithm.AES, 256, name="hsm-aes-" + s.tag,
                           cryptographic_usage_mask=[M.ENCRYPT, M.DECRYPT])
            c.activate(uid)
            plain = b"a secret that only the token can read back"
            params = dict(CBC, random_iv=True)
            ct, iv = c.encrypt(plain, uid=uid, cryptographic_parameters=params)
            check(iv is not None and len(iv) == 16, "no 16-byte IV returned")
            check(len(ct) == 48, "ciphertext of %d bytes, want 48" % len(ct))
            back = c.decrypt(ct, uid=uid, cryptographic_parameters=CBC, iv_counter_nonce=iv)
            check(back == plain, "decrypt did not return the plaintext")
            refused = expect_failure(lambda: c.get(uid), not_extractable(s))
            # (PyKMIP 0.10 cannot decode the Extractable attribute; the Go
            # test asks the token itself instead.)
            return {"aes_id": uid, "get": refused}
    s.flow(lambda: s.step("create/encrypt/decrypt in the token, get refused", run))


def registered_key(s):
    def run():
        key = os.urandom(32)
        with opened(s) as c:
            uid = c.register(pie_objects.SymmetricKey(
                enums.CryptographicAlgorithm.AES, 256, key, [M.ENCRYPT, M.DECRYPT], name="hsm-reg-" + s.tag))
            c.activate(uid)
            iv = os.urandom(16)
            plain = b"sixteen byte msg" * 2
            params = {
                "block_cipher_mode": enums.BlockCipherMode.CBC,
                "padding_method": enums.PaddingMethod.NONE,
                "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
            }
            ct, _ = c.encrypt(plain, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv)
            enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            check(ct == enc.update(plain) + enc.finalize(),
                  "the token's ciphertext differs from AES-CBC of the registered key")
            refused = expect_failure(lambda: c.get(uid), not_extractable(s))
            return {"registered_id": uid, "get": refused}
    s.flow(lambda: s.step("register into the token, encrypt matches", run))


def token_mac(s):
    def run():
        key = os.urandom(32)
        with opened(s) as c:
            uid = c.register(pie_objects.SymmetricKey(
                enums.CryptographicAlgorithm.HMAC_SHA256, 256, key, [M.MAC_GENERATE, M.MAC_VERIFY],
                name="hsm-mac-" + s.tag))
            c.activate(uid)
            got_uid, tag = c.mac(b"authenticated in the token", uid=uid,
                                 algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
            check(got_uid == uid, "MAC answered for another key")
            h = hmac.HMAC(key, hashes.SHA256())
            h.update(b"authenticated in the token")
            check(tag == h.finalize(), "the token's MAC differs from HMAC-SHA256 of the registered key")
            return {"mac_id": uid, "mac_bytes": len(tag)}
    s.flow(lambda: s.step("register an HMAC key into the token, mac matches", run))


def token_pair(s):
    def run():
        with opened(s) as c:
            pub, priv = c.create_key_pair(
                enums.CryptographicAlgorithm.RSA, 2048,
                public_name="hsm-pub-" + s.tag, public_usage_mask=[M.VERIFY],
                private_name="hsm-priv-" + s.tag, private_usage_mask=[M.SIGN])
            c.activate(priv)
            c.activate(pub)
            params = {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
                "padding_method": enums.PaddingMethod.PKCS1v15,
            }
            sig = c.sign(b"signed inside the token", uid=priv, cryptographic_parameters=params)
            ok = c.signature_verify(b"signed inside the token", sig, uid=pub, cryptographic_parameters=params)
            check(ok == enums.ValidityIndicator.VALID, "valid signature reported %s" % ok)
            bad = c.signature_verify(b"forged", sig, uid=pub, cryptographic_parameters=params)
            check(bad == enums.ValidityIndicator.INVALID, "forged message reported %s" % bad)
            got = c.get(pub)
            check(isinstance(got, pie_objects.PublicKey), "Get of the public key returned %s" % type(got).__name__)
            refused = expect_failure(lambda: c.get(priv), not_extractable(s))
            return {"private_id": priv, "public_id": pub, "get_private": refused}
    s.flow(lambda: s.step("create_key_pair/sign/verify in the token", run))


def destroyed(s):
    def run():
        with opened(s) as c:
            uid = c.create(enums.CryptographicAlgorithm.AES, 128, name="hsm-gone-" + s.tag,
                           cryptographic_usage_mask=[M.ENCRYPT, M.DECRYPT])
            c.destroy(uid)
            gone = expect_failure(lambda: c.encrypt(b"0" * 16, uid=uid, cryptographic_parameters=CBC),
                                  {R.ITEM_NOT_FOUND, R.OBJECT_NOT_FOUND, R.PERMISSION_DENIED,
                                   R.WRONG_KEY_LIFECYCLE_STATE, R.KEY_VALUE_NOT_PRESENT})
            return {"destroyed_id": uid, "encrypt_after": gone}
    s.flow(lambda: s.step("destroy removes the key", run))


def all_flows(s):
    for flow in (token_key, registered_key, token_mac, token_pair, destroyed):
        flow(s)


if __name__ == "__main__":
    sys.exit(run(all_flows))
