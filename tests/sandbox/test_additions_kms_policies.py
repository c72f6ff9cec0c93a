"""Key policies decide whether AWS Backup and DLM may use a key with their role, as on AWS: a copy, a restore or
a DLM snapshot copy with a key whose policy does not name the role fails; naming it lets the job through."""

import json
from types import SimpleNamespace

import pytest
from test_additions_backup_jobs import DR, TAG, _role

from sandbox.additions import kms_policies

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/backup-role"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/key-admin"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
GRANTS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _admin():
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"}


def _use(principals):
    return [
        {"Sid": "KeyUse", "Effect": "Allow", "Principal": {"AWS": principals}, "Action": USE, "Resource": "*"},
        {
            "Sid": "KeyGrantsForAwsServices",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": GRANTS,
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def _key(policy, grants=(), manager="CUSTOMER"):
    return SimpleNamespace(policy=policy, grants={str(i): g for i, g in enumerate(grants)}, key_manager=manager)


def _ctx(action="kms:Decrypt", via="ec2.us-east-1.amazonaws.com"):
    ctx = {"kms:CallerAccount": ACCOUNT, "kms:ViaService": via, "aws:PrincipalArn": ROLE}
    if action == "kms:CreateGrant":
        ctx["kms:GrantIsForAWSResource"] = "true"
    return ctx


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo"])
def test_a_named_role_may_use_the_key_and_another_may_not(action):
    key = _key(_policy(_admin(), *_use([ROLE])))
    assert kms_policies.decide(key, ROLE, action, _ctx(action)) == "allow"
    assert kms_policies.decide(key, OTHER, action, _ctx(action)) == "deny"
    # administering a key does not let anyone use it
    assert kms_policies.decide(key, ADMIN, action, _ctx(action)) == "allow"  # kms:* covers it
    assert kms_policies.decide(_key(_policy(_admin())), ROLE, action, _ctx(action)) == "deny"


def test_create_grant_needs_the_grant_to_be_for_an_aws_resource():
    key = _key(_policy(*_use([ROLE])))
    assert kms_policies.decide(key, ROLE, "kms:CreateGrant", _ctx("kms:CreateGrant")) == "allow"
    assert kms_policies.decide(key, ROLE, "kms:CreateGrant", {**_ctx(), "kms:GrantIsForAWSResource": "false"}) == (
        "deny"
    )


def test_the_account_root_lets_iam_decide_and_aws_managed_keys_serve_the_account():
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}
    assert kms_policies.decide(_key(_policy(root)), OTHER, "kms:Decrypt", _ctx()) == "allow"
    assert kms_policies.decide(_key(_policy(_admin()), manager="AWS"), OTHER, "kms:Decrypt", _ctx()) == "allow"


def test_an_explicit_deny_wins_and_conditions_are_read():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    assert kms_policies.decide(_key(_policy(*_use([ROLE]), deny)), ROLE, "kms:Decrypt", _ctx()) == "deny"
    via_s3 = {
        "Effect": "Allow",
        "Principal": {"AWS": ROLE},
        "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    assert kms_policies.decide(_key(_policy(via_s3)), ROLE, "kms:Decrypt", _ctx()) == "deny"
    assert kms_policies.decide(_key(_policy(via_s3)), ROLE, "kms:Decrypt", _ctx(via="s3.us-east-1.amazonaws.com")) == (
        "allow"
    )
    # a condition on a key no service sets: an Allow does not apply, a Deny does not either
    unknown = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"IpAddress": {"aws:SourceIp": "1"}},
    }
    assert kms_policies.decide(_key(_policy(unknown)), ROLE, "kms:Decrypt", _ctx()) == "deny"
    not_action = {"Effect": "Deny", "Principal": "*", "NotAction": "kms:Decrypt"}
    assert kms_policies.decide(_key(_policy(*_use([ROLE]), not_action)), ROLE, "kms:Decrypt", _ctx()) == "allow"
    exists = {
        "Effect": "Allow",
        "Principal": {"AWS": ROLE},
        "Action": "kms:Decrypt",
        "Condition": {"StringEqualsIfExists": {"kms:EncryptionContext:app": "x"}},
    }
    assert kms_policies.decide(_key(_policy(exists)), ROLE, "kms:Decrypt", _ctx()) == "allow"


def test_a_grant_to_the_role_lets_it_use_the_key():
    grant = SimpleNamespace(grantee_principal=ROLE, operations=["Decrypt"])
    key = _key(_policy(_admin()), grants=[grant])
    assert kms_policies.decide(key, ROLE, "kms:Decrypt", _ctx()) == "allow"
    assert kms_policies.decide(key, ROLE, "kms:Encrypt", _ctx()) == "deny"


@pytest.fixture
def restricted(clean_sandbox):
    """Encrypted volume tagged for backup, customer keys in both regions whose policies name only an
    administrator, vaults on them, a backup role and a plan copying to the DR vault."""
    sb = clean_sandbox
    role = _role(sb, "backup-role", "backup.amazonaws.com")
    keys, vaults = {}, {}
    for region in ("us-east-1", DR):
        kms = sb.client("kms", region=region)
        keys[region] = kms.create_key(Policy=_policy(_admin()))["KeyMetadata"]["Arn"]
        vaults[region] = sb.client("backup", region=region).create_backup_vault(
            BackupVaultName="medcircle", EncryptionKeyArn=keys[region]
        )["BackupVaultArn"]
    volume = sb.client("ec2").create_volume(
        AvailabilityZone="us-east-1a",
        Size=8,
        Encrypted=True,
        KmsKeyId=keys["us-east-1"],
        TagSpecifications=[{"ResourceType": "volume", "Tags": [TAG]}],
    )["VolumeId"]
    backup = sb.client("backup")
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "medcircle",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "medcircle",
                    "ScheduleExpression": "cron(0 5 ? * * *)",
                    "CopyActions": [{"DestinationBackupVaultArn": vaults[DR]}],
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
    return SimpleNamespace(sb=sb, role=role, keys=keys, vaults=vaults, volume=volume, plan=plan)


def _name_role(sb, region, key, role):
    sb.client("kms", region=region).put_key_policy(
        KeyId=key, PolicyName="default", Policy=_policy(_admin(), *_use([role]))
    )


def test_copy_and_restore_fail_until_the_key_policies_name_the_backup_role(restricted):
    sb, role = restricted.sb, restricted.role
    run = sb.call("POST", "backup/run-plan", {"plan_id": restricted.plan})
    assert [job["State"] for job in run["backup_jobs"]] == ["COMPLETED"]
    (failed,) = run["copy_jobs"]
    assert failed["State"] == "FAILED"
    assert "is not authorized to perform: kms:Decrypt" in failed["StatusMessage"]
    assert restricted.keys["us-east-1"] in failed["StatusMessage"] and "backup-role" in failed["StatusMessage"]
    assert (
        sb.client("backup", region=DR).list_recovery_points_by_backup_vault(BackupVaultName="medcircle")[
            "RecoveryPoints"
        ]
        == []
    )
    point = run["backup_jobs"][0]["RecoveryPointArn"]
    backup = sb.client("backup")
    meta = backup.get_recovery_point_restore_metadata(BackupVaultName="medcircle", RecoveryPointArn=point)
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata=meta["RestoreMetadata"], IamRoleArn=role)
    restore = backup.describe_restore_job(RestoreJobId=job["RestoreJobId"])
    assert restore["Status"] == "FAILED" and "kms:" in restore["StatusMessage"]

    # the source key names the role; the DR vault's key does not yet: the copy fails on writing
    _name_role(sb, "us-east-1", restricted.keys["us-east-1"], role)
    (copy,) = sb.call("POST", "backup/run-plan", {"plan_id": restricted.plan})["copy_jobs"]
    assert copy["State"] == "FAILED" and restricted.keys[DR] in copy["StatusMessage"]
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata=meta["RestoreMetadata"], IamRoleArn=role)
    assert backup.describe_restore_job(RestoreJobId=job["RestoreJobId"])["Status"] in ("RUNNING", "COMPLETED")

    _name_role(sb, DR, restricted.keys[DR], role)
    (copy,) = sb.call("POST", "backup/run-plan", {"plan_id": restricted.plan})["copy_jobs"]
    assert copy["State"] == "COMPLETED"


def test_dlm_copies_fail_until_the_key_policies_name_the_dlm_role(restricted):
    sb = restricted.sb
    role = _role(sb, "dlm-role", "dlm.amazonaws.com")
    policy = sb.client("dlm").create_lifecycle_policy(
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
                    "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                    "RetainRule": {"Count": 2},
                    "CrossRegionCopyRules": [
                        {
                            "TargetRegion": DR,
                            "Encrypted": True,
                            "CmkArn": restricted.keys[DR],
                            "RetainRule": {"Interval": 2, "IntervalUnit": "DAYS"},
                        }
                    ],
                }
            ],
        },
    )["PolicyId"]
    first = sb.call("POST", "dlm/run", {"policy_id": policy})
    assert len(first["created"]) == 1 and first["copies"] == []
    assert "dlm-role" in first["errors"][0]["error"] and restricted.keys["us-east-1"] in first["errors"][0]["error"]
    for region in ("us-east-1", DR):
        _name_role(sb, region, restricted.keys[region], role)
    second = sb.call("POST", "dlm/run", {"policy_id": policy})
    assert "errors" not in second and len(second["copies"]) == 1

    # the check can be turned off for a test that is not about key policies
    assert sb.call("GET", "kms/enforce") == {"enabled": True}
    sb.call("POST", "kms/enforce", {"enabled": False})
    _name_role(sb, DR, restricted.keys[DR], ADMIN)
    assert "errors" not in sb.call("POST", "dlm/run", {"policy_id": policy})
    sb.reset("empty")
    assert sb.call("GET", "kms/enforce") == {"enabled": True}


def test_sse_kms_objects_replicate_only_when_the_keys_name_the_replication_role(clean_sandbox):
    sb = clean_sandbox
    role = _role(sb, "replication-role", "s3.amazonaws.com")
    keys = {
        r: sb.client("kms", region=r).create_key(Policy=_policy(_admin()))["KeyMetadata"]["Arn"]
        for r in ("us-east-1", DR)
    }
    s3, west = sb.client("s3"), sb.client("s3", region=DR)
    s3.create_bucket(Bucket="records")
    west.create_bucket(Bucket="records-dr", CreateBucketConfiguration={"LocationConstraint": DR})
    for client, name in ((s3, "records"), (west, "records-dr")):
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "to-dr",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": "arn:aws:s3:::records-dr", "EncryptionConfiguration": {"ReplicaKmsKeyID": keys[DR]}},
    }
    s3.put_bucket_replication(Bucket="records", ReplicationConfiguration={"Role": role, "Rules": [rule]})

    def put(name):
        s3.put_object(
            Bucket="records", Key=name, Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=keys["us-east-1"]
        )
        return s3.head_object(Bucket="records", Key=name)["ReplicationStatus"]

    assert put("one.json") == "FAILED"
    _name_role(sb, "us-east-1", keys["us-east-1"], role)
    assert put("two.json") == "FAILED"  # the replica key does not name it yet
    _name_role(sb, DR, keys[DR], role)
    assert put("three.json") == "COMPLETED"
    assert [o["Key"] for o in west.list_objects_v2(Bucket="records-dr")["Contents"]] == ["three.json"]
