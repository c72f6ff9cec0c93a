"""The alternate site (playbooks/remediate/dr.yml: roles dr_site and dr_plan) on a sandbox seeded as assessed.

The DR network is created once and a second run changes nothing; the plan document holds every element the
audit's 5.6 check looks for, and the audit's 4.1 check sees application networks in both regions.
"""

import re
from pathlib import Path

import dr_estate
import pytest
import yaml
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks
from playbook import run_playbook
from sandbox_client import SandboxClient

REPO_ROOT = Path(__file__).resolve().parents[2]

PORT = 5162
DR = "us-west-2"
KEY = {}


@pytest.fixture(scope="module")
def sandbox():
    instance = SandboxClient.start(port=PORT, seed="as-assessed")
    try:
        KEY["arn"] = dr_estate.dr_ebs_key(instance)  # the kms_keys role makes it in a real estate
        yield instance
    finally:
        instance.stop()


def test_check_mode_changes_nothing(sandbox, tmp_path):
    sandbox.clear_requests()
    run = run_playbook(
        sandbox, "playbooks/remediate/dr.yml", extra_vars={"cloudops_reports_dir": str(tmp_path)}, check=True
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert sandbox.requests(mutating=True) == []
    assert run.task("Show the DR network")["msg"] == (
        "DR site in us-west-2 (check mode, nothing was changed): VPC medcircle-dr-vpc (10.20.0.0/16) does not exist"
        " yet. The real run creates it with 6 subnet(s) (medcircle-dr-app-a 10.20.1.0/24 us-west-2a;"
        " medcircle-dr-app-b 10.20.2.0/24 us-west-2b; medcircle-dr-db-a 10.20.11.0/24 us-west-2a; medcircle-dr-db-b"
        " 10.20.12.0/24 us-west-2b; medcircle-dr-drill-a 10.20.100.0/24 us-west-2a; medcircle-dr-drill-b"
        " 10.20.101.0/24 us-west-2b), private route tables, the app, db and drill security groups, the DB subnet"
        " groups medcircle-dr-vpc-db and medcircle-dr-vpc-drill-db and the Systems Manager and S3 endpoints."
    )
    assert (
        sandbox.client("ec2", DR).describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["medcircle-dr-vpc"]}])["Vpcs"]
        == []
    )


def test_site_is_provisioned_once_and_the_plan_has_every_element(sandbox, tmp_path):
    extra = {"cloudops_reports_dir": str(tmp_path)}
    first = run_playbook(sandbox, "playbooks/remediate/dr.yml", extra_vars=extra)
    assert first.returncode == 0, first.stdout[-3000:]
    ec2 = sandbox.client("ec2", DR)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["medcircle-dr-vpc"]}])["Vpcs"]
    assert len(vpc) == 1 and vpc[0]["CidrBlock"] == "10.20.0.0/16"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])["Subnets"]
    purposes = {}
    for subnet in subnets:
        tags = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}
        purposes.setdefault(tags["cloudops:purpose"], set()).add(subnet["AvailabilityZone"])
        assert subnet["MapPublicIpOnLaunch"] is False
    assert {p: len(z) for p, z in purposes.items()} == {"app": 2, "db": 2, "drill": 2}
    said = first.task("Show the DR network")["msg"]
    drill_subnet = said.split("drill subnet ")[1].split(",")[0]
    drill_group = said.rsplit(" ", 1)[1].rstrip(".")
    assert said == (
        f"DR site in us-west-2: VPC {vpc[0]['VpcId']} medcircle-dr-vpc (10.20.0.0/16), 6 subnet(s) (app 2, db 2,"
        f" drill 2), drill subnet {drill_subnet}, drill security group {drill_group}."
    )
    assert drill_subnet in {s["SubnetId"] for s in subnets if s["CidrBlock"] == "10.20.100.0/24"}
    (group,) = ec2.describe_security_groups(GroupIds=[drill_group])["SecurityGroups"]
    assert group["VpcId"] == vpc[0]["VpcId"] and "drill" in group["GroupName"], group["GroupName"]
    drill_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["medcircle-dr-vpc-drill"]}])
    egress = drill_group["SecurityGroups"][0]["IpPermissionsEgress"]
    assert [r["CidrIp"] for rule in egress for r in rule.get("IpRanges", [])] == ["10.20.0.0/16"]
    # Systems Manager through interface endpoints in the app subnets (the VPC has no way out): without them a
    # restored server's SSM agent never comes online
    all_endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])[
        "VpcEndpoints"
    ]
    endpoints = [e for e in all_endpoints if e["VpcEndpointType"] == "Interface"]
    by_service = {e["ServiceName"]: e for e in endpoints}
    assert sorted(by_service) == [f"com.amazonaws.{DR}.{s}" for s in ("ec2messages", "ssm", "ssmmessages")]
    # S3 (the data replicas, the OS repositories, the patch baselines) through a gateway endpoint on the app
    # subnets' route table only: the drill subnets stay isolated
    tables = {
        {t["Key"]: t["Value"] for t in table.get("Tags", [])}["Name"]: table
        for table in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])["RouteTables"]
        if any(t["Key"] == "Name" for t in table.get("Tags", []))
    }
    gateways = [e for e in all_endpoints if e["VpcEndpointType"] == "Gateway"]
    assert [(e["ServiceName"], e["RouteTableIds"]) for e in gateways] == [
        (f"com.amazonaws.{DR}.s3", [tables["medcircle-dr-vpc-app"]["RouteTableId"]])
    ]
    app_routes = [r for r in tables["medcircle-dr-vpc-app"]["Routes"] if r.get("GatewayId") != "local"]
    assert [(r["GatewayId"], r["DestinationPrefixListId"].startswith("pl-")) for r in app_routes] == [
        (gateways[0]["VpcEndpointId"], True)
    ]
    for purpose in ("db", "drill"):
        assert [r.get("GatewayId") for r in tables[f"medcircle-dr-vpc-{purpose}"]["Routes"]] == ["local"]
    app_subnets = sorted(
        s["SubnetId"] for s in subnets if {"Key": "cloudops:purpose", "Value": "app"} in s.get("Tags", [])
    )
    endpoint_group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["medcircle-dr-vpc-endpoints"]}]
    )["SecurityGroups"][0]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in endpoint_group["IpPermissions"]] == [
        (443, "10.20.0.0/16")
    ]
    assert endpoint_group["IpPermissionsEgress"] == []  # an endpoint only answers (finding 3.3)
    for endpoint in endpoints:
        assert endpoint["VpcEndpointType"] == "Interface"
        assert sorted(endpoint["SubnetIds"]) == app_subnets
        assert [g["GroupId"] for g in endpoint["Groups"]] == [endpoint_group["GroupId"]]
        for eni in ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])[
            "NetworkInterfaces"
        ]:
            assert [g["GroupId"] for g in eni["Groups"]] == [endpoint_group["GroupId"]]
    groups = sandbox.client("rds", DR).describe_db_subnet_groups()["DBSubnetGroups"]
    assert {"medcircle-dr-vpc-db", "medcircle-dr-vpc-drill-db"} <= {g["DBSubnetGroupName"] for g in groups}

    # the hardened launch template the failover launches the fleet through
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="medcircle-app-lt")["LaunchTemplateVersions"]
    assert len(versions) == 1
    data = versions[0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["IamInstanceProfile"]["Arn"].endswith(":instance-profile/medcircle-dr-drill")
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert data["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"] == KEY["arn"]
    app_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["medcircle-dr-vpc-app"]}])
    assert data["SecurityGroupIds"] == [app_group["SecurityGroups"][0]["GroupId"]]
    assert "ImageId" not in data

    route53 = sandbox.client("route53", "us-east-1")
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    records = [
        r for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] == "A"
    ]
    pair = {r.get("SetIdentifier"): r for r in records if r["Name"] == "app.medcircle.example."}
    assert set(pair) == {"primary", "dr"}
    assert pair["primary"]["Failover"] == "PRIMARY" and pair["primary"]["HealthCheckId"]
    assert pair["dr"]["Failover"] == "SECONDARY" and pair["dr"]["ResourceRecords"] == [{"Value": "10.20.1.10"}]
    check = route53.get_health_check(HealthCheckId=pair["primary"]["HealthCheckId"])["HealthCheck"]
    assert check["HealthCheckConfig"]["IPAddress"] == pair["primary"]["ResourceRecords"][0]["Value"]

    # nothing of the estate as assessed has a copy in the DR region yet: the run names each system, why, and
    # what brings the copies
    said = first.task("Show where the DR plan is and what it still lacks")["msg"]
    assert f"Not recoverable in {DR} yet: " in said, said
    assert f"medcircledb: no cross-region copy in {DR} to recover from" in said, said
    assert "the backup plans copy it there; run playbooks/remediate/backups.yml if it has never run" in said, said
    plan = (tmp_path / "dr" / "dr-plan.md").read_text().lower()
    missing = [label for label, pattern in checks.DR_PLAN_SECTIONS if not re.search(pattern, plan, re.S)]
    assert missing == []
    for element in ("alternate site", "rto target", "roles and responsibilities", "communication plan", "backups"):
        assert element in plan
    assert vpc[0]["VpcId"] in plan
    html = (tmp_path / "dr" / "dr-plan.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and 'src="http' not in html

    second = run_playbook(sandbox, "playbooks/remediate/dr.yml", extra_vars=extra)
    assert second.returncode == 0
    changed = [name for name, outcome in second.tasks() if outcome.get("changed")]
    assert changed == []
    assert "Skipping purging route" not in second.stdout  # the endpoint's route is kept without a warning

    # a route out of the VPC added by hand to the app table is removed; the S3 endpoint's route stays
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc[0]["VpcId"])
    app_table = tables["medcircle-dr-vpc-app"]["RouteTableId"]
    ec2.create_route(RouteTableId=app_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    third = run_playbook(sandbox, "playbooks/remediate/dr.yml", extra_vars=extra)
    assert third.returncode == 0, third.stdout[-3000:]
    changed = [name for name, outcome in third.tasks() if outcome.get("changed")]
    assert [name.split(" : ")[-1] for name in changed] == [
        "4.1 | PATCH | Create a private route table per purpose (no route to the internet)"
    ]
    routes = ec2.describe_route_tables(RouteTableIds=[app_table])["RouteTables"][0]["Routes"]
    assert sorted(r.get("GatewayId") for r in routes) == sorted(["local", gateways[0]["VpcEndpointId"]])
    ec2.detach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc[0]["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway)


def test_a_version_made_elsewhere_is_replaced_once_by_the_standby_settings(sandbox, tmp_path):
    """A version added by hand (or by a failover) with an AMI and network interfaces: the next run writes the
    standby settings alone (AWS refuses network interfaces beside the subnet the failover launches into), and
    the run after it changes nothing."""
    ec2 = sandbox.client("ec2", DR)
    name = "medcircle-app-lt"
    before = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ][0]
    standby = before["LaunchTemplateData"]
    by_hand = ec2.create_launch_template_version(
        LaunchTemplateName=name,
        SourceVersion=str(before["VersionNumber"]),
        LaunchTemplateData={
            "ImageId": "ami-0123456789abcdef0",
            "NetworkInterfaces": [
                {"DeviceIndex": 0, "AssociatePublicIpAddress": False, "Groups": standby["SecurityGroupIds"]}
            ],
        },
    )["LaunchTemplateVersion"]["VersionNumber"]
    extra = {"cloudops_reports_dir": str(tmp_path)}
    sandbox.clear_requests()
    fixed = run_playbook(sandbox, "playbooks/remediate/dr.yml", extra_vars=extra)
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    assert fixed.task("Write the DR launch template")["changed"] is True
    latest = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ][0]
    assert latest["VersionNumber"] == by_hand + 1
    assert latest["LaunchTemplateData"] == standby
    (template,) = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    assert template["DefaultVersionNumber"] == by_hand + 1
    kept = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=[str(by_hand)])
    assert kept["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"] == "ami-0123456789abcdef0"
    sandbox.clear_requests()
    again = run_playbook(sandbox, "playbooks/remediate/dr.yml", extra_vars=extra)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.task("Write the DR launch template")["changed"] is False
    assert sandbox.requests(operation="CreateLaunchTemplateVersion") == []


def test_production_placeholders_are_refused_before_any_change(sandbox, tmp_path):
    """The production inventory's DR plan, unfilled, stops the remediation before anything is made."""
    with open(REPO_ROOT / "inventories/production/group_vars/all/dr.yml") as handle:
        plan = yaml.safe_load(handle)
    plan = {k: v for k, v in plan.items() if k in ("cloudops_dr_systems", "cloudops_dr_dns", "cloudops_dr_team")}
    sandbox.clear_requests()
    run = run_playbook(
        sandbox, "playbooks/remediate/dr.yml", extra_vars={"cloudops_reports_dir": str(tmp_path), **plan}
    )
    assert run.returncode != 0
    failed = " ".join(str(o.get("msg", "")) for _, o in run.tasks() if o.get("failed"))
    assert "placeholder(s) to fill in" in failed, failed
    for entry in (
        "cloudops_dr_team[0] (DR coordinator).phone = CHANGE-ME",
        "cloudops_dr_systems[3] (app-dns).zone = CHANGE-ME",
        "cloudops_dr_dns.standby_value = CHANGE-ME",
    ):
        assert entry in failed, failed
    assert "Nothing was changed" in failed
    assert sandbox.requests(mutating=True) == []
    assert not (tmp_path / "dr").exists()


def test_missing_dr_key_is_refused_before_any_change(sandbox, tmp_path):
    sandbox.clear_requests()
    run = run_playbook(
        sandbox,
        "playbooks/remediate/dr.yml",
        extra_vars={"cloudops_reports_dir": str(tmp_path), "dr_site_ebs_key_alias": "alias/medcircle-missing"},
    )
    assert run.returncode != 0
    failed = " ".join(str(o.get("msg", "")) for _, o in run.tasks() if o.get("failed"))
    assert "no KMS key alias/medcircle-missing (dr_site_ebs_key_alias) in us-west-2" in failed, failed
    assert sandbox.requests(mutating=True) == []


def test_bad_site_data_is_refused_naming_the_variable(sandbox, tmp_path):
    sandbox.clear_requests()
    run = run_playbook(
        sandbox,
        "playbooks/remediate/dr.yml",
        extra_vars={"cloudops_reports_dir": str(tmp_path), "cloudops_dr_region": "us-east-1"},
    )
    assert run.returncode != 0
    failed = " ".join(str(o.get("msg", "")) for _, o in run.tasks() if o.get("failed"))
    assert "dr_site_region" in failed and "differ from the primary region" in failed
    assert sandbox.requests(mutating=True) == []
