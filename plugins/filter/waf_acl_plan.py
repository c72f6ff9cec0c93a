# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan the rules of a WAFv2 web ACL that other people share with the role (finding 4.4).

The role owns the rules it asks for and the rules it recorded on the web ACL on an earlier run (one
tag per rule, ``<tag_prefix><rule name>``); every other rule is someone else's and is kept exactly as
it is. community.aws.wafv2_web_acl with ``purge_rules: true`` replaces the whole rule list, so the
rules kept go back to it in its own input format:

* community.aws.wafv2_web_acl_info returns the rules snake_cased by camel_dict_to_snake_dict, which
  loses acronyms (``HTTPMethod`` and ``HttpMethod`` both become ``http_method``). The AWS member names
  come back from botocore's wafv2 service model, which has no two members of one shape with the same
  snake_case name.
* community.aws.wafv2_web_acl turns each key of its ``rules`` into CamelCase (capitalising every
  ``_``-separated part), then ``Ip`` into ``IP`` and ``Arn`` into ``ARN``, and compares the result with
  the rules AWS returns. Each AWS member name is given to it as a key that this turns back into
  exactly that name (checked), so a kept rule compares equal and is sent back unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import _camel_to_snake

try:
    import botocore.session

    HAS_BOTOCORE = True
except ImportError:
    HAS_BOTOCORE = False

OWNER_TAG_PREFIX = "medcircle:waf-rule:"
OWNER_TAG_VALUE = "medcircle.cloudops network_protection"
ACTIONS = ("Allow", "Block", "Count", "Captcha", "Challenge")

_RULE_SHAPE = []
_MEMBERS = {}


def _rule_shape():
    if not HAS_BOTOCORE:
        raise AnsibleFilterError("waf_acl_plan needs botocore on the Ansible controller (pip install botocore)")
    if not _RULE_SHAPE:
        _RULE_SHAPE.append(botocore.session.get_session().get_service_model("wafv2").shape_for("Rule"))
    return _RULE_SHAPE[0]


def _members(shape):
    """{snake_case name as wafv2_web_acl_info returns it: (AWS member name, member shape)}."""
    if shape.name not in _MEMBERS:
        _MEMBERS[shape.name] = {_camel_to_snake(name): (name, member) for name, member in shape.members.items()}
    return _MEMBERS[shape.name]


def module_key_to_aws(key):
    """The key community.aws.wafv2_web_acl sends to AWS for a key of its ``rules`` (its own conversion:
    snake_dict_to_camel_dict(capitalize_first=True), then wafv2_snake_dict_to_camel_dict)."""
    camel = "".join(part.capitalize() or "_" for part in key.split("_"))
    if "Ip" in camel:
        camel = camel.replace("Ip", "IP")
    if camel == "Arn":
        camel = "ARN"
    return camel


def aws_key_to_module(name):
    """A key that community.aws.wafv2_web_acl turns back into the AWS member name ``name``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[0-9]+", name)
    letters = re.findall(r"[A-Z][a-z0-9]*|[0-9]+", name)
    # Readable first (IPSetReferenceStatement -> ip_set_reference_statement), then one part per capital
    # (HTTPMethod -> h_t_t_p_method), which the module capitalises back one letter at a time.
    for parts in (words, letters):
        candidate = "_".join(part.lower() for part in parts)
        if "".join(parts) == name and module_key_to_aws(candidate) == name:
            return candidate
    raise AnsibleFilterError(
        "community.aws.wafv2_web_acl cannot send the WAF field %s: no rule key turns into it" % name
    )


def _restore(value, shape, where):
    """``value`` as wafv2_web_acl_info returns it -> the same value in the module's input format."""
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            raise AnsibleFilterError("%s should be a mapping (%s), got %r" % (where, shape.name, value))
        members = _members(shape)
        restored = {}
        for key, item in value.items():
            if key not in members:
                raise AnsibleFilterError(
                    "%s has the field %s that botocore's WAFv2 model (%s) does not know: update botocore on the "
                    "Ansible controller so the rule can be kept as it is" % (where, key, shape.name)
                )
            name, member = members[key]
            restored[aws_key_to_module(name)] = _restore(item, member, "%s.%s" % (where, name))
        return restored
    if shape.type_name == "list":
        if not isinstance(value, list):
            raise AnsibleFilterError("%s should be a list, got %r" % (where, value))
        return [_restore(item, shape.member, "%s[%d]" % (where, index)) for index, item in enumerate(value)]
    if shape.type_name == "map":  # none in a Rule today; their keys would have been snake_cased
        raise AnsibleFilterError("%s is a map the role cannot keep unchanged" % where)
    return value


def to_aws(rule):
    """A rule in the module's input format -> the rule as the module sends it (and AWS returns it)."""
    if isinstance(rule, dict):
        return {module_key_to_aws(key): to_aws(value) for key, value in rule.items()}
    if isinstance(rule, list):
        return [to_aws(item) for item in rule]
    return rule


def _action(rule):
    """Block, Count, ... or "rule group" for a report line."""
    for action in ACTIONS:
        if action.lower() in (rule.get("action") or {}):
            return action
    if rule.get("override_action") is not None:
        return "rule group"
    return "?"


def _search_strings(value, path=()):
    """The paths of the SearchString blobs under a rule's statement (snake_case, as the info module gives)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "search_string":
                yield path
            else:
                yield from _search_strings(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _search_strings(item, (*path, "[]"))


# Where community.aws.wafv2_web_acl turns the SearchString AWS returns (bytes) into text before it compares
# (byte_values_to_strings_before_compare): anywhere else it compares bytes with text and sees a change.
_DECODED = {
    ("byte_match_statement",),
    ("and_statement", "statements", "[]", "byte_match_statement"),
    ("or_statement", "statements", "[]", "byte_match_statement"),
}


def _module_limits(rule):
    """("unreadable", "always_changed" or None) for a rule as wafv2_web_acl_info returns it.

    community.aws.wafv2_web_acl 10.0.0 fails with a TypeError on a web ACL that has a rule whose top
    statement is a NOT statement, and sees a rule with a SearchString nested deeper than one AND/OR as
    changed on every run (it then sends it back unchanged)."""
    statement = rule.get("statement") or {}
    if "not_statement" in statement:
        return "unreadable"
    if any(path not in _DECODED for path in _search_strings(statement)):
        return "always_changed"
    return None


def waf_acl_plan(current, wanted, tag_prefix=OWNER_TAG_PREFIX, tag_value=OWNER_TAG_VALUE):
    """Plan one region's web ACL.

    ``current``: the result of community.aws.wafv2_web_acl_info (no ``arn`` when the web ACL does not
    exist). ``wanted``: the role's rules in the module's input format (snake_case keys).

    Returns a dict: ``exists``; ``rules``, the whole rule list for wafv2_web_acl (the kept rules first,
    then the role's); ``tags``, the ownership tags to put on the web ACL (one per rule of the role);
    ``kept``, the rules the role does not own ({name, priority, action}); ``added``, ``updated``,
    ``unchanged`` and ``removed``, names of the role's rules; ``collisions``, the kept rules that have
    the priority of one of the role's rules ({rule, priority, role_rule}); ``unreadable``, the rules
    (any owner) that make community.aws.wafv2_web_acl fail, and ``always_changed``, the kept rules it
    reports as changed on every run ({name, priority}).
    """
    if not isinstance(current, dict):
        raise AnsibleFilterError("waf_acl_plan expects a wafv2_web_acl_info result, got %r" % (current,))
    if not isinstance(wanted, list) or not all(isinstance(rule, dict) and rule.get("name") for rule in wanted):
        raise AnsibleFilterError("waf_acl_plan expects a list of named rules, got %r" % (wanted,))
    exists = bool(current.get("arn"))
    existing = (current.get("rules") or []) if exists else []
    tags = (current.get("tags") or {}) if exists else {}
    wanted_names = [rule["name"] for rule in wanted]
    recorded = {key[len(tag_prefix) :] for key in tags if key.startswith(tag_prefix)}
    owned = recorded | set(wanted_names)

    by_name = {rule.get("name"): rule for rule in existing}
    kept, kept_rules, removed = [], [], []
    for rule in existing:
        name = rule.get("name")
        if name in owned:
            if name not in wanted_names:
                removed.append(name)
            continue
        kept_rules.append(_restore(rule, _rule_shape(), "The rule %s of the web ACL" % name))
        kept.append({"name": name, "priority": rule.get("priority"), "action": _action(rule)})

    added, updated, unchanged = [], [], []
    for rule in wanted:
        if rule["name"] not in by_name:
            added.append(rule["name"])
            continue
        before = to_aws(_restore(by_name[rule["name"]], _rule_shape(), "The rule %s" % rule["name"]))
        (unchanged if before == to_aws(rule) else updated).append(rule["name"])

    limits = {rule.get("name"): _module_limits(rule) for rule in existing}
    unreadable = [
        {"name": rule.get("name"), "priority": rule.get("priority")}
        for rule in existing
        if limits[rule.get("name")] == "unreadable"
    ]
    always_changed = [
        {"name": item["name"], "priority": item["priority"]}
        for item in kept
        if limits[item["name"]] == "always_changed"
    ]

    priorities = {int(rule["priority"]): rule["name"] for rule in wanted}
    collisions = [
        {"rule": item["name"], "priority": item["priority"], "role_rule": priorities[int(item["priority"])]}
        for item in kept
        if item["priority"] is not None and int(item["priority"]) in priorities
    ]

    return {
        "exists": exists,
        "rules": kept_rules + list(wanted),
        "tags": {tag_prefix + name: tag_value for name in wanted_names},
        "kept": sorted(kept, key=lambda item: (item["priority"] is None, item["priority"], item["name"])),
        "added": added,
        "updated": updated,
        "unchanged": unchanged,
        "removed": removed,
        "collisions": collisions,
        "unreadable": unreadable,
        "always_changed": always_changed,
    }


class FilterModule(object):
    def filters(self):
        return {"waf_acl_plan": waf_acl_plan}
