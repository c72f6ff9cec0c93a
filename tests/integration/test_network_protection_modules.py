"""ec2_vpc_flow_log, route53_resolver_firewall and wafv2_web_acl through real `ansible` runs against the sandbox:
create, modify and delete, each in check mode (no mutating call), for real, and again (no change)."""

import pytest
from playbook import run_module

P = "us-east-1"


@pytest.fixture
def vpc(clean_sandbox):
    return clean_sandbox.client("ec2", P).create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]


def step(sandbox, module, args, check=False):
    """Run a module; in check mode, prove that no mutating call was sent."""
    sandbox.clear_requests()
    result = run_module(sandbox, module, dict(args, region=P), check=check, diff=True)
    assert not result["failed"], result
    if check:
        assert sandbox.requests(mutating=True) == []
    return result


def test_flow_log_create_modify_delete(clean_sandbox, vpc):
    module = "medcircle.cloudops.ec2_vpc_flow_log"
    args = {
        "resource_ids": [vpc],
        "log_group_name": "/medcircle/vpc-flow-logs",
        "deliver_logs_permission_arn": "arn:aws:iam::123456789012:role/medcircle-flow-logs-role",
        "tags": {"Project": "medcircle"},
    }
    ec2 = clean_sandbox.client("ec2", P)

    planned = step(clean_sandbox, module, args, check=True)
    assert planned["changed"] and planned["created"] == [vpc]
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    created = step(clean_sandbox, module, args)
    assert created["changed"] and created["flow_logs"][0]["flow_log_id"].startswith("fl-")
    assert not step(clean_sandbox, module, args)["changed"]

    retag = dict(args, tags={"Project": "medcircle", "Owner": "it-support"})
    assert step(clean_sandbox, module, retag, check=True)["changed"]
    assert step(clean_sandbox, module, retag)["changed"]
    (log,) = ec2.describe_flow_logs()["FlowLogs"]
    assert {t["Key"]: t["Value"] for t in log["Tags"]} == {"Project": "medcircle", "Owner": "it-support"}
    assert not step(clean_sandbox, module, retag)["changed"]

    # a flow log of the same VPC to another destination is not ours to touch
    other = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="/someone/else",
        DeliverLogsPermissionArn=args["deliver_logs_permission_arn"],
    )["FlowLogIds"][0]
    absent = {"state": "absent", "resource_ids": [vpc], "log_group_name": "/medcircle/vpc-flow-logs"}
    assert step(clean_sandbox, module, absent, check=True)["deleted"] == [log["FlowLogId"]]
    assert len(ec2.describe_flow_logs()["FlowLogs"]) == 2
    assert step(clean_sandbox, module, absent)["changed"]
    assert [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"]] == [other]
    assert not step(clean_sandbox, module, absent)["changed"]


def test_dns_firewall_create_modify_delete(clean_sandbox, vpc):
    module = "medcircle.cloudops.route53_resolver_firewall"
    args = {
        "name": "medcircle-dns-firewall",
        "domain_lists": [{"name": "medcircle-blocked-domains", "domains": ["malware.example"]}],
        "rules": [
            {"name": "known-bad", "priority": 100, "action": "ALERT", "domain_list": "medcircle-blocked-domains"}
        ],
        "associations": [{"vpc_id": vpc, "priority": 101}],
        "tags": {"Project": "medcircle"},
    }
    resolver = clean_sandbox.client("route53resolver", P)

    planned = step(clean_sandbox, module, args, check=True)
    assert planned["changed"] and planned["rule_group"]["id"] is None
    assert resolver.list_firewall_rule_groups()["FirewallRuleGroups"] == []
    created = step(clean_sandbox, module, args)
    assert created["associations"][0]["status"] == "COMPLETE"
    assert resolver.list_tags_for_resource(ResourceArn=created["rule_group"]["arn"])["Tags"] == [
        {"Key": "Project", "Value": "medcircle"}
    ]
    assert not step(clean_sandbox, module, args)["changed"]

    blocked = dict(
        args,
        domain_lists=[{"name": "medcircle-blocked-domains", "domains": ["malware.example", "*.phishing.example"]}],
        rules=[
            {
                "name": "known-bad",
                "priority": 100,
                "action": "BLOCK",
                "block_response": "NXDOMAIN",
                "domain_list": "medcircle-blocked-domains",
            }
        ],
    )
    plan = step(clean_sandbox, module, blocked, check=True)
    assert plan["changes"] == ["set the 2 domain(s) of medcircle-blocked-domains", "update rule known-bad"]
    assert step(clean_sandbox, module, blocked)["changed"]
    (rule,) = resolver.list_firewall_rules(FirewallRuleGroupId=created["rule_group"]["id"])["FirewallRules"]
    assert (rule["Action"], rule["BlockResponse"]) == ("BLOCK", "NXDOMAIN")
    assert not step(clean_sandbox, module, blocked)["changed"]

    absent = {
        "name": "medcircle-dns-firewall",
        "state": "absent",
        "domain_lists": [{"name": "medcircle-blocked-domains"}],
    }
    assert step(clean_sandbox, module, absent, check=True)["changed"]
    assert len(resolver.list_firewall_rule_group_associations()["FirewallRuleGroupAssociations"]) == 1
    assert step(clean_sandbox, module, absent)["changed"]
    assert resolver.list_firewall_rule_groups()["FirewallRuleGroups"] == []
    assert resolver.list_firewall_domain_lists()["FirewallDomainLists"] == []
    assert resolver.list_firewall_rule_group_associations()["FirewallRuleGroupAssociations"] == []
    assert not step(clean_sandbox, module, absent)["changed"]


def waf_rule(name, priority, statement, action="Block"):
    return {
        "Name": name,
        "Priority": priority,
        "Action": {action: {}},
        "Statement": statement,
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name},
    }


def uri_starts_with(text):
    return {
        "ByteMatchStatement": {
            "SearchString": text,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            "PositionalConstraint": "STARTS_WITH",
        }
    }


def test_web_acl_create_modify_delete(clean_sandbox):
    """Rules with search strings nested in other statements and a NOT statement: a second run changes nothing."""
    module = "medcircle.cloudops.wafv2_web_acl"
    login = waf_rule(
        "login-rate",
        10,
        {
            "RateBasedStatement": {
                "Limit": 100,
                "AggregateKeyType": "IP",
                "ScopeDownStatement": {
                    "OrStatement": {"Statements": [uri_starts_with("/login"), uri_starts_with("/sso")]}
                },
            }
        },
    )
    admin = waf_rule(
        "admin-except-health",
        20,
        {
            "AndStatement": {
                "Statements": [
                    uri_starts_with("/admin"),
                    {"NotStatement": {"Statement": uri_starts_with("/admin/health")}},
                    {
                        "RegexMatchStatement": {
                            "RegexString": "^/admin/(users|keys)/",
                            "FieldToMatch": {"UriPath": {}},
                            "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}],
                        }
                    },
                ]
            }
        },
    )
    outside = waf_rule(
        "count-outside-us",
        30,
        {"NotStatement": {"Statement": {"GeoMatchStatement": {"CountryCodes": ["US"]}}}},
        "Count",
    )
    args = {
        "name": "medcircle-test-acl",
        "default_action": "Allow",
        "description": "test web ACL",
        "rules": [login, admin, outside],
        "tags": {"Project": "medcircle"},
    }
    waf = clean_sandbox.client("wafv2", P)

    planned = step(clean_sandbox, module, args, check=True)
    assert planned["changed"] and planned["arn"] is None
    assert waf.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
    created = step(clean_sandbox, module, args)
    assert created["changed"] and created["arn"].startswith("arn:aws:wafv2:us-east-1:")
    again = step(clean_sandbox, module, args)
    assert not again["changed"], again
    assert again["rules"]["unchanged"] == ["login-rate", "admin-except-health", "count-outside-us"]

    # someone adds a rule by hand; settings the module does not manage are set too
    acl = waf.get_web_acl(Name="medcircle-test-acl", Scope="REGIONAL", Id=created["id"])
    hand = waf_rule("incident-block", 5, {"NotStatement": {"Statement": uri_starts_with(b"/public")}})
    waf.update_web_acl(
        Name="medcircle-test-acl",
        Scope="REGIONAL",
        Id=created["id"],
        DefaultAction=acl["WebACL"]["DefaultAction"],
        Description="test web ACL",
        Rules=acl["WebACL"]["Rules"] + [hand],
        VisibilityConfig=acl["WebACL"]["VisibilityConfig"],
        TokenDomains=["medcircle.example"],
        LockToken=acl["LockToken"],
    )
    hand_as_stored = {
        r["Name"]: r
        for r in waf.get_web_acl(Name="medcircle-test-acl", Scope="REGIONAL", Id=created["id"])["WebACL"]["Rules"]
    }["incident-block"]
    assert not step(clean_sandbox, module, args)["changed"]

    # a real change: one search string, deep in the scope-down statement
    modified = dict(
        args,
        rules=[
            dict(
                login,
                Statement={
                    "RateBasedStatement": dict(
                        login["Statement"]["RateBasedStatement"],
                        ScopeDownStatement={
                            "OrStatement": {"Statements": [uri_starts_with("/login"), uri_starts_with("/oauth")]}
                        },
                    )
                },
            ),
            admin,
            outside,
        ],
    )
    plan = step(clean_sandbox, module, modified, check=True)
    assert (
        plan["changed"] and plan["rules"]["updated"] == ["login-rate"] and plan["rules"]["kept"] == ["incident-block"]
    )
    assert step(clean_sandbox, module, modified)["changed"]
    stored = waf.get_web_acl(Name="medcircle-test-acl", Scope="REGIONAL", Id=created["id"])["WebACL"]
    rules = {r["Name"]: r for r in stored["Rules"]}
    scope_down = rules["login-rate"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["OrStatement"]
    assert scope_down["Statements"][1]["ByteMatchStatement"]["SearchString"] == b"/oauth"
    assert rules["incident-block"] == hand_as_stored
    assert stored["TokenDomains"] == ["medcircle.example"]
    assert not step(clean_sandbox, module, modified)["changed"]

    # remove a rule by name, keep the hand-added one
    fewer = dict(modified, rules=[modified["rules"][0], admin], remove_rules=["count-outside-us"])
    assert step(clean_sandbox, module, fewer, check=True)["rules"]["removed"] == ["count-outside-us"]
    assert step(clean_sandbox, module, fewer)["changed"]
    names = {
        r["Name"]
        for r in waf.get_web_acl(Name="medcircle-test-acl", Scope="REGIONAL", Id=created["id"])["WebACL"]["Rules"]
    }
    assert names == {"login-rate", "admin-except-health", "incident-block"}
    assert not step(clean_sandbox, module, fewer)["changed"]

    absent = {"name": "medcircle-test-acl", "state": "absent"}
    assert step(clean_sandbox, module, absent, check=True)["changed"]
    assert len(waf.list_web_acls(Scope="REGIONAL")["WebACLs"]) == 1
    assert step(clean_sandbox, module, absent)["changed"]
    assert waf.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
    assert not step(clean_sandbox, module, absent)["changed"]
