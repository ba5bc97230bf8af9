#!/usr/bin/python3
"""Access-control actions run against kmipd with PyKMIP's ProxyKmipClient.

Run with Debian's /usr/bin/python3 (python3-pykmip 0.10). Reads one JSON
object on stdin:

    {"host": "127.0.0.1", "port": 5696, "ca": "...", "kmip_version": "1.2",
     "identities": {"alice": {"cert": "...", "key": "..."},
                    "u1": {"cert": "...", "key": "...",        # optional: a
                           "username": "...", "password": "..."}, ...},  # Credential
     "actions": [{"as": "alice", "op": "create", "name": "k1",
                  "policy": "shared"},                  # policy optional
                 {"as": "bob", "op": "get", "uid": "..."},
                 {"as": "bob", "op": "locate", "name": "k1"},
                 {"as": "bob", "op": "get_attributes" | "activate" |
                  "destroy", "uid": "..."}]}

Each action runs on its own connection as the named identity and prints one
JSON line on stdout:

    {"i": 0, "ok": true, "uid": "...", "uids": [...], "policy": "..."}
    {"i": 1, "ok": false, "reason": "PERMISSION_DENIED", "error": "..."}

"reason" is the KMIP Result Reason the server answered with, or
"CONNECTION" when the connection failed. Key material is never printed.
The script exits 0 once every action ran, whatever their outcome.
"""

import json
import os
import sys
import tempfile

from kmip.core import enums
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions

from pykmip_client import FACTORY, VERSIONS



def run(args, conf, action):
    ident = args["identities"][action["as"]]
    c = pie_client.ProxyKmipClient(
        hostname=args["host"],
        port=int(args["port"]),
        cert=ident["cert"],
        key=ident["key"],
        ca=args["ca"],
        config_file=conf,
        kmip_version=VERSIONS[args.get("kmip_version", "1.2")],
        username=ident.get("username"),
        password=ident.get("password"),
    )
    out = {}
    try:
        c.open()
    except Exception as e:  # TLS refusal, connection reset
        return {"ok": False, "reason": "CONNECTION", "error": repr(e)}
    try:
        op = action["op"]
        if op == "create":
            out["uid"] = c.create(
                enums.CryptographicAlgorithm.AES, 128,
                operation_policy_name=action.get("policy"),
                name=action.get("name"),
                cryptographic_usage_mask=[
                    enums.CryptographicUsageMask.ENCRYPT,
                    enums.CryptographicUsageMask.DECRYPT,
                ],
            )
        elif op == "get":
            obj = c.get(action["uid"])
            out["object_type"] = obj.object_type.name
        elif op == "get_attributes":
            uid, attrs = c.get_attributes(action["uid"])
            for a in attrs:
                if a.attribute_name.value == "Operation Policy Name":
                    out["policy"] = a.attribute_value.value
        elif op == "locate":
            attrs = []
            if action.get("name"):
                attrs.append(FACTORY.create_attribute(
                    enums.AttributeType.NAME, action["name"]))
            out["uids"] = list(c.locate(attributes=attrs))
        elif op == "activate":
            c.activate(action["uid"])
        elif op == "destroy":
            c.destroy(action["uid"])
        else:
            raise ValueError("unknown op " + op)
        out["ok"] = True
    except pie_exceptions.KmipOperationFailure as e:
        out = {"ok": False, "reason": e.reason.name, "error": str(e)}
    except Exception as e:  # the server closed the connection
        out = {"ok": False, "reason": "CONNECTION", "error": repr(e)}
    finally:
        try:
            c.close()
        except Exception:
            pass
    return out


def main():
    args = json.load(sys.stdin)
    # An empty configuration file, so that no pykmip.conf on the machine
    # changes the client.
    fd, conf = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("[client]\n")
    try:
        for i, action in enumerate(args["actions"]):
            out = run(args, conf, action)
            out["i"] = i
            print(json.dumps(out), flush=True)
    finally:
        os.unlink(conf)


if __name__ == "__main__":
    main()
