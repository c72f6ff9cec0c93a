"""DR failover and failback playbooks (issue 7) on a sandbox of their own, seeded as assessed.

Failover runs with the primary region failing every call of its regional services (Route 53 and IAM are global
services: their API is not a regional endpoint). The cross-region AMI copy, the read replica and the Route 53
failover record pair are made with boto3 by tests/integration/dr_estate.py.
"""

import dr_estate
import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

PORT = 5161
REGIONAL_SERVICES = ("ec2", "rds", "s3", "ssm", "backup", "dlm", "kms", "sts", "elbv2", "autoscaling")
COPY = {}
PRIMARY_DOWN = [{"region": dr_estate.PRIMARY, "service": s, "error_rate": 1.0} for s in REGIONAL_SERVICES]


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(port=PORT, seed="as-assessed")
    try:
        COPY["ami"] = dr_estate.copy_ami(sandbox, system="medcircle-app")
        dr_estate.replica(sandbox)
        primary_value = dr_estate.failover_records(sandbox)
        network = dr_estate.drill_network(sandbox)
        _subnet_group_in_dr(sandbox, network)
        app_network = {"subnet_id": network["subnet_id"], "security_group_id": network["security_group_id"]}
        COPY["template"] = dr_estate.launch_template(sandbox, app_network)
        yield sandbox, primary_value, app_network
    finally:
        sandbox.stop()


def _subnet_group_in_dr(sandbox, network):
    """The primary database's subnet group name also in the DR region: the failback makes the new primary in the
    stale primary's subnet group, and the sandbox looks a cross-region replica's subnet group up in the source
    region (AWS looks it up in the replica's own region)."""
    primary = db(sandbox, dr_estate.PRIMARY, dr_estate.DB_ID)
    rds = sandbox.client("rds", dr_estate.DR)
    subnets = rds.describe_db_subnet_groups(DBSubnetGroupName=network["db_subnet_group"])["DBSubnetGroups"][0]
    rds.create_db_subnet_group(
        DBSubnetGroupName=primary["DBSubnetGroup"]["DBSubnetGroupName"],
        DBSubnetGroupDescription="name twin of the primary's subnet group",
        SubnetIds=[s["SubnetIdentifier"] for s in subnets["Subnets"]],
    )


def run(sandbox, playbook, tmp_path, network, check=False, **extra):
    extra_vars = {
        "cloudops_reports_dir": str(tmp_path),
        "dr_failover_poll_delay": 1,
        "dr_failover_max_attempts": 20,
        "dr_failover_network": network,
        **extra,
    }
    return run_playbook(sandbox, playbook, extra_vars=extra_vars, check=check)


def steps(result):
    return {(s["system"], s["step"]): s["status"] for s in result.task("Run every step")["failover"]["steps"]}


def dns(sandbox):
    route53 = sandbox.client("route53", dr_estate.PRIMARY)
    zone = route53.list_hosted_zones()["HostedZones"][0]["Id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r for r in records if r.get("Failover")}


def db(sandbox, region, identifier):
    found = sandbox.client("rds", region).describe_db_instances()["DBInstances"]
    return next((d for d in found if d["DBInstanceIdentifier"] == identifier), None)


def fleet(sandbox):
    reservations = sandbox.client("ec2", dr_estate.DR).describe_instances(
        Filters=[
            {"Name": "tag:cloudops:failover-of", "Values": ["medcircle-app"]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def test_failover_without_confirmation_changes_nothing(estate, tmp_path):
    sandbox, _, network = estate
    sandbox.clear_requests()
    result = run(sandbox, "playbooks/dr_failover.yml", tmp_path, network)
    assert result.returncode != 0
    failed = [o.get("msg", "") for _, o in result.tasks() if o.get("failed")]
    assert any("dr_failover_confirm=yes" in m for m in failed), failed
    assert sandbox.requests(mutating=True) == []


def test_the_failover_plan_changes_nothing_and_says_how_to_carry_it_out(estate, tmp_path):
    sandbox, _, network = estate
    sandbox.clear_requests()
    plan = run(sandbox, "playbooks/dr_failover.yml", tmp_path, network, check=True)
    assert plan.returncode == 0, plan.stdout[-3000:]
    assert sandbox.requests(mutating=True) == []
    # every step says what it would change; none was sent
    assert set(steps(plan).values()) == {"changed"} and len(steps(plan)) == 3, steps(plan)
    said = plan.task("DR | AUDIT | Show the result")["msg"]
    assert said.startswith("Failover planned (check mode) in "), said
    assert "Check mode writes no report" in said and "-e dr_failover_confirm=yes" in said, said
    assert "report.md" not in said and not (tmp_path / "dr").exists()


def test_failover_with_primary_down_then_failback(estate, tmp_path):
    sandbox, primary_value, network = estate

    # 1. the primary region fails every call, and the app's instance profile is missing in the account, so the
    #    launch in the DR region fails after the database was promoted: an interrupted run
    sandbox.set_faults(PRIMARY_DOWN)
    first = run(sandbox, "playbooks/dr_failover.yml", tmp_path, network, dr_failover_confirm="yes")
    assert first.returncode != 0
    assert steps(first)[("medcircledb", "promote replica")] == "changed"
    assert steps(first)[("medcircle-app", "launch in DR region")] == "failed"
    assert (tmp_path / "dr").exists()
    # the run fails once, at its end, naming the step that stopped it (the step's own task reports, never fails)
    assert [name for name, outcome in first.tasks() if outcome.get("failed")] == [
        "medcircle.cloudops.dr_failover : DR | AUDIT | Stop when a step failed"
    ]
    stopped = first.task("Stop when a step failed")["msg"]
    assert stopped.startswith("The failover stopped at medcircle-app (step launch in DR region): ClientError"), stopped
    assert "Instance profile" in stopped and "run the same command again" in stopped, stopped

    # 2. the profile is made (IAM is global), rerun with the primary still down: continues where it stopped
    sandbox.clear_faults()
    dr_estate.ssm_profile(sandbox)
    sandbox.set_faults(PRIMARY_DOWN)
    sandbox.clear_requests()
    second = run(sandbox, "playbooks/dr_failover.yml", tmp_path, network, dr_failover_confirm="yes")
    assert second.returncode == 0, second.stdout[-3000:]
    done = steps(second)
    assert done[("medcircledb", "promote replica")] == "ok"
    assert done[("medcircle-app", "launch in DR region")] == "changed"
    assert done[("app-dns", "switch DNS to the dr site")] == "changed"
    assert all(status != "failed" for status in done.values())
    # nothing in the primary region was answered: every regional call there (if any) got the injected error
    answered = [r for r in sandbox.requests(region=dr_estate.PRIMARY) if r["service"] in REGIONAL_SERVICES]
    assert all(r["fault"] for r in answered), answered
    assert db(sandbox, dr_estate.DR, dr_estate.REPLICA_ID).get("ReadReplicaSourceDBInstanceIdentifier") is None
    instances = fleet(sandbox)
    assert len(instances) == 1
    # launched through the DR launch template: a new version (after the standby one) with the AMI copy
    tags = {t["Key"]: t["Value"] for t in instances[0]["Tags"]}
    assert tags["aws:ec2launchtemplate:id"] == COPY["template"] and tags["aws:ec2launchtemplate:version"] == "2"
    assert instances[0]["ImageId"] == COPY["ami"] and instances[0]["SubnetId"] == network["subnet_id"]
    assert instances[0]["MetadataOptions"]["HttpTokens"] == "required"
    assert instances[0]["IamInstanceProfile"]["Arn"].endswith("/medcircle-dr-drill")
    ec2_dr = sandbox.client("ec2", dr_estate.DR)
    versions = ec2_dr.describe_launch_template_versions(LaunchTemplateId=COPY["template"])["LaunchTemplateVersions"]
    newest = max(versions, key=lambda v: v["VersionNumber"])["LaunchTemplateData"]
    assert len(versions) == 2 and newest["ImageId"] == COPY["ami"]
    assert (
        newest["MetadataOptions"]["HttpTokens"] == "required" and newest["BlockDeviceMappings"][0]["Ebs"]["Encrypted"]
    )
    volumes = ec2_dr.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instances[0]["InstanceId"]]}]
    )
    assert any(v["Encrypted"] and v.get("KmsKeyId") == dr_estate.dr_ebs_key(sandbox) for v in volumes["Volumes"])
    records = dns(sandbox)
    assert records["dr"]["Failover"] == "PRIMARY" and records["primary"]["Failover"] == "SECONDARY"
    assert records["dr"]["ResourceRecords"][0]["Value"] == instances[0]["PrivateIpAddress"]

    # 3. a rerun after success changes nothing
    third = run(sandbox, "playbooks/dr_failover.yml", tmp_path, network, dr_failover_confirm="yes")
    assert third.returncode == 0
    assert third.task("Run every step")["changed"] is False
    assert len(fleet(sandbox)) == 1
    assert (
        len(ec2_dr.describe_launch_template_versions(LaunchTemplateId=COPY["template"])["LaunchTemplateVersions"]) == 2
    )
    sandbox.clear_faults()

    # 4. failback once the primary answers: back to the original state
    back = run(sandbox, "playbooks/dr_failback.yml", tmp_path, network, dr_failover_confirm="yes")
    assert back.returncode == 0, back.stdout[-3000:]
    primary = db(sandbox, dr_estate.PRIMARY, dr_estate.DB_ID)
    assert primary is not None and primary.get("ReadReplicaSourceDBInstanceIdentifier") is None
    replica = db(sandbox, dr_estate.DR, dr_estate.REPLICA_ID)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
    assert fleet(sandbox) == []
    records = dns(sandbox)
    assert records["primary"]["Failover"] == "PRIMARY" and records["dr"]["Failover"] == "SECONDARY"
    assert records["primary"]["ResourceRecords"][0]["Value"] == primary_value
    assert records["primary"].get("HealthCheckId")
    # kept, found by the failback's tags: the stale primary renamed after the failback's id
    [stale] = [
        d
        for d in sandbox.client("rds", dr_estate.PRIMARY).describe_db_instances()["DBInstances"]
        if _tags(d).get("cloudops:set-aside-from") == dr_estate.DB_ID
    ]
    failback = _tags(stale)["cloudops:failback"]
    assert stale["DBInstanceIdentifier"] == f"{dr_estate.DB_ID}-{failback}"
    assert _tags(primary)["cloudops:failback"] == failback
    # the new primary in the stale primary's network, protected, with the collection's backup retention
    assert primary["DBSubnetGroup"]["DBSubnetGroupName"] == stale["DBSubnetGroup"]["DBSubnetGroupName"]
    assert primary["VpcSecurityGroups"] == stale["VpcSecurityGroups"]
    assert primary["DeletionProtection"] and primary["BackupRetentionPeriod"] >= 35
    assert replica["DeletionProtection"]

    again = run(sandbox, "playbooks/dr_failback.yml", tmp_path, network, dr_failover_confirm="yes")
    assert again.returncode == 0
    assert again.task("Run every step")["changed"] is False


def _tags(database):
    return {t["Key"]: t["Value"] for t in database.get("TagList") or []}
