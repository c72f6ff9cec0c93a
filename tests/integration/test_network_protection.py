"""Network protection (findings 4.4 web ACLs, 4.5 firewall, 4.6 flow logs, 4.7 DNS firewall):
playbooks/remediate/network_protection.yml on the as-assessed estate.

The audit (medcircle.cloudops.risk_audit, limited to the four findings) fails them before; check mode sends no
mutating call; the real run closes all four, with the flow log group encrypted and kept a year, a delivery role
that may write to that group only, the managed rule groups and rate limit in the web ACL and the DNS Firewall
association COMPLETE; a second run changes nothing. Bad input fails before any mutating call, naming the variable.
"""

import pytest
from playbook import run_module, run_playbook

FINDINGS = ["4.4", "4.5", "4.6", "4.7"]
P = "us-east-1"
PLAY = "playbooks/remediate/network_protection.yml"
# The as-assessed estate runs in the primary region only: one region of keys and of protection keeps the
# test short; the role's region loop is the same for one region or two.
FAST = {"network_protection_regions": [P], "kms_keys_regions": [P], "kms_keys_purposes": ["logs"]}


def audit(sandbox):
    result = run_module(sandbox, "medcircle.cloudops.risk_audit", {"findings": FINDINGS, "regions": [P]})
    assert not result["failed"], result
    return {f["id"]: f for f in result["findings"]}


def changed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


@pytest.fixture(scope="module")
def before(assessed_sandbox):
    return audit(assessed_sandbox)


@pytest.fixture(scope="module")
def vpc(assessed_sandbox):
    ec2 = assessed_sandbox.client("ec2", P)
    (vpc_id,) = {i["VpcId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    return vpc_id


def test_as_assessed_fails_the_four_findings(before):
    for finding in FINDINGS:
        assert before[finding]["status"] == "fail", before[finding]


def test_bad_input_fails_before_any_change(assessed_sandbox, before):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, extra_vars=dict(FAST, network_protection_flow_logs_retention_days=100))
    assert run.returncode != 0
    failed = [name for name, outcome in run.tasks() if outcome.get("failed")]
    assert len(failed) == 1 and failed[0].endswith("4.6 | AUDIT | Network protection | Check the flow log settings")
    assert run.task("Check the flow log settings")["msg"] == (
        "network_protection_flow_logs_retention_days 100 must be a CloudWatch Logs retention period: 1, 3, 5, 7, 14,"
        " 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653. Nothing was changed."
    )
    assert assessed_sandbox.requests(mutating=True) == []


def test_check_mode_changes_nothing(assessed_sandbox, before):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, extra_vars=FAST, check=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert assessed_sandbox.requests(mutating=True) == []
    planned = changed_tasks(run)
    assert any("4.6 | PATCH | Flow logs | Log the traffic" in name for name in planned), planned
    assert any("4.7 | PATCH | DNS Firewall" in name for name in planned), planned
    assert any("4.4 | PATCH | WAF | In each region, create the web ACL" in name for name in planned), planned


@pytest.fixture(scope="module")
def applied(assessed_sandbox, before):
    run = run_playbook(assessed_sandbox, PLAY, extra_vars=FAST)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def test_the_play_says_which_vpcs_it_protects(applied, vpc):
    assert applied.task("Show the VPCs to protect")["msg"] == f"{P}: {vpc}."


def test_the_play_closes_the_four_findings(assessed_sandbox, applied):
    after = audit(assessed_sandbox)
    for finding in FINDINGS:
        assert after[finding]["status"] == "pass", after[finding]


def test_flow_logs_go_to_an_encrypted_group_through_a_write_only_role(assessed_sandbox, applied, vpc):
    logs = assessed_sandbox.client("logs", P)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/medcircle/vpc-flow-logs")["logGroups"]
    assert group["retentionInDays"] == 365
    key = assessed_sandbox.client("kms", P).describe_key(KeyId="alias/medcircle-logs")["KeyMetadata"]["Arn"]
    assert group["kmsKeyId"] == key
    (flow,) = assessed_sandbox.client("ec2", P).describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])[
        "FlowLogs"
    ]
    assert (flow["TrafficType"], flow["LogGroupName"]) == ("ALL", "/medcircle/vpc-flow-logs")
    iam = assessed_sandbox.client("iam", P)
    assert flow["DeliverLogsPermissionArn"] == iam.get_role(RoleName="medcircle-flow-logs-role")["Role"]["Arn"]
    policy = iam.get_role_policy(RoleName="medcircle-flow-logs-role", PolicyName="MedCircleWriteFlowLogs")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["WriteFlowLogs"]["Resource"] == [
        f"arn:aws:logs:{P}:123456789012:log-group:/medcircle/vpc-flow-logs:*"
    ]
    trust = iam.get_role(RoleName="medcircle-flow-logs-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}


def test_web_acl_has_the_managed_rules_and_a_rate_limit(assessed_sandbox, applied):
    waf = assessed_sandbox.client("wafv2", P)
    (summary,) = waf.list_web_acls(Scope="REGIONAL")["WebACLs"]
    acl = waf.get_web_acl(Name=summary["Name"], Scope="REGIONAL", Id=summary["Id"])["WebACL"]
    managed = [
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    ]
    assert managed == [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ]
    (rate,) = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 2000 and "Block" in rate["Action"]
    # the as-assessed estate has no load balancer: the play says so
    said = applied.task("Show what the web ACL protects")["msg"]
    assert "rate limit 2000 requests per 5 minutes per IP). No internet-facing Application Load Balancer" in said, said
    assert "  " not in said, said


def test_firewall_and_dns_firewall_protect_the_vpc(assessed_sandbox, applied, vpc):
    nfw = assessed_sandbox.client("network-firewall", P)
    (listed,) = nfw.list_firewalls()["Firewalls"]
    firewall = nfw.describe_firewall(FirewallArn=listed["FirewallArn"])["Firewall"]
    assert firewall["VpcId"] == vpc and firewall["DeleteProtection"] is True
    policy = nfw.describe_firewall_policy(FirewallPolicyArn=firewall["FirewallPolicyArn"])["FirewallPolicy"]
    assert policy["StatelessDefaultActions"] == ["aws:forward_to_sfe"]
    (ref,) = policy["StatefulRuleGroupReferences"]
    group = nfw.describe_rule_group(RuleGroupArn=ref["ResourceArn"])["RuleGroup"]
    assert group["RulesSource"]["RulesSourceList"]["GeneratedRulesType"] == "DENYLIST"
    shown = applied.task("Network Firewall | Show the firewalls")["msg"]
    assert shown == (
        f"{P}/{vpc}: medcircle-firewall-{vpc} enforcing medcircle-firewall-policy. Traffic is inspected once the route"
        " tables send it through the firewall endpoints (see docs/network-protection.md)."
    ), shown

    resolver = assessed_sandbox.client("route53resolver", P)
    (assoc,) = resolver.list_firewall_rule_group_associations(VpcId=vpc)["FirewallRuleGroupAssociations"]
    assert assoc["Status"] == "COMPLETE"
    (rule,) = resolver.list_firewall_rules(FirewallRuleGroupId=assoc["FirewallRuleGroupId"])["FirewallRules"]
    assert (rule["Action"], rule["BlockResponse"]) == ("BLOCK", "NXDOMAIN")
    domains = resolver.list_firewall_domains(FirewallDomainListId=rule["FirewallDomainListId"])["Domains"]
    assert domains == ["*.phishing.example.", "malware.example."]


def test_second_run_changes_nothing(assessed_sandbox, applied):
    run = run_playbook(assessed_sandbox, PLAY, extra_vars=FAST)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert changed_tasks(run) == []
