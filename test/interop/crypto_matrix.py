#!/usr/bin/python3
"""The algorithm matrix: every algorithm, mode, padding, hash and derivation
method Debian's PyKMIP 0.10 client can express, run against kmipd and
checked against known answers computed here with python3-cryptography,
hashlib and hmac.

Same stdin/stdout protocol as pykmip_client.py (scenario name "matrix").
Each matrix cell is its own flow, so one failing cell does not hide the
others. Key material is compared inside this process and never printed.

What PyKMIP 0.10 cannot express (the exception list; the Go test's doc
comment repeats it):
  - Cryptographic Parameters without Mask Generator, Mask Generator Hashing
    Algorithm, P Source, Salt Length or Trailer Field: OAEP uses MGF1 with
    the OAEP hash and an empty label, PSS the server's salt (hash length).
  - ProxyKmipClient.encrypt/decrypt send no Authenticated Encryption
    Additional Data and drop the returned tag: GCM is run through PyKMIP's
    own request payloads (EncryptRequestPayload/DecryptRequestPayload, which
    carry both since KMIP 1.4) sent with KMIPProxy.send_request_payload.
  - No MAC Verify operation (neither client nor payloads): MAC Verify is not
    in the matrix; MAC is checked against a local computation instead.
  - mac() sends only a Cryptographic Algorithm: no Hashing Algorithm, so
    HMAC is chosen by the key's HMAC_* algorithm (or the parameter).
  - create_key_pair sends only Cryptographic Algorithm and Length, and
    PyKMIP's attribute factory raises NotImplementedError for Cryptographic
    Domain Parameters: no Recommended Curve, so EC curves are chosen by
    length (224, 256, 384, 521).
  - No streaming (Correlation Value / Init / Final Indicator).
  - Get Attributes cannot decode Link (its attribute value factory raises
    NotImplementedError): teach_link_decoding adds a minimal Link reader so
    the links between the halves of a key pair can be checked.
  - ProxyKmipClient.get refuses symmetric keys whose Cryptographic Length
    is not 8 x the material's bytes (56-bit DES, 112/168-bit 3DES, as the
    OASIS cases use them): those are read through KMIPProxy.get.
  - create() always adds Encrypt and Decrypt to the usage mask.
  - No DSA/DH/ECMQV/Ed448 key pairs; ECDH key pairs are stored (no key agreement operation).
python3-cryptography 38 has no OAEP with SHA-3, so OAEP is checked with
SHA-1/224/256/384/512 only.
python3-cryptography (OpenSSL 3) has no IDEA, no CTR for 64-bit block
ciphers and no CMAC over IDEA: IDEA is implemented here in pure Python
(checked against the IDEA paper's vector, which kmipd must also give on a
registered key), and the modes and CMAC are built here from the block
function where OpenSSL lacks them.
"""

import hashlib
import hmac as py_hmac
import os
import struct
import sys
import warnings

warnings.simplefilter("ignore")  # cryptography's deprecation warnings (Blowfish, CAST5, 3DES)

from cryptography.hazmat.primitives import cmac, hashes, padding as sym_padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_unwrap_with_padding

from kmip.core import enums
from kmip.core import exceptions as core_exceptions
from kmip.core import primitives, utils
from kmip.core.factories import attribute_values
from kmip.core.messages import payloads
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects as pie_objects

from pykmip_client import attr_map, check, run

R = enums.ResultReason
M = enums.CryptographicUsageMask
A = enums.CryptographicAlgorithm
BM = enums.BlockCipherMode
P = enums.PaddingMethod
H = enums.HashingAlgorithm
DSA = enums.DigitalSignatureAlgorithm

# Python counterparts.
PY_BLOCK = {
    A.AES: algorithms.AES, A.TRIPLE_DES: algorithms.TripleDES, A.BLOWFISH: algorithms.Blowfish,
    A.CAMELLIA: algorithms.Camellia, A.CAST5: algorithms.CAST5,
    A.DES: algorithms.TripleDES,  # an 8-byte TripleDES key is single DES (K1 = K2 = K3)
}
PY_HASH = {
    H.MD5: hashes.MD5, H.SHA_1: hashes.SHA1, H.SHA_224: hashes.SHA224, H.SHA_256: hashes.SHA256,
    H.SHA_384: hashes.SHA384, H.SHA_512: hashes.SHA512,
    H.SHA3_224: hashes.SHA3_224, H.SHA3_256: hashes.SHA3_256, H.SHA3_384: hashes.SHA3_384, H.SHA3_512: hashes.SHA3_512,
}
HASHLIB = {H.MD5: "md5", H.SHA_1: "sha1", H.SHA_224: "sha224", H.SHA_256: "sha256",
           H.SHA_384: "sha384", H.SHA_512: "sha512", H.SHA3_224: "sha3_224", H.SHA3_256: "sha3_256",
           H.SHA3_384: "sha3_384", H.SHA3_512: "sha3_512"}
HMAC_ALGS = {A.HMAC_MD5: H.MD5, A.HMAC_SHA1: H.SHA_1, A.HMAC_SHA224: H.SHA_224,
             A.HMAC_SHA256: H.SHA_256, A.HMAC_SHA384: H.SHA_384, A.HMAC_SHA512: H.SHA_512,
             A.HMAC_SHA3_224: H.SHA3_224, A.HMAC_SHA3_256: H.SHA3_256, A.HMAC_SHA3_384: H.SHA3_384,
             A.HMAC_SHA3_512: H.SHA3_512}
BLOCK_BYTES = {A.AES: 16, A.CAMELLIA: 16, A.TRIPLE_DES: 8, A.DES: 8, A.BLOWFISH: 8, A.CAST5: 8, A.IDEA: 8}


def fail_detail(fn):
    """Calls fn, which must fail; returns the Result Reason and Message
    (from either PyKMIP layer's exception)."""
    try:
        fn()
    except pie_exceptions.KmipOperationFailure as e:
        return e.reason, e.message
    except core_exceptions.OperationFailure as e:
        return e.reason, str(e)
    raise AssertionError("operation succeeded, want a failure")


def fail_reason(fn):
    return fail_detail(fn)[0]


# ---------------------------------------------------------------- local crypto

def py_mode(mode, iv):
    return {BM.ECB: lambda: modes.ECB(), BM.CBC: lambda: modes.CBC(iv), BM.CFB: lambda: modes.CFB(iv),
            BM.OFB: lambda: modes.OFB(iv), BM.CTR: lambda: modes.CTR(iv)}[mode]()


def _mul(a, b):
    """Multiplication modulo 2^16+1 with 0 standing for 2^16 (IDEA)."""
    return (((a or 0x10000) * (b or 0x10000)) % 0x10001) & 0xFFFF


def idea_encryptor(key):
    """IDEA block encryption (Lai and Massey 1991; ISO/IEC 18033-3)."""
    k, sub = int.from_bytes(key, "big"), []
    while len(sub) < 52:
        sub += [(k >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
        k = ((k << 25) | (k >> 103)) & ((1 << 128) - 1)

    def enc(block):
        x1, x2, x3, x4 = struct.unpack(">4H", block)
        for r in range(8):
            z = sub[6 * r:6 * r + 6]
            a, b = _mul(x1, z[0]), (x2 + z[1]) & 0xFFFF
            c, d = (x3 + z[2]) & 0xFFFF, _mul(x4, z[3])
            e = _mul(a ^ c, z[4])
            f = _mul((e + (b ^ d)) & 0xFFFF, z[5])
            e = (e + f) & 0xFFFF
            x1, x2, x3, x4 = a ^ f, c ^ f, b ^ e, d ^ e
        z = sub[48:]
        return struct.pack(">4H", _mul(x1, z[0]), (x3 + z[1]) & 0xFFFF, (x2 + z[2]) & 0xFFFF, _mul(x4, z[3]))
    return enc


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def block_encryptor(alg, key):
    """The raw block function E_K of alg."""
    if alg == A.IDEA:
        return idea_encryptor(key)
    return Cipher(PY_BLOCK[alg](key), modes.ECB()).encryptor().update


def generic_encrypt(enc, bs, mode, pad, iv, data):
    """NIST SP 800-38A modes (CFB with full-block feedback; CTR with the
    whole block a big-endian counter, as kmipd) built on a block function."""
    if pad == P.PKCS5:
        n = bs - len(data) % bs
        data += bytes([n]) * n
    out, chain = b"", iv
    for i in range(0, len(data), bs):
        blk = data[i:i + bs]
        if mode == BM.ECB:
            out += enc(blk)
        elif mode == BM.CBC:
            chain = enc(xor(blk, chain))
            out += chain
        elif mode == BM.CFB:
            c = xor(blk, enc(chain))
            out, chain = out + c, c
        elif mode == BM.OFB:
            chain = enc(chain)
            out += xor(blk, chain)
        elif mode == BM.CTR:
            out += xor(blk, enc(chain))
            chain = ((int.from_bytes(chain, "big") + 1) % (1 << (8 * bs))).to_bytes(bs, "big")
    return out


def generic_cmac(enc, bs, data):
    """CMAC (NIST SP 800-38B) on a block function of 64 or 128 bits."""
    mask, rb = (1 << (8 * bs)) - 1, 0x87 if bs == 16 else 0x1B

    def dbl(v):
        v <<= 1
        return (v & mask) ^ (rb if v >> (8 * bs) else 0)
    k1 = dbl(int.from_bytes(enc(bytes(bs)), "big"))
    k2 = dbl(k1)
    n = max(1, -(-len(data) // bs))
    last = data[(n - 1) * bs:]
    if data and len(data) % bs == 0:
        last = xor(last, k1.to_bytes(bs, "big"))
    else:
        last = xor(last + b"\x80" + bytes(bs - len(last) - 1), k2.to_bytes(bs, "big"))
    x = bytes(bs)
    for i in range(n - 1):
        x = enc(xor(x, data[i * bs:(i + 1) * bs]))
    return enc(xor(x, last))


def rc4_stream(key, data):
    """RC4 in pure Python: OpenSSL's ARC4 takes keys of 40 to 256 bits only,
    KMIP and kmipd up to 2048."""
    S, j = list(range(256)), 0
    for i in range(256):
        j = (j + S[i] + key[i % len(key)]) & 0xFF
        S[i], S[j] = S[j], S[i]
    out, i, j = bytearray(), 0, 0
    for b in data:
        i = (i + 1) & 0xFF
        j = (j + S[i]) & 0xFF
        S[i], S[j] = S[j], S[i]
        out.append(b ^ S[(S[i] + S[j]) & 0xFF])
    return bytes(out)


def py_encrypt(alg, key, mode, pad, iv, data):
    """What kmipd must answer: alg/mode/padding computed with cryptography,
    or on the block function where OpenSSL lacks the cipher (IDEA) or the
    mode (CTR for 64-bit blocks)."""
    bs = BLOCK_BYTES[alg]
    if alg not in PY_BLOCK or (mode == BM.CTR and bs == 8):
        return generic_encrypt(block_encryptor(alg, key), bs, mode, pad, iv, data)
    if pad == P.PKCS5:
        p = sym_padding.PKCS7(bs * 8).padder()
        data = p.update(data) + p.finalize()
    e = Cipher(PY_BLOCK[alg](key), py_mode(mode, iv)).encryptor()
    return e.update(data) + e.finalize()


# ---------------------------------------------------------------- helpers

class Matrix(object):
    """Runs each cell as its own flow on one open client."""

    def __init__(self, s):
        self.s = s
        self.c = s.client()

    def cell(self, name, fn):
        self.s.flow(lambda: self.s.step(name, fn))

    def key(self, alg, length, masks=(), name="k"):
        # Names are unique on the server (KMIP 1.4 section 3.2): number them.
        self.made = getattr(self, "made", 0) + 1
        uid = self.c.create(alg, length, name="%s-%s-%d" % (name, self.s.tag, self.made),
                            cryptographic_usage_mask=list(masks))
        self.c.activate(uid)
        return uid

    def register(self, alg, length, value, masks):
        uid = self.c.register(pie_objects.SymmetricKey(alg, length, value, masks=list(masks)))
        self.c.activate(uid)
        return uid

    def pair(self, alg, length, pub_masks, priv_masks):
        pub, priv = self.c.create_key_pair(alg, length, public_usage_mask=list(pub_masks),
                                           private_usage_mask=list(priv_masks))
        self.c.activate(pub)
        self.c.activate(priv)
        return pub, priv

    def value(self, uid):
        try:
            return self.c.get(uid).value
        except ValueError:
            # PyKMIP's SymmetricKey insists on Cryptographic Length == 8 x
            # material bytes, so ProxyKmipClient.get refuses 56-bit DES and
            # 112/168-bit 3DES keys (the OASIS cases use 168 bits for 24
            # bytes, SKFF-M-4); read those through KMIPProxy.
            r = self.c.proxy.get(uid)
            check(r.result_status.value == enums.ResultStatus.SUCCESS, "Get failed")
            return r.secret.key_block.key_value.key_material.value

    def py_public(self, uid):
        return serialization.load_der_public_key(self.value(uid))

    def py_private(self, uid):
        return serialization.load_der_private_key(self.value(uid), password=None)


# ---------------------------------------------------------------- Create

CREATE_OK = [
    (A.AES, [128, 192, 256]),
    (A.DES, [56, 64]),
    (A.TRIPLE_DES, [64, 112, 128, 168, 192]),
    (A.BLOWFISH, [32, 128, 448]),
    (A.CAMELLIA, [128, 192, 256]),
    (A.CAST5, [40, 128]),
    (A.IDEA, [128]),
    (A.RC4, [40, 128, 2048]),
    (A.HMAC_SHA1, [160]), (A.HMAC_SHA224, [224]), (A.HMAC_SHA256, [256]),
    (A.HMAC_SHA384, [384]), (A.HMAC_SHA512, [512]), (A.HMAC_MD5, [128]),
    (A.CHACHA20, [256]),
]
# 3DES keys are 8, 16 or 24 bytes; 112 and 168 count only the effective bits.
KEY_BYTES = {(A.TRIPLE_DES, 112): 16, (A.TRIPLE_DES, 168): 24, (A.DES, 56): 8}
CREATE_BAD = [(A.AES, 100), (A.AES, 512), (A.TRIPLE_DES, 100), (A.BLOWFISH, 24), (A.BLOWFISH, 456),
              (A.CAMELLIA, 64), (A.CAST5, 136), (A.IDEA, 64), (A.RC4, 32), (A.CHACHA20, 128),
              (A.HMAC_SHA256, 12)]


def create(m):
    for alg, lengths in CREATE_OK:
        def run(alg=alg, lengths=lengths):
            for n in lengths:
                uid = m.c.create(alg, n)
                want = KEY_BYTES.get((alg, n), n // 8)
                if (alg, n) in KEY_BYTES:
                    value = m.value(uid)  # through KMIPProxy: see Matrix.value
                else:
                    got = m.c.get(uid)
                    check(isinstance(got, pie_objects.SymmetricKey), "Get returned %s" % type(got).__name__)
                    check(got.cryptographic_algorithm == alg, "algorithm %s" % got.cryptographic_algorithm)
                    value = got.value
                check(len(value) == want, "%s-%d: %d bytes of key, want %d" % (alg.name, n, len(value), want))
                _, attrs = m.c.get_attributes(uid, ["Cryptographic Length"])
                check(attr_map(attrs).get("Cryptographic Length") == [n], "Cryptographic Length %s, want %d"
                      % (attr_map(attrs).get("Cryptographic Length"), n))
            return {"lengths": lengths}
        m.cell("create %s" % alg.name, run)

    def bad():
        saw = {}
        for alg, n in CREATE_BAD:
            r = fail_reason(lambda: m.c.create(alg, n))
            check(r == R.INVALID_FIELD, "%s-%d refused with %s, want INVALID_FIELD" % (alg.name, n, r.name))
            saw["%s-%d" % (alg.name, n)] = r.name
        return saw
    m.cell("create invalid lengths", bad)


# ---------------------------------------------------------------- CreateKeyPair

class _Link(primitives.Struct):
    """The Link attribute value (KMIP 1.4 §3.35, 2.1 §4.33): Link Type and
    Linked Object Identifier. PyKMIP 0.10's attribute value factory raises
    NotImplementedError for Link, so Get Attributes of Link cannot be
    decoded; teach_link_decoding gives the factory this minimal reader."""

    def __init__(self):
        super(_Link, self).__init__(tag=enums.Tags.LINK)
        self.link_type = primitives.Enumeration(enums.LinkType, tag=enums.Tags.LINK_TYPE)
        self.linked_object_identifier = primitives.TextString(tag=enums.Tags.LINKED_OBJECT_IDENTIFIER)

    def read(self, istream, kmip_version=enums.KMIPVersion.KMIP_1_0):
        super(_Link, self).read(istream, kmip_version=kmip_version)
        t = utils.BytearrayStream(istream.read(self.length))
        self.link_type.read(t, kmip_version=kmip_version)
        self.linked_object_identifier.read(t, kmip_version=kmip_version)


def teach_link_decoding():
    f = attribute_values.AttributeValueFactory
    by_name, by_enum = f.create_attribute_value, f.create_attribute_value_by_enum

    def create_attribute_value(self, name, value):
        if name is enums.AttributeType.LINK and value is None:
            return _Link()
        return by_name(self, name, value)

    def create_attribute_value_by_enum(self, enum, value):
        if enum is enums.Tags.LINK and value is None:
            return _Link()
        return by_enum(self, enum, value)
    f.create_attribute_value = create_attribute_value
    f.create_attribute_value_by_enum = create_attribute_value_by_enum


def links_of(m, uid):
    """Link attribute values of uid as {link type name: linked id}."""
    check("Link" in m.c.get_attribute_list(uid), "no Link attribute")
    _, attrs = m.c.get_attributes(uid, ["Link"])
    out = {}
    for a in attrs:
        if a.attribute_name.value != "Link":
            continue
        v = a.attribute_value
        out[v.link_type.value.name] = v.linked_object_identifier.value
    return out


def key_pairs(m):
    def check_pair(alg, n, pub, priv):
        check(isinstance(m.c.get(pub), pie_objects.PublicKey), "public half is not a Public Key")
        check(isinstance(m.c.get(priv), pie_objects.PrivateKey), "private half is not a Private Key")
        lp, lq = links_of(m, pub), links_of(m, priv)
        check(lp.get("PRIVATE_KEY_LINK") == priv, "public key links %s, want its private key" % lp)
        check(lq.get("PUBLIC_KEY_LINK") == pub, "private key links %s, want its public key" % lq)

    # RSA-512 is legacy (KMIP 1.x reference servers offer it): the kmipd
    # binary lifts Go's 1024-bit minimum for its engine.
    for n in (512, 1024, 2048, 3072, 4096):
        def run(n=n):
            pub, priv = m.pair(A.RSA, n, [M.VERIFY], [M.SIGN])
            check_pair(A.RSA, n, pub, priv)
            k = m.py_public(pub)
            check(k.key_size == n, "RSA modulus of %d bits, want %d" % (k.key_size, n))
            sig = m.c.sign(b"size check", uid=priv, cryptographic_parameters={
                "padding_method": P.PKCS1v15, "hashing_algorithm": H.SHA_256})
            k.verify(sig, b"size check", asym_padding.PKCS1v15(), hashes.SHA256())
            return {}
        m.cell("create_key_pair RSA-%d" % n, run)

    def rsa_out_of_range():
        # Below 512 bits (and not a multiple of 8): Invalid Field naming the range.
        r, msg = fail_detail(lambda: m.c.create_key_pair(A.RSA, 504, public_usage_mask=[M.VERIFY], private_usage_mask=[M.SIGN]))
        check(r == R.INVALID_FIELD, "RSA-504 refused with %s, want INVALID_FIELD" % r.name)
        check("512" in msg, "RSA-504 refusal says %r, want it to name the allowed range" % msg)
        r2, _ = fail_detail(lambda: m.c.create_key_pair(A.RSA, 1001, public_usage_mask=[M.VERIFY], private_usage_mask=[M.SIGN]))
        check(r2 == R.INVALID_FIELD, "RSA-1001 refused with %s, want INVALID_FIELD" % r2.name)
        return {"rsa504": r.name, "message": msg, "rsa1001": r2.name}
    m.cell("create_key_pair RSA-504 refused", rsa_out_of_range)

    curves = {224: ec.SECP224R1, 256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}
    for alg in (A.EC, A.ECDSA, A.ECDH):
        for n, curve in sorted(curves.items()):
            def run(alg=alg, n=n, curve=curve):
                pub, priv = m.pair(alg, n, [M.VERIFY], [M.SIGN])
                check_pair(alg, n, pub, priv)
                k = m.py_public(pub)
                check(isinstance(k.curve, curve), "curve %s, want %s" % (k.curve.name, curve.name))
                return {"curve": k.curve.name}
            m.cell("create_key_pair %s-%d" % (alg.name, n), run)

    def ed():
        pub, priv = m.pair(A.ED25519, 256, [M.VERIFY], [M.SIGN])
        check_pair(A.ED25519, 256, pub, priv)
        check(isinstance(m.py_public(pub), ed25519.Ed25519PublicKey), "not an Ed25519 public key")
        return {}
    m.cell("create_key_pair ED25519", ed)

    def dsa():
        # kmipd's software engine has no DSA (Go's crypto/dsa is deprecated
        # and FIPS 186-5 withdrew DSA): a clear refusal, not a failure.
        r, msg = fail_detail(lambda: m.c.create_key_pair(A.DSA, 2048, public_usage_mask=[M.VERIFY],
                                                         private_usage_mask=[M.SIGN]))
        check(r == R.INVALID_FIELD and "not a supported" in msg, "DSA refused with %s %r" % (r.name, msg))
        return {"reason": r.name, "message": msg}
    m.cell("create_key_pair DSA refused", dsa)

    def ec_bad():
        r = fail_reason(lambda: m.c.create_key_pair(A.EC, 200, public_usage_mask=[M.VERIFY], private_usage_mask=[M.SIGN]))
        check(r == R.INVALID_FIELD, "EC-200 refused with %s, want INVALID_FIELD" % r.name)
        return {"ec200": r.name}
    m.cell("create_key_pair EC invalid length", ec_bad)


# ---------------------------------------------------------------- Encrypt / Decrypt

def sym_cell(m, alg, length, mode, pad, value=None):
    """Encrypt with a given IV against the local computation, decrypt back,
    and (CBC) encrypt with a server-generated IV."""
    def run():
        bs = BLOCK_BYTES[alg]
        key_uid = m.key(alg, length, [M.ENCRYPT, M.DECRYPT], "enc")
        key = m.value(key_uid)
        params = {"cryptographic_algorithm": alg, "block_cipher_mode": mode}
        if pad is not None:
            params["padding_method"] = pad
        plain = os.urandom(4 * bs) if pad == P.NONE else b"matrix plaintext of odd length: 37 b"[:37]
        iv = None if mode == BM.ECB else os.urandom(bs)
        ct, got_iv = m.c.encrypt(plain, uid=key_uid, cryptographic_parameters=params, iv_counter_nonce=iv)
        check(got_iv is None, "server returned an IV although the client gave one")
        want = py_encrypt(alg, key, mode, pad, iv, plain)
        check(ct == want, "ciphertext differs from the local computation (%d vs %d bytes)" % (len(ct), len(want)))
        back = m.c.decrypt(ct, uid=key_uid, cryptographic_parameters=params, iv_counter_nonce=iv)
        check(back == plain, "decrypt did not return the plaintext")
        saw = {"ciphertext_bytes": len(ct)}
        if mode != BM.ECB:
            gen = dict(params, random_iv=True)
            ct2, iv2 = m.c.encrypt(plain, uid=key_uid, cryptographic_parameters=gen)
            check(iv2 is not None and len(iv2) == bs, "no %d-byte generated IV returned" % bs)
            check(ct2 == py_encrypt(alg, key, mode, pad, iv2, plain), "generated-IV ciphertext differs")
            saw["generated_iv"] = len(iv2)
        return saw
    name = "encrypt %s-%d %s %s" % (alg.name, length, mode.name, pad.name if pad is not None else "-")
    m.cell(name, run)


def encrypt(m):
    for n in (128, 192, 256):
        for mode, pad in ((BM.ECB, P.PKCS5), (BM.ECB, P.NONE), (BM.CBC, P.PKCS5), (BM.CBC, P.NONE),
                          (BM.CFB, None), (BM.OFB, None), (BM.CTR, None)):
            sym_cell(m, A.AES, n, mode, pad)
    for alg, n in ((A.TRIPLE_DES, 192), (A.TRIPLE_DES, 168), (A.TRIPLE_DES, 128), (A.TRIPLE_DES, 112),
                   (A.TRIPLE_DES, 64), (A.DES, 64), (A.BLOWFISH, 32), (A.BLOWFISH, 128), (A.BLOWFISH, 448),
                   (A.CAMELLIA, 128), (A.CAMELLIA, 192), (A.CAMELLIA, 256), (A.CAST5, 88), (A.CAST5, 128),
                   (A.IDEA, 128)):
        for mode, pad in ((BM.ECB, P.PKCS5), (BM.CBC, P.PKCS5), (BM.CBC, P.NONE), (BM.CFB, None),
                          (BM.OFB, None), (BM.CTR, None)):
            sym_cell(m, alg, n, mode, pad)

    for alg, n in ((A.AES, 128), (A.AES, 256), (A.TRIPLE_DES, 192), (A.CAMELLIA, 128)):
        def other_padding(alg=alg, n=n):
            bs = BLOCK_BYTES[alg]
            uid = m.key(alg, n, [M.ENCRYPT, M.DECRYPT], "pad")
            key = m.value(uid)
            plain, iv = os.urandom(3 * bs + 5), os.urandom(bs)
            saw = {}
            for pad in (P.ANSI_X923, P.ISO_10126):
                params = {"cryptographic_algorithm": alg, "block_cipher_mode": BM.CBC, "padding_method": pad}
                ct, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv)
                d = Cipher(PY_BLOCK[alg](key), modes.CBC(iv)).decryptor()
                padded = d.update(ct) + d.finalize()
                fill = bs - len(plain) % bs
                check(len(padded) == len(plain) + fill and padded[:len(plain)] == plain and padded[-1] == fill,
                      "%s: padded plaintext has the wrong shape" % pad.name)
                if pad == P.ANSI_X923:
                    p = sym_padding.ANSIX923(bs * 8).padder()
                    check(padded == p.update(plain) + p.finalize(), "ANSI X9.23 padding differs")
                check(m.c.decrypt(ct, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv) == plain,
                      "%s round trip failed" % pad.name)
                saw[pad.name] = len(ct)
            return saw
        m.cell("encrypt %s-%d CBC ANSI_X923 + ISO_10126" % (alg.name, n), other_padding)

    def ctr_initial_counter():
        uid = m.key(A.AES, 128, [M.ENCRYPT, M.DECRYPT], "ctr")
        nonce = os.urandom(12)
        params = {"cryptographic_algorithm": A.AES, "block_cipher_mode": BM.CTR,
                  "initial_counter_value": 1, "counter_length": 32}
        plain = os.urandom(50)
        ct, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters=params, iv_counter_nonce=nonce)
        want = py_encrypt(A.AES, m.value(uid), BM.CTR, None, nonce + b"\x00\x00\x00\x01", plain)
        check(ct == want, "CTR with nonce || counter 1 differs (RFC 3686 layout)")
        check(m.c.decrypt(ct, uid=uid, cryptographic_parameters=params, iv_counter_nonce=nonce) == plain,
              "decrypt did not return the plaintext")
        return {}
    m.cell("encrypt AES CTR initial counter value", ctr_initial_counter)

    def idea():
        # IDEA paper / ISO 9979 vector: key 0001 0002 ... 0008, plaintext
        # 0000 0001 0002 0003 -> 11FB ED2B 0198 6DE5; the same vector checks
        # the pure-Python IDEA the other IDEA cells compare against.
        kv, pt, want = (bytes.fromhex("00010002000300040005000600070008"), bytes.fromhex("0000000100020003"),
                        bytes.fromhex("11fbed2b01986de5"))
        check(idea_encryptor(kv)(pt) == want, "the local IDEA fails its own vector")
        uid = m.register(A.IDEA, 128, kv, [M.ENCRYPT, M.DECRYPT])
        ecb = {"cryptographic_algorithm": A.IDEA, "block_cipher_mode": BM.ECB, "padding_method": P.NONE}
        ct, _ = m.c.encrypt(pt, uid=uid, cryptographic_parameters=ecb)
        check(ct == want, "IDEA known answer differs")
        check(m.c.decrypt(ct, uid=uid, cryptographic_parameters=ecb) == pt, "IDEA decrypt of the vector")
        return {}
    m.cell("encrypt IDEA known answer (registered key)", idea)

    def cast5_short():
        # RFC 2144 runs 12 rounds for keys of 80 bits or less; Go's cast5 has
        # only the 16-round variant, so kmipd refuses rather than answer wrong.
        uid = m.key(A.CAST5, 80, [M.ENCRYPT, M.DECRYPT], "cast80")
        r = fail_reason(lambda: m.c.encrypt(b"12345678", uid=uid, cryptographic_parameters={
            "cryptographic_algorithm": A.CAST5, "block_cipher_mode": BM.ECB, "padding_method": P.NONE}))
        # kmipd's one mapping of an unsupported engine parameter: Invalid Field
        # at 1.x, Unsupported Cryptographic Parameters at 2.x.
        want = R.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS if m.s.v2 else R.INVALID_FIELD
        check(r == want, "CAST5-80 encryption refused with %s, want %s" % (r.name, want.name))
        return {"reason": r.name}
    m.cell("encrypt CAST5-80 refused (12-round CAST5)", cast5_short)

    def rc4():
        k = os.urandom(16)
        check(rc4_stream(k, b"x" * 40) == Cipher(algorithms.ARC4(k), None).encryptor().update(b"x" * 40),
              "the local RC4 differs from OpenSSL's")
        for n in (40, 128, 2048):
            uid = m.key(A.RC4, n, [M.ENCRYPT, M.DECRYPT], "rc4")
            plain = os.urandom(100)
            ct, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters={"cryptographic_algorithm": A.RC4})
            check(ct == rc4_stream(m.value(uid), plain), "RC4-%d differs from the local RC4" % n)
            check(m.c.decrypt(ct, uid=uid, cryptographic_parameters={"cryptographic_algorithm": A.RC4}) == plain,
                  "RC4-%d round trip failed" % n)
        return {"lengths": [40, 128, 2048]}
    m.cell("encrypt RC4", rc4)

    def chacha():
        uid = m.key(A.CHACHA20, 256, [M.ENCRYPT, M.DECRYPT], "chacha")
        plain = os.urandom(150)
        params = {"cryptographic_algorithm": A.CHACHA20}
        nonce = os.urandom(12)
        ct, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters=params, iv_counter_nonce=nonce)
        e = Cipher(algorithms.ChaCha20(m.value(uid), b"\x00" * 4 + nonce), None).encryptor()
        check(ct == e.update(plain), "ChaCha20 (RFC 8439, counter 0) differs")
        check(m.c.decrypt(ct, uid=uid, cryptographic_parameters=params, iv_counter_nonce=nonce) == plain,
              "ChaCha20 round trip failed")
        ct2, iv2 = m.c.encrypt(plain, uid=uid, cryptographic_parameters=dict(params, random_iv=True))
        check(iv2 is not None and len(iv2) == 12, "no 12-byte generated nonce")
        check(m.c.decrypt(ct2, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv2) == plain,
              "ChaCha20 generated-nonce round trip failed")
        # A 16-byte IV is OpenSSL's layout: 32-bit little-endian counter || nonce.
        iv16 = (7).to_bytes(4, "little") + os.urandom(12)
        ct3, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv16)
        check(ct3 == Cipher(algorithms.ChaCha20(m.value(uid), iv16), None).encryptor().update(plain),
              "ChaCha20 with counter || nonce differs")
        return {}
    m.cell("encrypt CHACHA20", chacha)

    gcm(m)
    rsa_encrypt(m)


def gcm(m):
    def proxy_client():
        # ProxyKmipClient.encrypt drops the tag, so its GCM ciphertext cannot be decrypted: only the
        # ciphertext is comparable.
        uid = m.key(A.AES, 256, [M.ENCRYPT, M.DECRYPT], "gcm")
        iv, plain = os.urandom(12), os.urandom(40)
        ct, _ = m.c.encrypt(plain, uid=uid, cryptographic_parameters={
            "cryptographic_algorithm": A.AES, "block_cipher_mode": BM.GCM, "tag_length": 16}, iv_counter_nonce=iv)
        check(ct == AESGCM(m.value(uid)).encrypt(iv, plain, None)[:-16], "GCM ciphertext differs")
        return {}
    m.cell("encrypt AES GCM (ProxyKmipClient, no tag)", proxy_client)

    for n in (128, 256):
        for tag_len in (16, 12):
            def run(n=n, tag_len=tag_len):
                uid = m.key(A.AES, n, [M.ENCRYPT, M.DECRYPT], "gcm")
                key = m.value(uid)
                cp = m.c._build_cryptographic_parameters({
                    "cryptographic_algorithm": A.AES, "block_cipher_mode": BM.GCM, "tag_length": tag_len})
                iv, plain, aad = os.urandom(12), os.urandom(45), b"header the tag covers"
                resp = m.c.proxy.send_request_payload(enums.Operation.ENCRYPT, payloads.EncryptRequestPayload(
                    unique_identifier=uid, cryptographic_parameters=cp, data=plain, iv_counter_nonce=iv,
                    auth_additional_data=aad))
                full = AESGCM(key).encrypt(iv, plain, aad)
                check(resp.data == full[:-16], "GCM ciphertext differs")
                check(resp.auth_tag == full[-16:][:tag_len], "GCM tag (%d bytes) differs" % tag_len)

                def dec(tag, aad=aad):
                    return m.c.proxy.send_request_payload(enums.Operation.DECRYPT, payloads.DecryptRequestPayload(
                        unique_identifier=uid, cryptographic_parameters=cp, data=resp.data, iv_counter_nonce=iv,
                        auth_additional_data=aad, auth_tag=tag))
                check(dec(resp.auth_tag).data == plain, "GCM decrypt did not return the plaintext")
                bad = bytes([resp.auth_tag[0] ^ 1]) + resp.auth_tag[1:]
                r1 = fail_reason(lambda: dec(bad))
                r2 = fail_reason(lambda: dec(resp.auth_tag, aad=b"another header"))
                for r in (r1, r2):
                    check(r == R.CRYPTOGRAPHIC_FAILURE, "forged tag/AAD refused with %s" % r.name)
                # Server-generated nonce.
                resp2 = m.c.proxy.send_request_payload(enums.Operation.ENCRYPT, payloads.EncryptRequestPayload(
                    unique_identifier=uid, cryptographic_parameters=m.c._build_cryptographic_parameters({
                        "cryptographic_algorithm": A.AES, "block_cipher_mode": BM.GCM, "tag_length": tag_len,
                        "random_iv": True}), data=plain, auth_additional_data=aad))
                nonce = resp2.iv_counter_nonce
                check(nonce is not None and len(nonce) == 12, "no 12-byte generated GCM nonce")
                full2 = AESGCM(key).encrypt(nonce, plain, aad)
                check(resp2.data + resp2.auth_tag == full2[:-16] + full2[-16:][:tag_len], "generated-nonce GCM differs")
                return {"forged": r1.name}
            m.cell("encrypt AES-%d GCM tag %d + AAD (PyKMIP payloads)" % (n, tag_len), run)

    def chacha_poly():
        uid = m.key(A.CHACHA20_POLY1305, 256, [M.ENCRYPT, M.DECRYPT], "aead")
        cp = m.c._build_cryptographic_parameters({"cryptographic_algorithm": A.CHACHA20_POLY1305})
        nonce, plain, aad = os.urandom(12), os.urandom(33), b"associated"
        resp = m.c.proxy.send_request_payload(enums.Operation.ENCRYPT, payloads.EncryptRequestPayload(
            unique_identifier=uid, cryptographic_parameters=cp, data=plain, iv_counter_nonce=nonce,
            auth_additional_data=aad))
        check(resp.data + resp.auth_tag == ChaCha20Poly1305(m.value(uid)).encrypt(nonce, plain, aad),
              "ChaCha20-Poly1305 (RFC 8439) differs")

        def dec(tag):
            return m.c.proxy.send_request_payload(enums.Operation.DECRYPT, payloads.DecryptRequestPayload(
                unique_identifier=uid, cryptographic_parameters=cp, data=resp.data, iv_counter_nonce=nonce,
                auth_additional_data=aad, auth_tag=tag))
        check(dec(resp.auth_tag).data == plain, "ChaCha20-Poly1305 decrypt did not return the plaintext")
        r = fail_reason(lambda: dec(bytes([resp.auth_tag[0] ^ 1]) + resp.auth_tag[1:]))
        check(r == R.CRYPTOGRAPHIC_FAILURE, "forged Poly1305 tag refused with %s" % r.name)
        return {"forged": r.name}
    m.cell("encrypt CHACHA20_POLY1305 + AAD (PyKMIP payloads)", chacha_poly)


# python3-cryptography 38 has no OAEP with SHA-3 to check against.
OAEP_HASHES = (H.SHA_1, H.SHA_224, H.SHA_256, H.SHA_384, H.SHA_512)


def rsa_encrypt(m):
    state = {}

    def setup():
        state["pub"], state["priv"] = m.pair(A.RSA, 2048, [M.ENCRYPT, M.VERIFY, M.WRAP_KEY],
                                             [M.DECRYPT, M.SIGN, M.UNWRAP_KEY])
        state["py_priv"] = m.py_private(state["priv"])
        state["py_pub"] = m.py_public(state["pub"])
        check(state["py_priv"].public_key().public_numbers() == state["py_pub"].public_numbers(),
              "the halves are not one key pair")
        return {}
    m.cell("RSA-2048 pair for encrypt/sign/wrap", setup)
    m.rsa = state
    if "priv" not in state:
        return

    schemes = [("PKCS1v15", {"padding_method": P.PKCS1v15}, asym_padding.PKCS1v15())]
    for h in OAEP_HASHES:
        schemes.append(("OAEP-%s" % h.name, {"padding_method": P.OAEP, "hashing_algorithm": h},
                        asym_padding.OAEP(mgf=asym_padding.MGF1(PY_HASH[h]()), algorithm=PY_HASH[h](), label=None)))
    for name, params, py_pad in schemes:
        def run(params=params, py_pad=py_pad):
            params = dict(params, cryptographic_algorithm=A.RSA)
            plain = os.urandom(32)
            ct, _ = m.c.encrypt(plain, uid=state["pub"], cryptographic_parameters=params)
            check(len(ct) == 256, "ciphertext of %d bytes" % len(ct))
            check(state["py_priv"].decrypt(ct, py_pad) == plain, "Python cannot decrypt the server's ciphertext")
            ct2 = state["py_pub"].encrypt(plain, py_pad)
            check(m.c.decrypt(ct2, uid=state["priv"], cryptographic_parameters=params) == plain,
                  "server cannot decrypt Python's ciphertext")
            return {}
        m.cell("encrypt RSA %s" % name, run)


# ---------------------------------------------------------------- Sign / SignatureVerify

def sign(m):
    st = m.rsa
    if "priv" in st:
        cases = [("PKCS1v15-%s" % h.name, {"padding_method": P.PKCS1v15, "hashing_algorithm": h},
                  asym_padding.PKCS1v15(), h)
                 for h in (H.MD5, H.SHA_1, H.SHA_224, H.SHA_256, H.SHA_384, H.SHA_512, H.SHA3_256, H.SHA3_512)]
        cases += [("PSS-%s" % h.name, {"padding_method": P.PSS, "hashing_algorithm": h},
                   asym_padding.PSS(mgf=asym_padding.MGF1(PY_HASH[h]()), salt_length=PY_HASH[h].digest_size), h)
                  for h in (H.SHA_1, H.SHA_224, H.SHA_256, H.SHA_384, H.SHA_512, H.SHA3_256)]
        dsa = {H.MD5: DSA.MD5_WITH_RSA_ENCRYPTION, H.SHA_1: DSA.SHA1_WITH_RSA_ENCRYPTION,
               H.SHA_224: DSA.SHA224_WITH_RSA_ENCRYPTION, H.SHA_256: DSA.SHA256_WITH_RSA_ENCRYPTION,
               H.SHA_384: DSA.SHA384_WITH_RSA_ENCRYPTION, H.SHA_512: DSA.SHA512_WITH_RSA_ENCRYPTION,
               H.SHA3_256: DSA.SHA3_256_WITH_RSA_ENCRYPTION, H.SHA3_384: DSA.SHA3_384_WITH_RSA_ENCRYPTION,
               H.SHA3_512: DSA.SHA3_512_WITH_RSA_ENCRYPTION}
        cases += [("%s" % d.name, {"digital_signature_algorithm": d}, asym_padding.PKCS1v15(), h)
                  for h, d in dsa.items()]
        cases += [("RSASSA_PSS-SHA_256", {"digital_signature_algorithm": DSA.RSASSA_PSS, "hashing_algorithm": H.SHA_256},
                   asym_padding.PSS(mgf=asym_padding.MGF1(hashes.SHA256()), salt_length=32), H.SHA_256)]
        for name, params, py_pad, h in cases:
            def run(params=params, py_pad=py_pad, h=h):
                params = dict(params, cryptographic_algorithm=A.RSA)
                msg = os.urandom(77)
                sig = m.c.sign(msg, uid=st["priv"], cryptographic_parameters=params)
                st["py_pub"].verify(sig, msg, py_pad, PY_HASH[h]())
                v = m.c.signature_verify(msg, sig, uid=st["pub"], cryptographic_parameters=params)
                check(v == enums.ValidityIndicator.VALID, "server's own signature reported %s" % v)
                v = m.c.signature_verify(msg + b"!", sig, uid=st["pub"], cryptographic_parameters=params)
                check(v == enums.ValidityIndicator.INVALID, "signature over another message reported %s" % v)
                # A signature made in Python (PSS with the longest salt) verifies on the server.
                if isinstance(py_pad, asym_padding.PSS):
                    py_pad = asym_padding.PSS(mgf=asym_padding.MGF1(PY_HASH[h]()), salt_length=asym_padding.PSS.MAX_LENGTH)
                py_sig = st["py_priv"].sign(msg, py_pad, PY_HASH[h]())
                v = m.c.signature_verify(msg, py_sig, uid=st["pub"], cryptographic_parameters=params)
                check(v == enums.ValidityIndicator.VALID, "Python's signature reported %s" % v)
                return {}
            m.cell("sign RSA %s" % name, run)

    curves = {256: (H.SHA_256, DSA.ECDSA_WITH_SHA256), 384: (H.SHA_384, DSA.ECDSA_WITH_SHA384),
              521: (H.SHA_512, DSA.ECDSA_WITH_SHA512)}
    for n, (h, d) in sorted(curves.items()):
        def run(n=n, h=h, d=d):
            pub, priv = m.pair(A.ECDSA, n, [M.VERIFY], [M.SIGN])
            py_pub = m.py_public(pub)
            saw = {}
            for hh in (H.SHA_256, H.SHA_384, H.SHA_512):
                for params in ({"cryptographic_algorithm": A.ECDSA, "hashing_algorithm": hh},
                               {"digital_signature_algorithm": {H.SHA_256: DSA.ECDSA_WITH_SHA256,
                                                                H.SHA_384: DSA.ECDSA_WITH_SHA384,
                                                                H.SHA_512: DSA.ECDSA_WITH_SHA512}[hh]}):
                    msg = os.urandom(50)
                    sig = m.c.sign(msg, uid=priv, cryptographic_parameters=params)
                    py_pub.verify(sig, msg, ec.ECDSA(PY_HASH[hh]()))
                    v = m.c.signature_verify(msg, sig, uid=pub, cryptographic_parameters=params)
                    check(v == enums.ValidityIndicator.VALID, "server's own ECDSA signature reported %s" % v)
                    v = m.c.signature_verify(msg + b"!", sig, uid=pub, cryptographic_parameters=params)
                    check(v == enums.ValidityIndicator.INVALID, "ECDSA over another message reported %s" % v)
            py_priv = m.py_private(priv)
            msg = os.urandom(20)
            v = m.c.signature_verify(msg, py_priv.sign(msg, ec.ECDSA(PY_HASH[h]())), uid=pub,
                                     cryptographic_parameters={"digital_signature_algorithm": d})
            check(v == enums.ValidityIndicator.VALID, "Python's ECDSA signature reported %s" % v)
            return saw
        m.cell("sign ECDSA P-%d SHA-256/384/512" % n, run)

    def ec_key():
        # A key pair created as EC (not ECDSA) signs as ECDSA.
        pub, priv = m.pair(A.EC, 256, [M.VERIFY], [M.SIGN])
        msg = os.urandom(40)
        saw = {}
        for alg in (A.EC, A.ECDSA):
            params = {"cryptographic_algorithm": alg, "hashing_algorithm": H.SHA_256}
            sig = m.c.sign(msg, uid=priv, cryptographic_parameters=params)
            m.py_public(pub).verify(sig, msg, ec.ECDSA(hashes.SHA256()))
            v = m.c.signature_verify(msg, sig, uid=pub, cryptographic_parameters=params)
            check(v == enums.ValidityIndicator.VALID, "EC key's signature reported %s" % v)
            saw[alg.name] = "VALID"
        return saw
    m.cell("sign EC-256 key (as EC and ECDSA)", ec_key)

    def ed():
        pub, priv = m.pair(A.ED25519, 256, [M.VERIFY], [M.SIGN])
        msg = os.urandom(64)
        params = {"cryptographic_algorithm": A.ED25519}
        sig = m.c.sign(msg, uid=priv, cryptographic_parameters=params)
        m.py_public(pub).verify(sig, msg)
        check(sig == m.py_private(priv).sign(msg), "Ed25519 is deterministic: signatures differ")
        v = m.c.signature_verify(msg, sig, uid=pub, cryptographic_parameters=params)
        check(v == enums.ValidityIndicator.VALID, "Ed25519 signature reported %s" % v)
        v = m.c.signature_verify(msg + b"!", sig, uid=pub, cryptographic_parameters=params)
        check(v == enums.ValidityIndicator.INVALID, "Ed25519 over another message reported %s" % v)
        return {}
    m.cell("sign ED25519", ed)


# ---------------------------------------------------------------- MAC

def mac(m):
    for alg, h in HMAC_ALGS.items():
        def run(alg=alg, h=h):
            uid = m.key(alg, PY_HASH[h].digest_size * 8, [M.MAC_GENERATE, M.MAC_VERIFY], "hmac")
            data = os.urandom(90)
            got_uid, tag = m.c.mac(data, uid=uid, algorithm=alg)
            check(got_uid == uid, "MAC answered for another key")
            check(tag == py_hmac.new(m.value(uid), data, HASHLIB[h]).digest(), "differs from Python's hmac")
            # Without the algorithm parameter the key's algorithm decides.
            _, tag2 = m.c.mac(data, uid=uid)
            check(tag2 == tag, "MAC without parameters differs")
            return {"mac_bytes": len(tag)}
        m.cell("mac %s" % alg.name, run)

    for alg, n in ((A.AES, 128), (A.AES, 192), (A.AES, 256), (A.TRIPLE_DES, 192), (A.TRIPLE_DES, 128),
                   (A.BLOWFISH, 128), (A.CAMELLIA, 128), (A.CAMELLIA, 256), (A.CAST5, 128), (A.IDEA, 128)):
        def run(alg=alg, n=n):
            uid = m.key(alg, n, [M.MAC_GENERATE, M.MAC_VERIFY], "cmac")
            saw = {}
            for data in (b"", os.urandom(BLOCK_BYTES[alg] * 2), os.urandom(37)):
                _, tag = m.c.mac(data, uid=uid, algorithm=alg)
                check(len(tag) == BLOCK_BYTES[alg], "CMAC of %d bytes" % len(tag))
                if alg in PY_BLOCK:
                    c = cmac.CMAC(PY_BLOCK[alg](m.value(uid)))
                    c.update(data)
                    check(tag == c.finalize(), "CMAC over %d bytes differs from cryptography's" % len(data))
                else:
                    want = generic_cmac(block_encryptor(alg, m.value(uid)), BLOCK_BYTES[alg], data)
                    check(tag == want, "CMAC over %d bytes differs from SP 800-38B on the local IDEA" % len(data))
            return saw
        m.cell("mac CMAC-%s-%d" % (alg.name, n), run)


# ---------------------------------------------------------------- DeriveKey

def derive(m):
    def new(base, method, params, n=256, alg=A.AES):
        uid = m.c.derive_key(enums.ObjectType.SYMMETRIC_KEY, [base], method, params,
                             cryptographic_length=n, cryptographic_algorithm=alg)
        return m.value(uid)

    for h in (H.SHA_1, H.SHA_256, H.SHA_512):
        def pbkdf2(h=h):
            base = m.key(A.AES, 256, [M.DERIVE_KEY], "pbkdf2")
            salt = os.urandom(16)
            got = new(base, enums.DerivationMethod.PBKDF2, {
                "cryptographic_parameters": {"hashing_algorithm": h}, "salt": salt, "iteration_count": 1000}, n=256)
            check(got == hashlib.pbkdf2_hmac(HASHLIB[h], m.value(base), salt, 1000, 32), "differs from hashlib.pbkdf2_hmac")
            return {}
        m.cell("derive PBKDF2-%s" % h.name, pbkdf2)

    for h in (H.MD5, H.SHA_1, H.SHA_224, H.SHA_256, H.SHA_384, H.SHA_512, H.SHA3_256, H.SHA3_512):
        def hash_(h=h):
            base = m.key(A.AES, 256, [M.DERIVE_KEY], "hash")
            n = min(256, PY_HASH[h].digest_size * 8)
            got = new(base, enums.DerivationMethod.HASH, {"cryptographic_parameters": {"hashing_algorithm": h}}, n=n)
            check(got == hashlib.new(HASHLIB[h], m.value(base)).digest()[:n // 8], "differs from hashlib")
            return {}
        m.cell("derive HASH-%s" % h.name, hash_)

        def hmac_(h=h):
            base = m.key(A.AES, 256, [M.DERIVE_KEY], "hmac")
            data = os.urandom(24)
            got = new(base, enums.DerivationMethod.HMAC, {
                "cryptographic_parameters": {"hashing_algorithm": h}, "derivation_data": data}, n=128)
            check(got == py_hmac.new(m.value(base), data, HASHLIB[h]).digest()[:16], "differs from hmac")
            return {}
        m.cell("derive HMAC-%s" % h.name, hmac_)

        def nist(h=h):
            base = m.key(A.AES, 256, [M.DERIVE_KEY], "kdf")
            fixed = b"label\x00context" + (384).to_bytes(4, "big")
            got = new(base, enums.DerivationMethod.NIST800_108_C, {
                "cryptographic_parameters": {"hashing_algorithm": h}, "derivation_data": fixed}, n=384, alg=A.HMAC_SHA384)
            out, i = b"", 1
            while len(out) < 48:
                out += py_hmac.new(m.value(base), i.to_bytes(4, "big") + fixed, HASHLIB[h]).digest()
                i += 1
            check(got == out[:48], "differs from SP 800-108 counter mode (HMAC, 32-bit counter first)")
            return {}
        m.cell("derive NIST800_108_C-%s" % h.name, nist)

    def encrypt_():
        base = m.key(A.AES, 256, [M.DERIVE_KEY, M.ENCRYPT], "encd")
        data, iv = os.urandom(32), os.urandom(16)
        got = new(base, enums.DerivationMethod.ENCRYPT, {
            "cryptographic_parameters": {"block_cipher_mode": BM.CBC, "padding_method": P.NONE,
                                         "cryptographic_algorithm": A.AES},
            "initialization_vector": iv, "derivation_data": data}, n=256)
        check(got == py_encrypt(A.AES, m.value(base), BM.CBC, P.NONE, iv, data), "differs from AES-CBC of the data")
        return {}
    m.cell("derive ENCRYPT AES-CBC", encrypt_)

    def hkdf():
        base = m.key(A.AES, 256, [M.DERIVE_KEY], "hkdf")
        salt, info = os.urandom(16), b"hkdf info"
        got = new(base, enums.DerivationMethod.HKDF, {
            "cryptographic_parameters": {"hashing_algorithm": H.SHA_256}, "salt": salt, "derivation_data": info}, n=256)
        want = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(m.value(base))
        check(got == want, "differs from RFC 5869 HKDF")
        return {}
    m.cell("derive HKDF-SHA_256", hkdf)

    def too_long():
        # The seed (PyKMIP's engine) answers Cryptographic Failure: "the
        # specified length exceeds the output of the derivation method".
        base = m.key(A.AES, 256, [M.DERIVE_KEY], "long")
        r = fail_reason(lambda: new(base, enums.DerivationMethod.HASH,
                                    {"cryptographic_parameters": {"hashing_algorithm": H.SHA_256}}, n=512))
        check(r == R.CRYPTOGRAPHIC_FAILURE, "512 bits from SHA-256 refused with %s, want CRYPTOGRAPHIC_FAILURE" % r.name)
        return {"reason": r.name}
    m.cell("derive length beyond the method refused", too_long)


# ---------------------------------------------------------------- wrapping on Get

def wrap(m):
    def spec(kek, params):
        return {"wrapping_method": enums.WrappingMethod.ENCRYPT,
                "encryption_key_information": {"unique_identifier": kek, "cryptographic_parameters": params},
                "encoding_option": enums.EncodingOption.NO_ENCODING}

    for kek_len in (128, 192, 256):
        def aes_kw(kek_len=kek_len):
            kek = m.key(A.AES, kek_len, [M.WRAP_KEY, M.UNWRAP_KEY], "kek")
            kek_v = m.value(kek)
            saw = {}
            for alg, n in ((A.AES, 128), (A.AES, 256), (A.HMAC_SHA256, 256)):
                target = m.c.create(alg, n)
                w = m.c.get(target, key_wrapping_specification=spec(kek, {"block_cipher_mode": BM.NIST_KEY_WRAP}))
                check(w.key_wrapping_data and w.key_wrapping_data.get("wrapping_method") == enums.WrappingMethod.ENCRYPT,
                      "no Key Wrapping Data")
                check(aes_key_unwrap(kek_v, w.value) == m.value(target), "RFC 3394 unwrap does not give the key")
            # RFC 5649 for a key that is not a multiple of 8 bytes.
            target = m.c.create(A.HMAC_SHA1, 160)
            w = m.c.get(target, key_wrapping_specification=spec(kek, {"block_cipher_mode": BM.AES_KEY_WRAP_PADDING}))
            check(aes_key_unwrap_with_padding(kek_v, w.value) == m.value(target), "RFC 5649 unwrap does not give the key")
            return saw
        m.cell("wrap AES-%d NIST_KEY_WRAP + AES_KEY_WRAP_PADDING" % kek_len, aes_kw)

    def private_key():
        # A private key's PKCS#1 DER need not be a multiple of 8 bytes: RFC 5649.
        kek = m.key(A.AES, 256, [M.WRAP_KEY, M.UNWRAP_KEY], "kekp")
        _, priv = m.pair(A.RSA, 1024, [M.VERIFY], [M.SIGN])
        w = m.c.get(priv, key_wrapping_specification=spec(kek, {"block_cipher_mode": BM.AES_KEY_WRAP_PADDING}))
        check(isinstance(w, pie_objects.PrivateKey), "wrapped Get returned %s" % type(w).__name__)
        clear = aes_key_unwrap_with_padding(m.value(kek), w.value)
        check(clear == m.value(priv), "RFC 5649 unwrap does not give the private key")
        serialization.load_der_private_key(clear, password=None)
        return {"wrapped_bytes": len(w.value)}
    m.cell("wrap RSA private key with AES_KEY_WRAP_PADDING", private_key)

    st = m.rsa
    if "pub" not in st:
        return
    rsa_cases = [("OAEP-%s" % h.name, {"padding_method": P.OAEP, "hashing_algorithm": h},
                  asym_padding.OAEP(mgf=asym_padding.MGF1(PY_HASH[h]()), algorithm=PY_HASH[h](), label=None))
                 for h in (H.SHA_1, H.SHA_256)]
    rsa_cases.append(("OAEP default hash", {"padding_method": P.OAEP},
                      asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)))
    rsa_cases.append(("PKCS1v15", {"padding_method": P.PKCS1v15}, asym_padding.PKCS1v15()))
    for name, params, py_pad in rsa_cases:
        def rsa_w(params=params, py_pad=py_pad):
            target = m.c.create(A.AES, 256)
            w = m.c.get(target, key_wrapping_specification=spec(st["pub"], dict(params, cryptographic_algorithm=A.RSA)))
            check(st["py_priv"].decrypt(w.value, py_pad) == m.value(target), "RSA unwrap does not give the key")
            return {}
        m.cell("wrap RSA %s" % name, rsa_w)


# ---------------------------------------------------------------- what kmipd does not implement

def refusals(m):
    """What PyKMIP can ask for and kmipd's software engine does not do: each
    must be a clear refusal (Invalid Field at 1.x; Unsupported Cryptographic
    Parameters at 2.x for parameters), never a General Failure."""
    def run():
        params_reason = R.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS if m.s.v2 else R.INVALID_FIELD
        uid = m.key(A.AES, 256, [M.ENCRYPT, M.DECRYPT], "refuse")
        saw = {}
        for mode in (BM.CCM, BM.XTS, BM.PCBC, BM.CBC_MAC):
            r = fail_reason(lambda: m.c.encrypt(os.urandom(32), uid=uid, cryptographic_parameters={
                "cryptographic_algorithm": A.AES, "block_cipher_mode": mode, "random_iv": True}))
            check(r == params_reason, "AES %s refused with %s" % (mode.name, r.name))
            saw[mode.name] = r.name
        for pad in (P.ZEROS, P.SSL3, P.X931):
            r = fail_reason(lambda: m.c.encrypt(os.urandom(30), uid=uid, cryptographic_parameters={
                "cryptographic_algorithm": A.AES, "block_cipher_mode": BM.CBC, "padding_method": pad, "random_iv": True}))
            check(r == params_reason, "padding %s refused with %s" % (pad.name, r.name))
            saw[pad.name] = r.name
        for alg, n in ((A.DH, 2048), (A.ECMQV, 256), (A.ED448, 448)):
            r = fail_reason(lambda: m.c.create_key_pair(alg, n, public_usage_mask=[M.VERIFY], private_usage_mask=[M.SIGN]))
            check(r == R.INVALID_FIELD, "%s key pair refused with %s" % (alg.name, r.name))
            saw[alg.name] = r.name
        # Legacy algorithms: keys are made at the lengths each algorithm
        # defines, but no operation uses them (refused naming the algorithm).
        for alg, n in ((A.SKIPJACK, 80), (A.TWOFISH, 128), (A.RC2, 128), (A.RC5, 128), (A.ARIA, 128),
                       (A.SEED, 128), (A.SM4, 128), (A.MARS, 128), (A.POLY1305, 256)):
            legacy = m.c.create(alg, n, cryptographic_usage_mask=[M.ENCRYPT])
            m.c.activate(legacy)
            r, msg = fail_detail(lambda: m.c.encrypt(os.urandom(16), uid=legacy, cryptographic_parameters={
                "block_cipher_mode": BM.CBC, "random_iv": True}))
            check(r == params_reason and alg.name.replace("_", "").lower() in msg.replace("_", "").lower(),
                  "%s encrypt refused with %s %r" % (alg.name, r.name, msg))
            saw[alg.name] = r.name
        r = fail_reason(lambda: m.c.create(A.SKIPJACK, 64))
        check(r == R.INVALID_FIELD, "SKIPJACK-64 refused with %s" % r.name)
        base = m.key(A.AES, 256, [M.DERIVE_KEY], "refuse")
        for method in (enums.DerivationMethod.NIST800_108_F, enums.DerivationMethod.NIST800_108_DPI,
                       enums.DerivationMethod.ASYMMETRIC_KEY, enums.DerivationMethod.AWS_SIGNATURE_VERSION_4):
            r, msg = fail_detail(lambda: m.c.derive_key(
                enums.ObjectType.SYMMETRIC_KEY, [base], method,
                {"cryptographic_parameters": {"hashing_algorithm": H.SHA_256}, "derivation_data": b"data"},
                cryptographic_length=128, cryptographic_algorithm=A.AES))
            # The seed (PyKMIP's engine) has the same four methods missing.
            check(r == params_reason, "%s refused with %s (%r)" % (method.name, r.name, msg))
            saw[method.name] = r.name
        return saw
    m.cell("refusals: modes, paddings and algorithms kmipd does not implement", run)


def all_parts(s):
    m = Matrix(s)
    try:
        for part in (create, key_pairs, encrypt, sign, mac, derive, wrap, refusals):
            part(m)
    finally:
        m.c.close()


if __name__ == "__main__":
    teach_link_decoding()
    sys.exit(run(all_parts))
