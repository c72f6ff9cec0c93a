# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Backup helpers for the backup_vault_lock and backup_restore_job modules.

- ensure_vault_lock(): Vault Lock (min/max retention, changeable-for days) and the deny-delete statement of
  the vault access policy; other statements of the policy are kept. Check mode makes only read calls.
- restore(): starts a restore of a recovery point with the metadata of its resource type (EBS, EC2, RDS), the
  caller's overrides checked against what that type accepts, waits, and answers the restored resource.

Every input problem is a ParameterError naming the option, raised before any call that changes anything.
"""

import datetime
import json
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

DENY_SID = "CloudopsDenyRecoveryPointDeletion"
DENY_ACTIONS = [
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
]
MAX_DAYS = 36500
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/.+$")

# Restore metadata keys each resource type accepts (GetRecoveryPointRestoreMetadata answers a subset).
RESTORE_KEYS = {
    "EBS": ("availabilityZone", "encrypted", "kmsKeyId", "volumeType", "volumeSize", "iops", "throughput"),
    "EC2": (
        "InstanceType",
        "SubnetId",
        "SecurityGroupIds",
        "IamInstanceProfileName",
        "RequireIMDSv2",
        "AvailabilityZone",
        "KeyName",
        "Placement",
    ),
    "RDS": (
        "DBInstanceIdentifier",
        "DBInstanceClass",
        "Engine",
        "MultiAZ",
        "DBSubnetGroupName",
        "VpcSecurityGroupIds",
        "AvailabilityZone",
        "PubliclyAccessible",
        "Port",
        "StorageType",
        "DeletionProtection",
        "KmsKeyId",
    ),
}


# --- Vault Lock ---------------------------------------------------------------------------------------------

# Throttling codes of the JSON APIs that AWSRetry does not retry by itself.
THROTTLED = ["ThrottlingException"]


def check_lock_options(min_days, max_days, changeable_for_days):
    if min_days is not None and not 1 <= min_days <= MAX_DAYS:
        raise ParameterError("min_retention_days", min_days, "is out of range", f"1 to {MAX_DAYS}")
    if max_days is not None and not 1 <= max_days <= MAX_DAYS:
        raise ParameterError("max_retention_days", max_days, "is out of range", f"1 to {MAX_DAYS}")
    if min_days is not None and max_days is not None and max_days < min_days:
        raise ParameterError(
            "max_retention_days", max_days, f"is below min_retention_days ({min_days})", f"{min_days} or more"
        )
    if changeable_for_days is not None and not 3 <= changeable_for_days <= MAX_DAYS:
        raise ParameterError(
            "changeable_for_days",
            changeable_for_days,
            "is out of range (AWS requires a grace time of at least 3 days)",
            f"3 to {MAX_DAYS}, or unset for a lock in governance mode",
        )


def _deny_statement(vault_arn):
    return {
        "Sid": DENY_SID,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": list(DENY_ACTIONS),
        "Resource": vault_arn if vault_arn else "*",
    }


def _policy(client, vault):
    try:
        text = client.get_backup_vault_access_policy(aws_retry=True, BackupVaultName=vault)["Policy"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return json.loads(text) if text else None


def _lock_view(described):
    lock = {
        "locked": bool(described.get("Locked")),
        "min_retention_days": described.get("MinRetentionDays"),
        "max_retention_days": described.get("MaxRetentionDays"),
    }
    lock_date = described.get("LockDate")
    lock["lock_date"] = lock_date.isoformat() if hasattr(lock_date, "isoformat") else lock_date
    return lock


def _immutable(described, now=None):
    """A compliance-mode lock whose grace time is over can no longer change."""
    lock_date = described.get("LockDate")
    if not lock_date or not hasattr(lock_date, "tzinfo"):
        return False
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if lock_date.tzinfo is None:
        lock_date = lock_date.replace(tzinfo=datetime.timezone.utc)
    return lock_date <= now


def ensure_vault_lock(client, vault, params, check_mode):
    """Apply Vault Lock and the deny-delete policy to ``vault``. Returns {changed, vault_lock, access_policy, diff}."""
    min_days, max_days = params.get("min_retention_days"), params.get("max_retention_days")
    changeable = params.get("changeable_for_days")
    lock_state = params.get("lock", "present")
    check_lock_options(min_days, max_days, changeable)
    if lock_state == "present" and min_days is None and max_days is None:
        raise ParameterError("min_retention_days", None, "and max_retention_days are both unset", "at least one")
    missing = False
    try:
        described = client.describe_backup_vault(aws_retry=True, BackupVaultName=vault)
    except client.exceptions.ClientError as error:
        # AWS answers AccessDeniedException for a vault that does not exist
        if error.response.get("Error", {}).get("Code") not in ("ResourceNotFoundException", "AccessDeniedException"):
            raise
        if not check_mode:
            raise ParameterError(
                "vault_name", vault, "is not a backup vault in this region (or describing it is not allowed)"
            ) from None
        # check mode before the vault exists (a check run of a playbook that creates it first): plan the lock
        missing = True
        described = {}
    before_lock = _lock_view(described)
    has_lock = described.get("MinRetentionDays") is not None or described.get("MaxRetentionDays") is not None
    changed = False
    after_lock = dict(before_lock)
    lock_call = None
    if lock_state == "present":
        same = described.get("MinRetentionDays") == min_days and described.get("MaxRetentionDays") == max_days
        if not same:
            if has_lock and _immutable(described):
                raise ParameterError(
                    "min_retention_days",
                    min_days,
                    f"cannot be applied: the vault {vault} is locked in compliance mode since "
                    f"{before_lock['lock_date']} and its lock can no longer change",
                )
            lock_call = {"BackupVaultName": vault}
            if min_days is not None:
                lock_call["MinRetentionDays"] = min_days
            if max_days is not None:
                lock_call["MaxRetentionDays"] = max_days
            if changeable is not None:
                lock_call["ChangeableForDays"] = changeable
            after_lock.update({"locked": True, "min_retention_days": min_days, "max_retention_days": max_days})
            changed = True
    elif has_lock:
        if _immutable(described):
            raise ParameterError("lock", "absent", f"cannot be applied: the vault {vault} is locked for good")
        lock_call = "delete"
        after_lock = {"locked": False, "min_retention_days": None, "max_retention_days": None, "lock_date": None}
        changed = True

    policy = None if missing else _policy(client, vault)
    statements = list((policy or {}).get("Statement") or [])
    if isinstance((policy or {}).get("Statement"), dict):
        statements = [policy["Statement"]]
    others = [s for s in statements if s.get("Sid") != DENY_SID]
    ours = [s for s in statements if s.get("Sid") == DENY_SID]
    wanted = _deny_statement(described.get("BackupVaultArn")) if params.get("deny_delete", True) else None
    new_policy = policy
    policy_call = None
    if wanted is not None and ours != [wanted]:
        new_policy = {"Version": (policy or {}).get("Version", "2012-10-17"), "Statement": [*others, wanted]}
        policy_call = "put"
    elif wanted is None and ours:
        new_policy = {"Version": policy.get("Version", "2012-10-17"), "Statement": others} if others else None
        policy_call = "put" if others else "delete"
    changed = changed or policy_call is not None

    if not check_mode:
        if lock_call == "delete":
            client.delete_backup_vault_lock_configuration(aws_retry=True, BackupVaultName=vault)
        elif lock_call:
            client.put_backup_vault_lock_configuration(aws_retry=True, **lock_call)
        if policy_call == "put":
            if ours:
                # our statement in force denies PutBackupVaultAccessPolicy to everyone, this run included: the
                # policy is removed first (deleting it is not denied), then the new one is put in its place
                client.delete_backup_vault_access_policy(aws_retry=True, BackupVaultName=vault)
            client.put_backup_vault_access_policy(aws_retry=True, BackupVaultName=vault, Policy=json.dumps(new_policy))
        elif policy_call == "delete":
            client.delete_backup_vault_access_policy(aws_retry=True, BackupVaultName=vault)
        if lock_call:
            after_lock = _lock_view(client.describe_backup_vault(aws_retry=True, BackupVaultName=vault))
    return {
        "changed": changed,
        "vault_arn": described.get("BackupVaultArn"),
        "vault_lock": after_lock,
        "access_policy": new_policy,
        "diff": {
            "before": {"vault_lock": before_lock, "access_policy": policy},
            "after": {"vault_lock": after_lock, "access_policy": new_policy},
        },
    }


# --- restores -----------------------------------------------------------------------------------------------


def resource_type_of(recovery_point_arn):
    """EBS, EC2 or RDS from a recovery point ARN (snapshot, image, RDS snapshot); None if unknown."""
    if re.match(r"^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d*:snapshot/snap-", recovery_point_arn):
        return "EBS"
    if re.match(r"^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d*:image/ami-", recovery_point_arn):
        return "EC2"
    if re.match(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:", recovery_point_arn):
        return "RDS"
    return None


def _metadata_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


RESOURCE_ARN = re.compile(r"^arn:aws[a-z-]*:(ec2|rds):[a-z0-9-]+:\d{12}:(volume/vol-|instance/i-|db:)")


def newest_recovery_point(client, vault, resource_arn):
    """The ARN of the newest completed recovery point of ``resource_arn`` in ``vault``; None if there is none."""
    newest = None
    kwargs = {"BackupVaultName": vault, "ByResourceArn": resource_arn}
    while True:
        page = client.list_recovery_points_by_backup_vault(aws_retry=True, **kwargs)
        for point in page.get("RecoveryPoints", []):
            if point.get("Status") != "COMPLETED" or point.get("ResourceArn") != resource_arn:
                continue
            if newest is None or point["CreationDate"] > newest["CreationDate"]:
                newest = point
        if not page.get("NextToken"):
            return newest["RecoveryPointArn"] if newest else None
        kwargs["NextToken"] = page["NextToken"]


def _type_of_resource(resource_arn):
    match = RESOURCE_ARN.match(resource_arn or "")
    if not match:
        raise ParameterError(
            "resource_arn",
            resource_arn,
            "is not an EBS volume, EC2 instance or RDS DB instance ARN",
            "arn:aws:ec2:<region>:<account>:volume/vol-... or instance/i-..., arn:aws:rds:<region>:<account>:db:<name>",
        )
    return {"volume/vol-": "EBS", "instance/i-": "EC2", "db:": "RDS"}[match.group(2)]


def check_restore_options(params):
    """Validate the options; returns (resource_type, overrides as strings)."""
    arn = params.get("recovery_point_arn")
    if arn is None:
        rtype = _type_of_resource(params.get("resource_arn"))
        if params.get("resource_type") and params["resource_type"] != rtype:
            raise ParameterError(
                "resource_type", params["resource_type"], f"does not match resource_arn, which is {rtype}"
            )
        params = {**params, "resource_type": rtype, "recovery_point_arn": ""}
        arn = ""
    detected = resource_type_of(arn)
    rtype = params.get("resource_type") or detected
    if rtype not in RESTORE_KEYS:
        raise ParameterError(
            "recovery_point_arn",
            arn,
            "is not an EBS snapshot, AMI or RDS snapshot recovery point; set resource_type",
            "EBS, EC2 or RDS",
        )
    if detected and detected != rtype:
        raise ParameterError("resource_type", rtype, f"does not match the recovery point, which is {detected}")
    role = params.get("iam_role_arn")
    if not role or not ROLE_ARN.match(role):
        raise ParameterError("iam_role_arn", role, "is not an IAM role ARN", "arn:aws:iam::<account>:role/<name>")
    overrides = {}
    for key, value in (params.get("metadata") or {}).items():
        if key not in RESTORE_KEYS[rtype]:
            raise ParameterError(
                "metadata", key, f"is not a restore setting for {rtype}", ", ".join(RESTORE_KEYS[rtype])
            )
        overrides[key] = _metadata_value(value)
    if rtype == "RDS" and not overrides.get("DBInstanceIdentifier"):
        raise ParameterError(
            "metadata.DBInstanceIdentifier",
            None,
            "is required for an RDS restore (the new instance's name; the original is never overwritten)",
        )
    return rtype, overrides


def _existing_restore(client, recovery_point_arn):
    """The newest restore job of this recovery point that did not fail, if any."""
    newest = None
    kwargs = {}
    while True:
        page = client.list_restore_jobs(aws_retry=True, **kwargs)
        for job in page.get("RestoreJobs", []):
            if job.get("RecoveryPointArn") != recovery_point_arn or job.get("Status") in ("FAILED", "ABORTED"):
                continue
            if newest is None or job.get("CreationDate") > newest.get("CreationDate"):
                newest = job
        if not page.get("NextToken"):
            return newest
        kwargs["NextToken"] = page["NextToken"]


def _rds_exists(rds, identifier):
    try:
        return rds.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        return None


def _wait(client, job_id, timeout, delay, sleep=time.sleep):
    deadline = time.monotonic() + timeout
    while True:
        job = client.describe_restore_job(aws_retry=True, RestoreJobId=job_id)
        if job["Status"] in ("COMPLETED", "FAILED", "ABORTED"):
            return job
        if time.monotonic() >= deadline:
            raise AnsibleAWSError(
                message=f"restore job {job_id} is still {job['Status']} after {timeout} seconds; "
                "raise wait_timeout or look at it in the AWS Backup console"
            )
        sleep(delay)


def _job_view(job):
    if not job:
        return {}
    out = {}
    for key in (
        "RestoreJobId",
        "Status",
        "StatusMessage",
        "RecoveryPointArn",
        "CreatedResourceArn",
        "ResourceType",
        "PercentDone",
        "ValidationStatus",
    ):
        if job.get(key) is not None:
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
            out[snake] = job[key]
    for key in ("CreationDate", "CompletionDate"):
        if job.get(key) is not None:
            value = job[key]
            out[re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()] = (
                value.isoformat() if hasattr(value, "isoformat") else value
            )
    return out


def restore(backup, rds, params, check_mode, sleep=time.sleep):
    """Start (or find) the restore of a recovery point. Returns {changed, restore_job, created_resource_arn,
    resource_type, resource_id, metadata}."""
    rtype, overrides = check_restore_options(params)
    vault = params["backup_vault_name"]
    arn = params.get("recovery_point_arn")
    if not arn:
        arn = newest_recovery_point(backup, vault, params["resource_arn"])
        if arn is None:
            raise AnsibleAWSError(
                message=f"resource_arn {params['resource_arn']} has no completed recovery point in the vault {vault}"
            )
        params = {**params, "recovery_point_arn": arn}
    if rtype == "RDS" and rds is not None:
        existing_db = _rds_exists(rds, overrides["DBInstanceIdentifier"])
        if existing_db is not None:
            return {
                "changed": False,
                "recovery_point_arn": arn,
                "resource_type": rtype,
                "restore_job": {},
                "created_resource_arn": existing_db["DBInstanceArn"],
                "resource_id": existing_db["DBInstanceIdentifier"],
                "metadata": overrides,
            }
    if params.get("reuse_existing", True) and rtype != "RDS":
        job = _existing_restore(client=backup, recovery_point_arn=arn)
        if job is not None:
            if job["Status"] not in ("COMPLETED",) and params.get("wait", True) and not check_mode:
                job = _wait(
                    backup, job["RestoreJobId"], params.get("wait_timeout", 1800), params.get("delay", 15), sleep
                )
            created = job.get("CreatedResourceArn")
            return {
                "changed": False,
                "recovery_point_arn": arn,
                "resource_type": rtype,
                "restore_job": _job_view(job),
                "created_resource_arn": created,
                "resource_id": created.rsplit("/", 1)[-1] if created else None,
                "metadata": {},
            }
    metadata = backup.get_recovery_point_restore_metadata(
        aws_retry=True, BackupVaultName=vault, RecoveryPointArn=arn
    ).get("RestoreMetadata", {})
    metadata = dict(metadata)
    metadata.update(overrides)
    if check_mode:
        return {
            "changed": True,
            "recovery_point_arn": arn,
            "resource_type": rtype,
            "restore_job": {},
            "created_resource_arn": None,
            "resource_id": None,
            "metadata": metadata,
        }
    request = {
        "RecoveryPointArn": arn,
        "Metadata": metadata,
        "IamRoleArn": params["iam_role_arn"],
        "ResourceType": rtype,
        "CopySourceTagsToRestoredResource": bool(params.get("copy_source_tags", True)),
    }
    if params.get("idempotency_token"):
        request["IdempotencyToken"] = params["idempotency_token"]
    job_id = backup.start_restore_job(aws_retry=True, **request)["RestoreJobId"]
    job = {"RestoreJobId": job_id, "Status": "PENDING", "RecoveryPointArn": arn, "ResourceType": rtype}
    if params.get("wait", True):
        job = _wait(backup, job_id, params.get("wait_timeout", 1800), params.get("delay", 15), sleep)
        if job["Status"] != "COMPLETED":
            raise AnsibleAWSError(
                message=f"restore job {job_id} of {arn} ended {job['Status']}: "
                f"{job.get('StatusMessage') or 'no reason given'}"
            )
    created = job.get("CreatedResourceArn")
    resource_id = None
    if created:
        resource_id = created.rsplit(":", 1)[-1] if rtype == "RDS" else created.rsplit("/", 1)[-1]
    return {
        "changed": True,
        "recovery_point_arn": arn,
        "resource_type": rtype,
        "restore_job": _job_view(job),
        "created_resource_arn": created,
        "resource_id": resource_id,
        "metadata": metadata,
    }
