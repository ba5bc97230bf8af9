"""Writes secrets with known bytes through Debian's PyKMIP (the reference
client) and prints them as JSON: {"label": {"uid": ..., "hex": ...}}.

Usage: pykmip_secrets.py HOST PORT CERT KEY CA PRIVATE_KEY_DER_HEX"""
import binascii
import json
import sys

from kmip.core import enums
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, priv_hex = sys.argv[1:7]
out = {}
with ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                     config_file=None, kmip_version=enums.KMIPVersion.KMIP_1_2) as c:
    # A key the server creates: its bytes are known once fetched.
    uid = c.create(enums.CryptographicAlgorithm.AES, 256, name="pykmip-created")
    out["created"] = {"uid": uid, "hex": binascii.hexlify(c.get(uid).value).decode()}
    sym = bytes(range(0x40, 0x60))
    uid = c.register(objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, sym, name="pykmip-sym"))
    out["symmetric"] = {"uid": uid, "hex": sym.hex()}
    priv = binascii.unhexlify(priv_hex)
    uid = c.register(objects.PrivateKey(enums.CryptographicAlgorithm.RSA, 2048, priv,
                                        enums.KeyFormatType.PKCS_8, name="pykmip-private"))
    out["private"] = {"uid": uid, "hex": priv_hex}
    secret = b"correct horse battery staple, pykmip"
    uid = c.register(objects.SecretData(secret, enums.SecretDataType.PASSWORD, name="pykmip-secret"))
    out["secret data"] = {"uid": uid, "hex": secret.hex()}
    share = bytes(range(0xa0, 0xc0))
    uid = c.register(objects.SplitKey(
        cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256,
        key_value=share, key_format_type=enums.KeyFormatType.RAW, split_key_parts=2, key_part_identifier=1,
        split_key_threshold=2, split_key_method=enums.SplitKeyMethod.XOR, name="pykmip-split"))
    out["split key"] = {"uid": uid, "hex": share.hex()}
print(json.dumps(out))
