# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Encryption at rest for an existing, unencrypted RDS DB instance, as a resumable sequence of steps.

Used by the rds_instance_encrypt module. RDS cannot encrypt a running instance, so the data moves:

1. ``tag``: the original instance is tagged with the run's date and the identifier it serves
   (``cloudops:encrypt-of``, ``cloudops:encrypt-date``); every later step finds its way back by them.
2. ``snapshot``: a manual snapshot of the original, ``<id>-pre-encrypt-<date>``.
3. ``copy``: an encrypted copy of that snapshot with the KMS key, ``<id>-encrypted-<date>``.
4. ``restore``: a new instance ``<id>-enc`` from the encrypted copy, with the original's class, subnet group,
   security groups, parameter group, option group, Multi-AZ, port, backups and tags.
5. ``rename_original``: the original becomes ``<id>-unencrypted-<date>``, with deletion protection on.
6. ``rename_new``: ``<id>-enc`` becomes ``<id>``, so the endpoint the applications use
   (``<id>.<hash>.<region>.rds.amazonaws.com``) now reaches the encrypted instance.

After each step the original's ``cloudops:encrypt-step`` tag records it. What is left to do is worked out
from what exists (instances, snapshots, tags), so a run that stops half way resumes where it stopped.
The original is never deleted unless the caller asks for it (``delete_original``): then it loses its
deletion protection and is deleted with a final snapshot ``<id>-unencrypted-<date>-final``.

Functions take boto3 RDS/KMS clients (wrapped with AWSRetry by AnsibleAWSModule.client, so calls pass
``aws_retry=True``) and never the module, so they are unit-tested with botocore's Stubber.
"""

import contextlib
import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import parse_kms_key_id, require_usable_kms_key

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.waiter

TAG_OF = "cloudops:encrypt-of"
TAG_DATE = "cloudops:encrypt-date"
TAG_STEP = "cloudops:encrypt-step"
TAG_ENCRYPTED_FROM = "cloudops:encrypted-from"
TAG_REPLACED_BY = "cloudops:replaced-by"
TAG_REPLACES = "cloudops:replaces"
OWN_TAG_PREFIX = "cloudops:encrypt"

STEPS = ("tag", "snapshot", "copy", "restore", "rename_original", "rename_new")

# RDS instance identifiers: 1-63 letters, digits and hyphens, a letter first, no "--", no trailing "-".
IDENTIFIER_PATTERN = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
IDENTIFIER_RULE = "1 to 63 letters, digits or hyphens, starting with a letter, without -- and not ending in -"
DATE_FORMAT = "%Y%m%d"

# Statuses in which an instance can be snapshotted, renamed or restored from.
READY = "available"
THROTTLING_CODES = ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException")


class RdsEncryptError(AnsibleAWSError):
    pass


class RdsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = RdsEncryptError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["DBInstanceNotFound", "DBInstanceNotFoundFault", "DBSnapshotNotFound"])


# --- RDS API calls ---------------------------------------------------------------------------------


@RdsErrorHandler.list_error_handler("describe DB instances", [])
@AWSRetry.jittered_backoff()
def describe_db_instances(client):
    paginator = client.get_paginator("describe_db_instances")
    return paginator.paginate().build_full_result()["DBInstances"]


@RdsErrorHandler.list_error_handler("describe DB snapshot")
def describe_db_snapshot(client, snapshot_id):
    snapshots = client.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id, aws_retry=True)["DBSnapshots"]
    return snapshots[0] if snapshots else None


@RdsErrorHandler.common_error_handler("tag DB instance")
def add_tags(client, arn, tags):
    client.add_tags_to_resource(
        ResourceName=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())], aws_retry=True
    )


@RdsErrorHandler.common_error_handler("create DB snapshot")
def create_db_snapshot(client, db_id, snapshot_id, tags):
    return client.create_db_snapshot(
        DBInstanceIdentifier=db_id,
        DBSnapshotIdentifier=snapshot_id,
        Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        aws_retry=True,
    )["DBSnapshot"]


@RdsErrorHandler.common_error_handler("copy DB snapshot with encryption")
def copy_db_snapshot(client, source_id, target_id, kms_key_id, tags):
    return client.copy_db_snapshot(
        SourceDBSnapshotIdentifier=source_id,
        TargetDBSnapshotIdentifier=target_id,
        KmsKeyId=kms_key_id,
        Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        aws_retry=True,
    )["DBSnapshot"]


@RdsErrorHandler.common_error_handler("restore DB instance from the encrypted snapshot")
def restore_db_instance(client, params):
    return client.restore_db_instance_from_db_snapshot(aws_retry=True, **params)["DBInstance"]


@RdsErrorHandler.common_error_handler("modify DB instance")
def modify_db_instance(client, db_id, params):
    return client.modify_db_instance(DBInstanceIdentifier=db_id, ApplyImmediately=True, aws_retry=True, **params)[
        "DBInstance"
    ]


@RdsErrorHandler.common_error_handler("delete DB instance")
def delete_db_instance(client, db_id, final_snapshot_id):
    return client.delete_db_instance(
        DBInstanceIdentifier=db_id,
        FinalDBSnapshotIdentifier=final_snapshot_id,
        DeleteAutomatedBackups=False,
        aws_retry=True,
    )["DBInstance"]


# --- Waiting (botocore waiters; throttling and a renamed instance that is not visible yet are retried) ----


def _instance_waiter(client, wanted):
    acceptors = [
        {"matcher": "pathAll", "argument": "DBInstances[].DBInstanceStatus", "expected": wanted, "state": "success"},
        {"matcher": "error", "expected": "DBInstanceNotFound", "state": "success" if wanted == "deleted" else "retry"},
    ]
    for status in ("deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters"):
        if status != wanted and not (wanted == "deleted" and status == "deleting"):
            acceptors.append(
                {
                    "matcher": "pathAny",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": status,
                    "state": "failure",
                }
            )
    acceptors += [{"matcher": "error", "expected": code, "state": "retry"} for code in THROTTLING_CODES]
    model = botocore.waiter.WaiterModel(
        {
            "version": 2,
            "waiters": {
                "Instance": {
                    "operation": "DescribeDBInstances",
                    "delay": 30,
                    "maxAttempts": 120,
                    "acceptors": acceptors,
                }
            },
        }
    )
    return botocore.waiter.create_waiter_with_client("Instance", model, client)


def _snapshot_waiter(client):
    acceptors = [
        {"matcher": "pathAll", "argument": "DBSnapshots[].Status", "expected": "available", "state": "success"},
    ]
    for status in ("deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters"):
        acceptors.append(
            {"matcher": "pathAny", "argument": "DBSnapshots[].Status", "expected": status, "state": "failure"}
        )
    acceptors += [{"matcher": "error", "expected": code, "state": "retry"} for code in THROTTLING_CODES]
    model = botocore.waiter.WaiterModel(
        {
            "version": 2,
            "waiters": {
                "Snapshot": {
                    "operation": "DescribeDBSnapshots",
                    "delay": 30,
                    "maxAttempts": 120,
                    "acceptors": acceptors,
                }
            },
        }
    )
    return botocore.waiter.create_waiter_with_client("Snapshot", model, client)


def _config(timeout, delay):
    delay = max(1, min(delay, timeout))
    return {"Delay": delay, "MaxAttempts": max(1, timeout // delay)}


def wait_for_instance(client, db_id, timeout, delay=30, wanted=READY):
    try:
        _instance_waiter(client, wanted).wait(DBInstanceIdentifier=db_id, WaiterConfig=_config(timeout, delay))
    except botocore.waiter.WaiterError as e:
        raise RdsEncryptError(
            message=f"DB instance {db_id} did not become {wanted} within {timeout} seconds: {e}", exception=e
        ) from e


def wait_for_snapshot(client, snapshot_id, timeout, delay=30):
    try:
        _snapshot_waiter(client).wait(DBSnapshotIdentifier=snapshot_id, WaiterConfig=_config(timeout, delay))
    except botocore.waiter.WaiterError as e:
        raise RdsEncryptError(
            message=f"DB snapshot {snapshot_id} did not become available within {timeout} seconds: {e}", exception=e
        ) from e


# --- Names, input -----------------------------------------------------------------------------------


def tags_of(db):
    return boto3_tag_list_to_ansible_dict(db.get("TagList") or [])


def names(db_id, date, temporary_identifier=None):
    """Every name the sequence uses for ``db_id`` on ``date`` (YYYYMMDD)."""
    return {
        "db_instance_identifier": db_id,
        "temporary_identifier": temporary_identifier or f"{db_id}-enc",
        "original_identifier": f"{db_id}-unencrypted-{date}",
        "snapshot": f"{db_id}-pre-encrypt-{date}",
        "encrypted_snapshot": f"{db_id}-encrypted-{date}",
        "final_snapshot": f"{db_id}-unencrypted-{date}-final",
    }


def validate_identifier(value, option):
    if not isinstance(value, str) or not IDENTIFIER_PATTERN.match(value):
        raise ParameterError(option, value, "is not a valid RDS DB instance identifier", IDENTIFIER_RULE)
    return value.lower()


def validate_options(db_id, temporary_identifier, kms_key_id):
    """Check the form of every option, without calling AWS. Returns (db_id, temporary_identifier, key ref)."""
    db_id = validate_identifier(db_id, "db_instance_identifier")
    longest = names(db_id, "20000101")["original_identifier"]
    if len(longest) > 63:
        raise ParameterError(
            "db_instance_identifier",
            db_id,
            f"is too long to keep the original as {longest} ({len(longest)} characters, 63 at most)",
            "an identifier of at most 42 characters",
        )
    if temporary_identifier is not None:
        temporary_identifier = validate_identifier(temporary_identifier, "temporary_identifier")
        if temporary_identifier == db_id:
            raise ParameterError(
                "temporary_identifier", temporary_identifier, "is the instance's own identifier", "another identifier"
            )
    ref = parse_kms_key_id(kms_key_id, "kms_key_id")
    return db_id, temporary_identifier, ref


# --- Planning (read-only) ---------------------------------------------------------------------------


def _summary(db):
    if not db:
        return None
    return {
        "db_instance_identifier": db["DBInstanceIdentifier"],
        "db_instance_arn": db.get("DBInstanceArn"),
        "db_instance_status": db.get("DBInstanceStatus"),
        "storage_encrypted": bool(db.get("StorageEncrypted")),
        "kms_key_id": db.get("KmsKeyId"),
        "endpoint": (db.get("Endpoint") or {}).get("Address"),
        "deletion_protection": bool(db.get("DeletionProtection")),
        "tags": tags_of(db),
    }


def read_state(rds, db_id, temporary_identifier, today):
    """What exists for ``db_id``: the instance under that name, the original, the temporary instance, snapshots."""
    instances = {db["DBInstanceIdentifier"]: db for db in describe_db_instances(rds)}
    current = instances.get(db_id)
    original = None
    if current is not None and not current.get("StorageEncrypted"):
        original = current
    else:
        # The original after it was renamed: unencrypted, tagged with the identifier it served.
        candidates = [
            db for db in instances.values() if tags_of(db).get(TAG_OF) == db_id and not db.get("StorageEncrypted")
        ]
        original = sorted(candidates, key=lambda db: tags_of(db).get(TAG_DATE, ""))[-1] if candidates else None
    date = tags_of(original).get(TAG_DATE) if original else None
    if current is not None and current.get("StorageEncrypted") and not date:
        date = tags_of(current).get(TAG_DATE)
    date = date or today
    n = names(db_id, date, temporary_identifier)
    state = {
        "names": n,
        "date": date,
        "current": current,
        "original": original,
        "temporary": instances.get(n["temporary_identifier"]),
        "instances": instances,
    }
    if current is None or not current.get("StorageEncrypted"):
        state["snapshot"] = describe_db_snapshot(rds, n["snapshot"])
        state["encrypted_snapshot"] = describe_db_snapshot(rds, n["encrypted_snapshot"])
    return state


def plan_steps(state, db_id, delete_original):
    """The steps still to do, in order, as (step, description). Raises ParameterError if the state is unsafe."""
    n = state["names"]
    current, original, temporary = state["current"], state["original"], state["temporary"]
    steps = []
    if current is not None and current.get("StorageEncrypted"):
        if delete_original and original is not None:
            steps.append(
                (
                    "delete_original",
                    f"turn off deletion protection on {original['DBInstanceIdentifier']} and delete it, "
                    f"keeping a final snapshot {original['DBInstanceIdentifier']}-final",
                )
            )
        return steps
    if current is None and original is None:
        raise ParameterError(
            "db_instance_identifier", db_id, "was not found", "an existing DB instance in the target region"
        )
    if current is None and temporary is None:
        raise ParameterError(
            "db_instance_identifier",
            db_id,
            f"was renamed to {original['DBInstanceIdentifier']} but the encrypted instance "
            f"{n['temporary_identifier']} is missing; rename {original['DBInstanceIdentifier']} back to {db_id} "
            "and run again",
        )
    if original is not None:
        _check_original(original, db_id)
    if temporary is not None and tags_of(temporary).get(TAG_ENCRYPTED_FROM) != db_id:
        raise ParameterError(
            "temporary_identifier",
            n["temporary_identifier"],
            "already exists and was not created by this module for " + db_id,
            "the name of no existing DB instance",
        )
    if current is not None:
        if tags_of(current).get(TAG_OF) != db_id or tags_of(current).get(TAG_DATE) != state["date"]:
            steps.append(("tag", f"tag {db_id} with {TAG_OF}={db_id} and {TAG_DATE}={state['date']}"))
        if temporary is None:
            if state.get("encrypted_snapshot") is None:
                if state.get("snapshot") is None:
                    steps.append(("snapshot", f"take snapshot {n['snapshot']} of {db_id}"))
                steps.append(
                    (
                        "copy",
                        f"copy snapshot {n['snapshot']} to {n['encrypted_snapshot']} encrypted with the KMS key",
                    )
                )
            steps.append(
                (
                    "restore",
                    f"restore {n['temporary_identifier']} from {n['encrypted_snapshot']} with the settings of {db_id}",
                )
            )
        steps.append(
            (
                "rename_original",
                f"rename {db_id} to {n['original_identifier']} with deletion protection on (kept, not deleted)",
            )
        )
    steps.append(("rename_new", f"rename {n['temporary_identifier']} to {db_id}: the endpoint now reaches it"))
    return steps


def _check_original(db, db_id):
    if db.get("ReadReplicaSourceDBInstanceIdentifier") or db.get("DBClusterIdentifier"):
        raise ParameterError(
            "db_instance_identifier",
            db_id,
            "is a read replica or an Aurora cluster member; encrypt its source or cluster instead",
            "a standalone or Multi-AZ DB instance",
        )
    replicas = db.get("ReadReplicaDBInstanceIdentifiers") or []
    if replicas:
        raise ParameterError(
            "db_instance_identifier",
            db_id,
            "has read replicas (%s) that would stay attached to the unencrypted original" % ", ".join(replicas),
            "an instance without read replicas: delete or promote them first, then recreate them from the "
            "encrypted instance",
        )


def gp3_performance_configurable(db):
    """Whether RDS takes Iops and StorageThroughput for a gp3 database of this engine and size (RDS User Guide,
    "gp3 storage": from 400 GiB for MySQL, MariaDB, PostgreSQL and Db2, from 200 GiB for Oracle, at any size for
    SQL Server; below, the baseline of 3,000 IOPS and 125 MiBps is fixed)."""
    engine = str(db.get("Engine") or "")
    if engine.startswith("sqlserver"):
        return True
    return int(db.get("AllocatedStorage") or 0) >= (200 if engine.startswith("oracle") else 400)


def restore_parameters(original, n, date, db_id):
    """RestoreDBInstanceFromDBSnapshot arguments that give the new instance the original's settings."""
    tags = {k: v for k, v in tags_of(original).items() if not k.startswith(OWN_TAG_PREFIX)}
    tags.update({TAG_ENCRYPTED_FROM: db_id, TAG_DATE: date})
    params = {
        "DBInstanceIdentifier": n["temporary_identifier"],
        "DBSnapshotIdentifier": n["encrypted_snapshot"],
        "DBInstanceClass": original["DBInstanceClass"],
        "MultiAZ": bool(original.get("MultiAZ")),
        "PubliclyAccessible": bool(original.get("PubliclyAccessible")),
        "AutoMinorVersionUpgrade": bool(original.get("AutoMinorVersionUpgrade")),
        "CopyTagsToSnapshot": bool(original.get("CopyTagsToSnapshot")),
        "DeletionProtection": True,
        "EnableIAMDatabaseAuthentication": bool(original.get("IAMDatabaseAuthenticationEnabled")),
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
    }
    if (original.get("Endpoint") or {}).get("Port"):
        params["Port"] = original["Endpoint"]["Port"]
    if original.get("StorageType"):
        params["StorageType"] = original["StorageType"]
    if original.get("Iops") and original.get("StorageType") in ("io1", "io2"):
        params["Iops"] = original["Iops"]
    if original.get("StorageType") == "gp3" and gp3_performance_configurable(original):
        # below the engine's threshold gp3 has a fixed baseline and RDS refuses Iops and StorageThroughput
        for name in ("Iops", "StorageThroughput"):
            if original.get(name):
                params[name] = original[name]
    if (original.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"):
        params["DBSubnetGroupName"] = original["DBSubnetGroup"]["DBSubnetGroupName"]
    groups = [g["VpcSecurityGroupId"] for g in original.get("VpcSecurityGroups") or []]
    if groups:
        params["VpcSecurityGroupIds"] = groups
    parameter_groups = [g["DBParameterGroupName"] for g in original.get("DBParameterGroups") or []]
    if parameter_groups:
        params["DBParameterGroupName"] = parameter_groups[0]
    options = [g["OptionGroupName"] for g in original.get("OptionGroupMemberships") or []]
    if options and not options[0].startswith("default:"):
        params["OptionGroupName"] = options[0]
    if original.get("EnabledCloudwatchLogsExports"):
        params["EnableCloudwatchLogsExports"] = list(original["EnabledCloudwatchLogsExports"])
    if not params["MultiAZ"] and original.get("AvailabilityZone"):
        params["AvailabilityZone"] = original["AvailabilityZone"]
    return params


def settings_after_restore(original, restored):
    """ModifyDBInstance arguments for what a restore does not carry over (backups, windows, monitoring)."""
    params = {}
    for key in ("BackupRetentionPeriod", "PreferredBackupWindow", "PreferredMaintenanceWindow"):
        if original.get(key) is not None and original.get(key) != restored.get(key):
            params[key] = original[key]
    if (original.get("MonitoringInterval") or 0) > 0 and original.get("MonitoringInterval") != restored.get(
        "MonitoringInterval"
    ):
        params["MonitoringInterval"] = original["MonitoringInterval"]
        params["MonitoringRoleArn"] = original.get("MonitoringRoleArn")
    return {k: v for k, v in params.items() if v is not None}


# --- Applying ---------------------------------------------------------------------------------------


def _describe(rds, db_id):
    dbs = [db for db in describe_db_instances(rds) if db["DBInstanceIdentifier"] == db_id]
    return dbs[0] if dbs else None


def _mark(rds, db, step):
    add_tags(rds, db["DBInstanceArn"], {TAG_STEP: step})


def apply_steps(rds, state, steps, db_id, kms_key_arn, timeout, delay=30):
    """Run ``steps`` (from plan_steps) in order; returns the names of the steps done."""
    n, date = state["names"], state["date"]
    original = state["original"]
    done = []
    for step, _description in steps:
        if step == "tag":
            add_tags(rds, original["DBInstanceArn"], {TAG_OF: db_id, TAG_DATE: date, TAG_STEP: "tag"})
        elif step == "snapshot":
            wait_for_instance(rds, db_id, timeout, delay)
            create_db_snapshot(rds, db_id, n["snapshot"], {TAG_OF: db_id, TAG_DATE: date})
            wait_for_snapshot(rds, n["snapshot"], timeout, delay)
            _mark(rds, original, step)
        elif step == "copy":
            copy_db_snapshot(rds, n["snapshot"], n["encrypted_snapshot"], kms_key_arn, {TAG_OF: db_id, TAG_DATE: date})
            wait_for_snapshot(rds, n["encrypted_snapshot"], timeout, delay)
            _mark(rds, original, step)
        elif step == "restore":
            restore_db_instance(rds, restore_parameters(original, n, date, db_id))
            wait_for_instance(rds, n["temporary_identifier"], timeout, delay)
            restored = _describe(rds, n["temporary_identifier"])
            extra = settings_after_restore(original, restored or {})
            if extra:
                modify_db_instance(rds, n["temporary_identifier"], extra)
                wait_for_instance(rds, n["temporary_identifier"], timeout, delay)
            _mark(rds, original, step)
        elif step == "rename_original":
            wait_for_instance(rds, db_id, timeout, delay)
            renamed = modify_db_instance(
                rds, db_id, {"NewDBInstanceIdentifier": n["original_identifier"], "DeletionProtection": True}
            )
            wait_for_instance(rds, n["original_identifier"], timeout, delay)
            arn = renamed["DBInstanceArn"].rsplit(":", 1)[0] + ":" + n["original_identifier"]
            add_tags(rds, arn, {TAG_STEP: step, TAG_REPLACED_BY: db_id})
            original = dict(original, DBInstanceArn=arn)
        elif step == "rename_new":
            wait_for_instance(rds, n["temporary_identifier"], timeout, delay)
            modify_db_instance(rds, n["temporary_identifier"], {"NewDBInstanceIdentifier": db_id})
            wait_for_instance(rds, db_id, timeout, delay)
            kept = _describe(rds, original_name(original, n))
            if kept is not None:
                add_tags(rds, kept["DBInstanceArn"], {TAG_STEP: "swapped", TAG_REPLACED_BY: db_id})
            new = _describe(rds, db_id)
            if new is not None:
                add_tags(rds, new["DBInstanceArn"], {TAG_REPLACES: original_name(original, n)})
        elif step == "delete_original":
            name = original["DBInstanceIdentifier"]
            if original.get("DeletionProtection"):
                modify_db_instance(rds, name, {"DeletionProtection": False})
                wait_for_instance(rds, name, timeout, delay)
            delete_db_instance(rds, name, f"{name}-final")
            wait_for_instance(rds, name, timeout, delay, wanted="deleted")
        done.append(step)
    return done


def original_name(original, n):
    """Where the original lives once it has been renamed."""
    if original is None:
        return n["original_identifier"]
    name = original["DBInstanceIdentifier"]
    return n["original_identifier"] if name == n["db_instance_identifier"] else name


# --- The whole sequence -------------------------------------------------------------------------------


def encrypt_db_instance(
    rds,
    kms,
    region,
    db_id,
    kms_key_id,
    temporary_identifier=None,
    confirm=False,
    delete_original=False,
    check_mode=False,
    wait_timeout=3600,
    delay=30,
    today=None,
):
    """Plan, then (when confirmed and not in check mode) run, the encryption of ``db_id``.

    Returns the module result: changed, plan, steps_done, confirmed, db_instance, original, names, diff.
    """
    db_id, temporary_identifier, ref = validate_options(db_id, temporary_identifier, kms_key_id)
    key = require_usable_kms_key(kms, ref, region, "kms_key_id")
    today = today or datetime.datetime.now(datetime.timezone.utc).strftime(DATE_FORMAT)
    state = read_state(rds, db_id, temporary_identifier, today)
    steps = plan_steps(state, db_id, delete_original)
    n = state["names"]
    before = _diff_view(state["current"], state["original"], state["temporary"])
    result = {
        "changed": False,
        "confirmed": bool(confirm),
        "plan": [{"step": s, "description": d} for s, d in steps],
        "steps_done": [],
        "names": n,
        "kms_key_arn": key["Arn"],
    }
    if steps and confirm and not check_mode:
        result["steps_done"] = apply_steps(rds, state, steps, db_id, key["Arn"], wait_timeout, delay)
        result["changed"] = True
        state = read_state(rds, db_id, temporary_identifier, state["date"])
        after = _diff_view(state["current"], state["original"], state["temporary"])
    else:
        result["changed"] = bool(steps) and bool(confirm)
        after = _planned_view(before, steps, n, key["Arn"]) if confirm else before
    result["db_instance"] = _summary(state["current"])
    result["original"] = _summary(state["original"])
    result["encrypted"] = bool(state["current"] and state["current"].get("StorageEncrypted"))
    result["diff"] = {"before": before, "after": after}
    return result


def _diff_view(current, original, temporary):
    return {
        "db_instance": {
            "identifier": current["DBInstanceIdentifier"] if current else None,
            "storage_encrypted": bool(current and current.get("StorageEncrypted")),
            "kms_key_id": current.get("KmsKeyId") if current else None,
        },
        "original": original["DBInstanceIdentifier"] if original else None,
        "temporary": temporary["DBInstanceIdentifier"] if temporary else None,
    }


def _planned_view(before, steps, n, key_arn):
    names_of_steps = [step[0] for step in steps]
    after = {k: (dict(v) if isinstance(v, dict) else v) for k, v in before.items()}
    if "rename_new" in names_of_steps:
        after["db_instance"] = {
            "identifier": n["db_instance_identifier"],
            "storage_encrypted": True,
            "kms_key_id": key_arn,
        }
        after["original"] = (
            n["original_identifier"]
            if before["original"] in (None, n["db_instance_identifier"])
            else before["original"]
        )
        after["temporary"] = None
    if "delete_original" in names_of_steps:
        after["original"] = None
    return after
