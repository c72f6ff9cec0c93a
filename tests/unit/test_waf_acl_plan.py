"""The waf_acl_plan filter: which rules of a shared web ACL the role owns, and how the role's rules compare.

The rules are read by community.aws.wafv2_web_acl_info (camel_dict_to_snake_dict of what AWS returns, search
strings as text); the filter gives them back their AWS names (botocore's model) and compares the role's rules
with them as medcircle.cloudops.wafv2_web_acl does (module_utils/wafv2.py normalize_rule).
"""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.medcircle.cloudops.plugins.filter.waf_acl_plan import (
    OWNER_TAG_PREFIX,
    FilterModule,
    waf_acl_plan,
)

ARN = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/medcircle-web-acl/0f1e2d3c"
IP_SET = "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/blocked/1a2b3c4d"


def vis(name):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": False, "MetricName": name}


# Rules someone added by hand, as AWS returns them (boto3): acronyms, nesting, a blob, lists of structures.
FOREIGN = [
    {
        "Name": "incident-ip-block",
        "Priority": 5,
        "Action": {"Block": {"CustomResponse": {"ResponseCode": 403}}},
        "Statement": {
            "IPSetReferenceStatement": {
                "ARN": IP_SET,
                "IPSetForwardedIPConfig": {
                    "HeaderName": "X-Forwarded-For",
                    "FallbackBehavior": "MATCH",
                    "Position": "FIRST",
                },
            }
        },
        "VisibilityConfig": vis("incident-ip-block"),
    },
    {
        "Name": "bad-bots",
        "Priority": 7,
        "Action": {"Count": {}},
        "RuleLabels": [{"Name": "medcircle:bad-bot"}],
        "Statement": {
            "ByteMatchStatement": {
                "SearchString": b"badbot",
                "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
                "PositionalConstraint": "CONTAINS",
            }
        },
        "VisibilityConfig": vis("bad-bots"),
    },
    {
        "Name": "per-method-rate",
        "Priority": 8,
        "Action": {"Block": {}},
        "Statement": {
            "RateBasedStatement": {
                "Limit": 100,
                "EvaluationWindowSec": 300,
                "AggregateKeyType": "CUSTOM_KEYS",
                "CustomKeys": [{"HTTPMethod": {}}, {"IP": {}}, {"JA3Fingerprint": {"FallbackBehavior": "MATCH"}}],
            }
        },
        "VisibilityConfig": vis("per-method-rate"),
    },
    {
        "Name": "admin-from-office",
        "Priority": 9,
        "Action": {"Block": {}},
        "Statement": {
            "AndStatement": {
                "Statements": [
                    {
                        "ByteMatchStatement": {
                            "SearchString": b"/admin",
                            "FieldToMatch": {"UriPath": {}},
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                            "PositionalConstraint": "STARTS_WITH",
                        }
                    },
                    {
                        "GeoMatchStatement": {
                            "CountryCodes": ["US", "CA"],
                            "ForwardedIPConfig": {"HeaderName": "X-Real-IP", "FallbackBehavior": "NO_MATCH"},
                        }
                    },
                ]
            }
        },
        "VisibilityConfig": vis("admin-from-office"),
    },
    {
        "Name": "AWSManagedRulesBotControlRuleSet",
        "Priority": 60,
        "OverrideAction": {"Count": {}},
        "Statement": {
            "ManagedRuleGroupStatement": {
                "VendorName": "AWS",
                "Name": "AWSManagedRulesBotControlRuleSet",
                "ManagedRuleGroupConfigs": [{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}],
                "RuleActionOverrides": [{"Name": "CategoryAdvertising", "ActionToUse": {"Count": {}}}],
            }
        },
        "VisibilityConfig": vis("bots"),
    },
]


def role_rule(group, priority):
    return {
        "Name": group,
        "Priority": priority,
        "OverrideAction": {"None": {}},
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": group},
    }


RATE = {
    "Name": "medcircle-rate-limit",
    "Priority": 30,
    "Action": {"Block": {}},
    "Statement": {"RateBasedStatement": {"Limit": 2000, "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}},
    "VisibilityConfig": {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": "medcircle-rate-limit",
    },
}
WANTED = [role_rule("AWSManagedRulesCommonRuleSet", 10), role_rule("AWSManagedRulesSQLiRuleSet", 20), RATE]


def as_aws_returns(rule):
    """A rule of ours as GetWebACL returns it: search strings as bytes, EvaluationWindowSec filled in."""
    rule = copy.deepcopy(rule)
    _encode_blobs(rule)
    rate = rule["Statement"].get("RateBasedStatement")
    if rate is not None:
        rate.setdefault("EvaluationWindowSec", 300)
    return rule


def _encode_blobs(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "SearchString" and isinstance(item, str):
                value[key] = item.encode()
            else:
                _encode_blobs(item)
    elif isinstance(value, list):
        for item in value:
            _encode_blobs(item)


def info(rules, tags=None):
    """community.aws.wafv2_web_acl_info's result for a web ACL with these (boto3) rules."""
    result = camel_dict_to_snake_dict({"ARN": ARN, "Name": "medcircle-web-acl", "Rules": copy.deepcopy(rules)})
    for rule in result["rules"]:
        _decode_blobs(rule)  # Ansible returns the bytes of SearchString as text
    result["tags"] = dict(tags or {})
    return result


def _decode_blobs(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bytes):
                value[key] = item.decode()
            else:
                _decode_blobs(item)
    elif isinstance(value, list):
        for item in value:
            _decode_blobs(item)


def owned_tags(*names):
    return {OWNER_TAG_PREFIX + name: "medcircle.cloudops network_protection" for name in names}


def test_filter_is_registered():
    assert FilterModule().filters()["waf_acl_plan"] is waf_acl_plan


def test_first_run_creates_the_role_rules_only():
    plan = waf_acl_plan({"changed": False}, WANTED)
    assert plan["exists"] is False
    assert plan["rules"] == WANTED
    assert plan["added"] == [r["Name"] for r in WANTED]
    assert plan["kept"] == plan["removed"] == plan["collisions"] == plan["updated"] == []
    assert plan["tags"] == owned_tags(
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "medcircle-rate-limit"
    )


def test_foreign_rules_are_kept_and_the_roles_own_are_unchanged():
    current = [as_aws_returns(r) for r in WANTED] + FOREIGN
    plan = waf_acl_plan(info(current, owned_tags(*[r["Name"] for r in WANTED])), WANTED)
    assert [k["name"] for k in plan["kept"]] == [r["Name"] for r in FOREIGN]
    assert plan["kept"][0] == {"name": "incident-ip-block", "priority": 5, "action": "Block"}
    assert plan["kept"][-1]["action"] == "rule group"
    assert plan["unchanged"] == [r["Name"] for r in WANTED] and plan["updated"] == plan["removed"] == []
    # only the role's rules go to the module, which keeps the others itself, as AWS returns them
    assert plan["rules"] == WANTED


def test_the_default_evaluation_window_aws_fills_in_is_no_change():
    without = copy.deepcopy(RATE)
    del without["Statement"]["RateBasedStatement"]["EvaluationWindowSec"]
    plan = waf_acl_plan(info([as_aws_returns(RATE)]), [without])
    assert plan["unchanged"] == ["medcircle-rate-limit"]


def test_a_role_rule_with_nested_search_strings_compares_as_aws_stores_it():
    # text in the role's rule, bytes from AWS (text again after wafv2_web_acl_info): the same rule
    scoped = {
        "Name": "login-rate",
        "Priority": 40,
        "Action": {"Block": {}},
        "Statement": {
            "RateBasedStatement": {
                "Limit": 100,
                "AggregateKeyType": "IP",
                "ScopeDownStatement": {
                    "OrStatement": {
                        "Statements": [
                            {"NotStatement": {"Statement": {"ByteMatchStatement": byte_match("/health")}}},
                            {"ByteMatchStatement": byte_match("/login")},
                        ]
                    }
                },
            }
        },
        "VisibilityConfig": vis("login-rate"),
    }
    plan = waf_acl_plan(info([as_aws_returns(scoped)]), [scoped])
    assert plan["unchanged"] == ["login-rate"] and plan["updated"] == []
    changed = copy.deepcopy(scoped)
    statements = changed["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["OrStatement"]["Statements"]
    statements[1]["ByteMatchStatement"]["SearchString"] = "/signin"
    plan = waf_acl_plan(info([as_aws_returns(scoped)]), [changed])
    assert plan["updated"] == ["login-rate"]


def byte_match(text):
    return {
        "SearchString": text,
        "FieldToMatch": {"UriPath": {}},
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        "PositionalConstraint": "STARTS_WITH",
    }


def test_a_recorded_group_removed_from_the_variable_is_removed_but_an_unrecorded_one_is_kept():
    wanted = [role_rule("AWSManagedRulesCommonRuleSet", 10), dict(RATE, Priority=20)]
    current = [as_aws_returns(r) for r in WANTED] + [FOREIGN[-1]]
    plan = waf_acl_plan(info(current, owned_tags(*[r["Name"] for r in WANTED])), wanted)
    assert plan["removed"] == ["AWSManagedRulesSQLiRuleSet"]
    # the rate rule moved from 30 to 20
    assert plan["updated"] == ["medcircle-rate-limit"]
    assert [r["Name"] for r in plan["rules"]] == ["AWSManagedRulesCommonRuleSet", "medcircle-rate-limit"]
    # added by hand with the console's default name: kept
    assert plan["kept"] == [{"name": "AWSManagedRulesBotControlRuleSet", "priority": 60, "action": "rule group"}]
    assert plan["tags"] == owned_tags("AWSManagedRulesCommonRuleSet", "medcircle-rate-limit")


def test_without_a_record_only_the_wanted_names_are_the_roles():
    # a web ACL of an earlier version of the role (no ownership tags): a group no longer wanted is kept
    wanted = [role_rule("AWSManagedRulesCommonRuleSet", 10), dict(RATE, Priority=20)]
    current = [as_aws_returns(r) for r in WANTED]
    plan = waf_acl_plan(info(current, {"Project": "medcircle"}), wanted)
    assert plan["removed"] == []
    assert [k["name"] for k in plan["kept"]] == ["AWSManagedRulesSQLiRuleSet"]


def test_a_foreign_rule_on_a_priority_the_role_needs_is_a_collision():
    clash = dict(FOREIGN[0], Priority=20)
    current = [as_aws_returns(r) for r in WANTED] + [clash]
    plan = waf_acl_plan(info(current, owned_tags(*[r["Name"] for r in WANTED])), WANTED)
    assert plan["collisions"] == [
        {"rule": "incident-ip-block", "priority": 20, "role_rule": "AWSManagedRulesSQLiRuleSet"}
    ]


def test_a_changed_role_rule_is_updated():
    before = copy.deepcopy(RATE)
    before["Statement"]["RateBasedStatement"]["Limit"] = 500
    plan = waf_acl_plan(info([as_aws_returns(before)]), [RATE])
    assert plan["updated"] == ["medcircle-rate-limit"] and plan["kept"] == []


def test_a_not_statement_is_just_another_rule():
    not_us = {
        "Name": "block-outside-us",
        "Priority": 3,
        "Action": {"Block": {}},
        "Statement": {"NotStatement": {"Statement": {"GeoMatchStatement": {"CountryCodes": ["US"]}}}},
        "VisibilityConfig": vis("block-outside-us"),
    }
    plan = waf_acl_plan(info([not_us]), WANTED)
    assert plan["kept"] == [{"name": "block-outside-us", "priority": 3, "action": "Block"}]


def test_a_field_botocore_does_not_know_stops_the_plan_instead_of_dropping_it():
    current = info([FOREIGN[0]])
    current["rules"][0]["statement"]["brand_new_statement"] = {"x": 1}
    with pytest.raises(AnsibleFilterError, match=r"incident-ip-block.*brand_new_statement.*update botocore"):
        waf_acl_plan(current, WANTED)


def test_a_misspelt_field_of_a_role_rule_is_named():
    bad = copy.deepcopy(RATE)
    bad["Statement"]["RateBasedStatment"] = bad["Statement"].pop("RateBasedStatement")
    with pytest.raises(
        AnsibleFilterError, match=r"rule medcircle-rate-limit.Statement.RateBasedStatment is not a field"
    ):
        waf_acl_plan(info([]), [bad])


def test_bad_arguments_are_named():
    with pytest.raises(AnsibleFilterError, match="wafv2_web_acl_info result"):
        waf_acl_plan([], WANTED)
    with pytest.raises(AnsibleFilterError, match="list of named rules"):
        waf_acl_plan({}, [{"Priority": 1}])


def test_tags_others_put_on_the_web_acl_are_given_back():
    current = info([], {**owned_tags("AWSManagedRulesSQLiRuleSet"), "owner-team": "security", "CostCenter": "42"})
    plan = waf_acl_plan(current, WANTED)
    assert plan["other_tags"] == {"owner-team": "security", "CostCenter": "42"}
    assert plan["tags"] == owned_tags(*[r["Name"] for r in WANTED])
    assert waf_acl_plan({"changed": False}, WANTED)["other_tags"] == {}
