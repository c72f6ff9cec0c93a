"""AWS Backup jobs and DLM runs in the sandbox: plan runs, copies to the DR vault, restores and restore tests
that really create (or restore) resources in moto, and DLM schedule runs with retention and encrypted copies."""

import json

import pytest
from botocore.exceptions import ClientError
from sandbox_client import SandboxError

from sandbox import schedules

DR = "us-west-2"
TAG = {"Key": "Backup", "Value": "daily"}


def _role(sandbox, name, service):
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return sandbox.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


@pytest.fixture
def estate(clean_sandbox):
    """A tagged and an untagged volume, a tagged instance, a tagged database; KMS-encrypted vaults in both regions,
    a plan with a daily rule copying to the DR vault, and a selection by tag."""
    sb = clean_sandbox
    ec2 = sb.client("ec2")
    tagged = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=8,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [TAG]}],
    )["VolumeId"]
    untagged = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [TAG]}],
    )["Instances"][0]["InstanceId"]
    sb.client("rds").create_db_instance(
        DBInstanceIdentifier="appdb",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="a-long-password-1",
        AllocatedStorage=20,
        Tags=[TAG],
    )
    role = _role(sb, "backup-role", "backup.amazonaws.com")
    keys, vaults = {}, {}
    for region in ("us-east-1", DR):
        keys[region] = sb.client("kms", region=region).create_key()["KeyMetadata"]["Arn"]
        vaults[region] = sb.client("backup", region=region).create_backup_vault(
            BackupVaultName="medcircle", EncryptionKeyArn=keys[region]
        )["BackupVaultArn"]
    backup = sb.client("backup")
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "medcircle",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "medcircle",
                    "ScheduleExpression": "cron(0 5 ? * * *)",
                    "Lifecycle": {"DeleteAfterDays": 35},
                    "RecoveryPointTags": {"Rule": "daily"},
                    "CopyActions": [{"DestinationBackupVaultArn": vaults[DR], "Lifecycle": {"DeleteAfterDays": 35}}],
                }
            ],
        }
    )["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan,
        BackupSelection={
            "SelectionName": "tagged",
            "IamRoleArn": role,
            "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Backup", "ConditionValue": "daily"}],
        },
    )
    return {
        "sandbox": sb,
        "tagged": tagged,
        "untagged": untagged,
        "instance": instance,
        "role": role,
        "plan": plan,
        "keys": keys,
        "vaults": vaults,
    }


def _points(sb, region):
    return sb.client("backup", region=region).list_recovery_points_by_backup_vault(BackupVaultName="medcircle")[
        "RecoveryPoints"
    ]


def test_plan_run_backs_up_the_selected_resources_and_copies_them_to_the_dr_vault(estate):
    sb = estate["sandbox"]
    run = sb.call("POST", "backup/run-plan", {"plan_id": estate["plan"]})
    assert {job["State"] for job in run["backup_jobs"]} == {"COMPLETED"}
    assert {job["State"] for job in run["copy_jobs"]} == {"COMPLETED"}

    primary = _points(sb, "us-east-1")
    by_resource = {point["ResourceArn"].rsplit("/", 1)[-1].rsplit(":", 1)[-1]: point for point in primary}
    assert set(by_resource) == {estate["tagged"], estate["instance"], "appdb"}  # not the untagged volume
    assert {point["ResourceType"] for point in primary} == {"EBS", "EC2", "RDS"}
    # the recovery points are real EBS snapshots, AMIs and RDS snapshots in moto
    snapshot_id = by_resource[estate["tagged"]]["RecoveryPointArn"].rsplit("/", 1)[1]
    (snapshot,) = sb.client("ec2").describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    assert snapshot["VolumeId"] == estate["tagged"]
    image_id = by_resource[estate["instance"]]["RecoveryPointArn"].rsplit("/", 1)[1]
    assert sb.client("ec2").describe_images(ImageIds=[image_id])["Images"]
    rds_snapshots = sb.client("rds").describe_db_snapshots(DBInstanceIdentifier="appdb")["DBSnapshots"]
    assert len(rds_snapshots) == 1
    assert by_resource["appdb"]["CalculatedLifecycle"]["DeleteAt"] > by_resource["appdb"]["CreationDate"]

    dr_points = _points(sb, DR)
    assert sorted(p["ResourceArn"] for p in dr_points) == sorted(p["ResourceArn"] for p in primary)
    copy_ids = [p["RecoveryPointArn"].rsplit("/", 1)[1] for p in dr_points if p["ResourceType"] == "EBS"]
    (copied,) = sb.client("ec2", region=DR).describe_snapshots(SnapshotIds=copy_ids)["Snapshots"]
    assert copied["Encrypted"] is True
    vault = sb.client("backup", region=DR).describe_backup_vault(BackupVaultName="medcircle")
    assert vault["NumberOfRecoveryPoints"] == 3


@pytest.mark.parametrize("resource_type", ["EBS", "EC2", "RDS"])
def test_restore_job_creates_the_resource(estate, resource_type):
    sb = estate["sandbox"]
    sb.call("POST", "backup/run-plan", {"plan_id": estate["plan"]})
    backup = sb.client("backup")
    (point,) = [p for p in _points(sb, "us-east-1") if p["ResourceType"] == resource_type]
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName="medcircle", RecoveryPointArn=point["RecoveryPointArn"]
    )["RestoreMetadata"]
    if resource_type == "RDS":
        metadata["DBInstanceIdentifier"] = "appdb-restored"
    job = backup.start_restore_job(
        RecoveryPointArn=point["RecoveryPointArn"],
        Metadata=metadata,
        IamRoleArn=estate["role"],
        ResourceType=resource_type,
    )["RestoreJobId"]
    described = backup.describe_restore_job(RestoreJobId=job)
    assert described["Status"] == "COMPLETED", described.get("StatusMessage")
    created = described["CreatedResourceArn"]
    ec2 = sb.client("ec2")
    if resource_type == "EBS":
        volume_id = created.rsplit("/", 1)[1]
        assert volume_id != estate["tagged"]
        assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Size"] == 8
    elif resource_type == "EC2":
        instance_id = created.rsplit("/", 1)[1]
        assert instance_id != estate["instance"]
        (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        assert reservation["Instances"][0]["State"]["Name"] in ("pending", "running")
    else:
        (db,) = sb.client("rds").describe_db_instances(DBInstanceIdentifier="appdb-restored")["DBInstances"]
        assert created == db["DBInstanceArn"]
    listed = backup.list_restore_jobs()["RestoreJobs"]
    assert [j["RestoreJobId"] for j in listed] == [job]


def test_on_demand_backup_job_and_delete_denied_by_the_vault_policy(estate):
    sb = estate["sandbox"]
    backup = sb.client("backup")
    arn = f"arn:aws:ec2:us-east-1:123456789012:volume/{estate['untagged']}"
    job = backup.start_backup_job(
        BackupVaultName="medcircle", ResourceArn=arn, IamRoleArn=estate["role"], Lifecycle={"DeleteAfterDays": 7}
    )
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    (point,) = backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"],
                "Resource": "*",
            }
        ],
    }
    backup.put_backup_vault_access_policy(BackupVaultName="medcircle", Policy=json.dumps(deny))
    assert json.loads(backup.get_backup_vault_access_policy(BackupVaultName="medcircle")["Policy"]) == deny
    with pytest.raises(ClientError) as refused:
        backup.delete_recovery_point(BackupVaultName="medcircle", RecoveryPointArn=point["RecoveryPointArn"])
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    backup.delete_backup_vault_access_policy(BackupVaultName="medcircle")
    backup.delete_recovery_point(BackupVaultName="medcircle", RecoveryPointArn=point["RecoveryPointArn"])
    snapshot_id = point["RecoveryPointArn"].rsplit("/", 1)[1]
    assert not [
        s for s in sb.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"] if s["SnapshotId"] == snapshot_id
    ]


def test_restore_testing_plan_run_restores_the_newest_recovery_point(estate):
    sb = estate["sandbox"]
    sb.call("POST", "backup/run-plan", {"plan_id": estate["plan"]})
    backup = sb.client("backup")
    backup.create_restore_testing_plan(
        RestoreTestingPlan={
            "RestoreTestingPlanName": "weekly_test",
            "ScheduleExpression": "cron(0 6 ? * SUN *)",
            "RecoveryPointSelection": {
                "Algorithm": "LATEST_WITHIN_WINDOW",
                "IncludeVaults": ["medcircle"],
                "RecoveryPointTypes": ["SNAPSHOT"],
                "SelectionWindowDays": 7,
            },
        }
    )
    backup.create_restore_testing_selection(
        RestoreTestingPlanName="weekly_test",
        RestoreTestingSelection={
            "RestoreTestingSelectionName": "volumes",
            "ProtectedResourceType": "EBS",
            "IamRoleArn": estate["role"],
            "ProtectedResourceArns": ["*"],
        },
    )
    run = sb.call("POST", "backup/run-restore-test", {"plan_name": "weekly_test"})
    (job,) = run["restore_jobs"]
    assert job["Status"] == "COMPLETED"
    described = backup.describe_restore_job(RestoreJobId=job["RestoreJobId"])
    assert ":restore-testing-plan:weekly_test-" in described["CreatedBy"]["RestoreTestingPlanArn"]
    volume_id = described["CreatedResourceArn"].rsplit("/", 1)[1]
    assert sb.client("ec2").describe_volumes(VolumeIds=[volume_id])["Volumes"]
    with pytest.raises(SandboxError, match="404"):
        sb.call("POST", "backup/run-restore-test", {"plan_name": "no_such_plan"})


def test_plan_run_of_an_unknown_plan_is_refused(clean_sandbox):
    with pytest.raises(SandboxError, match="404"):
        clean_sandbox.call("POST", "backup/run-plan", {"plan_id": "nope"})


def test_dlm_run_snapshots_applies_retention_and_makes_encrypted_copies(estate):
    sb = estate["sandbox"]
    dlm = sb.client("dlm")
    role = _role(sb, "dlm-role", "dlm.amazonaws.com")
    policy = dlm.create_lifecycle_policy(
        ExecutionRoleArn=role,
        Description="volumes tagged Backup daily",
        State="ENABLED",
        PolicyDetails={
            "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
            "ResourceTypes": ["VOLUME"],
            "TargetTags": [TAG],
            "Schedules": [
                {
                    "Name": "daily",
                    "TagsToAdd": [{"Key": "Made", "Value": "dlm"}],
                    "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                    "RetainRule": {"Count": 2},
                    "CrossRegionCopyRules": [
                        {
                            "TargetRegion": DR,
                            "Encrypted": True,
                            "CmkArn": estate["keys"][DR],
                            "RetainRule": {"Interval": 2, "IntervalUnit": "DAYS"},
                        }
                    ],
                }
            ],
        },
    )["PolicyId"]
    runs = [
        sb.call("POST", "dlm/run", {"policy_id": policy, "at": f"2026-11-0{day}T03:00:00+00:00"}) for day in (1, 2, 3)
    ]
    assert [len(run["created"]) for run in runs] == [1, 1, 1]  # only the tagged volume
    assert runs[2]["deleted"] == runs[0]["created"]  # Count 2: the oldest goes
    assert runs[2]["deleted_copies"] == []  # 2 days: the copy of day 1 is exactly 2 days old on day 3
    kept = sb.client("ec2").describe_snapshots(
        Filters=[{"Name": "tag:aws:dlm:lifecycle-policy-id", "Values": [policy]}]
    )["Snapshots"]
    assert sorted(s["SnapshotId"] for s in kept) == sorted(runs[1]["created"] + runs[2]["created"])
    assert all({"Key": "Made", "Value": "dlm"} in s["Tags"] for s in kept)
    assert {s["VolumeId"] for s in kept} == {estate["tagged"]}
    copies = sb.client("ec2", region=DR).describe_snapshots(
        Filters=[{"Name": "tag:aws:dlm:lifecycle-policy-id", "Values": [policy]}]
    )["Snapshots"]
    assert len(copies) == 3
    assert all(c["Encrypted"] and c["KmsKeyId"] == estate["keys"][DR] for c in copies)
    fourth = sb.call("POST", "dlm/run", {"policy_id": policy, "at": "2026-11-05T03:00:00+00:00"})
    assert len(fourth["deleted_copies"]) == 2  # copies of days 1 and 2 are more than 2 days old
    # what the demo's "first night" prints for a run, in words
    described = dlm.get_lifecycle_policy(PolicyId=policy)["Policy"]
    assert schedules.dlm_line("us-east-1", described, fourth) == (
        f"us-east-1: DLM policy volumes tagged Backup daily ({policy}): 1 snapshot(s) made, 1 deleted by retention,"
        " 1 copied to us-west-2, 2 old copies deleted"
    )
    (line,) = [line for line in schedules.run(sb.port, ["us-east-1"]) if "DLM policy" in line]
    assert line.startswith(f"us-east-1: DLM policy volumes tagged Backup daily ({policy}): 1 snapshot(s) made, "), line

    dlm.update_lifecycle_policy(PolicyId=policy, State="DISABLED")
    with pytest.raises(SandboxError, match="409"):
        sb.call("POST", "dlm/run", {"policy_id": policy})
