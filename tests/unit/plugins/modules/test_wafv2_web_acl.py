"""wafv2_web_acl through main(), with botocore's Stubber behind AnsibleAWSModule.client.

Only the calls a test expects are stubbed, so an unexpected CreateWebACL, UpdateWebACL or TagResource fails it.
The web ACL's rules are stubbed as GetWebACL returns them: search strings as bytes, EvaluationWindowSec filled in.
"""

import copy

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.wafv2 import normalize_rule
from ansible_collections.medcircle.cloudops.plugins.modules import wafv2_web_acl as module
from module_run import run_module

P = "us-east-1"
NAME = "medcircle-web-acl"
ACL_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
ARN = f"arn:aws:wafv2:{P}:123456789012:regional/webacl/{NAME}/{ACL_ID}"
LOCK = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def vis(name):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def byte_match(text):
    return {
        "SearchString": text,
        "FieldToMatch": {"UriPath": {}},
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        "PositionalConstraint": "STARTS_WITH",
    }


# The role's kind of rules, as a playbook gives them (text, no evaluation window).
MANAGED = {
    "Name": "AWSManagedRulesCommonRuleSet",
    "Priority": 10,
    "OverrideAction": {"None": {}},
    "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
    "VisibilityConfig": vis("AWSManagedRulesCommonRuleSet"),
}
LOGIN = {
    "Name": "login-rate",
    "Priority": 20,
    "Action": {"Block": {}},
    "Statement": {
        "RateBasedStatement": {
            "Limit": "100",  # a templated number
            "AggregateKeyType": "IP",
            "ScopeDownStatement": {
                "AndStatement": {
                    "Statements": [
                        {"ByteMatchStatement": byte_match("/login")},
                        {"NotStatement": {"Statement": {"ByteMatchStatement": byte_match("/login/health")}}},
                    ]
                }
            },
        }
    },
    "VisibilityConfig": vis("login-rate"),
}
# Someone else's rule, as GetWebACL returns it: its statement is a NOT, its search string is nested.
HAND = {
    "Name": "incident-block",
    "Priority": 5,
    "Action": {"Block": {}},
    "Statement": {
        "NotStatement": {
            "Statement": {
                "OrStatement": {
                    "Statements": [
                        {"ByteMatchStatement": dict(byte_match("/api"), SearchString=b"/api")},
                        {"GeoMatchStatement": {"CountryCodes": ["US", "CA"]}},
                    ]
                }
            }
        }
    },
    "VisibilityConfig": vis("incident-block"),
}
SETTINGS_OF_OTHERS = {
    "CaptchaConfig": {"ImmunityTimeProperty": {"ImmunityTime": 600}},
    "TokenDomains": ["medcircle.example"],
    "AssociationConfig": {"RequestBody": {"CLOUDFRONT": {"DefaultSizeInspectionLimit": "KB_32"}}},
}


def as_aws_returns(rule):
    """A given rule as AWS stores it: bytes, types of the model, defaults filled in."""
    return normalize_rule(copy.deepcopy(rule))


@pytest.fixture
def aws_module(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule,
        "client",
        lambda self, service, region=None, retry_decorator=None, **kw: aws.client(service, region or P),
    )
    return aws


def run(args, capsys, check=False, diff=False):
    extra = {"_ansible_check_mode": check, "_ansible_diff": diff}
    return run_module(module.main, {"name": NAME, **args, **extra}, capsys)


def listed(aws, exists=True):
    summaries = [{"Name": NAME, "Id": ACL_ID, "ARN": ARN, "LockToken": LOCK}] if exists else []
    aws.stub("wafv2", P).add_response("list_web_acls", {"WebACLs": summaries}, {"Scope": "REGIONAL", "Limit": 100})


def web_acl(aws, rules, **settings):
    acl = {
        "Name": NAME,
        "Id": ACL_ID,
        "ARN": ARN,
        "DefaultAction": {"Allow": {}},
        "Description": "MedCircle application firewall",
        "Rules": rules,
        "VisibilityConfig": vis(NAME),
        "Capacity": 800,
        "LabelNamespace": f"awswaf:123456789012:webacl:{NAME}:",
        **settings,
    }
    aws.stub("wafv2", P).add_response(
        "get_web_acl", {"WebACL": acl, "LockToken": LOCK}, {"Name": NAME, "Scope": "REGIONAL", "Id": ACL_ID}
    )


def tagged(aws, tags):
    aws.stub("wafv2", P).add_response(
        "list_tags_for_resource",
        {"TagInfoForResource": {"ResourceARN": ARN, "TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}},
        {"ResourceARN": ARN},
    )


ARGS = {
    "default_action": "Allow",
    "description": "MedCircle application firewall",
    "sampled_requests": True,
    "cloudwatch_metrics": True,
    "rules": [MANAGED, LOGIN],
    "tags": {"Project": "medcircle"},
}


def test_check_mode_plans_the_creation_without_creating(aws_module, capsys):
    listed(aws_module, exists=False)
    code, out = run(ARGS, capsys, check=True, diff=True)  # no CreateWebACL stubbed
    assert code == 0, out
    assert out["changed"] is True and out["arn"] is None
    assert out["rules"]["added"] == ["AWSManagedRulesCommonRuleSet", "login-rate"]
    assert out["diff"]["before"] is None
    after_rules = out["diff"]["after"]["rules"]
    scope_down = after_rules[1]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert scope_down["AndStatement"]["Statements"][0]["ByteMatchStatement"]["SearchString"] == "/login"
    assert after_rules[1]["Statement"]["RateBasedStatement"]["EvaluationWindowSec"] == 300


def test_creates_the_web_acl_with_the_rules_as_aws_stores_them(aws_module, capsys):
    listed(aws_module, exists=False)
    aws_module.stub("wafv2", P).add_response(
        "create_web_acl",
        {"Summary": {"Name": NAME, "Id": ACL_ID, "ARN": ARN, "LockToken": LOCK}},
        {
            "Name": NAME,
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "Description": "MedCircle application firewall",
            "Rules": [as_aws_returns(MANAGED), as_aws_returns(LOGIN)],
            "VisibilityConfig": vis(NAME),
            "Tags": [{"Key": "Project", "Value": "medcircle"}],
        },
    )
    code, out = run(ARGS, capsys)
    assert code == 0, out
    assert out["changed"] is True and out["arn"] == ARN and out["id"] == ACL_ID
    aws_module.stub("wafv2", P).assert_no_pending_responses()


def test_rules_as_aws_returns_them_are_no_change(aws_module, capsys):
    """Bytes against text, anywhere in the rule, and the evaluation window AWS filled in: nothing to do."""
    listed(aws_module)
    web_acl(aws_module, [HAND, as_aws_returns(MANAGED), as_aws_returns(LOGIN)], **SETTINGS_OF_OTHERS)
    tagged(aws_module, {"Project": "medcircle"})
    code, out = run(ARGS, capsys)  # no UpdateWebACL stubbed
    assert code == 0, out
    assert out["changed"] is False
    assert out["rules"] == {
        "added": [],
        "updated": [],
        "removed": [],
        "unchanged": ["AWSManagedRulesCommonRuleSet", "login-rate"],
        "kept": ["incident-block"],
    }


def test_a_real_change_sends_kept_rules_and_other_settings_back_as_they_were(aws_module, capsys):
    changed = copy.deepcopy(LOGIN)
    changed["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["AndStatement"]["Statements"][0][
        "ByteMatchStatement"
    ]["SearchString"] = "/signin"
    obsolete = dict(as_aws_returns(MANAGED), Name="AWSManagedRulesSQLiRuleSet", Priority=30)
    listed(aws_module)
    web_acl(aws_module, [HAND, as_aws_returns(MANAGED), as_aws_returns(LOGIN), obsolete], **SETTINGS_OF_OTHERS)
    aws_module.stub("wafv2", P).add_response(
        "update_web_acl",
        {"NextLockToken": "next"},
        {
            "Name": NAME,
            "Scope": "REGIONAL",
            "Id": ACL_ID,
            "LockToken": LOCK,
            "DefaultAction": {"Allow": {}},
            "Description": "MedCircle application firewall",
            "Rules": [HAND, as_aws_returns(MANAGED), as_aws_returns(changed)],
            "VisibilityConfig": vis(NAME),
            **SETTINGS_OF_OTHERS,
        },
    )
    tagged(aws_module, {"Project": "medcircle"})
    code, out = run(dict(ARGS, rules=[MANAGED, changed], remove_rules=["AWSManagedRulesSQLiRuleSet"]), capsys)
    assert code == 0, out
    assert out["changed"] is True
    assert out["rules"]["updated"] == ["login-rate"] and out["rules"]["removed"] == ["AWSManagedRulesSQLiRuleSet"]
    assert out["rules"]["kept"] == ["incident-block"]
    aws_module.stub("wafv2", P).assert_no_pending_responses()


def test_tags_only(aws_module, capsys):
    listed(aws_module)
    web_acl(aws_module, [as_aws_returns(MANAGED), as_aws_returns(LOGIN)])
    tagged(aws_module, {"Project": "medcircle", "Stale": "yes"})
    stub = aws_module.stub("wafv2", P)
    stub.add_response("tag_resource", {}, {"ResourceARN": ARN, "Tags": [{"Key": "Owner", "Value": "it"}]})
    stub.add_response("untag_resource", {}, {"ResourceARN": ARN, "TagKeys": ["Stale"]})
    code, out = run(dict(ARGS, tags={"Project": "medcircle", "Owner": "it"}), capsys)
    assert code == 0, out
    assert out["changed"] is True and out["tags_added"] == {"Owner": "it"} and out["tags_removed"] == ["Stale"]
    stub.assert_no_pending_responses()


def test_a_given_rule_on_the_priority_of_a_kept_rule_fails_before_any_change(aws_module, capsys):
    listed(aws_module)
    web_acl(aws_module, [HAND, as_aws_returns(MANAGED)])
    code, out = run(dict(ARGS, rules=[dict(MANAGED, Priority=5)]), capsys)
    assert code == 1
    assert (
        "rules AWSManagedRulesCommonRuleSet has priority 5, the priority of the web ACL's rule incident-block"
        in (out["msg"])
    )


@pytest.mark.parametrize(
    "rules, message",
    [
        (
            [dict(MANAGED, Statement={"ManagedRuleGroupStatment": {}})],
            "rules[0] (AWSManagedRulesCommonRuleSet).Statement.ManagedRuleGroupStatment is not a field of the WAF "
            "Statement",
        ),
        ([dict(MANAGED, Priority="ten")], "rules[0] (AWSManagedRulesCommonRuleSet).Priority ten is not a whole number"),
        ([{"Name": "x", "Priority": 1, "Statement": {}}], "rules[0] (x) lacks VisibilityConfig"),
        ([MANAGED, dict(LOGIN, Name=MANAGED["Name"])], "rules AWSManagedRulesCommonRuleSet names two rules"),
        ([MANAGED, dict(LOGIN, Priority=10)], "rules 10 is the priority of both AWSManagedRulesCommonRuleSet"),
    ],
)
def test_bad_rules_fail_before_any_call(aws_module, capsys, rules, message):
    code, out = run(dict(ARGS, rules=rules), capsys)  # nothing stubbed: any AWS call would fail differently
    assert code == 1
    assert message in out["msg"], out["msg"]


def test_remove_rules_must_not_name_a_given_rule(aws_module, capsys):
    code, out = run(dict(ARGS, remove_rules=["login-rate"]), capsys)
    assert code == 1 and "names rules that rules also gives" in out["msg"]


def test_absent_deletes_and_check_mode_only_says_so(aws_module, capsys):
    listed(aws_module)
    web_acl(aws_module, [HAND])
    code, out = run({"state": "absent"}, capsys, check=True)
    assert code == 0 and out["changed"] is True and out["rules"]["removed"] == ["incident-block"]
    listed(aws_module)
    web_acl(aws_module, [HAND])
    aws_module.stub("wafv2", P).add_response(
        "delete_web_acl", {}, {"Name": NAME, "Scope": "REGIONAL", "Id": ACL_ID, "LockToken": LOCK}
    )
    code, out = run({"state": "absent"}, capsys)
    assert code == 0 and out["changed"] is True
    listed(aws_module, exists=False)
    code, out = run({"state": "absent"}, capsys)
    assert code == 0 and out["changed"] is False


def test_normalize_fills_in_defaults_and_types_but_keeps_what_aws_returned_as_it_is():
    rule = normalize_rule(LOGIN)
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == 100 and rate["EvaluationWindowSec"] == 300
    assert (
        rate["ScopeDownStatement"]["AndStatement"]["Statements"][0]["ByteMatchStatement"]["SearchString"] == b"/login"
    )
    returned = dict(copy.deepcopy(HAND), NewFieldOfANewerApi={"x": 1})
    assert normalize_rule(returned, strict=False)["NewFieldOfANewerApi"] == {"x": 1}
    with pytest.raises(ParameterError, match="NewFieldOfANewerApi is not a field of the WAF Rule"):
        normalize_rule(returned)
