# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS WAFv2 web ACLs for the wafv2_web_acl module and the waf_acl_plan filter (finding 4.4).

Functions take a boto3 ``wafv2`` client (wrapped by AnsibleAWSModule.client with a retry decorator) and
never the module, so the logic is tested with botocore's Stubber.

What AWS returns differs from what a caller gives although nothing changed:

- ``ByteMatchStatement.SearchString`` is a blob in the WAFv2 API: on the wire it is base64, and boto3 returns
  the bytes, wherever the byte match sits (a rule's statement, an AND/OR, a NOT, a rate-based rule's scope-down
  statement). A playbook can only give text (module arguments travel as JSON).
- AWS fills in defaults on the rules it stores: a rate-based statement comes back with
  ``EvaluationWindowSec: 300`` ("Default: 300 (5 minutes)", API reference of RateBasedStatement) when the request
  had none.
- UpdateWebACL replaces the whole web ACL: CAPTCHA and challenge settings, token domains, the body size limits
  (AssociationConfig) and the data protection settings must be sent back or they are reset.

Here a rule is compared as AWS stores it (normalize_rule): each field is checked against botocore's WAFv2 model
(shape ``Rule``), a blob is compared as bytes (text as its UTF-8 bytes), numbers and booleans as the model's
types, and the defaults of AWS_DEFAULTS are filled in on both sides. Dicts compare without regard to key order;
lists keep their order, as AWS keeps it. Rules that the caller does not give are kept exactly as GetWebACL
returned them (bytes and all) unless they are named in ``remove_rules`` or ``purge_rules`` is on, and every
setting of the web ACL that the module does not manage is sent back as it was.
"""

import copy
import re

try:
    import botocore.session

    HAS_BOTOCORE = True
except ImportError:  # AnsibleAWSModule reports a missing botocore; the waf_acl_plan filter says so
    HAS_BOTOCORE = False

from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

# What AWS stores for a field the request left out, by WAFv2 shape: {shape name: {member: value}}.
# RateBasedStatement.EvaluationWindowSec: "Default: 300 (5 minutes)" (WAFv2 API reference).
AWS_DEFAULTS = {"RateBasedStatement": {"EvaluationWindowSec": 300}}

# The settings of a web ACL that this module manages; UpdateWebACL gets every other one back as it was.
MANAGED = ("Name", "Scope", "Id", "LockToken", "DefaultAction", "Description", "Rules", "VisibilityConfig")
SCOPES = ("REGIONAL", "CLOUDFRONT")
ACTIONS = ("Allow", "Block")
NAME_PATTERN = re.compile(r"^[\w-]{1,128}$")
METRIC_NAME_PATTERN = re.compile(r"^[\w#:.\-/]{1,255}$")

_MODEL = []


class WafError(AnsibleAWSError):
    pass


class WafErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = WafError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("WAFNonexistentItemException")


def wafv2_model():
    """botocore's WAFv2 service model (loaded once)."""
    if not _MODEL:
        _MODEL.append(botocore.session.get_session().get_service_model("wafv2"))
    return _MODEL[0]


def rule_shape():
    return wafv2_model().shape_for("Rule")


def _scalar(value, shape, where):
    kind = shape.type_name
    if kind == "blob":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8")
        raise ParameterError(where, value, "is not text", "a text value (the SDK base64-encodes it)")
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.match(r"^-?\d+$", str(value)):
            raise ParameterError(where, value, "is not a whole number", "a whole number")
        return int(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).lower() if isinstance(value, str) else value
        if text in BOOLEANS_TRUE:
            return True
        if text in BOOLEANS_FALSE:
            return False
        raise ParameterError(where, value, "is not a boolean", "true or false")
    if kind in ("float", "double"):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ParameterError(where, value, "is not a number", "a number") from None
    if kind == "string":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ParameterError(where, value, "is not text", "a text value")
        return str(value)
    return value


def normalize(value, shape, where="rule", strict=True):
    """``value`` (of WAFv2 ``shape``) as AWS stores it: see the module's docstring.

    ``strict`` (a rule to send): a field the model does not know, a missing required field or a value of the
    wrong type raises ParameterError naming its path. Not strict (a rule AWS returned): unknown fields are kept.
    """
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            if not strict:
                return value
            raise ParameterError(where, value, "is not a mapping", "the fields of the WAF %s" % shape.name)
        result = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                if strict:
                    raise ParameterError(
                        "%s.%s" % (where, key),
                        None,
                        "is not a field of the WAF %s (names are the WAF API's, as GetWebACL returns them)"
                        % shape.name,
                        ", ".join(shape.members),
                    )
                result[key] = item
                continue
            if item is None:
                continue
            result[key] = normalize(item, member, "%s.%s" % (where, key), strict)
        for key, default in AWS_DEFAULTS.get(shape.name, {}).items():
            result.setdefault(key, default)
        if strict:
            missing = [name for name in shape.required_members if name not in result]
            if missing:
                raise ParameterError(
                    where, None, "lacks %s" % ", ".join(missing), "a WAF %s with %s" % (shape.name, ", ".join(missing))
                )
        return result
    if kind == "list":
        if not isinstance(value, list):
            if not strict:
                return value
            raise ParameterError(where, value, "is not a list", "a list")
        return [normalize(item, shape.member, "%s[%d]" % (where, index), strict) for index, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            if not strict:
                return value
            raise ParameterError(where, value, "is not a mapping", "a mapping")
        return {key: normalize(item, shape.value, "%s.%s" % (where, key), strict) for key, item in value.items()}
    if not strict and (kind != "blob" or not isinstance(value, str)):
        return value
    return _scalar(value, shape, where)


def normalize_rule(rule, where="rule", strict=True):
    return normalize(rule, rule_shape(), where, strict)


def normalize_rules(rules, option="rules"):
    """The rules to send, normalized; names and priorities must be unique."""
    if not isinstance(rules, list):
        raise ParameterError(option, rules, "is not a list", "a list of WAF rules")
    result = []
    names, priorities = {}, {}
    for index, rule in enumerate(rules):
        label = "%s[%d]" % (option, index)
        if isinstance(rule, dict) and isinstance(rule.get("Name"), str):
            label = "%s[%d] (%s)" % (option, index, rule["Name"])
        normal = normalize_rule(rule, label)
        if normal["Name"] in names:
            raise ParameterError(option, normal["Name"], "names two rules", "a different Name for each rule")
        if normal["Priority"] in priorities:
            raise ParameterError(
                option,
                normal["Priority"],
                "is the priority of both %s and %s" % (priorities[normal["Priority"]], normal["Name"]),
                "a different Priority for each rule",
            )
        names[normal["Name"]] = index
        priorities[normal["Priority"]] = normal["Name"]
        result.append(normal)
    return result


def printable(value):
    """A rule (or any value) with its blobs as text, for results and diffs."""
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    return value


# --- AWS calls --------------------------------------------------------------------------------------------


@WafErrorHandler.common_error_handler("list the web ACLs (wafv2:ListWebACLs)")
def find_web_acl(client, name, scope):
    """The summary (Name, Id, ARN, LockToken) of the web ACL called ``name``, or None."""
    params = {"Scope": scope, "Limit": 100}
    while True:
        page = client.list_web_acls(aws_retry=True, **params)
        for summary in page.get("WebACLs", []):
            if summary.get("Name") == name:
                return summary
        if not page.get("NextMarker"):
            return None
        params["NextMarker"] = page["NextMarker"]


@WafErrorHandler.list_error_handler("read the web ACL (wafv2:GetWebACL)")
def get_web_acl(client, name, scope, acl_id):
    """(WebACL, LockToken), or None when it no longer exists."""
    answer = client.get_web_acl(Name=name, Scope=scope, Id=acl_id, aws_retry=True)
    return answer["WebACL"], answer["LockToken"]


@WafErrorHandler.common_error_handler("read the web ACL's tags (wafv2:ListTagsForResource)")
def get_tags(client, arn):
    tags = []
    params = {"ResourceARN": arn}
    while True:
        page = client.list_tags_for_resource(aws_retry=True, **params)
        tags.extend((page.get("TagInfoForResource") or {}).get("TagList") or [])
        if not page.get("NextMarker"):
            return boto3_tag_list_to_ansible_dict(tags)
        params["NextMarker"] = page["NextMarker"]


@WafErrorHandler.common_error_handler("create the web ACL (wafv2:CreateWebACL)")
def create_web_acl(client, request):
    return client.create_web_acl(aws_retry=True, **request)["Summary"]


@WafErrorHandler.common_error_handler("update the web ACL (wafv2:UpdateWebACL)")
def update_web_acl(client, request):
    client.update_web_acl(aws_retry=True, **request)


@WafErrorHandler.common_error_handler("delete the web ACL (wafv2:DeleteWebACL)")
def delete_web_acl(client, name, scope, acl_id, lock_token):
    client.delete_web_acl(Name=name, Scope=scope, Id=acl_id, LockToken=lock_token, aws_retry=True)


@WafErrorHandler.common_error_handler("tag the web ACL (wafv2:TagResource, wafv2:UntagResource)")
def set_tags(client, arn, add, remove):
    if add:
        client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(add), aws_retry=True)
    if remove:
        client.untag_resource(ResourceARN=arn, TagKeys=list(remove), aws_retry=True)


# --- the plan ---------------------------------------------------------------------------------------------


def check_params(params):
    """Raise ParameterError for input AWS would refuse; the rules to send, normalized."""
    if not isinstance(params.get("name"), str) or not NAME_PATTERN.match(params["name"]):
        raise ParameterError(
            "name", params.get("name"), "is not a valid web ACL name", "1-128 letters, digits, _ and -"
        )
    if params.get("scope") not in SCOPES:
        raise ParameterError("scope", params.get("scope"), "is not a WAF scope", ", ".join(SCOPES))
    if params.get("default_action") is not None and params["default_action"] not in ACTIONS:
        raise ParameterError("default_action", params["default_action"], "is not a default action", ", ".join(ACTIONS))
    description = params.get("description")
    if description is not None and not 1 <= len(description) <= 256:
        raise ParameterError("description", description, "must be 1 to 256 characters long", "a shorter text")
    metric = params.get("metric_name")
    if metric is not None and not METRIC_NAME_PATTERN.match(metric):
        raise ParameterError(
            "metric_name", metric, "is not a valid CloudWatch metric name", "1-255 letters, digits and _ # : . - /"
        )
    rules = normalize_rules(params.get("rules") or [])
    overlap = sorted({rule["Name"] for rule in rules} & set(params.get("remove_rules") or []))
    if overlap:
        raise ParameterError(
            "remove_rules", overlap, "names rules that rules also gives", "the names of rules to remove only"
        )
    return rules


def _visibility(params, current, name):
    current = current or {}
    return {
        "SampledRequestsEnabled": (
            params["sampled_requests"]
            if params.get("sampled_requests") is not None
            else current.get("SampledRequestsEnabled", False)
        ),
        "CloudWatchMetricsEnabled": (
            params["cloudwatch_metrics"]
            if params.get("cloudwatch_metrics") is not None
            else current.get("CloudWatchMetricsEnabled", True)
        ),
        "MetricName": params.get("metric_name") or current.get("MetricName") or name,
    }


def _settings(acl):
    """The managed settings of a web ACL for the diff: default action, description, visibility, rules."""
    if acl is None:
        return None
    return {
        "default_action": next(iter(acl.get("DefaultAction") or {}), None),
        "description": acl.get("Description"),
        "visibility_config": acl.get("VisibilityConfig"),
        "rules": printable(sorted(acl.get("Rules") or [], key=lambda rule: rule.get("Priority", 0))),
    }


def _carried_over(current):
    """The settings of the web ACL that this module does not manage, to send back with UpdateWebACL."""
    model = wafv2_model()
    update = model.operation_model("UpdateWebACL").input_shape.members
    read = model.operation_model("GetWebACL").output_shape.members["WebACL"].members
    carried = {}
    for name, shape in update.items():
        if name in MANAGED or name not in current or name not in read or read[name].name != shape.name:
            continue
        carried[name] = current[name]
    return carried


def ensure_web_acl(client, params, check_mode=False):
    """Make the web ACL ``params["name"]`` as asked (see the module's documentation).

    Every input is checked, and the web ACL read, before any change. Returns {changed, arn, id, name,
    rules: {added, updated, removed, unchanged, kept}, tags_added, tags_removed, diff}; in check mode nothing is
    changed and the result says what would be.
    """
    rules = check_params(params)
    name, scope = params["name"], params["scope"]
    remove = set(params.get("remove_rules") or [])
    summary = find_web_acl(client, name, scope)
    read = get_web_acl(client, name, scope, summary["Id"]) if summary else None
    result = {
        "changed": False,
        "name": name,
        "arn": summary["ARN"] if read else None,
        "id": summary["Id"] if read else None,
        "rules": {"added": [], "updated": [], "removed": [], "unchanged": [], "kept": []},
        "tags_added": {},
        "tags_removed": [],
    }

    if params.get("state") == "absent":
        result["diff"] = {"before": _settings(read[0]) if read else None, "after": None}
        if read:
            result["changed"] = True
            result["rules"]["removed"] = [rule["Name"] for rule in read[0].get("Rules") or []]
            if not check_mode:
                delete_web_acl(client, name, scope, summary["Id"], read[1])
        return result

    if read is None:
        if params.get("default_action") is None:
            raise ParameterError(
                "default_action", None, "is required to create the web ACL %s" % name, ", ".join(ACTIONS)
            )
        request = {
            "Name": name,
            "Scope": scope,
            "DefaultAction": {params["default_action"]: {}},
            "Rules": rules,
            "VisibilityConfig": _visibility(params, None, name),
        }
        if params.get("description"):
            request["Description"] = params["description"]
        if params.get("tags"):
            request["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
            result["tags_added"] = dict(params["tags"])
        result["changed"] = True
        result["rules"]["added"] = [rule["Name"] for rule in rules]
        result["diff"] = {"before": None, "after": _settings(request)}
        if not check_mode:
            created = create_web_acl(client, request)
            result["arn"], result["id"] = created.get("ARN"), created.get("Id")
        return result

    current, lock_token = read
    given = {rule["Name"]: rule for rule in rules}
    final = []
    for rule in sorted(current.get("Rules") or [], key=lambda rule: rule.get("Priority", 0)):
        if rule["Name"] in given:
            continue
        if rule["Name"] in remove or params.get("purge_rules"):
            result["rules"]["removed"].append(rule["Name"])
            continue
        result["rules"]["kept"].append(rule["Name"])
        final.append(rule)  # exactly as AWS returned it
    before = {rule["Name"]: rule for rule in current.get("Rules") or []}
    for rule in rules:
        if rule["Name"] not in before:
            result["rules"]["added"].append(rule["Name"])
        elif normalize_rule(before[rule["Name"]], strict=False) == rule:
            result["rules"]["unchanged"].append(rule["Name"])
        else:
            result["rules"]["updated"].append(rule["Name"])
        final.append(rule)
    taken = {}
    for rule in final:
        other = taken.get(rule["Priority"])
        if other is not None:
            mine, theirs = (rule["Name"], other) if rule["Name"] in given else (other, rule["Name"])
            raise ParameterError(
                "rules",
                mine,
                "has priority %s, the priority of the web ACL's rule %s, which this task keeps"
                % (rule["Priority"], theirs),
                "a priority no kept rule has (or name %s in remove_rules)" % theirs,
            )
        taken[rule["Priority"]] = rule["Name"]

    default_action = next(iter(current.get("DefaultAction") or {}), None)
    action_changed = params.get("default_action") is not None and params["default_action"] != default_action
    description = params["description"] if params.get("description") is not None else current.get("Description")
    visibility = _visibility(params, current.get("VisibilityConfig"), name)
    rules_changed = bool(result["rules"]["added"] or result["rules"]["updated"] or result["rules"]["removed"])
    acl_changed = (
        rules_changed
        or action_changed
        or description != current.get("Description")
        or visibility != current.get("VisibilityConfig")
    )
    after = dict(current)
    if acl_changed:
        request = _carried_over(current)
        request.update(
            {
                "Name": name,
                "Scope": scope,
                "Id": summary["Id"],
                "LockToken": lock_token,
                "DefaultAction": {params["default_action"]: {}} if action_changed else current["DefaultAction"],
                "Rules": final,
                "VisibilityConfig": visibility,
            }
        )
        if description is not None:
            request["Description"] = description
        after.update(request)
        if not check_mode:
            update_web_acl(client, request)

    if params.get("tags") is not None:
        current_tags = get_tags(client, summary["ARN"])
        add, remove_tags = compare_aws_tags(current_tags, params["tags"], params.get("purge_tags", True))
        result["tags_added"], result["tags_removed"] = add, sorted(remove_tags)
        if (add or remove_tags) and not check_mode:
            set_tags(client, summary["ARN"], add, remove_tags)
    result["changed"] = acl_changed or bool(result["tags_added"] or result["tags_removed"])
    result["diff"] = {"before": _settings(current), "after": _settings(after)}
    return copy.deepcopy(result)
