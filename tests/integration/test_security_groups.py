"""Security groups (findings 3.3, 4.3, 3.6): playbooks/remediate/network.yml on the as-assessed estate,
and medcircle.cloudops.ec2_security_group_unused_info through a real `ansible` run.

The audit (playbooks/audit.yml, limited to the three findings) reads the estate before and after.
Check mode must send no mutating call; the real run closes the findings; a second run changes nothing;
a bad allow-list fails before any mutating call and names the variable.
"""

import json
import sys
from pathlib import Path

import pytest
from playbook import run_module, run_playbook

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
FINDINGS = ["3.3", "4.3", "3.6"]
P = "us-east-1"


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": FINDINGS},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}


def groups(sandbox):
    ec2 = sandbox.client("ec2", P)
    return {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"}


def world_rules(group):
    out = []
    for key in ("IpPermissions", "IpPermissionsEgress"):
        for perm in group.get(key, []):
            out += [r["CidrIp"] for r in perm.get("IpRanges", []) if r["CidrIp"] == "0.0.0.0/0"]
            out += [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", []) if r["CidrIpv6"] == "::/0"]
    return out


def changed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


@pytest.fixture(scope="module")
def before(assessed_sandbox, tmp_path_factory):
    return audit(assessed_sandbox, tmp_path_factory.mktemp("before"))


def test_bad_allow_list_fails_before_any_change(assessed_sandbox, before):
    assessed_sandbox.clear_requests()
    for definitions, expected in (
        (
            [{"name": "medcircle-app-sg", "ingress": [{"proto": "tcp", "ports": [443], "cidr_ip": "10.0.0.300/16"}]}],
            "security_groups_definitions[0] (medcircle-app-sg) ingress[0] cidr_ip 10.0.0.300/16 is not an IPv4 CIDR",
        ),
        (
            [{"name": "medcircle-db-sg", "egress": [{"proto": "all", "cidr_ipv6": "::/0"}]}],
            "security_groups_definitions[0] (medcircle-db-sg) egress[0] opens every port to the whole internet (::/0)",
        ),
    ):
        run = run_playbook(
            assessed_sandbox, "playbooks/remediate/network.yml", extra_vars={"security_groups_definitions": definitions}
        )
        assert run.returncode != 0
        failed = [name for name, outcome in run.tasks() if outcome.get("failed")]
        assert len(failed) == 1 and failed[0].endswith(
            "3.3 | AUDIT | Check the allow-list (CIDRs, prefix lists, groups, nothing open to the world)"
        ), failed
        message = run.task("Check the allow-list")["msg"]
        assert message.startswith(expected) and message.endswith(". Nothing was changed."), message
    assert assessed_sandbox.requests(mutating=True) == []


def test_as_assessed_fails_the_three_findings(before):
    for fid in FINDINGS:
        assert before[fid]["status"] == "fail", before[fid]


def test_check_mode_plans_and_sends_no_mutating_call(assessed_sandbox, before):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, "playbooks/remediate/network.yml", check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert assessed_sandbox.requests(mutating=True) == []
    changed = changed_tasks(run)
    assert any("Replace world-open rules" in name for name in changed), changed
    assert any("Remove unused security groups" in name for name in changed), changed
    assert "medcircle-legacy-sg" in groups(assessed_sandbox)
    app_id = groups(assessed_sandbox)["medcircle-app-sg"]["GroupId"]
    plan = run.task("Show which rules were (or would be) removed and added")["msg"]
    assert plan[0].startswith(f"medcircle-app-sg ({app_id}): would change to the allow-list; its rules now: ")
    assert "inbound tcp 22 from 0.0.0.0/0" in plan[0] and "inbound all traffic from ::/0" in plan[0], plan
    default = run.task("Show which rules were (or would be) removed from the default")["msg"]
    assert default.startswith("default (sg-") and ": would lose every rule: inbound all traffic from sg-" in default


def test_remediation_closes_the_findings_and_is_idempotent(assessed_sandbox, before, tmp_path):
    run = run_playbook(assessed_sandbox, "playbooks/remediate/network.yml")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    after = groups(assessed_sandbox)
    assert sorted(after) == ["medcircle-app-sg", "medcircle-db-sg"]
    for name, group in after.items():
        assert world_rules(group) == [], (name, group)
    app, db = after["medcircle-app-sg"], after["medcircle-db-sg"]
    assert [(p["IpProtocol"], p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in app["IpPermissions"]] == [
        ("tcp", 443, "10.0.0.0/16")
    ]
    assert db["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == app["GroupId"]
    assert db["IpPermissionsEgress"] == []
    assert {"Key": "ManagedBy", "Value": "medcircle.cloudops"} in app["Tags"]
    default = sandbox_default_group(assessed_sandbox)
    assert default["IpPermissions"] == [] and default["IpPermissionsEgress"] == []
    # what IT support reads: each rule removed and added, groups named
    app_line, db_line = run.task("Show which rules were (or would be) removed and added")["msg"]
    assert app_line.startswith(f"medcircle-app-sg ({app['GroupId']}): removed inbound all traffic from 0.0.0.0/0, ")
    assert "inbound tcp 22 from 0.0.0.0/0" in app_line and "; added inbound tcp 443 from 10.0.0.0/16" in app_line
    assert db_line == (
        f"medcircle-db-sg ({db['GroupId']}): removed inbound tcp 3306 from 0.0.0.0/0, outbound all traffic to"
        f" 0.0.0.0/0; added inbound tcp 3306 from {app['GroupId']} (medcircle-app-sg)."
    )
    default_line = run.task("Show which rules were (or would be) removed from the default")["msg"]
    assert default_line == (
        f"default ({default['GroupId']}): removed inbound all traffic from {default['GroupId']} (default),"
        " outbound all traffic to 0.0.0.0/0."
    )

    findings = audit(assessed_sandbox, tmp_path / "after")
    for fid in FINDINGS:
        assert findings[fid]["status"] == "pass", findings[fid]

    assessed_sandbox.clear_requests()
    again = run_playbook(assessed_sandbox, "playbooks/remediate/network.yml")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert changed_tasks(again) == []
    assert assessed_sandbox.requests(mutating=True) == []
    assert again.task("Show which rules were (or would be) removed and added")["msg"] == [
        f"medcircle-app-sg ({app['GroupId']}): unchanged (3 rule(s)).",
        f"medcircle-db-sg ({db['GroupId']}): unchanged (1 rule(s)).",
    ]


def sandbox_default_group(sandbox):
    ec2 = sandbox.client("ec2", P)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["medcircle-vpc"]}])["Vpcs"][0]["VpcId"]
    return ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]


def test_unused_info_on_the_sandbox(sandbox):
    """On an estate built here: used by an instance, by an RDS instance, only referenced, and unused."""
    sandbox.reset("empty")
    ec2 = sandbox.client("ec2", P)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ids = {
        name: ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for name in ("web", "db", "target", "spare")
    }
    ec2.authorize_security_group_ingress(
        GroupId=ids["web"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": ids["target"]}]}
        ],
    )
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[ids["web"]])
    rds = sandbox.client("rds", P)
    rds.create_db_subnet_group(DBSubnetGroupName="sg-test", DBSubnetGroupDescription="t", SubnetIds=[subnet])
    rds.create_db_instance(
        DBInstanceIdentifier="sgtest", DBInstanceClass="db.t3.micro", Engine="mysql", MasterUsername="admin",
        MasterUserPassword="password123", AllocatedStorage=20, DBSubnetGroupName="sg-test",
        VpcSecurityGroupIds=[ids["db"]],
    )  # fmt: skip
    sandbox.clear_requests()

    result = run_module(sandbox, "medcircle.cloudops.ec2_security_group_unused_info", {"vpc_ids": [vpc]})
    assert result["changed"] is False
    by_name = {g["group_name"]: g for g in result["security_groups"]}
    assert by_name["web"]["in_use"] and by_name["db"]["in_use"]
    assert sorted(g["group_name"] for g in result["unused"]) == ["spare", "target"]
    assert by_name["target"]["referenced_by"] == [ids["web"]]
    assert by_name["spare"]["referenced_by"] == []
    assert sandbox.requests(mutating=True) == []

    without_rds = run_module(
        sandbox, "medcircle.cloudops.ec2_security_group_unused_info", {"vpc_ids": [vpc], "check_rds": False}
    )
    assert "db" in [g["group_name"] for g in without_rds["unused"]]

    bad = run_module(sandbox, "medcircle.cloudops.ec2_security_group_unused_info", {"vpc_ids": ["subnet-1234"]})
    assert bad["failed"] and "vpc_ids subnet-1234 is not a VPC id" in bad["msg"]
