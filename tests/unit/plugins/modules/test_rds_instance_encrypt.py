"""plugins/module_utils/rds_encryption.py (the rds_instance_encrypt module's logic) against botocore's Stubber.

A call that is not stubbed fails the test, so tests that expect no change stub no mutating call; the
Stubber also checks every request against the RDS service model.
"""

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils import rds_encryption
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from botocore.stub import ANY

REGION = "us-east-1"
ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
DATE = "20261128"
DB = "medcircledb"


def arn(name):
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}"


def instance(name, encrypted=False, tags=None, **extra):
    db = {
        "DBInstanceIdentifier": name,
        "DBInstanceArn": arn(name),
        "DBInstanceClass": "db.t3.micro",
        "Engine": "mysql",
        "DBInstanceStatus": "available",
        "Endpoint": {"Address": f"{name}.abc.{REGION}.rds.amazonaws.com", "Port": 3306},
        "StorageEncrypted": encrypted,
        "StorageType": "gp2",
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": True,
        "AvailabilityZone": "us-east-1a",
        "BackupRetentionPeriod": 0,
        "PreferredBackupWindow": "03:00-04:00",
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
        "DBSubnetGroup": {"DBSubnetGroupName": "medcircle-db-subnets"},
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}],
        "DBParameterGroups": [{"DBParameterGroupName": "medcircle-mysql80", "ParameterApplyStatus": "in-sync"}],
        "OptionGroupMemberships": [{"OptionGroupName": "default:mysql-8-0", "Status": "in-sync"}],
        "TagList": [{"Key": k, "Value": v} for k, v in (tags or {"Project": "medcircle"}).items()],
    }
    if encrypted:
        db["KmsKeyId"] = KEY_ARN
    db.update(extra)
    return db


def describe(aws, *dbs, name=None):
    params = {"DBInstanceIdentifier": name} if name else {}
    aws.stub("rds", REGION).add_response("describe_db_instances", {"DBInstances": list(dbs)}, params)


def snapshot_missing(aws, name):
    aws.stub("rds", REGION).add_client_error(
        "describe_db_snapshots",
        service_error_code="DBSnapshotNotFound",
        http_status_code=404,
        expected_params={"DBSnapshotIdentifier": name},
    )


def snapshot(name, status="available", **extra):
    return {"DBSnapshotIdentifier": name, "DBInstanceIdentifier": DB, "Status": status, **extra}


def run(aws, confirm=True, check_mode=False, delete_original=False, db_id=DB, kms_key_id="alias/medcircle-rds"):
    return rds_encryption.encrypt_db_instance(
        aws.client("rds", REGION),
        aws.client("kms", REGION),
        REGION,
        db_id,
        kms_key_id,
        confirm=confirm,
        check_mode=check_mode,
        delete_original=delete_original,
        wait_timeout=10,
        delay=1,
        today=DATE,
    )


def read_unencrypted(aws, db=None):
    aws.describe_key(REGION, "alias/medcircle-rds", KEY_ARN)
    describe(aws, db or instance(DB))
    snapshot_missing(aws, f"{DB}-pre-encrypt-{DATE}")
    snapshot_missing(aws, f"{DB}-encrypted-{DATE}")


ORIGINAL_TAGS = {"Project": "medcircle", "cloudops:encrypt-of": DB, "cloudops:encrypt-date": DATE}


@pytest.mark.parametrize("check_mode,confirm", [(True, True), (False, False), (True, False)])
def test_plan_only_makes_no_mutating_call(aws, check_mode, confirm):
    read_unencrypted(aws)

    result = run(aws, confirm=confirm, check_mode=check_mode)

    assert [s["step"] for s in result["plan"]] == list(rds_encryption.STEPS)
    assert result["changed"] is confirm
    assert result["steps_done"] == []
    assert result["encrypted"] is False
    assert result["names"]["original_identifier"] == f"{DB}-unencrypted-{DATE}"
    if confirm:
        assert result["diff"]["after"]["db_instance"] == {
            "identifier": DB,
            "storage_encrypted": True,
            "kms_key_id": KEY_ARN,
        }
        assert result["diff"]["after"]["original"] == f"{DB}-unencrypted-{DATE}"
    else:
        assert result["diff"]["after"] == result["diff"]["before"]


def test_full_run_in_order(aws):
    read_unencrypted(aws)
    rds = aws.stub("rds", REGION)
    tagged = instance(DB, tags=ORIGINAL_TAGS)
    temp = f"{DB}-enc"
    renamed = f"{DB}-unencrypted-{DATE}"
    # tag
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(DB), "Tags": ANY})
    # snapshot
    describe(aws, tagged, name=DB)
    rds.add_response(
        "create_db_snapshot",
        {"DBSnapshot": snapshot(f"{DB}-pre-encrypt-{DATE}", "creating")},
        {"DBInstanceIdentifier": DB, "DBSnapshotIdentifier": f"{DB}-pre-encrypt-{DATE}", "Tags": ANY},
    )
    rds.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [snapshot(f"{DB}-pre-encrypt-{DATE}")]},
        {"DBSnapshotIdentifier": f"{DB}-pre-encrypt-{DATE}"},
    )
    rds.add_response(
        "add_tags_to_resource",
        {},
        {"ResourceName": arn(DB), "Tags": [{"Key": "cloudops:encrypt-step", "Value": "snapshot"}]},
    )
    # copy, encrypted with the key's ARN
    rds.add_response(
        "copy_db_snapshot",
        {"DBSnapshot": snapshot(f"{DB}-encrypted-{DATE}", "creating", Encrypted=True)},
        {
            "SourceDBSnapshotIdentifier": f"{DB}-pre-encrypt-{DATE}",
            "TargetDBSnapshotIdentifier": f"{DB}-encrypted-{DATE}",
            "KmsKeyId": KEY_ARN,
            "Tags": ANY,
        },
    )
    rds.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [snapshot(f"{DB}-encrypted-{DATE}", Encrypted=True)]},
        {"DBSnapshotIdentifier": f"{DB}-encrypted-{DATE}"},
    )
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(DB), "Tags": ANY})
    # restore with the original's settings; then what a restore does not carry over
    restore_params = {
        "DBInstanceIdentifier": temp,
        "DBSnapshotIdentifier": f"{DB}-encrypted-{DATE}",
        "DBInstanceClass": "db.t3.micro",
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": False,
        "DeletionProtection": True,
        "EnableIAMDatabaseAuthentication": False,
        "Port": 3306,
        "StorageType": "gp2",
        "DBSubnetGroupName": "medcircle-db-subnets",
        "VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
        "DBParameterGroupName": "medcircle-mysql80",
        "AvailabilityZone": "us-east-1a",
        "Tags": [
            {"Key": "Project", "Value": "medcircle"},
            {"Key": "cloudops:encrypt-date", "Value": DATE},
            {"Key": "cloudops:encrypted-from", "Value": DB},
        ],
    }
    rds.add_response("restore_db_instance_from_db_snapshot", {"DBInstance": instance(temp, True)}, restore_params)
    restored = instance(temp, True, PreferredBackupWindow="07:00-07:30")
    describe(aws, restored, name=temp)
    describe(aws, tagged, restored)
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": restored},
        {"DBInstanceIdentifier": temp, "ApplyImmediately": True, "PreferredBackupWindow": "03:00-04:00"},
    )
    describe(aws, restored, name=temp)
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(DB), "Tags": ANY})
    # rename the original away, deletion protection on, and tag it
    describe(aws, tagged, name=DB)
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": instance(renamed, DBInstanceStatus="renaming")},
        {
            "DBInstanceIdentifier": DB,
            "ApplyImmediately": True,
            "NewDBInstanceIdentifier": renamed,
            "DeletionProtection": True,
        },
    )
    # the renamed instance is not visible at first: the waiter retries
    rds.add_client_error(
        "describe_db_instances",
        service_error_code="DBInstanceNotFound",
        http_status_code=404,
        expected_params={"DBInstanceIdentifier": renamed},
    )
    describe(aws, instance(renamed, tags=ORIGINAL_TAGS), name=renamed)
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(renamed), "Tags": ANY})
    # rename the new instance to the original identifier
    describe(aws, restored, name=temp)
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": instance(temp, True)},
        {"DBInstanceIdentifier": temp, "ApplyImmediately": True, "NewDBInstanceIdentifier": DB},
    )
    new = instance(DB, True, tags={"Project": "medcircle", "cloudops:encrypted-from": DB})
    kept = instance(renamed, tags=ORIGINAL_TAGS, DeletionProtection=True)
    describe(aws, new, name=DB)
    describe(aws, kept, new)
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(renamed), "Tags": ANY})
    describe(aws, kept, new)
    rds.add_response(
        "add_tags_to_resource",
        {},
        {"ResourceName": arn(DB), "Tags": [{"Key": "cloudops:replaces", "Value": renamed}]},
    )
    # the state after
    describe(aws, kept, new)

    result = run(aws)

    assert result["changed"] is True
    assert result["steps_done"] == list(rds_encryption.STEPS)
    assert result["encrypted"] is True
    assert result["db_instance"]["db_instance_identifier"] == DB
    assert result["original"]["db_instance_identifier"] == renamed
    assert result["original"]["deletion_protection"] is True


def test_resumes_after_the_original_was_renamed(aws):
    renamed = f"{DB}-unencrypted-{DATE}"
    temp = f"{DB}-enc"
    kept = instance(renamed, tags=ORIGINAL_TAGS, DeletionProtection=True)
    restored = instance(temp, True, tags={"cloudops:encrypted-from": DB})
    aws.describe_key(REGION, "alias/medcircle-rds", KEY_ARN)
    describe(aws, kept, restored)
    snapshot_missing(aws, f"{DB}-pre-encrypt-{DATE}")
    aws.stub("rds", REGION).add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [snapshot(f"{DB}-encrypted-{DATE}", Encrypted=True)]},
        {"DBSnapshotIdentifier": f"{DB}-encrypted-{DATE}"},
    )

    result = run(aws, check_mode=True)

    # Only the last rename is left; the date comes from the original's tag, not from today.
    assert [s["step"] for s in result["plan"]] == ["rename_new"]
    assert result["names"]["original_identifier"] == renamed
    assert result["db_instance"] is None


def test_encrypted_instance_needs_nothing(aws):
    renamed = f"{DB}-unencrypted-{DATE}"
    aws.describe_key(REGION, "alias/medcircle-rds", KEY_ARN)
    describe(aws, instance(DB, True), instance(renamed, tags=ORIGINAL_TAGS, DeletionProtection=True))

    result = run(aws)

    assert result["changed"] is False
    assert result["plan"] == []
    assert result["encrypted"] is True
    assert result["original"]["db_instance_identifier"] == renamed


def test_delete_original_only_when_asked(aws):
    renamed = f"{DB}-unencrypted-{DATE}"
    kept = instance(renamed, tags=ORIGINAL_TAGS, DeletionProtection=True)
    aws.describe_key(REGION, "alias/medcircle-rds", KEY_ARN)
    describe(aws, instance(DB, True), kept)
    rds = aws.stub("rds", REGION)
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": kept},
        {"DBInstanceIdentifier": renamed, "ApplyImmediately": True, "DeletionProtection": False},
    )
    describe(aws, kept, name=renamed)
    rds.add_response(
        "delete_db_instance",
        {"DBInstance": dict(kept, DBInstanceStatus="deleting")},
        {
            "DBInstanceIdentifier": renamed,
            "FinalDBSnapshotIdentifier": f"{renamed}-final",
            "DeleteAutomatedBackups": False,
        },
    )
    rds.add_client_error(
        "describe_db_instances",
        service_error_code="DBInstanceNotFound",
        http_status_code=404,
        expected_params={"DBInstanceIdentifier": renamed},
    )
    describe(aws, instance(DB, True))

    result = run(aws, delete_original=True)

    assert result["steps_done"] == ["delete_original"]
    assert result["original"] is None


@pytest.mark.parametrize(
    "db_id,kms_key_id,message",
    [
        ("medcircle_db", "alias/medcircle-rds", "db_instance_identifier medcircle_db is not a valid RDS DB instance"),
        ("a" * 43, "alias/medcircle-rds", "is too long to keep the original"),
        (DB, "medcircle-rds", "kms_key_id medcircle-rds is not a well-formed KMS key reference"),
    ],
)
def test_bad_input_fails_before_any_call(aws, db_id, kms_key_id, message):
    with pytest.raises(ParameterError, match=message):
        run(aws, db_id=db_id, kms_key_id=kms_key_id)


def test_missing_key_fails_before_any_change(aws):
    aws.key_not_found(REGION, "alias/medcircle-rds")
    with pytest.raises(ParameterError, match="kms_key_id alias/medcircle-rds was not found in us-east-1"):
        run(aws)


def test_foreign_temporary_instance_is_refused(aws):
    aws.describe_key(REGION, "alias/medcircle-rds", KEY_ARN)
    describe(aws, instance(DB), instance(f"{DB}-enc", True, tags={"Project": "other"}))
    snapshot_missing(aws, f"{DB}-pre-encrypt-{DATE}")
    snapshot_missing(aws, f"{DB}-encrypted-{DATE}")
    with pytest.raises(ParameterError, match="temporary_identifier medcircledb-enc already exists"):
        run(aws)


def test_instance_with_replicas_is_refused(aws):
    read_unencrypted(aws, instance(DB, ReadReplicaDBInstanceIdentifiers=["medcircledb-replica"]))
    with pytest.raises(ParameterError, match="has read replicas \\(medcircledb-replica\\)"):
        run(aws)


def test_missing_instance(aws):
    read_unencrypted(aws, instance("otherdb"))
    with pytest.raises(ParameterError, match="db_instance_identifier medcircledb was not found"):
        run(aws)


def test_throttled_copy_is_retried(aws):
    tagged = instance(DB, tags=ORIGINAL_TAGS)
    describe(aws, tagged)
    rds = aws.stub("rds", REGION)
    rds.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [snapshot(f"{DB}-pre-encrypt-{DATE}")]},
        {"DBSnapshotIdentifier": f"{DB}-pre-encrypt-{DATE}"},
    )
    snapshot_missing(aws, f"{DB}-encrypted-{DATE}")
    state = rds_encryption.read_state(aws.client("rds", REGION), DB, None, DATE)
    steps = rds_encryption.plan_steps(state, DB, False)
    assert [s for s, _ in steps] == ["copy", "restore", "rename_original", "rename_new"]

    rds.add_client_error("copy_db_snapshot", service_error_code="Throttling", http_status_code=400)
    rds.add_response("copy_db_snapshot", {"DBSnapshot": snapshot(f"{DB}-encrypted-{DATE}", Encrypted=True)})
    rds.add_response(
        "describe_db_snapshots",
        {"DBSnapshots": [snapshot(f"{DB}-encrypted-{DATE}", Encrypted=True)]},
        {"DBSnapshotIdentifier": f"{DB}-encrypted-{DATE}"},
    )
    rds.add_response("add_tags_to_resource", {}, {"ResourceName": arn(DB), "Tags": ANY})

    done = rds_encryption.apply_steps(aws.client("rds", REGION), state, steps[:1], DB, KEY_ARN, timeout=10, delay=1)

    assert done == ["copy"]
