"""The waf_acl_plan filter: which rules of a shared web ACL the role owns, and kept rules sent back unchanged.

A kept rule is read by community.aws.wafv2_web_acl_info (camel_dict_to_snake_dict of what AWS returns) and
sent back by community.aws.wafv2_web_acl (its own snake -> CamelCase conversion, then compared with what
AWS returns): both conversions are the real ones of the installed collections, so a rule that would not
come back byte for byte fails here.
"""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict, snake_dict_to_camel_dict
from ansible_collections.community.aws.plugins.module_utils.wafv2 import (
    compare_priority_rules,
    wafv2_snake_dict_to_camel_dict,
)
from ansible_collections.medcircle.cloudops.plugins.filter.waf_acl_plan import (
    OWNER_TAG_PREFIX,
    FilterModule,
    aws_key_to_module,
    to_aws,
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
        "name": group,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
        "visibility_config": {
            "sampled_requests_enabled": True,
            "cloud_watch_metrics_enabled": True,
            "metric_name": group,
        },
    }


RATE = {
    "name": "medcircle-rate-limit",
    "priority": 30,
    "action": {"block": {}},
    "statement": {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}},
    "visibility_config": {
        "sampled_requests_enabled": True,
        "cloud_watch_metrics_enabled": True,
        "metric_name": "medcircle-rate-limit",
    },
}
WANTED = [role_rule("AWSManagedRulesCommonRuleSet", 10), role_rule("AWSManagedRulesSQLiRuleSet", 20), RATE]


def module_sends(rule):
    """community.aws.wafv2_web_acl's own conversion of one element of its ``rules``."""
    return wafv2_snake_dict_to_camel_dict(snake_dict_to_camel_dict(rule, capitalize_first=True))


def as_aws_returns(rule):
    """A rule of ours as AWS stores it after the module sent it."""
    return module_sends(rule)


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


@pytest.mark.parametrize(
    "name", ["IPSetReferenceStatement", "ARN", "HTTPMethod", "IP", "JA3Fingerprint", "ForwardedIPConfig", "UriPath"]
)
def test_every_aws_name_has_a_module_key_that_turns_back_into_it(name):
    assert module_key_to_aws_via_module(aws_key_to_module(name)) == name


def module_key_to_aws_via_module(key):
    return next(iter(module_sends({key: 1})))


def test_first_run_creates_the_role_rules_only():
    plan = waf_acl_plan({"changed": False}, WANTED)
    assert plan["exists"] is False
    assert plan["rules"] == WANTED
    assert plan["added"] == [r["name"] for r in WANTED]
    assert plan["kept"] == plan["removed"] == plan["collisions"] == plan["updated"] == []
    assert plan["tags"] == owned_tags(
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "medcircle-rate-limit"
    )


def test_foreign_rules_are_kept_and_sent_back_exactly_as_aws_returned_them():
    current = [as_aws_returns(r) for r in WANTED] + FOREIGN
    plan = waf_acl_plan(info(current, owned_tags(*[r["name"] for r in WANTED])), WANTED)
    assert [k["name"] for k in plan["kept"]] == [r["Name"] for r in FOREIGN]
    assert plan["kept"][0] == {"name": "incident-ip-block", "priority": 5, "action": "Block"}
    assert plan["kept"][-1]["action"] == "rule group"
    assert plan["unchanged"] == [r["name"] for r in WANTED] and plan["updated"] == plan["removed"] == []
    sent = [module_sends(rule) for rule in plan["rules"]]
    # what the module sends back for the kept rules is what AWS returned (blobs as the module compares them)
    expected = copy.deepcopy(FOREIGN)
    _decode_blobs(expected)
    assert sent[: len(FOREIGN)] == expected
    # and the module itself sees no change: a second run is idempotent
    changed, _merged = compare_priority_rules(copy.deepcopy(current), sent, True, "present")
    assert changed is False


def test_a_recorded_group_removed_from_the_variable_is_removed_but_an_unrecorded_one_is_kept():
    wanted = [role_rule("AWSManagedRulesCommonRuleSet", 10), dict(RATE, priority=20)]
    current = [as_aws_returns(r) for r in WANTED] + [FOREIGN[-1]]
    plan = waf_acl_plan(info(current, owned_tags(*[r["name"] for r in WANTED])), wanted)
    assert plan["removed"] == ["AWSManagedRulesSQLiRuleSet"]
    # the rate rule moved from 30 to 20
    assert plan["updated"] == ["medcircle-rate-limit"]
    names = [r["name"] for r in plan["rules"]]
    assert "AWSManagedRulesSQLiRuleSet" not in names
    assert "AWSManagedRulesBotControlRuleSet" in names  # added by hand with the console's default name
    assert plan["kept"] == [{"name": "AWSManagedRulesBotControlRuleSet", "priority": 60, "action": "rule group"}]
    assert plan["tags"] == owned_tags("AWSManagedRulesCommonRuleSet", "medcircle-rate-limit")


def test_without_a_record_only_the_wanted_names_are_the_roles():
    # a web ACL of an earlier version of the role (no ownership tags): a group no longer wanted is kept
    wanted = [role_rule("AWSManagedRulesCommonRuleSet", 10), dict(RATE, priority=20)]
    current = [as_aws_returns(r) for r in WANTED]
    plan = waf_acl_plan(info(current, {"Project": "medcircle"}), wanted)
    assert plan["removed"] == []
    assert [k["name"] for k in plan["kept"]] == ["AWSManagedRulesSQLiRuleSet"]


def test_a_foreign_rule_on_a_priority_the_role_needs_is_a_collision():
    clash = dict(FOREIGN[0], Priority=20)
    current = [as_aws_returns(r) for r in WANTED] + [clash]
    plan = waf_acl_plan(info(current, owned_tags(*[r["name"] for r in WANTED])), WANTED)
    assert plan["collisions"] == [
        {"rule": "incident-ip-block", "priority": 20, "role_rule": "AWSManagedRulesSQLiRuleSet"}
    ]


def test_a_changed_role_rule_is_updated():
    before = as_aws_returns(dict(RATE, statement={"rate_based_statement": {"limit": 500, "aggregate_key_type": "IP"}}))
    plan = waf_acl_plan(info([before]), [RATE])
    assert plan["updated"] == ["medcircle-rate-limit"] and plan["kept"] == []


def test_a_field_botocore_does_not_know_stops_the_plan_instead_of_dropping_it():
    current = info([FOREIGN[0]])
    current["rules"][0]["statement"]["brand_new_statement"] = {"x": 1}
    with pytest.raises(AnsibleFilterError, match=r"incident-ip-block.*brand_new_statement.*update botocore"):
        waf_acl_plan(current, WANTED)


def test_bad_arguments_are_named():
    with pytest.raises(AnsibleFilterError, match="wafv2_web_acl_info result"):
        waf_acl_plan([], WANTED)
    with pytest.raises(AnsibleFilterError, match="list of named rules"):
        waf_acl_plan({}, [{"priority": 1}])


def test_to_aws_is_the_module_conversion():
    for rule in WANTED:
        assert to_aws(rule) == module_sends(rule)


NOT_US = {
    "Name": "block-outside-us",
    "Priority": 3,
    "Action": {"Block": {}},
    "Statement": {"NotStatement": {"Statement": {"GeoMatchStatement": {"CountryCodes": ["US"]}}}},
    "VisibilityConfig": vis("block-outside-us"),
}


def test_a_not_statement_the_module_cannot_read_is_reported_before_the_module_runs():
    with pytest.raises(TypeError):  # the community.aws 10.0.0 failure the plan guards against
        compare_priority_rules([copy.deepcopy(NOT_US)], [], True, "present")
    plan = waf_acl_plan(info([NOT_US]), WANTED)
    assert plan["unreadable"] == [{"name": "block-outside-us", "priority": 3}]


def test_a_deeply_nested_search_string_is_reported_as_always_changed():
    nested = {
        "Name": "scoped-rate",
        "Priority": 4,
        "Action": {"Block": {}},
        "Statement": {
            "RateBasedStatement": {
                "Limit": 100,
                "AggregateKeyType": "IP",
                "ScopeDownStatement": FOREIGN[1]["Statement"],
            }
        },
        "VisibilityConfig": vis("scoped-rate"),
    }
    plan = waf_acl_plan(info([nested, *FOREIGN]), WANTED)
    assert plan["always_changed"] == [{"name": "scoped-rate", "priority": 4}]
    changed, _merged = compare_priority_rules(
        copy.deepcopy([nested]), [module_sends(plan["rules"][0])], True, "present"
    )
    assert changed is True  # the module's limitation the plan names
