#!/usr/bin/python3
"""Lifecycle interoperability scenario run against kmipd with PyKMIP.

Same protocol as pykmip_client.py (JSON arguments on stdin, one JSON line
per step on stdout, {"step": "done"} when every step passed), whose helpers
it reuses; the only scenario is "lifecycle-dates": keys created with
Activation / Deactivation Dates, revoked, re-keyed and checked.
"""

import sys
import time

from kmip.core import enums
from kmip.core import objects as cobjects

import pykmip_client as pc

R = enums.ResultReason
ATTR = enums.AttributeType


def create_with_dates(s, c, name, dates):
    """Creates an AES-128 key whose template carries the given dates
    (attribute type -> Unix seconds) through the KMIP proxy, since
    ProxyKmipClient.create takes no dates."""
    attrs = [
        pc.attr(ATTR.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES),
        pc.attr(ATTR.CRYPTOGRAPHIC_LENGTH, 128),
        pc.attr(ATTR.CRYPTOGRAPHIC_USAGE_MASK, [
            enums.CryptographicUsageMask.ENCRYPT,
            enums.CryptographicUsageMask.DECRYPT]),
        pc.attr(ATTR.NAME, name),
    ]
    for kind, when in dates.items():
        attrs.append(pc.attr(kind, when))
    result = c.proxy.create(enums.ObjectType.SYMMETRIC_KEY,
                            cobjects.TemplateAttribute(attributes=attrs))
    status = result.result_status.value
    pc.check(status == enums.ResultStatus.SUCCESS, "create failed: %s %r" % (
        result.result_reason, result.result_message))
    return result.uuid


def lifecycle_dates(s):
    c = s.client()
    now = int(time.time())
    keys = {}

    def made(label, dates):
        def run():
            keys[label] = create_with_dates(s, c, "lc-%s-%s" % (label, s.tag), dates)
            return {"uid": keys[label], "state": pc.state_of(c, keys[label])}
        return run

    def creates():
        r = s.step("create with a past Activation Date is Active",
                   made("past", {ATTR.ACTIVATION_DATE: now - 3600}))
        pc.check(r["state"] == "ACTIVE", "state %s" % r["state"])
        r = s.step("create with a future Activation Date is Pre-Active",
                   made("future", {ATTR.ACTIVATION_DATE: now + 3600}))
        pc.check(r["state"] == "PRE_ACTIVE", "state %s" % r["state"])
        r = s.step("a passed Deactivation Date makes it Deactivated",
                   made("expired", {ATTR.ACTIVATION_DATE: now - 7200,
                                    ATTR.DEACTIVATION_DATE: now - 60}))
        pc.check(r["state"] == "DEACTIVATED", "state %s" % r["state"])

    def revokes():
        def cessation():
            c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, keys["past"])
            st = pc.state_of(c, keys["past"])
            pc.check(st == "DEACTIVATED", "state %s" % st)
            _, attrs = c.get_attributes(keys["past"], ["Deactivation Date"])
            pc.check(len(attrs) == 1, "no Deactivation Date")
            return {"state": st}
        s.step("revoke an Active key (cessation of operation)", cessation)

        def compromise():
            c.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, keys["future"],
                     compromise_occurrence_date=now - 600)
            st = pc.state_of(c, keys["future"])
            pc.check(st == "COMPROMISED", "state %s" % st)
            _, attrs = c.get_attributes(keys["future"], ["Compromise Occurrence Date"])
            m = pc.attr_map(attrs)
            pc.check(m.get("Compromise Occurrence Date") == [now - 600],
                     "Compromise Occurrence Date %s" % m.get("Compromise Occurrence Date"))
            return {"state": st}
        s.step("revoke a Pre-Active key for compromise", compromise)
        s.step("destroy the deactivated keys", lambda: {
            "destroyed": [c.destroy(keys["past"]) or "past", c.destroy(keys["expired"]) or "expired"]})

    def rekeys():
        s.step("create a key to re-key", made("old", {ATTR.ACTIVATION_DATE: now - 3600}))

        def rekey():
            new = c.rekey(uid=keys["old"])
            pc.check(new and new != keys["old"], "Re-key returned %r" % new)
            keys["new"] = new
            st = pc.state_of(c, new)
            pc.check(st == "ACTIVE", "replacement state %s" % st)
            _, attrs = c.get_attributes(new, ["Name"])
            names = pc.attr_map(attrs).get("Name", [])
            pc.check(names == ["lc-old-%s" % s.tag], "replacement names %s" % names)
            _, attrs = c.get_attributes(keys["old"], ["Name"])
            pc.check(not attrs, "the existing key kept its name")
            return {"uid": new, "state": st}
        s.step("re-key copies the dates and moves the name", rekey)

        def offset():
            new = c.rekey(uid=keys["new"], offset=3600)
            st = pc.state_of(c, new)
            pc.check(st == "PRE_ACTIVE", "replacement activating in an hour is %s" % st)
            return {"uid": new, "state": st}
        s.step("re-key with an offset", offset)

    def checks():
        def ok():
            got = c.check(uid=keys["new"], cryptographic_usage_mask=[
                enums.CryptographicUsageMask.ENCRYPT])
            pc.check(got == keys["new"], "Check answered %r" % got)
            return {"uid": got}
        s.step("check encrypt on an Active encrypt key", ok)
        refused = {R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK} if s.v2 else {R.PERMISSION_DENIED}
        s.step("check sign on an encrypt key", lambda: pc.expect_failure(
            lambda: c.check(uid=keys["new"], cryptographic_usage_mask=[
                enums.CryptographicUsageMask.SIGN]), refused))

    for flow in (creates, revokes, rekeys, checks):
        s.flow(flow)
    c.close()


SCENARIOS = {"lifecycle-dates": lifecycle_dates}


if __name__ == "__main__":
    sys.exit(pc.run(lambda s: SCENARIOS[s.args["scenario"]](s)))
