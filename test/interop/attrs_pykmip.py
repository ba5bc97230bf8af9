#!/usr/bin/python3
"""Attribute interoperability scenario run against kmipd with PyKMIP 0.10.

Run with Debian's /usr/bin/python3. Reads the same JSON object on stdin as
pykmip_client.py (host, port, ca, cert, key, kmip_version; scenario is
"attributes") and prints the same one-JSON-line-per-step report, ending with
{"step": "done", "ok": true} when every step passed.

PyKMIP's ProxyKmipClient has Get Attributes, Get Attribute List, Modify,
Delete and (KMIP 2.0) Set Attribute, but no Add Attribute; custom "x-"
attributes are therefore given at creation, through the client's lower-level
KMIPProxy, which accepts a Template-Attribute. No key material is printed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kmip.core import enums  # noqa: E402
from kmip.core import exceptions as core_exceptions  # noqa: E402
from kmip.core import objects as cobjects  # noqa: E402
from kmip.pie import exceptions as pie_exceptions  # noqa: E402

import pykmip_client as base  # noqa: E402
from pykmip_client import R, attr, attr_map, check  # noqa: E402

ALG = enums.CryptographicAlgorithm
MASK = enums.CryptographicUsageMask


def expect_failure(fn, reasons):
    """Calls fn, which must fail with one of reasons; returns the reason
    seen. PyKMIP raises KmipOperationFailure from most ProxyKmipClient
    methods but OperationFailure from Modify and Delete Attribute."""
    try:
        fn()
    except (pie_exceptions.KmipOperationFailure,
            core_exceptions.OperationFailure) as e:
        check(e.status == enums.ResultStatus.OPERATION_FAILED,
              "status %s, want OPERATION_FAILED" % e.status)
        check(e.reason in reasons, "reason %s (message %r), want one of %s" % (
            e.reason, getattr(e, "message", ""),
            sorted(r.name for r in reasons)))
        return {"reason": e.reason.name}
    raise AssertionError("operation succeeded, want failure with one of %s"
                         % sorted(r.name for r in reasons))


def create_with_custom(s, c, name, custom):
    """Creates an AES-128 key with a Name and, at KMIP 1.x, the custom
    attributes in custom (name -> text); returns its identifier."""
    attrs = [
        attr(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, ALG.AES),
        attr(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 128),
        attr(enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
             [MASK.ENCRYPT, MASK.DECRYPT]),
        attr(enums.AttributeType.NAME, name),
    ]
    for k, v in custom.items():
        attrs.append(attr(k, v))
    result = c.proxy.create(enums.ObjectType.SYMMETRIC_KEY,
                            cobjects.TemplateAttribute(attributes=attrs))
    check(result.result_status.value == enums.ResultStatus.SUCCESS,
          "Create failed: %s %s" % (result.result_reason,
                                    result.result_message))
    return result.uuid


def attributes(s):
    c = s.client()
    name = "attrs-" + s.tag
    custom = {} if s.v2 else {"x-team": "blue", "x-ticket": "T-1"}
    uid = s.step("create with custom attributes",
                 lambda: {"uid": create_with_custom(s, c, name, custom)})["uid"]

    def custom_read():
        _, attrs = c.get_attributes(uid, sorted(custom))
        m = attr_map(attrs)
        check(m == {k: [v] for k, v in custom.items()},
              "custom attributes %s, want %s" % (m, custom))
        names = c.get_attribute_list(uid)
        for k in custom:
            check(k in names, "%s missing from Get Attribute List" % k)
        return {"custom": sorted(m)}

    def custom_locate():
        got = c.locate(attributes=[attr("x-team", "blue")])
        check(got == [uid], "Locate by x-team found %s" % got)
        return {"located": len(got)}

    def custom_modify():
        a = attr("x-team", "green")
        a.attribute_index = cobjects.Attribute.AttributeIndex(0)
        got_uid, changed = c.modify_attribute(uid, attribute=a)
        check(got_uid == uid, "Modify answered for another object")
        check(changed.attribute_value.value == "green",
              "Modify echoed %s" % changed.attribute_value.value)
        check(changed.attribute_index is not None
              and changed.attribute_index.value == 0,
              "Modify echoed no Attribute Index 0: %s" % changed.attribute_index)
        _, attrs = c.get_attributes(uid, ["x-team"])
        check(attr_map(attrs) == {"x-team": ["green"]}, "x-team not modified")
        return {"x-team": "green"}

    def custom_delete():
        got_uid, deleted = c.delete_attribute(uid, attribute_name="x-ticket")
        check(got_uid == uid, "Delete answered for another object")
        check(deleted.attribute_value.value == "T-1",
              "Delete echoed %s" % deleted.attribute_value.value)
        check(deleted.attribute_index is not None
              and deleted.attribute_index.value == 0,
              "Delete echoed no Attribute Index 0: %s" % deleted.attribute_index)
        names = c.get_attribute_list(uid)
        check("x-ticket" not in names, "x-ticket still listed")
        check("x-team" in names, "x-team deleted too")
        return {}

    if s.v2:
        s.skip("custom attributes", "PyKMIP 0.10 cannot encode KMIP 2.0 "
               "Vendor Attributes")
    else:
        s.flow(lambda: s.step("custom attributes read", custom_read))
        s.flow(lambda: s.step("custom attribute locate", custom_locate))
        s.flow(lambda: s.step("custom attribute modify", custom_modify))
        s.flow(lambda: s.step("custom attribute delete", custom_delete))

    def name_index():
        # Get Attributes names the instance of a multi-instance attribute,
        # index 0 included, as the reference server does (KMIP 1.4 §2.1.1
        # lets a server omit index 0; PyKMIP's upstream tests read it).
        _, attrs = c.get_attributes(uid, ["Name"])
        check(len(attrs) == 1, "Get Attributes returned %d Names" % len(attrs))
        index = attrs[0].attribute_index
        check(index is not None and index.value == 0,
              "Name came without Attribute Index 0: %s" % index)
        return {"index": index.value}
    if s.v2:
        s.skip("Get Attributes names the Attribute Index", "KMIP 2.x "
               "attributes have no Attribute Index")
    else:
        s.flow(lambda: s.step("Get Attributes names the Attribute Index",
                              name_index))

    def read_only():
        if s.v2:
            ref = cobjects.AttributeReference(
                vendor_identification="", attribute_name="Unique Identifier")
            return expect_failure(
                lambda: c.delete_attribute(uid, attribute_reference=ref),
                {R.ATTRIBUTE_READ_ONLY})
        return expect_failure(
            lambda: c.delete_attribute(uid, attribute_name="Unique Identifier"),
            {R.PERMISSION_DENIED})
    s.flow(lambda: s.step("delete a read-only attribute refused", read_only))

    def missing():
        if s.v2:
            new = cobjects.NewAttribute(attribute=base.FACTORY.value_factory
                                        .create_attribute_value_by_enum(
                                            enums.Tags.CONTACT_INFORMATION,
                                            "ops"))
            return expect_failure(
                lambda: c.modify_attribute(uid, new_attribute=new),
                {R.ATTRIBUTE_NOT_FOUND})
        a = attr(enums.AttributeType.CONTACT_INFORMATION, "ops")
        return expect_failure(lambda: c.modify_attribute(uid, attribute=a),
                              {R.INVALID_FIELD})
    s.flow(lambda: s.step("modify an absent attribute refused", missing))

    def name_delete():
        if s.v2:
            value = base.FACTORY.value_factory.create_attribute_value_by_enum(
                enums.Tags.NAME, name)
            got_uid, _ = c.delete_attribute(
                uid, current_attribute=cobjects.CurrentAttribute(
                    attribute=value))
        else:
            got_uid, _ = c.delete_attribute(uid, attribute_name="Name",
                                            attribute_index=0)
        check(got_uid == uid, "Delete answered for another object")
        names = c.get_attribute_list(uid)
        check("Name" not in names, "Name still listed")
        return {}
    s.flow(lambda: s.step("delete Name", name_delete))

    def newest_first():
        # Locate answers the most recently created object first (KMIP 2.1
        # §6.1.29; the reference server does so at every version).
        group = "order-" + s.tag
        made = [create_with_custom(s, c, group, {}) for _ in range(3)]
        got = c.locate(attributes=[attr(enums.AttributeType.NAME, group)])
        check(got == made[::-1], "Locate answered %s, want newest first %s"
              % (got, made[::-1]))
        top = c.locate(attributes=[attr(enums.AttributeType.NAME, group)],
                       maximum_items=1)
        check(top == made[-1:], "maximum_items=1 answered %s, want the "
              "newest %s" % (top, made[-1:]))
        for u in made:
            c.destroy(u)
        return {"located": len(got)}
    s.flow(lambda: s.step("Locate newest first", newest_first))

    def fresh():
        _, before = c.get_attributes(uid, ["Fresh"])
        check(attr_map(before) == {"Fresh": [True]},
              "new key Fresh %s" % attr_map(before))
        c.get(uid)
        _, after = c.get_attributes(uid, ["Fresh"])
        check(attr_map(after) == {"Fresh": [False]},
              "Fresh %s after Get" % attr_map(after))
        return {"fresh": [True, False]}
    s.flow(lambda: s.step("Fresh cleared by Get", fresh))

    def sensitive():
        key = c.create(ALG.AES, 128, name="sensitive-" + s.tag)
        _, attrs = c.get_attributes(key, ["Sensitive"])
        check(attr_map(attrs) == {"Sensitive": [False]},
              "default Sensitive %s" % attr_map(attrs))
        if s.v2:
            c.set_attribute(key, attribute_name="Sensitive",
                            attribute_value=True)
        else:
            a = attr(enums.AttributeType.SENSITIVE, True)
            c.modify_attribute(key, attribute=a)
        seen = expect_failure(lambda: c.get(key), {R.SENSITIVE})
        c.destroy(key)
        return seen
    if s.version < enums.KMIPVersion.KMIP_1_4:
        s.skip("Sensitive key not retrievable", "Sensitive is a KMIP 1.4 "
               "attribute")
    else:
        s.flow(lambda: s.step("Sensitive key not retrievable", sensitive))

    c.destroy(uid)
    c.close()


if __name__ == "__main__":
    sys.exit(base.run(attributes))
