"""route53_resolver_firewall through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import route53_resolver_firewall
from botocore.stub import ANY

VPC = "vpc-0aaaaaaaaaaaaaaaa"
GROUP_ID = "rslvr-frg-0123456789abcdef"
GROUP_ARN = f"arn:aws:route53resolver:us-east-1:123456789012:firewall-rule-group/{GROUP_ID}"
LIST_ID = "rslvr-fdl-0123456789abcdef"
ASSOC_ID = "rslvr-frgassoc-0123456789abcdef"
ARGS = {
    "name": "medcircle-dns-firewall",
    "domain_lists": [{"name": "blocked", "domains": ["Malware.example", "*.phishing.example."]}],
    "rules": [
        {
            "name": "block-known-bad",
            "priority": 100,
            "action": "BLOCK",
            "block_response": "NXDOMAIN",
            "domain_list": "blocked",
        }
    ],
    "associations": [{"vpc_id": VPC, "priority": 101}],
    "tags": {"Project": "medcircle"},
}
GROUP = {"Id": GROUP_ID, "Arn": GROUP_ARN, "Name": "medcircle-dns-firewall", "ShareStatus": "NOT_SHARED"}
LIST = {
    "Id": LIST_ID,
    "Arn": "arn:aws:route53resolver:us-east-1:123456789012:firewall-domain-list/x",
    "Name": "blocked",
}
RULE = {
    "FirewallRuleGroupId": GROUP_ID,
    "FirewallDomainListId": LIST_ID,
    "Name": "block-known-bad",
    "Priority": 100,
    "Action": "BLOCK",
    "BlockResponse": "NXDOMAIN",
}
ASSOC = {
    "Id": ASSOC_ID,
    "FirewallRuleGroupId": GROUP_ID,
    "VpcId": VPC,
    "Name": f"medcircle-dns-firewall-{VPC}",
    "Priority": 101,
    "MutationProtection": "DISABLED",
    "Status": "COMPLETE",
}


@pytest.fixture
def clients(aws, monkeypatch):
    def client(self, service, retry_decorator=None, **extra):
        assert retry_decorator is not None
        return aws.client(service, extra.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)


def run(args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1", "_ansible_diff": True}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        route53_resolver_firewall.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def existing(stub, group=True, domains=("*.phishing.example.", "malware.example."), rules=(RULE,), assocs=(ASSOC,)):
    stub.add_response("list_firewall_rule_groups", {"FirewallRuleGroups": [GROUP] if group else []}, {})
    stub.add_response("list_firewall_domain_lists", {"FirewallDomainLists": [LIST] if domains is not None else []}, {})
    if domains is not None:
        stub.add_response("list_firewall_domains", {"Domains": list(domains)}, {"FirewallDomainListId": LIST_ID})
    if group:
        stub.add_response("list_firewall_rules", {"FirewallRules": list(rules)}, {"FirewallRuleGroupId": GROUP_ID})
        stub.add_response(
            "list_firewall_rule_group_associations",
            {"FirewallRuleGroupAssociations": list(assocs)},
            {"FirewallRuleGroupId": GROUP_ID},
        )
        stub.add_response(
            "list_tags_for_resource", {"Tags": [{"Key": "Project", "Value": "medcircle"}]}, {"ResourceArn": GROUP_ARN}
        )


def test_creates_everything_and_waits_for_the_association(aws, clients, capsys):
    stub = aws.stub("route53resolver", "us-east-1")
    existing(stub, group=False, domains=None)
    tags = [{"Key": "Project", "Value": "medcircle"}]
    stub.add_response(
        "create_firewall_domain_list",
        {"FirewallDomainList": LIST},
        {"CreatorRequestId": ANY, "Name": "blocked", "Tags": tags},
    )
    stub.add_response(
        "update_firewall_domains",
        {"Id": LIST_ID, "Status": "UPDATING"},
        {
            "FirewallDomainListId": LIST_ID,
            "Operation": "REPLACE",
            "Domains": ["*.phishing.example.", "malware.example."],
        },
    )
    stub.add_response(
        "create_firewall_rule_group",
        {"FirewallRuleGroup": GROUP},
        {"CreatorRequestId": ANY, "Name": "medcircle-dns-firewall", "Tags": tags},
    )
    stub.add_response(
        "create_firewall_rule",
        {"FirewallRule": RULE},
        {
            "CreatorRequestId": ANY,
            "FirewallRuleGroupId": GROUP_ID,
            "FirewallDomainListId": LIST_ID,
            "Name": "block-known-bad",
            "Priority": 100,
            "Action": "BLOCK",
            "BlockResponse": "NXDOMAIN",
        },
    )
    stub.add_response(
        "associate_firewall_rule_group",
        {"FirewallRuleGroupAssociation": dict(ASSOC, Status="CREATING")},
        {
            "CreatorRequestId": ANY,
            "FirewallRuleGroupId": GROUP_ID,
            "VpcId": VPC,
            "Priority": 101,
            "Name": f"medcircle-dns-firewall-{VPC}",
            "MutationProtection": "DISABLED",
            "Tags": tags,
        },
    )
    stub.add_response(
        "get_firewall_rule_group_association",
        {"FirewallRuleGroupAssociation": ASSOC},
        {"FirewallRuleGroupAssociationId": ASSOC_ID},
    )
    existing(stub)
    rc, result = run(ARGS, capsys)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["associations"][0]["status"] == "COMPLETE"
    assert result["domain_lists"][0]["domains"] == ["*.phishing.example.", "malware.example."]
    assert result["diff"]["before"]["rule_group"] == {}


def test_second_run_changes_nothing(aws, clients, capsys):
    existing(aws.stub("route53resolver", "us-east-1"))
    rc, result = run(ARGS, capsys)
    assert rc == 0, result
    assert result["changed"] is False
    assert result["changes"] == []


def test_check_mode_plans_rule_and_domain_changes_without_calls(aws, clients, capsys):
    alert = dict(RULE, Action="ALERT")
    alert.pop("BlockResponse")
    existing(aws.stub("route53resolver", "us-east-1"), domains=["malware.example."], rules=[alert], assocs=[])
    rc, result = run(ARGS, capsys, check=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["changes"] == [
        "set the 2 domain(s) of blocked",
        "update rule block-known-bad",
        f"associate with {VPC} (priority 101)",
    ]
    assert result["associations"] == [
        {
            "vpc_id": VPC,
            "priority": 101,
            "name": f"medcircle-dns-firewall-{VPC}",
            "mutation_protection": "DISABLED",
            "id": None,
            "status": "CREATING",
        }
    ]


def test_absent_disassociates_then_deletes(aws, clients, capsys):
    stub = aws.stub("route53resolver", "us-east-1")
    existing(stub)
    stub.add_response(
        "disassociate_firewall_rule_group",
        {"FirewallRuleGroupAssociation": dict(ASSOC, Status="DELETING")},
        {"FirewallRuleGroupAssociationId": ASSOC_ID},
    )
    stub.add_client_error(
        "get_firewall_rule_group_association",
        service_error_code="ResourceNotFoundException",
        expected_params={"FirewallRuleGroupAssociationId": ASSOC_ID},
    )
    stub.add_response(
        "delete_firewall_rule",
        {"FirewallRule": RULE},
        {"FirewallRuleGroupId": GROUP_ID, "FirewallDomainListId": LIST_ID},
    )
    stub.add_response("delete_firewall_rule_group", {"FirewallRuleGroup": GROUP}, {"FirewallRuleGroupId": GROUP_ID})
    stub.add_response("delete_firewall_domain_list", {"FirewallDomainList": LIST}, {"FirewallDomainListId": LIST_ID})
    stub.add_response("list_firewall_rule_groups", {"FirewallRuleGroups": []}, {})
    stub.add_response("list_firewall_domain_lists", {"FirewallDomainLists": []}, {})
    rc, result = run(
        {"name": "medcircle-dns-firewall", "state": "absent", "domain_lists": [{"name": "blocked"}]}, capsys
    )
    assert rc == 0, result
    assert result["changed"] is True
    assert result["rule_group"] == {}


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"rules": [{k: v for k, v in ARGS["rules"][0].items() if k != "block_response"}]},
            "rules[0].block_response is required with action BLOCK",
        ),
        ({"rules": [dict(ARGS["rules"][0], action="ALLOW")]}, "rules[0].block_response NXDOMAIN can only be used"),
        ({"associations": [{"vpc_id": VPC, "priority": 50}]}, "associations[0].priority 50 is not allowed"),
        (
            {"associations": [{"vpc_id": "subnet-1", "priority": 101}]},
            "associations[0].vpc_id subnet-1 is not a VPC id",
        ),
    ],
)
def test_bad_input_fails_before_any_call(aws, clients, capsys, change, message):
    rc, result = run(dict(ARGS, **change), capsys)
    assert rc == 1
    assert message in result["msg"]


def test_unknown_domain_list_fails_before_any_change(aws, clients, capsys):
    existing(aws.stub("route53resolver", "us-east-1"))
    rules = [dict(ARGS["rules"][0], domain_list="nowhere")]
    rc, result = run(dict(ARGS, rules=rules), capsys)
    assert rc == 1
    assert "rules nowhere is not a domain list" in result["msg"]
