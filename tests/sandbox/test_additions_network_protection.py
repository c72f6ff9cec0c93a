"""The sandbox's DNS Firewall management and Network Firewall rule groups keep AWS's rules, not only its shapes."""

import botocore.exceptions
import pytest

STATEFUL = {
    "RulesSource": {
        "RulesSourceList": {"Targets": [".bad.example"], "TargetTypes": ["TLS_SNI"], "GeneratedRulesType": "DENYLIST"}
    }
}


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def test_dns_firewall_tags_domains_rules_and_associations(clean_sandbox):
    resolver = clean_sandbox.client("route53resolver")
    vpc = clean_sandbox.client("ec2").create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    domains = resolver.create_firewall_domain_list(
        CreatorRequestId="t-dl", Name="blocked", Tags=[{"Key": "Project", "Value": "medcircle"}]
    )["FirewallDomainList"]
    resolver.update_firewall_domains(
        FirewallDomainListId=domains["Id"], Operation="ADD", Domains=["b.example.", "a.example."]
    )
    assert resolver.list_firewall_domains(FirewallDomainListId=domains["Id"])["Domains"] == ["a.example.", "b.example."]
    assert (
        resolver.get_firewall_domain_list(FirewallDomainListId=domains["Id"])["FirewallDomainList"]["DomainCount"] == 2
    )
    # the Tags of the create request are kept
    assert resolver.list_tags_for_resource(ResourceArn=domains["Arn"])["Tags"] == [
        {"Key": "Project", "Value": "medcircle"}
    ]

    group = resolver.create_firewall_rule_group(CreatorRequestId="t-g", Name="dns-fw")["FirewallRuleGroup"]
    resolver.create_firewall_rule(
        CreatorRequestId="t-r",
        FirewallRuleGroupId=group["Id"],
        FirewallDomainListId=domains["Id"],
        Priority=100,
        Action="ALERT",
        Name="known-bad",
    )
    rule = resolver.update_firewall_rule(
        FirewallRuleGroupId=group["Id"], FirewallDomainListId=domains["Id"], Action="BLOCK", BlockResponse="NXDOMAIN"
    )["FirewallRule"]
    assert (rule["Action"], rule["BlockResponse"], rule["Priority"]) == ("BLOCK", "NXDOMAIN", 100)

    # a domain list a rule uses cannot be deleted
    with pytest.raises(botocore.exceptions.ClientError) as error:
        resolver.delete_firewall_domain_list(FirewallDomainListId=domains["Id"])
    assert _code(error) == "ConflictException"

    assoc = resolver.associate_firewall_rule_group(
        CreatorRequestId="t-a",
        FirewallRuleGroupId=group["Id"],
        VpcId=vpc,
        Priority=101,
        Name="vpc",
        MutationProtection="ENABLED",
    )["FirewallRuleGroupAssociation"]
    got = resolver.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=assoc["Id"])
    assert got["FirewallRuleGroupAssociation"]["MutationProtection"] == "ENABLED"
    # an associated group cannot be deleted, a protected association cannot be removed
    with pytest.raises(botocore.exceptions.ClientError) as error:
        resolver.delete_firewall_rule_group(FirewallRuleGroupId=group["Id"])
    assert _code(error) == "ConflictException"
    with pytest.raises(botocore.exceptions.ClientError) as error:
        resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=assoc["Id"])
    assert _code(error) == "ValidationException"

    resolver.update_firewall_rule_group_association(
        FirewallRuleGroupAssociationId=assoc["Id"], MutationProtection="DISABLED", Priority=200
    )
    resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=assoc["Id"])
    resolver.delete_firewall_rule(FirewallRuleGroupId=group["Id"], FirewallDomainListId=domains["Id"])
    assert resolver.list_firewall_rules(FirewallRuleGroupId=group["Id"])["FirewallRules"] == []
    resolver.delete_firewall_rule_group(FirewallRuleGroupId=group["Id"])
    resolver.delete_firewall_domain_list(FirewallDomainListId=domains["Id"])
    assert resolver.list_firewall_rule_groups()["FirewallRuleGroups"] == []
    assert resolver.list_firewall_domain_lists()["FirewallDomainLists"] == []


def test_network_firewall_rule_groups_and_policy_updates(clean_sandbox):
    nfw = clean_sandbox.client("network-firewall")
    created = nfw.create_rule_group(
        RuleGroupName="deny", Type="STATEFUL", Capacity=100, RuleGroup=STATEFUL, Tags=[{"Key": "a", "Value": "b"}]
    )
    arn = created["RuleGroupResponse"]["RuleGroupArn"]
    described = nfw.describe_rule_group(RuleGroupName="deny", Type="STATEFUL")
    assert described["RuleGroup"] == STATEFUL
    assert described["RuleGroupResponse"]["Tags"] == [{"Key": "a", "Value": "b"}]

    # an update needs the current token
    with pytest.raises(botocore.exceptions.ClientError) as error:
        nfw.update_rule_group(UpdateToken="stale", RuleGroupArn=arn, RuleGroup=STATEFUL)
    assert _code(error) == "InvalidTokenException"
    updated = nfw.update_rule_group(UpdateToken=described["UpdateToken"], RuleGroupArn=arn, Description="new")
    assert updated["UpdateToken"] != described["UpdateToken"]
    assert nfw.list_rule_groups(Type="STATEFUL")["RuleGroups"] == [{"Name": "deny", "Arn": arn}]

    policy = nfw.create_firewall_policy(
        FirewallPolicyName="p",
        FirewallPolicy={
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:pass"],
        },
    )
    with pytest.raises(botocore.exceptions.ClientError) as error:
        nfw.update_firewall_policy(
            UpdateToken=policy["UpdateToken"],
            FirewallPolicyName="p",
            FirewallPolicy={
                "StatelessDefaultActions": ["aws:forward_to_sfe"],
                "StatelessFragmentDefaultActions": ["aws:pass"],
                "StatefulRuleGroupReferences": [{"ResourceArn": arn.replace("deny", "missing")}],
            },
        )
    assert _code(error) == "InvalidRequestException"
    nfw.update_firewall_policy(
        UpdateToken=policy["UpdateToken"],
        FirewallPolicyName="p",
        FirewallPolicy={
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:pass"],
            "StatefulRuleGroupReferences": [{"ResourceArn": arn}],
        },
    )
    assert nfw.describe_rule_group(RuleGroupArn=arn)["RuleGroupResponse"]["NumberOfAssociations"] == 1
    # a rule group a policy references cannot be deleted
    with pytest.raises(botocore.exceptions.ClientError) as error:
        nfw.delete_rule_group(RuleGroupArn=arn)
    assert _code(error) == "InvalidOperationException"
    nfw.delete_firewall_policy(FirewallPolicyName="p")
    nfw.delete_rule_group(RuleGroupArn=arn)
    assert nfw.list_rule_groups()["RuleGroups"] == []


def test_network_firewall_tags_on_policies_rule_groups_and_firewalls(clean_sandbox):
    nfw = clean_sandbox.client("network-firewall")
    ec2 = clean_sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
    policy = nfw.create_firewall_policy(
        FirewallPolicyName="tagged",
        FirewallPolicy={"StatelessDefaultActions": ["aws:pass"], "StatelessFragmentDefaultActions": ["aws:pass"]},
        Tags=[{"Key": "Old", "Value": "x"}],
    )["FirewallPolicyResponse"]["FirewallPolicyArn"]
    group = nfw.create_rule_group(RuleGroupName="tagged", Type="STATEFUL", Capacity=10, RuleGroup=STATEFUL)[
        "RuleGroupResponse"
    ]["RuleGroupArn"]
    firewall = nfw.create_firewall(
        FirewallName="tagged", FirewallPolicyArn=policy, VpcId=vpc, SubnetMappings=[{"SubnetId": subnet}]
    )["Firewall"]["FirewallArn"]
    for arn in (policy, group, firewall):
        nfw.tag_resource(ResourceArn=arn, Tags=[{"Key": "Project", "Value": "medcircle"}])
    nfw.untag_resource(ResourceArn=policy, TagKeys=["Old"])
    assert nfw.list_tags_for_resource(ResourceArn=policy)["Tags"] == [{"Key": "Project", "Value": "medcircle"}]
    # the Describe answers show the same tags
    assert nfw.describe_firewall_policy(FirewallPolicyArn=policy)["FirewallPolicyResponse"]["Tags"] == [
        {"Key": "Project", "Value": "medcircle"}
    ]
    assert nfw.describe_rule_group(RuleGroupArn=group)["RuleGroupResponse"]["Tags"] == [
        {"Key": "Project", "Value": "medcircle"}
    ]
    assert {"Key": "Project", "Value": "medcircle"} in nfw.list_tags_for_resource(ResourceArn=firewall)["Tags"]
    with pytest.raises(botocore.exceptions.ClientError) as error:
        nfw.tag_resource(ResourceArn=policy.replace("tagged", "missing"), Tags=[{"Key": "a", "Value": "b"}])
    assert _code(error) == "ResourceNotFoundException"
