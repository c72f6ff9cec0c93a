# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan the rules of a WAFv2 web ACL that other people share with the role (finding 4.4).

The role owns the rules it asks for and the rules it recorded on the web ACL on an earlier run (one
tag per rule, ``<tag_prefix><rule name>``); every other rule is someone else's and is kept exactly as
it is. medcircle.cloudops.wafv2_web_acl gets the role's rules, the names of the role's rules to remove,
and keeps every other rule itself, exactly as AWS returns it; this plan is what the role shows and
checks before that module changes anything.

community.aws.wafv2_web_acl_info returns the rules snake_cased by camel_dict_to_snake_dict, which
loses acronyms (``HTTPMethod`` and ``HttpMethod`` both become ``http_method``). The AWS member names
come back from botocore's wafv2 service model, which has no two members of one shape with the same
snake_case name. A rule of the role is then compared with the web ACL's rule of the same name as AWS
stores them (module_utils/wafv2.py normalize_rule: search strings as bytes, AWS's defaults filled in),
the comparison wafv2_web_acl makes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import _camel_to_snake
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.wafv2 import HAS_BOTOCORE, normalize_rule, rule_shape

OWNER_TAG_PREFIX = "medcircle:waf-rule:"
OWNER_TAG_VALUE = "medcircle.cloudops network_protection"
ACTIONS = ("Allow", "Block", "Count", "Captcha", "Challenge")

_MEMBERS = {}


def _rule_shape():
    if not HAS_BOTOCORE:
        raise AnsibleFilterError("waf_acl_plan needs botocore on the Ansible controller (pip install botocore)")
    return rule_shape()


def _members(shape):
    """{snake_case name as wafv2_web_acl_info returns it: (AWS member name, member shape)}."""
    if shape.name not in _MEMBERS:
        _MEMBERS[shape.name] = {_camel_to_snake(name): (name, member) for name, member in shape.members.items()}
    return _MEMBERS[shape.name]


def _restore(value, shape, where):
    """``value`` as wafv2_web_acl_info returns it -> the same value with the WAF API's member names."""
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
            restored[name] = _restore(item, member, "%s.%s" % (where, name))
        return restored
    if shape.type_name == "list":
        if not isinstance(value, list):
            raise AnsibleFilterError("%s should be a list, got %r" % (where, value))
        return [_restore(item, shape.member, "%s[%d]" % (where, index)) for index, item in enumerate(value)]
    if shape.type_name == "map":  # none in a Rule today; their keys would have been snake_cased
        raise AnsibleFilterError("%s is a map the role cannot keep unchanged" % where)
    return value


def _action(rule):
    """Block, Count, ... or "rule group" for a report line."""
    for action in ACTIONS:
        if action.lower() in (rule.get("action") or {}):
            return action
    if rule.get("override_action") is not None:
        return "rule group"
    return "?"


def _normalized(rule, where, strict):
    try:
        return normalize_rule(rule, where, strict=strict)
    except AnsibleAWSError as e:
        raise AnsibleFilterError("waf_acl_plan: %s" % e.message) from None


def waf_acl_plan(current, wanted, tag_prefix=OWNER_TAG_PREFIX, tag_value=OWNER_TAG_VALUE):
    """Plan one region's web ACL.

    ``current``: the result of community.aws.wafv2_web_acl_info (no ``arn`` when the web ACL does not
    exist). ``wanted``: the role's rules as the WAF API names them (``Name``, ``Priority``, ``Statement``,
    ...), what medcircle.cloudops.wafv2_web_acl takes.

    Returns a dict: ``exists``; ``rules``, the role's rules (for wafv2_web_acl's ``rules``); ``removed``,
    the names of the role's rules to remove (its ``remove_rules``); ``tags``, the ownership tags to put on
    the web ACL (one per rule of the role); ``other_tags``, the web ACL's tags that are not ownership tags
    (put back with the role's tags, so that only the ownership tags of rules no longer wanted go);
    ``kept``, the rules the role does not own ({name, priority, action}), which wafv2_web_acl keeps as
    they are; ``added``, ``updated`` and ``unchanged``, names of the role's rules; ``collisions``, the kept
    rules that have the priority of one of the role's rules ({rule, priority, role_rule}).
    """
    if not isinstance(current, dict):
        raise AnsibleFilterError("waf_acl_plan expects a wafv2_web_acl_info result, got %r" % (current,))
    if not isinstance(wanted, list) or not all(isinstance(rule, dict) and rule.get("Name") for rule in wanted):
        raise AnsibleFilterError("waf_acl_plan expects a list of named rules (key Name), got %r" % (wanted,))
    shape = _rule_shape()
    exists = bool(current.get("arn"))
    existing = (current.get("rules") or []) if exists else []
    tags = (current.get("tags") or {}) if exists else {}
    wanted_names = [rule["Name"] for rule in wanted]
    recorded = {key[len(tag_prefix) :] for key in tags if key.startswith(tag_prefix)}
    owned = recorded | set(wanted_names)

    by_name = {rule.get("name"): rule for rule in existing}
    kept, removed = [], []
    for rule in existing:
        name = rule.get("name")
        if name in owned:
            if name not in wanted_names:
                removed.append(name)
            continue
        # read with the model although the role only reports it: a field botocore does not know stops here
        _restore(rule, shape, "The rule %s of the web ACL" % name)
        kept.append({"name": name, "priority": rule.get("priority"), "action": _action(rule)})

    added, updated, unchanged = [], [], []
    for rule in wanted:
        want = _normalized(rule, "rule %s" % rule["Name"], strict=True)
        if rule["Name"] not in by_name:
            added.append(rule["Name"])
            continue
        before = _restore(by_name[rule["Name"]], shape, "The rule %s" % rule["Name"])
        same = _normalized(before, "The rule %s" % rule["Name"], strict=False) == want
        (unchanged if same else updated).append(rule["Name"])

    priorities = {int(rule["Priority"]): rule["Name"] for rule in wanted}
    collisions = [
        {"rule": item["name"], "priority": item["priority"], "role_rule": priorities[int(item["priority"])]}
        for item in kept
        if item["priority"] is not None and int(item["priority"]) in priorities
    ]

    return {
        "exists": exists,
        "rules": list(wanted),
        "tags": {tag_prefix + name: tag_value for name in wanted_names},
        "other_tags": {key: value for key, value in tags.items() if not key.startswith(tag_prefix)},
        "kept": sorted(kept, key=lambda item: (item["priority"] is None, item["priority"], item["name"])),
        "added": added,
        "updated": updated,
        "unchanged": unchanged,
        "removed": removed,
        "collisions": collisions,
    }


class FilterModule(object):
    def filters(self):
        return {"waf_acl_plan": waf_acl_plan}
