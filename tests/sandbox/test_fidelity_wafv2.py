"""WAFv2 rate-based statements come back with the evaluation window AWS stores by default (sandbox/fidelity.py).

AWS's API reference of RateBasedStatement: EvaluationWindowSec "Default: 300 (5 minutes)"; GetWebACL returns it
for a rule created without it. Given values are kept; search strings come back as the bytes that were sent.
"""


def vis(name):
    return {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name}


def rate_rule(name, priority, **extra):
    statement = {"Limit": 100, "AggregateKeyType": "IP", **extra}
    return {
        "Name": name,
        "Priority": priority,
        "Action": {"Block": {}},
        "Statement": {"RateBasedStatement": statement},
        "VisibilityConfig": vis(name),
    }


SCOPE_DOWN = {
    "ByteMatchStatement": {
        "SearchString": b"/login",
        "FieldToMatch": {"UriPath": {}},
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        "PositionalConstraint": "STARTS_WITH",
    }
}


def test_get_web_acl_returns_the_default_evaluation_window(clean_sandbox):
    waf = clean_sandbox.client("wafv2", "us-east-1")
    summary = waf.create_web_acl(
        Name="fidelity-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=[rate_rule("default-window", 1, ScopeDownStatement=SCOPE_DOWN), rate_rule("one-minute", 2)],
        VisibilityConfig=vis("fidelity-acl"),
    )["Summary"]
    acl = waf.get_web_acl(Name="fidelity-acl", Scope="REGIONAL", Id=summary["Id"])
    rules = {rule["Name"]: rule["Statement"]["RateBasedStatement"] for rule in acl["WebACL"]["Rules"]}
    assert rules["default-window"]["EvaluationWindowSec"] == 300
    assert rules["default-window"]["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == b"/login"
    assert rules["one-minute"]["EvaluationWindowSec"] == 300

    # an update keeps a window that was given, and fills in the default where none was
    waf.update_web_acl(
        Name="fidelity-acl",
        Scope="REGIONAL",
        Id=summary["Id"],
        DefaultAction={"Allow": {}},
        Rules=[rate_rule("default-window", 1), rate_rule("one-minute", 2, EvaluationWindowSec=60)],
        VisibilityConfig=vis("fidelity-acl"),
        LockToken=acl["LockToken"],
    )
    acl = waf.get_web_acl(Name="fidelity-acl", Scope="REGIONAL", Id=summary["Id"])
    windows = {
        rule["Name"]: rule["Statement"]["RateBasedStatement"]["EvaluationWindowSec"] for rule in acl["WebACL"]["Rules"]
    }
    assert windows == {"default-window": 300, "one-minute": 60}
