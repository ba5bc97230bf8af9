#!/usr/bin/python3
"""Debian's PyKMIP across two kmipd nodes on one PostgreSQL database.

Reads {"a": NODE, "b": NODE} on stdin, NODE being {"host", "port", "ca",
"cert", "key"}; creates a key on node A, reads, activates, re-keys, revokes
and destroys it on node B, reads the replacement and looks for the
destroyed key on A. Prints OK, or the failure on stderr with exit 1.
"""

import json
import os
import secrets
import sys
import tempfile

from kmip.core import enums
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions


def client(node, conf):
    c = pie_client.ProxyKmipClient(
        hostname=node["host"], port=int(node["port"]), cert=node["cert"],
        key=node["key"], ca=node["ca"], config_file=conf,
        kmip_version=enums.KMIPVersion.KMIP_1_2)
    c.open()
    return c


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    args = json.load(sys.stdin)
    fd, conf = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("[client]\n")  # no machine-wide PyKMIP configuration
    a, b = client(args["a"], conf), client(args["b"], conf)
    name = "multinode-" + secrets.token_hex(4)
    uid = a.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    key_b = b.get(uid)
    check(key_b.value == a.get(uid).value, "nodes return different key material")
    check(uid in b.locate(), "node B cannot locate the key")
    b.activate(uid)
    new = b.rekey(uid=uid)
    check(new != uid, "re-key returned the old identifier")
    check(len(a.get(new).value) == 32, "node A cannot read the replacement")
    b.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
    b.destroy(uid)
    try:
        a.get(uid)
    except pie_exceptions.KmipOperationFailure as e:
        check(e.reason == enums.ResultReason.ITEM_NOT_FOUND, "Get of the destroyed key: %s" % e.reason)
    else:
        raise AssertionError("node A returned the key destroyed through node B")
    a.close()
    b.close()
    os.unlink(conf)
    print("OK")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - every failure is reported
        import traceback
        traceback.print_exc()
        sys.exit(1)
