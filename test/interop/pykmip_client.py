#!/usr/bin/python3
"""Interoperability scenarios run against kmipd with PyKMIP's ProxyKmipClient.

Run with Debian's /usr/bin/python3 (python3-pykmip 0.10). Reads one JSON
object on stdin (stdin rather than argv so no secret shows in a process
listing):

    {"host": "127.0.0.1", "port": 5696, "ca": "...", "cert": "...",
     "key": "...", "kmip_version": "1.2" | "1.4" | "2.0",
     "scenario": "lifecycle" | "register" | "errors" | "isolation",
     "bob_cert": "...", "bob_key": "...",          # isolation only
     "secrets": {"symmetric_key": "<hex, 16 bytes>",  # register only;
                 "password": "<hex>",                 # random when absent
                 "opaque": "<hex>"}}

Prints one JSON line per step on stdout:

    {"step": "...", "ok": true, "saw": {...}}
    {"step": "...", "ok": true, "skipped": "why"}
    {"step": "...", "ok": false, "error": "..."}

A scenario is made of independent flows; a failing step aborts its flow (its
traceback goes to stderr) and the next flow still runs. When every step passed
the last line is {"step": "done", "ok": true}; otherwise the script exits 1.
Key material is compared inside this process and never printed.
"""

import binascii
import enum
import json
import os
import secrets as rnd
import sys
import tempfile
import traceback

from kmip.core import enums
from kmip.core.factories import attributes as attribute_factory
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects as pie_objects

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

R = enums.ResultReason
ATTR = enums.AttributeType
FACTORY = attribute_factory.AttributeFactory()


class StepFailed(Exception):
    """A step failed; the rest of its flow is skipped."""


class Scenario(object):
    """Runs steps, reports each as a JSON line, and remembers failures."""

    def __init__(self, args):
        self.args = args
        self.version = VERSIONS[args["kmip_version"]]
        self.v2 = self.version >= enums.KMIPVersion.KMIP_2_0
        self.failed = False
        self.tag = rnd.token_hex(6)
        # An empty configuration file, so that no /etc/pykmip/pykmip.conf
        # or ~/.pykmip/pykmip.conf on the machine changes the client.
        fd, self.conf = tempfile.mkstemp(suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write("[client]\n")

    def client(self, cert=None, key=None):
        """An open ProxyKmipClient for the given identity (admin by default)."""
        c = pie_client.ProxyKmipClient(
            hostname=self.args["host"],
            port=int(self.args["port"]),
            cert=cert or self.args["cert"],
            key=key or self.args["key"],
            ca=self.args["ca"],
            config_file=self.conf,
            kmip_version=self.version,
        )
        c.open()
        return c

    def emit(self, record):
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
        sys.stdout.flush()

    def step(self, name, fn):
        """Runs fn; its return value (a dict) is reported as what it saw."""
        try:
            saw = fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            self.failed = True
            sys.stderr.write("step %s failed:\n" % name)
            traceback.print_exc(file=sys.stderr)
            self.emit({"step": name, "ok": False, "error": describe(e)})
            raise StepFailed(name)
        self.emit({"step": name, "ok": True, "saw": saw or {}})
        return saw

    def skip(self, name, why):
        self.emit({"step": name, "ok": True, "skipped": why})

    def flow(self, fn):
        """Runs one independent flow; a failed step ends only this flow."""
        try:
            fn()
        except StepFailed:
            pass

    def close(self):
        os.unlink(self.conf)


def describe(e):
    if isinstance(e, pie_exceptions.KmipOperationFailure):
        return "KmipOperationFailure(status=%s, reason=%s, message=%r)" % (
            e.status.name, e.reason.name, e.message)
    return "%s: %s" % (type(e).__name__, e)


def check(cond, what):
    """Asserts cond; what must never contain key material."""
    if not cond:
        raise AssertionError(what)


def expect_failure(fn, reasons):
    """Calls fn, which must fail with one of reasons; returns the reason seen."""
    try:
        fn()
    except pie_exceptions.KmipOperationFailure as e:
        check(e.status == enums.ResultStatus.OPERATION_FAILED,
              "status %s, want OPERATION_FAILED" % e.status.name)
        check(e.reason in reasons, "reason %s (message %r), want one of %s" % (
            e.reason.name, e.message, sorted(r.name for r in reasons)))
        return {"reason": e.reason.name}
    raise AssertionError("operation succeeded, want failure with one of %s"
                         % sorted(r.name for r in reasons))


def value_of(v):
    """A JSON-friendly, non-secret form of an attribute value."""
    if hasattr(v, "name_value"):  # Name
        return v.name_value.value
    inner = getattr(v, "value", v)
    if isinstance(inner, enum.Enum):
        return inner.name
    return inner


def attr_map(attrs):
    """Attribute name -> list of values, from a Get Attributes answer."""
    out = {}
    for a in attrs:
        out.setdefault(a.attribute_name.value, []).append(
            value_of(a.attribute_value))
    return out


def attr(name, value):
    return FACTORY.create_attribute(name, value)


# Attributes KMIP 2.0 dropped (PyKMIP's enums.is_attribute removes the same
# ones for 2.0); a 2.0 answer must not carry them.
REMOVED_IN_2 = {"Operation Policy Name", "Custom Attribute",
                "Certificate Identifier", "Certificate Subject",
                "Certificate Issuer"}


def decodable(s, name):
    """Whether PyKMIP 0.10 can decode attribute name at the scenario's
    version: its attribute tables lack several attributes the
    specifications define (e.g. Always Sensitive, Extractable and Key
    Value Present at 1.x, Key Format Type at 2.0), and its decoder
    raises on them."""
    vf = FACTORY.value_factory
    try:
        if s.v2:
            tag = enums.convert_attribute_name_to_tag(name)
            if not enums.is_attribute(tag, kmip_version=s.version):
                return False
            return vf.create_attribute_value_by_enum(tag, None) is not None
        try:
            kind = enums.AttributeType(name)
        except ValueError:
            kind = name
        return vf.create_attribute_value(kind, None) is not None
    except Exception:  # noqa: BLE001 - NotImplementedError, ValueError...
        return False


def all_attributes(s, c, uid, notes):
    """Get Attributes with no names (all attributes), as a map.

    When PyKMIP 0.10 cannot decode the answer because it holds an
    attribute PyKMIP does not know, the names come from Get Attribute
    List and the decodable ones are fetched by name instead; the others
    are recorded in notes["undecodable_by_pykmip"]. A decoding failure with
    no such attribute, or one the version does not define, stays a failure.
    """
    try:
        got, attrs = c.get_attributes(uid)
    except pie_exceptions.KmipOperationFailure:
        raise
    except Exception:  # noqa: BLE001 - PyKMIP decoder errors
        names = c.get_attribute_list(uid)
        bad = sorted(n for n in names if not decodable(s, n))
        if not bad:
            raise
        if s.v2:
            wrong = sorted(set(bad) & REMOVED_IN_2)
            check(not wrong, "server answered %s, which KMIP 2.0 removed"
                  % wrong)
        notes["undecodable_by_pykmip"] = bad
        got, attrs = c.get_attributes(
            uid, [n for n in names if n not in bad])
    check(got == uid, "answer names another object")
    return attr_map(attrs)


def state_of(c, uid):
    got_uid, attrs = c.get_attributes(uid, ["State"])
    check(got_uid == uid, "Get Attributes answered for another object")
    m = attr_map(attrs)
    check(list(m) == ["State"], "want only State, got %s" % sorted(m))
    check(len(m["State"]) == 1, "State is single-valued")
    return m["State"][0]


# Result Reasons the specifications give, per version.
def not_found(s):
    # KMIP 1.x: Item Not Found (1.4 §11.12). KMIP 2.x renamed the case
    # Object Not Found (2.1 §6.1.x; OASIS BL-M-4-21 expects ObjectNotFound);
    # 0x01 Item Not Found is still defined in 2.x, so both are accepted.
    if s.v2:
        return {R.ITEM_NOT_FOUND, R.OBJECT_NOT_FOUND}
    return {R.ITEM_NOT_FOUND}


def wrong_state(s):
    # KMIP 1.4 §11.20/§11.22 (and OASIS SKLC-M-2-14): Permission Denied.
    # KMIP 2.x (OASIS SKLC-M-2-21): Wrong Key Lifecycle State.
    if s.v2:
        return {R.WRONG_KEY_LIFECYCLE_STATE}
    return {R.PERMISSION_DENIED}


def destroyed_get(s):
    # KMIP 2.x: OASIS BL-M-8-21 expects ObjectDestroyed for Get of a
    # destroyed object. KMIP 1.x has no such reason; Item Not Found (the
    # reference server deletes the object) is the only 1.x answer.
    if s.v2:
        return {R.OBJECT_DESTROYED}
    return {R.ITEM_NOT_FOUND}


def denied(s):
    # Operation policy refusal: Permission Denied (KMIP 1.4 §11, the
    # reference server's answer); a server that feigns ignorance answers
    # Item/Object Not Found instead, which leaks nothing either.
    return {R.PERMISSION_DENIED} | not_found(s)


# ---------------------------------------------------------------- lifecycle

SUBSET = ["Cryptographic Algorithm", "Cryptographic Length", "State",
          "Object Type", "Unique Identifier", "Operation Policy Name", "Name",
          "Initial Date"]


def lifecycle(s):
    c = s.client()
    name = "interop-key-" + s.tag
    keys = {}  # label -> uid

    def create(label, alg, length, key_name):
        def run():
            uid = c.create(alg, length, name=key_name,
                           cryptographic_usage_mask=[
                               enums.CryptographicUsageMask.ENCRYPT,
                               enums.CryptographicUsageMask.DECRYPT])
            check(isinstance(uid, str) and uid, "no unique identifier")
            keys[label] = uid
            return {"uid": uid}
        return run

    def get_key(label, alg, length):
        def run():
            obj = c.get(keys[label])
            check(isinstance(obj, pie_objects.SymmetricKey),
                  "got %s, want SymmetricKey" % type(obj).__name__)
            check(obj.cryptographic_algorithm == alg,
                  "algorithm %s" % obj.cryptographic_algorithm)
            check(obj.cryptographic_length == length,
                  "length %s" % obj.cryptographic_length)
            check(len(obj.value) * 8 == length,
                  "key value is %d bytes, want %d" % (len(obj.value),
                                                      length // 8))
            check(len(set(obj.value)) > 1, "key bytes are all equal")
            return {"algorithm": alg.name, "length": length,
                    "value_bytes": len(obj.value)}
        return run

    def creates():
        s.step("create AES-256", create(
            "aes256", enums.CryptographicAlgorithm.AES, 256, name))
        for label, alg, length in [
                ("aes128", enums.CryptographicAlgorithm.AES, 128),
                ("aes192", enums.CryptographicAlgorithm.AES, 192),
                ("3des192", enums.CryptographicAlgorithm.TRIPLE_DES, 192)]:
            s.step("create %s" % label, create(
                label, alg, length, "%s-%s" % (name, label)))
            s.step("get %s" % label, get_key(label, alg, length))
        s.step("get AES-256", get_key(
            "aes256", enums.CryptographicAlgorithm.AES, 256))

    s.flow(creates)
    if "aes256" not in keys:
        c.close()
        return
    uid = keys["aes256"]
    seen = {}

    def attributes():
        def all_attrs():
            notes = {}
            m = all_attributes(s, c, uid, notes)
            seen["all"] = m
            seen["all_names"] = set(m) | set(
                notes.get("undecodable_by_pykmip", []))
            check(m.get("Unique Identifier") == [uid], "Unique Identifier")
            check(m.get("Object Type") == ["SYMMETRIC_KEY"], "Object Type %s"
                  % m.get("Object Type"))
            check(m.get("Cryptographic Algorithm") == ["AES"], "algorithm")
            check(m.get("Cryptographic Length") == [256], "length")
            check(m.get("State") == ["PRE_ACTIVE"], "State %s" % m.get("State"))
            check(m.get("Name") == [name], "Name %s" % m.get("Name"))
            check(m.get("Cryptographic Usage Mask") == [
                enums.CryptographicUsageMask.ENCRYPT.value |
                enums.CryptographicUsageMask.DECRYPT.value],
                "Cryptographic Usage Mask %s"
                % m.get("Cryptographic Usage Mask"))
            check(len(m.get("Initial Date", [])) == 1, "Initial Date")
            notes["names"] = sorted(m)
            return notes
        s.flow(lambda: s.step("get_attributes all", all_attrs))

        subset = list(SUBSET)
        if s.v2:
            # KMIP 2.0 removed Operation Policy Name; PyKMIP 0.10 refuses
            # to decode it in a 2.0 Attributes structure
            # (AttributeNotSupported), so it is not asked for at 2.0.
            subset.remove("Operation Policy Name")

        def named():
            got, attrs = c.get_attributes(uid, subset)
            check(got == uid, "answer names another object")
            m = attr_map(attrs)
            check(sorted(m) == sorted(subset), "got %s, want exactly %s" % (
                sorted(m), sorted(subset)))
            for k, vs in m.items():
                check(len(vs) == 1, "%s answered %d times" % (k, len(vs)))
            check(m["Cryptographic Algorithm"] == ["AES"], "algorithm")
            check(m["Cryptographic Length"] == [256], "length")
            check(m["State"] == ["PRE_ACTIVE"], "state")
            check(m["Object Type"] == ["SYMMETRIC_KEY"], "object type")
            check(m["Unique Identifier"] == [uid], "unique identifier")
            check(m["Name"] == [name], "name")
            check(isinstance(m["Initial Date"][0], int) and
                  m["Initial Date"][0] > 0, "Initial Date")
            if "Operation Policy Name" in m:
                check(isinstance(m["Operation Policy Name"][0], str) and
                      m["Operation Policy Name"][0],
                      "Operation Policy Name is empty")
            return {"names": sorted(m),
                    "operation_policy_name":
                        m.get("Operation Policy Name", [None])[0]}
        s.flow(lambda: s.step("get_attributes named subset", named))

        def names():
            got = c.get_attribute_list(uid)
            check(isinstance(got, list) and got, "empty list")
            check(len(got) == len(set(got)), "names repeated: %s" % got)
            if s.v2:
                wrong = sorted(set(got) & REMOVED_IN_2)
                check(not wrong, "server listed %s, which KMIP 2.0 removed"
                      % wrong)
            for n in subset:
                check(n in got, "%s missing from %s" % (n, got))
            if "all_names" in seen:
                check(set(got) == seen["all_names"],
                      "Get Attribute List %s differs from Get Attributes %s"
                      % (sorted(got), sorted(seen["all_names"])))
            return {"names": sorted(got)}
        s.flow(lambda: s.step("get_attribute_list", names))

    s.flow(attributes)

    def locates():
        def by(step, filters, want, **kw):
            def run():
                got = c.locate(attributes=filters, **kw)
                check(got == want, "located %s, want %s" % (got, want))
                return {"located": len(got)}
            s.step(step, run)

        n = attr(ATTR.NAME, name)
        sk = attr(ATTR.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)
        aes = attr(ATTR.CRYPTOGRAPHIC_ALGORITHM,
                   enums.CryptographicAlgorithm.AES)
        by("locate name", [n], [uid])
        by("locate name+object_type", [n, sk], [uid])
        by("locate name+state Pre-Active",
           [n, attr(ATTR.STATE, enums.State.PRE_ACTIVE)], [uid])
        by("locate name+state Active",
           [n, attr(ATTR.STATE, enums.State.ACTIVE)], [])
        by("locate name+algorithm+length",
           [n, aes, attr(ATTR.CRYPTOGRAPHIC_LENGTH, 256)], [uid])
        by("locate name+length 128",
           [n, attr(ATTR.CRYPTOGRAPHIC_LENGTH, 128)], [])
        by("locate name+algorithm 3DES",
           [n, attr(ATTR.CRYPTOGRAPHIC_ALGORITHM,
                    enums.CryptographicAlgorithm.TRIPLE_DES)], [])

        def algorithm():
            got = c.locate(attributes=[sk, aes])
            for label in ("aes256", "aes128", "aes192"):
                if label in keys:
                    check(keys[label] in got, "%s not located" % label)
            if "3des192" in keys:
                check(keys["3des192"] not in got, "3DES key located as AES")
            return {"located": len(got)}
        s.step("locate object_type+algorithm", algorithm)

        def length():
            got = c.locate(attributes=[sk, attr(ATTR.CRYPTOGRAPHIC_LENGTH,
                                                128)])
            if "aes128" in keys:
                check(keys["aes128"] in got, "AES-128 key not located")
            check(uid not in got, "AES-256 key located by length 128")
            return {"located": len(got)}
        s.step("locate object_type+length", length)

        # Paging: the filter matches at least this scenario's four
        # Pre-Active keys. Offset Items counts from the start of the same
        # result list (KMIP 1.3+ §4.9), so the pages must be slices of it.
        pre = [sk, attr(ATTR.STATE, enums.State.PRE_ACTIVE)]
        full = []

        def everything():
            full.extend(c.locate(attributes=pre))
            check(len(full) >= 4, "located %d, want >= 4" % len(full))
            check(len(set(full)) == len(full), "duplicates in Locate answer")
            return {"located": len(full)}
        s.step("locate object_type+state", everything)

        def first_page():
            got = c.locate(attributes=pre, maximum_items=2)
            check(got == full[:2], "maximum_items=2 answered %s, want %s"
                  % (got, full[:2]))
            return {"located": len(got)}
        s.step("locate maximum_items", first_page)

        def second_page():
            got = c.locate(attributes=pre, maximum_items=2, offset_items=1)
            check(got == full[1:3], "offset_items=1 answered %s, want %s"
                  % (got, full[1:3]))
            return {"located": len(got)}
        s.step("locate offset_items+maximum_items", second_page)

        def past_end():
            got = c.locate(attributes=pre, offset_items=len(full))
            check(got == [], "offset past the end answered %s" % got)
            return {"located": 0}
        s.step("locate offset_items past the end", past_end)

    s.flow(locates)

    def states():
        def activate():
            c.activate(uid)
            st = state_of(c, uid)
            check(st == "ACTIVE", "state %s after Activate" % st)
            _, attrs = c.get_attributes(uid, ["Activation Date"])
            check("Activation Date" in attr_map(attrs), "no Activation Date")
            return {"state": st}
        s.step("activate", activate)

        def revoke():
            c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
            st = state_of(c, uid)
            check(st == "DEACTIVATED", "state %s after Revoke" % st)
            return {"state": st}
        s.step("revoke cessation of operation", revoke)

        def destroy():
            c.destroy(uid)
            return {}
        s.step("destroy deactivated", destroy)
        s.step("get destroyed fails", lambda: expect_failure(
            lambda: c.get(uid), destroyed_get(s)))

        def destroyed_state():
            # The server MAY keep metadata (KMIP 1.4 §4.21); if it does,
            # the State must say Destroyed.
            try:
                st = state_of(c, uid)
            except pie_exceptions.KmipOperationFailure as e:
                check(e.reason in not_found(s) | {R.OBJECT_DESTROYED},
                      "unexpected %s" % describe(e))
                return {"metadata_kept": False}
            check(st == "DESTROYED", "state %s after Destroy" % st)
            return {"metadata_kept": True, "state": st}
        s.step("state after destroy", destroyed_state)

    s.flow(states)

    def compromise():
        other = {}

        def make():
            other["uid"] = c.create(enums.CryptographicAlgorithm.AES, 256,
                                    name=name + "-compromised")
            c.activate(other["uid"])
            check(state_of(c, other["uid"]) == "ACTIVE", "not active")
            return {"uid": other["uid"]}
        s.step("create+activate second key", make)

        def revoke():
            c.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, other["uid"],
                     revocation_message="interop test")
            st = state_of(c, other["uid"])
            check(st == "COMPROMISED", "state %s after compromise" % st)
            return {"state": st}
        s.step("revoke key compromise", revoke)

        def destroy():
            c.destroy(other["uid"])
            try:
                st = state_of(c, other["uid"])
            except pie_exceptions.KmipOperationFailure as e:
                check(e.reason in not_found(s) | {R.OBJECT_DESTROYED},
                      "unexpected %s" % describe(e))
                return {"metadata_kept": False}
            check(st == "DESTROYED_COMPROMISED", "state %s" % st)
            return {"metadata_kept": True, "state": st}
        s.step("destroy compromised", destroy)

    s.flow(compromise)
    c.close()


# ----------------------------------------------------------------- register

def register(s):
    c = s.client()
    sec = s.args.get("secrets") or {}
    key = binascii.unhexlify(sec.get("symmetric_key") or rnd.token_hex(16))
    password = binascii.unhexlify(sec.get("password") or rnd.token_hex(12))
    opaque = binascii.unhexlify(sec.get("opaque") or rnd.token_hex(24))
    check(len(key) == 16, "symmetric_key must be 16 bytes")

    cases = [
        ("symmetric key", pie_objects.SymmetricKey(
            enums.CryptographicAlgorithm.AES, 128, key,
            masks=[enums.CryptographicUsageMask.ENCRYPT,
                   enums.CryptographicUsageMask.DECRYPT],
            name="interop-reg-key-" + s.tag),
         pie_objects.SymmetricKey, "SYMMETRIC_KEY", key),
        ("secret data", pie_objects.SecretData(
            password, enums.SecretDataType.PASSWORD,
            name="interop-reg-secret-" + s.tag),
         pie_objects.SecretData, "SECRET_DATA", password),
        ("opaque object", pie_objects.OpaqueObject(
            opaque, enums.OpaqueDataType.NONE,
            name="interop-reg-opaque-" + s.tag),
         pie_objects.OpaqueObject, "OPAQUE_DATA", opaque),
    ]
    for label, obj, cls, type_name, want in cases:
        def one(label=label, obj=obj, cls=cls, type_name=type_name,
                want=want, name=obj.names[0]):
            uid = {}

            def reg():
                uid["v"] = c.register(obj)
                check(isinstance(uid["v"], str) and uid["v"], "no identifier")
                return {"uid": uid["v"]}
            s.step("register " + label, reg)

            def get():
                got = c.get(uid["v"])
                check(isinstance(got, cls), "got %s, want %s" % (
                    type(got).__name__, cls.__name__))
                check(got.value == want, "value differs from the registered "
                      "bytes (%d bytes back, %d sent)" % (len(got.value),
                                                          len(want)))
                if cls is pie_objects.SymmetricKey:
                    check(got.cryptographic_algorithm ==
                          enums.CryptographicAlgorithm.AES, "algorithm")
                    check(got.cryptographic_length == 128, "length")
                if cls is pie_objects.SecretData:
                    check(got.data_type == enums.SecretDataType.PASSWORD,
                          "secret data type %s" % got.data_type)
                if cls is pie_objects.OpaqueObject:
                    check(got.opaque_type == enums.OpaqueDataType.NONE,
                          "opaque type %s" % got.opaque_type)
                return {"value_bytes": len(got.value), "equal": True}
            s.step("get " + label, get)

            def attrs():
                notes = {}
                m = all_attributes(s, c, uid["v"], notes)
                check(m.get("Unique Identifier") == [uid["v"]], "identifier")
                check(m.get("Object Type") == [type_name], "Object Type %s"
                      % m.get("Object Type"))
                check(m.get("Name") == [name], "Name %s" % m.get("Name"))
                if cls is pie_objects.SymmetricKey:
                    check(m.get("Cryptographic Algorithm") == ["AES"], "alg")
                    check(m.get("Cryptographic Length") == [128], "length")
                    check(m.get("State") == ["PRE_ACTIVE"], "state")
                notes["names"] = sorted(m)
                return notes
            s.step("get_attributes " + label, attrs)

        s.flow(one)
    c.close()


# ------------------------------------------------------------------- errors

def errors(s):
    c = s.client()

    s.flow(lambda: s.step("get non-existent", lambda: expect_failure(
        lambda: c.get("interop-no-such-object-" + s.tag), not_found(s))))

    def active():
        uid = {}

        def make():
            uid["v"] = c.create(enums.CryptographicAlgorithm.AES, 128,
                                name="interop-err-" + s.tag)
            c.activate(uid["v"])
            return {"uid": uid["v"]}
        s.step("create+activate", make)
        s.step("destroy active fails", lambda: expect_failure(
            lambda: c.destroy(uid["v"]), wrong_state(s)))
        s.step("activate twice fails", lambda: expect_failure(
            lambda: c.activate(uid["v"]), wrong_state(s)))

        def still_active():
            st = state_of(c, uid["v"])
            check(st == "ACTIVE", "state %s after refused requests" % st)
            return {"state": st}
        s.step("still active", still_active)
    s.flow(active)

    # The reference server (kmip/services/server/crypto/engine.py,
    # create_symmetric_key) answers Invalid Field both for an algorithm that
    # is not a symmetric key algorithm and for a length the algorithm does
    # not allow.
    s.flow(lambda: s.step("create RSA symmetric key fails",
                          lambda: expect_failure(lambda: c.create(
                              enums.CryptographicAlgorithm.RSA, 2048),
                              {R.INVALID_FIELD})))
    s.flow(lambda: s.step("create AES-100 fails", lambda: expect_failure(
        lambda: c.create(enums.CryptographicAlgorithm.AES, 100),
        {R.INVALID_FIELD})))
    s.flow(lambda: s.step("create 3DES-100 fails", lambda: expect_failure(
        lambda: c.create(enums.CryptographicAlgorithm.TRIPLE_DES, 100),
        {R.INVALID_FIELD})))
    c.close()


# ---------------------------------------------------------------- isolation

def isolation(s):
    admin = s.client()
    bob = s.client(s.args["bob_cert"], s.args["bob_key"])
    name = "interop-iso-" + s.tag
    ids = {}

    def setup():
        def make():
            ids["admin"] = admin.create(enums.CryptographicAlgorithm.AES, 256,
                                        name=name)
            return {"uid": ids["admin"]}
        s.step("admin create", make)

        def own():
            # bob's connection works: he can use his own objects, so the
            # refusals below are about ownership, not a broken client.
            ids["bob"] = bob.create(enums.CryptographicAlgorithm.AES, 128,
                                    name=name + "-bob")
            got = bob.get(ids["bob"])
            check(len(got.value) == 16, "bob's own key")
            return {"uid": ids["bob"]}
        s.step("bob create+get own key", own)
    s.flow(setup)
    if "admin" not in ids:
        return
    uid = ids["admin"]

    for label, fn in [
            ("get", lambda: bob.get(uid)),
            ("get_attributes", lambda: bob.get_attributes(uid)),
            ("activate", lambda: bob.activate(uid)),
            ("revoke", lambda: bob.revoke(
                enums.RevocationReasonCode.KEY_COMPROMISE, uid)),
            ("destroy", lambda: bob.destroy(uid))]:
        s.flow(lambda label=label, fn=fn: s.step(
            "bob %s refused" % label, lambda: expect_failure(fn, denied(s))))

    def locate():
        def by_name():
            got = bob.locate(attributes=[attr(ATTR.NAME, name)])
            check(got == [], "bob located %s" % got)
            return {"located": 0}
        s.step("bob locate by name", by_name)

        def everything():
            got = bob.locate()
            check(uid not in got, "bob's Locate lists admin's key")
            if "bob" in ids:
                check(ids["bob"] in got, "bob's Locate misses his own key")
            return {"located": len(got)}
        s.step("bob locate all", everything)
    s.flow(locate)

    def untouched():
        st = state_of(admin, uid)
        check(st == "PRE_ACTIVE", "state %s after bob's attempts" % st)
        got = admin.get(uid)
        check(len(got.value) == 32, "admin's key")
        return {"state": st}
    s.flow(lambda: s.step("admin key untouched", untouched))
    bob.close()
    admin.close()


SCENARIOS = {
    "lifecycle": lifecycle,
    "register": register,
    "errors": errors,
    "isolation": isolation,
}


def run(body):
    """Runs body(s) on a Scenario made from the JSON object on stdin, as every
    interop script's main does, and returns the exit status: 0 after the
    final "done" line when every step passed, 1 otherwise. An exception
    escaping body (e.g. the connection failed) is reported as a failed
    "scenario" step."""
    s = Scenario(json.load(sys.stdin))
    try:
        body(s)
    except Exception as e:  # noqa: BLE001 - e.g. the connection failed
        s.failed = True
        traceback.print_exc(file=sys.stderr)
        s.emit({"step": "scenario", "ok": False, "error": describe(e)})
    finally:
        s.close()
    if s.failed:
        return 1
    s.emit({"step": "done", "ok": True})
    return 0


def main():
    return run(lambda s: SCENARIOS[s.args["scenario"]](s))


if __name__ == "__main__":
    sys.exit(main())
