"""ec2_vpc_flow_log and route53_resolver_firewall through real `ansible` runs against the sandbox: create, modify and
delete, each in check mode (no mutating call), for real, and again (no change)."""

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
