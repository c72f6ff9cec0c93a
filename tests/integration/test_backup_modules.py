"""medcircle.cloudops.dlm_policy(_info), backup_vault_lock and backup_restore_job through real `ansible` runs
on the sandbox (AWS_ENDPOINT_URL from the sandbox's environment; the request log shows what each run sent)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
DR = "us-west-2"


def run_module(sandbox, module, args, check=False, diff=False):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    env.update(sandbox.env())
    env.update(
        AWS_REGION="us-east-1",
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    command = [ANSIBLE, "localhost", "-m", f"medcircle.cloudops.{module}", "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        output = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible printed no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def mutating(sandbox, service):
    return [r["operation"] for r in sandbox.requests(mutating=True) if r["service"] == service]


@pytest.fixture
def estate(clean_sandbox):
    sb = clean_sandbox
    iam = sb.client("iam")
    role = iam.create_role(RoleName="medcircle-backup", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ec2 = sb.client("ec2")
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=8,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Backup", "Value": "daily"}]}],
    )["VolumeId"]
    keys = {r: sb.client("kms", region=r).create_key()["KeyMetadata"]["Arn"] for r in ("us-east-1", DR)}
    sb.client("backup").create_backup_vault(BackupVaultName="medcircle-backup", EncryptionKeyArn=keys["us-east-1"])
    sb.clear_requests()
    return {"sandbox": sb, "role": role, "volume": volume, "keys": keys}


def test_dlm_policy_create_check_idempotent_update_delete(estate):
    sb = estate["sandbox"]
    args = {
        "name": "medcircle-volumes",
        "execution_role_arn": estate["role"],
        "target_tags": {"Backup": "daily"},
        "schedules": [
            {
                "name": "daily",
                "interval": 24,
                "times": ["03:00"],
                "retain_count": 7,
                "cross_region_copy": [
                    {"target_region": DR, "cmk_arn": estate["keys"][DR], "retain_interval": 7},
                ],
            }
        ],
    }
    planned = run_module(sb, "dlm_policy", args, check=True, diff=True)
    assert planned["changed"] is True and not planned.get("failed")
    assert mutating(sb, "dlm") == []
    assert sb.client("dlm").get_lifecycle_policies()["Policies"] == []

    created = run_module(sb, "dlm_policy", args)
    assert created["changed"] is True, created
    policy_id = created["policy"]["policy_id"]
    again = run_module(sb, "dlm_policy", args)
    assert again["changed"] is False
    assert mutating(sb, "dlm") == ["CreateLifecyclePolicy"]

    # the policy really runs: a snapshot here, an encrypted copy with our key in the DR region
    run = sb.call("POST", "dlm/run", {"policy_id": policy_id})
    assert len(run["created"]) == 1 and len(run["copies"]) == 1
    (copy,) = sb.client("ec2", region=DR).describe_snapshots(SnapshotIds=[run["copies"][0]["id"]])["Snapshots"]
    assert copy["Encrypted"] and copy["KmsKeyId"] == estate["keys"][DR]

    args["schedules"][0]["retain_count"] = 14
    updated = run_module(sb, "dlm_policy", {**args, "enabled": False}, diff=True)
    assert updated["changed"] is True
    assert updated["diff"]["before"]["policy_details"]["Schedules"][0]["RetainRule"] == {"Count": 7}
    got = sb.client("dlm").get_lifecycle_policy(PolicyId=policy_id)["Policy"]
    assert got["State"] == "DISABLED"
    assert got["PolicyDetails"]["Schedules"][0]["RetainRule"] == {"Count": 14}

    info = run_module(sb, "dlm_policy_info", {"name": "medcircle-volumes"})
    assert [p["policy_id"] for p in info["policies"]] == [policy_id]

    # a policy the collection did not create is left alone
    foreign = sb.client("dlm").create_lifecycle_policy(
        ExecutionRoleArn=estate["role"],
        Description="made by hand",
        State="ENABLED",
        PolicyDetails=got["PolicyDetails"],
    )["PolicyId"]
    removed = run_module(sb, "dlm_policy", {"name": "medcircle-volumes", "state": "absent"})
    assert removed["changed"] is True
    assert [p["PolicyId"] for p in sb.client("dlm").get_lifecycle_policies()["Policies"]] == [foreign]
    assert run_module(sb, "dlm_policy", {"name": "medcircle-volumes", "state": "absent"})["changed"] is False


def test_dlm_policy_refuses_a_copy_to_its_own_region_and_a_wrong_region_key(estate):
    sb = estate["sandbox"]
    base = {
        "name": "bad",
        "execution_role_arn": estate["role"],
        "target_tags": {"Backup": "daily"},
        "schedules": [{"name": "daily", "interval": 24, "retain_count": 7}],
    }
    own = json.loads(json.dumps(base))
    own["schedules"][0]["cross_region_copy"] = [{"target_region": "us-east-1", "retain_interval": 7}]
    result = run_module(sb, "dlm_policy", own)
    assert result["failed"] and "schedules[0].cross_region_copy[0].target_region us-east-1" in result["msg"]
    wrong = json.loads(json.dumps(base))
    wrong["schedules"][0]["cross_region_copy"] = [
        {"target_region": DR, "cmk_arn": estate["keys"]["us-east-1"], "retain_interval": 7}
    ]
    result = run_module(sb, "dlm_policy", wrong)
    assert result["failed"] and "not in the target region us-west-2" in result["msg"]
    assert sb.requests(service="dlm") == []  # refused before any call


def test_vault_lock_and_deny_delete_policy(estate):
    sb = estate["sandbox"]
    args = {"vault_name": "medcircle-backup", "min_retention_days": 35, "max_retention_days": 3650}
    planned = run_module(sb, "backup_vault_lock", args, check=True)
    assert planned["changed"] is True
    assert mutating(sb, "backup") == []
    locked = run_module(sb, "backup_vault_lock", {**args, "changeable_for_days": 3})
    assert locked["changed"] is True, locked
    assert locked["vault_lock"]["locked"] is True
    assert run_module(sb, "backup_vault_lock", args)["changed"] is False
    backup = sb.client("backup")
    vault = backup.describe_backup_vault(BackupVaultName="medcircle-backup")
    assert (vault["MinRetentionDays"], vault["MaxRetentionDays"]) == (35, 3650)
    # the deny policy really protects a recovery point
    arn = f"arn:aws:ec2:us-east-1:123456789012:volume/{estate['volume']}"
    backup.start_backup_job(
        BackupVaultName="medcircle-backup",
        ResourceArn=arn,
        IamRoleArn=estate["role"],
        Lifecycle={"DeleteAfterDays": 35},
    )
    (point,) = backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]
    with pytest.raises(backup.exceptions.ClientError) as refused:
        backup.delete_recovery_point(BackupVaultName="medcircle-backup", RecoveryPointArn=point["RecoveryPointArn"])
    assert refused.value.response["Error"]["Code"] in ("AccessDeniedException", "InvalidRequestException")
    bad = run_module(sb, "backup_vault_lock", {**args, "max_retention_days": 7})
    assert bad["failed"] and "max_retention_days 7 is below min_retention_days (35)" in bad["msg"]


def test_restore_job_restores_a_volume_and_a_database(estate):
    sb = estate["sandbox"]
    sb.client("rds").create_db_instance(
        DBInstanceIdentifier="appdb",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="a-long-password-1",
        AllocatedStorage=20,
    )
    backup = sb.client("backup")
    points = {}
    for arn in (
        f"arn:aws:ec2:us-east-1:123456789012:volume/{estate['volume']}",
        "arn:aws:rds:us-east-1:123456789012:db:appdb",
    ):
        job = backup.start_backup_job(BackupVaultName="medcircle-backup", ResourceArn=arn, IamRoleArn=estate["role"])
        points[arn.split(":")[2]] = backup.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]
    sb.clear_requests()
    base = {"backup_vault_name": "medcircle-backup", "iam_role_arn": estate["role"], "delay": 1}

    ebs = {**base, "recovery_point_arn": points["ec2"], "metadata": {"availabilityZone": "us-east-1b"}}
    planned = run_module(sb, "backup_restore_job", ebs, check=True)
    assert planned["changed"] is True and planned["metadata"]["availabilityZone"] == "us-east-1b"
    assert mutating(sb, "backup") == []
    restored = run_module(sb, "backup_restore_job", ebs)
    assert restored["changed"] is True, restored
    (volume,) = sb.client("ec2").describe_volumes(VolumeIds=[restored["resource_id"]])["Volumes"]
    assert volume["AvailabilityZone"] == "us-east-1b"
    assert run_module(sb, "backup_restore_job", ebs)["changed"] is False

    # a slow restore is waited for
    sb.call("PUT", "backup/restore-durations", {"RDS": 2})
    rds = {**base, "recovery_point_arn": points["rds"], "metadata": {"DBInstanceIdentifier": "appdb-restore"}}
    restored = run_module(sb, "backup_restore_job", rds)
    assert restored["changed"] is True, restored
    assert restored["resource_id"] == "appdb-restore"
    assert sb.client("rds").describe_db_instances(DBInstanceIdentifier="appdb-restore")["DBInstances"]
    assert run_module(sb, "backup_restore_job", rds)["changed"] is False
    assert mutating(sb, "backup").count("StartRestoreJob") == 2


def test_modules_converge_under_throttling(estate):
    sb = estate["sandbox"]
    sb.set_faults(
        [{"service": "dlm", "throttle_rate": 0.5, "seed": 7}, {"service": "backup", "throttle_rate": 0.5, "seed": 8}]
    )
    args = {
        "name": "medcircle-volumes",
        "execution_role_arn": estate["role"],
        "target_tags": {"Backup": "daily"},
        "schedules": [{"name": "daily", "interval": 12, "retain_count": 7}],
    }
    assert run_module(sb, "dlm_policy", args)["changed"] is True
    assert run_module(sb, "dlm_policy", args)["changed"] is False
    lock = {"vault_name": "medcircle-backup", "min_retention_days": 35, "max_retention_days": 3650}
    assert run_module(sb, "backup_vault_lock", lock)["changed"] is True
    assert run_module(sb, "backup_vault_lock", lock)["changed"] is False
    sb.clear_faults()
    assert len(sb.client("dlm").get_lifecycle_policies()["Policies"]) == 1
    assert sb.requests(fault=True), "no call was throttled: the test proves nothing"
