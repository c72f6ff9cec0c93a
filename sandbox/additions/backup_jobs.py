"""AWS Backup jobs, recovery points, copies, restores, vault access policies and restore testing, which moto lacks.

moto has the vaults (with Vault Lock) and the plans; this module adds what happens in them:

- StartBackupJob, DescribeBackupJob, ListBackupJobs: a job really backs the resource up in moto: an EBS volume
  becomes an EBS snapshot, an EC2 instance an AMI, an RDS instance a DB snapshot. Each job leaves a recovery point.
- DescribeRecoveryPoint, ListRecoveryPointsByBackupVault, ListRecoveryPointsByResource,
  GetRecoveryPointRestoreMetadata, DeleteRecoveryPoint: recovery points with their lifecycle (DeleteAt computed
  from the rule's DeleteAfterDays). A locked vault refuses a lifecycle outside its Min/MaxRetentionDays and the
  deletion of a recovery point younger than MinRetentionDays, as AWS does.
- StartCopyJob, DescribeCopyJob, ListCopyJobs: the snapshot, AMI or DB snapshot is copied into the destination
  vault's region, encrypted with the destination vault's key.
- StartRestoreJob, DescribeRestoreJob, ListRestoreJobs, PutRestoreValidationResult: a restore really creates the
  resource (a volume from the snapshot, an instance from the AMI, a DB instance from the DB snapshot). A restore
  runs for the seconds set with the control route ``backup/restore-durations`` (default 0): RUNNING until then,
  COMPLETED after, with CreatedResourceArn.
- Put/Get/DeleteBackupVaultAccessPolicy.
- Restore testing plans and selections (Create/Get/List/Update/Delete).

Control routes (AWS runs these on its own schedule): ``backup/run-plan`` runs a plan's rules now (a backup job
per selected resource and the rule's copy actions), ``backup/run-restore-test`` runs a restore testing plan now,
``backup/restore-durations`` sets how long restores take.

Copies and restores made here carry the tags ``cloudops:source-resource`` (the protected resource's ARN) so
the DR region's copies can be traced back.
"""

import contextlib
import copy
import datetime
import fnmatch
import json
import logging
import random
import re
import threading
import uuid

from sandbox.additions import (
    AdditionError,
    ControlError,
    addition,
    backup_selections,
    control,
    kms_policies,
    on_reset,
)

log = logging.getLogger(__name__)
_lock = threading.RLock()
# account -> state
_STATE: dict[str, dict] = {}

_RESOURCE_TYPES = {"volume": "EBS", "instance": "EC2", "db": "RDS"}
# The service that uses a recovery point's key when AWS Backup copies or restores it with the job's role.
_KMS_SERVICE = {"EBS": "ec2", "EC2": "ec2", "RDS": "rds"}
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/.+$")


def _state(account: str) -> dict:
    return _STATE.setdefault(
        account,
        {
            "recovery_points": {},  # arn -> record
            "backup_jobs": {},
            "copy_jobs": {},
            "restore_jobs": {},
            "vault_policies": {},  # (region, vault) -> policy
            "durations": {},  # resource ARN or type -> seconds
            "testing_plans": {},  # (region, name) -> plan
            "testing_selections": {},  # (region, plan, name) -> selection
        },
    )


@on_reset
def _clear() -> None:
    with _lock:
        _STATE.clear()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _backend(service: str, account: str, region: str):
    from moto.backends import get_backend

    return get_backend(service)[account][region]


def _invalid(message: str) -> AdditionError:
    return AdditionError("InvalidParameterValueException", message)


def _not_found(message: str) -> AdditionError:
    return AdditionError("ResourceNotFoundException", message)


def _missing(name: str) -> AdditionError:
    return AdditionError("MissingParameterValueException", f"{name} is required")


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _parse_resource_arn(arn: str) -> tuple[str, str, str]:
    """(region, resource type EBS/EC2/RDS, resource id) of a protected resource's ARN."""
    match = re.match(r"^arn:aws[a-z-]*:(ec2|rds):([a-z0-9-]+):(\d{12}):(volume/|instance/|db:)(.+)$", arn or "")
    if not match:
        raise _invalid(f"Invalid resource ARN {arn!r}: an EBS volume, EC2 instance or RDS DB instance ARN")
    kind = match.group(4).rstrip("/:")
    return match.group(2), _RESOURCE_TYPES[kind], match.group(5)


def _resource_arn(region: str, account: str, rtype: str, resource_id: str) -> str:
    part = _partition(region)
    if rtype == "EBS":
        return f"arn:{part}:ec2:{region}:{account}:volume/{resource_id}"
    if rtype == "EC2":
        return f"arn:{part}:ec2:{region}:{account}:instance/{resource_id}"
    return f"arn:{part}:rds:{region}:{account}:db:{resource_id}"


def _vault(account: str, region: str, name: str):
    vault = _backend("backup", account, region).vaults.get(name)
    if vault is None:
        raise _not_found(f"Backup vault {name} not found in {region}")
    return vault


def _vault_by_arn(account: str, arn: str):
    match = re.match(r"^arn:aws[a-z-]*:backup:([a-z0-9-]+):(\d{12}):backup-vault:(.+)$", arn or "")
    if not match:
        raise _invalid(f"Invalid backup vault ARN {arn!r}")
    return match.group(1), _vault(match.group(2), match.group(1), match.group(3))


def _check_role(account: str, role: str) -> None:
    if not role:
        raise _missing("IamRoleArn")
    if not _ROLE_ARN.match(role):
        raise _invalid(f"Invalid ARN: {role}")
    try:
        _backend("iam", account, "global").get_role_by_arn(role)
    except Exception:  # moto's IAMNotFoundException
        raise _invalid(f"IAM Role {role} does not exist or cannot be assumed by backup.amazonaws.com") from None


def _check_lifecycle(vault, lifecycle: dict | None) -> str | None:
    """Why a locked vault refuses this lifecycle, or None."""
    if not getattr(vault, "locked", False):
        return None
    days = (lifecycle or {}).get("DeleteAfterDays")
    if vault.min_retention_days is not None and days is not None and days < vault.min_retention_days:
        return (
            f"The retention of {days} days is below the vault lock's MinRetentionDays "
            f"{vault.min_retention_days} of vault {vault.backup_vault_name}"
        )
    if vault.max_retention_days is not None and (days is None or days > vault.max_retention_days):
        return (
            f"The retention of {days if days is not None else 'forever'} is above the vault lock's MaxRetentionDays "
            f"{vault.max_retention_days} of vault {vault.backup_vault_name}"
        )
    return None


def _calculated(created: datetime.datetime, lifecycle: dict | None) -> dict:
    out = {}
    lifecycle = lifecycle or {}
    if lifecycle.get("MoveToColdStorageAfterDays") is not None:
        out["MoveToColdStorageAt"] = created + datetime.timedelta(days=int(lifecycle["MoveToColdStorageAfterDays"]))
    if lifecycle.get("DeleteAfterDays") is not None:
        out["DeleteAt"] = created + datetime.timedelta(days=int(lifecycle["DeleteAfterDays"]))
    return out


def _ec2_tags(obj) -> dict:
    return {tag["key"]: tag["value"] for tag in obj.get_tags()} if hasattr(obj, "get_tags") else {}


def _add_ec2_tags(ec2, resource_id: str, tags: dict) -> None:
    if tags:
        ec2.create_tags([resource_id], {k: str(v) for k, v in tags.items()})


# --- backing up, copying, restoring in moto ---------------------------------------------------------------


def _backup_resource(account: str, region: str, rtype: str, resource_id: str, job_id: str, tags: dict) -> dict:
    """Create the snapshot / AMI / DB snapshot of a resource; what the recovery point records about it."""
    part = _partition(region)
    if rtype == "EBS":
        ec2 = _backend("ec2", account, region)
        volume = ec2.get_volume(resource_id)
        snap = ec2.create_snapshot(resource_id, f"This snapshot is created by the AWS Backup service. Job {job_id}")
        _add_ec2_tags(ec2, snap.id, {**_ec2_tags(volume), **tags, "cloudops:source-volume": resource_id})
        return {
            "arn": f"arn:{part}:ec2:{region}::snapshot/{snap.id}",
            "size": int(volume.size) * 1024**3,
            "encrypted": bool(snap.encrypted),
            "key": snap.kms_key_id or volume.kms_key_id,
            "name": _ec2_tags(volume).get("Name"),
        }
    if rtype == "EC2":
        ec2 = _backend("ec2", account, region)
        instance = ec2.get_instance(resource_id)
        ami = ec2.create_image(
            resource_id, f"AwsBackup_{resource_id}_{job_id[:8]}", f"AWS Backup of {resource_id} (job {job_id})", []
        )
        _add_ec2_tags(ec2, ami.id, {**_ec2_tags(instance), **tags, "cloudops:source-instance": resource_id})
        return {
            "arn": f"arn:{part}:ec2:{region}::image/{ami.id}",
            "size": 8 * 1024**3,
            "encrypted": bool(ami.ebs_snapshot.encrypted),
            "key": ami.ebs_snapshot.kms_key_id,
            "name": _ec2_tags(instance).get("Name"),
        }
    rds = _backend("rds", account, region)
    database = rds.databases.get(resource_id)
    if database is None:
        raise _invalid(f"DB instance {resource_id} not found in {region}")
    snapshot_id = f"awsbackup:job-{job_id}".lower()
    snap = rds.create_db_snapshot(
        resource_id,
        snapshot_id,
        snapshot_type="awsbackup",
        tags=[{"Key": k, "Value": str(v)} for k, v in {**tags, "cloudops:source-db": resource_id}.items()],
    )
    return {
        "arn": snap.arn,
        "size": int(database.allocated_storage or 20) * 1024**3,
        "encrypted": bool(snap.encrypted),
        "key": snap.kms_key_id,
        "name": resource_id,
    }


def _copy_backup(account: str, rp: dict, dest_region: str, dest_key: str | None, job_id: str) -> dict:
    """Copy a recovery point's snapshot / AMI / DB snapshot into ``dest_region``, encrypted with ``dest_key``."""
    src_region = rp["Region"]
    part = _partition(dest_region)
    source_tags = {
        "cloudops:source-resource": rp["ResourceArn"],
        "cloudops:source-recovery-point": rp["RecoveryPointArn"],
    }
    rtype = rp["ResourceType"]
    if rtype == "EBS":
        ec2 = _backend("ec2", account, dest_region)
        src_id = rp["RecoveryPointArn"].rsplit("/", 1)[1]
        src = _backend("ec2", account, src_region).get_snapshot(src_id)
        snap = ec2.copy_snapshot(src_id, src_region, f"AWS Backup copy of {src_id} (job {job_id})", dest_key)
        snap.encrypted = True
        snap.kms_key_id = dest_key
        _add_ec2_tags(ec2, snap.id, {**_ec2_tags(src), **source_tags})
        return {"arn": f"arn:{part}:ec2:{dest_region}::snapshot/{snap.id}", "encrypted": True, "key": dest_key}
    if rtype == "EC2":
        ec2 = _backend("ec2", account, dest_region)
        src_id = rp["RecoveryPointArn"].rsplit("/", 1)[1]
        src = _backend("ec2", account, src_region).amis[src_id]
        ami = ec2.copy_image(src_id, src_region, src.name, f"AWS Backup copy of {src_id} (job {job_id})")
        ami.ebs_snapshot.encrypted = True
        ami.ebs_snapshot.kms_key_id = dest_key
        _add_ec2_tags(ec2, ami.id, {**_ec2_tags(src), **source_tags})
        return {"arn": f"arn:{part}:ec2:{dest_region}::image/{ami.id}", "encrypted": True, "key": dest_key}
    from moto.rds.models import DBSnapshot

    src_rds = _backend("rds", account, src_region)
    src = src_rds.database_snapshots[rp["RecoveryPointArn"].split(":snapshot:", 1)[1].lower()]
    rds = _backend("rds", account, dest_region)
    target = f"awsbackup:copyjob-{job_id}".lower()
    tags = list(src.tags or []) + [{"Key": k, "Value": v} for k, v in source_tags.items()]
    snap = DBSnapshot(rds, src.database, target, snapshot_type="awsbackup", tags=tags, kms_key_id=dest_key)
    snap.storage_encrypted = snap.encrypted = True
    # the source's subnet group does not exist in the destination region: a restore there names its own
    snap.database._db_subnet_group_name = None
    rds.database_snapshots[target] = snap
    return {"arn": snap.arn, "encrypted": True, "key": dest_key}


def _restore(account: str, rp: dict, metadata: dict, copy_tags: bool, job_id: str) -> str:
    """Create the resource from a recovery point; the created resource's ARN."""
    region = rp["Region"]
    part = _partition(region)
    rtype = rp["ResourceType"]
    restore_tags = {"cloudops:restore-job": job_id, "cloudops:source-resource": rp["ResourceArn"]}
    if rtype == "EBS":
        ec2 = _backend("ec2", account, region)
        snap = ec2.get_snapshot(rp["RecoveryPointArn"].rsplit("/", 1)[1])
        encrypted = str(metadata.get("encrypted", snap.encrypted)).lower() == "true"
        key = metadata.get("kmsKeyId") or (snap.kms_key_id if encrypted else None)
        volume = ec2.create_volume(
            size=int(metadata.get("volumeSize") or snap.volume.size),
            zone_name=metadata.get("availabilityZone") or f"{region}a",
            snapshot_id=snap.id,
            encrypted=encrypted or bool(key),
            kms_key_id=key,
            volume_type=metadata.get("volumeType") or "gp3",
        )
        tags = {**(_ec2_tags(snap) if copy_tags else {}), **restore_tags}
        _add_ec2_tags(ec2, volume.id, {k: v for k, v in tags.items() if not k.startswith("aws:")})
        return f"arn:{part}:ec2:{region}:{account}:volume/{volume.id}"
    if rtype == "EC2":
        ec2 = _backend("ec2", account, region)
        ami = ec2.amis.get(rp["RecoveryPointArn"].rsplit("/", 1)[1])
        if ami is None:
            raise _invalid(f"The image of recovery point {rp['RecoveryPointArn']} no longer exists")
        groups = metadata.get("SecurityGroupIds")
        if isinstance(groups, str):
            try:
                groups = json.loads(groups)
            except ValueError:
                groups = [g for g in groups.split(",") if g]
        reservation = ec2.run_instances(
            ami.id,
            1,
            None,
            [],
            instance_type=metadata.get("InstanceType") or "t3.micro",
            is_instance_type_default=False,
            placement=metadata.get("AvailabilityZone"),
            region_name=region,
            subnet_id=metadata.get("SubnetId"),
            security_group_ids=groups or [],
            tags={},
            iam_instance_profile_name=metadata.get("IamInstanceProfileName"),
            metadata_options={"HttpTokens": "required"} if metadata.get("RequireIMDSv2") == "true" else {},
        )
        instance = reservation.instances[0]
        tags = {**(_ec2_tags(ami) if copy_tags else {}), **restore_tags}
        _add_ec2_tags(ec2, instance.id, {k: v for k, v in tags.items() if not k.startswith("aws:")})
        return f"arn:{part}:ec2:{region}:{account}:instance/{instance.id}"
    rds = _backend("rds", account, region)
    snapshot_id = rp["RecoveryPointArn"].split(":snapshot:", 1)[1].lower()
    target = metadata.get("DBInstanceIdentifier") or metadata.get("dbInstanceIdentifier")
    if not target:
        raise _invalid("RDS restore metadata needs DBInstanceIdentifier: the name of the new DB instance")
    if target in rds.databases:
        raise _invalid(f"DB instance {target} already exists in {region}")
    overrides = {
        "db_instance_identifier": target,
        "availability_zone": metadata.get("AvailabilityZone") or f"{region}a",
    }
    if metadata.get("DBSubnetGroupName"):
        overrides["db_subnet_group_name"] = metadata["DBSubnetGroupName"]
    if metadata.get("DBInstanceClass"):
        overrides["db_instance_class"] = metadata["DBInstanceClass"]
    if str(metadata.get("MultiAZ", "")).lower() == "true":
        overrides["multi_az"] = True
    snapshot = rds.database_snapshots.get(snapshot_id)
    if snapshot is None:
        raise _invalid(f"The DB snapshot of recovery point {rp['RecoveryPointArn']} no longer exists")
    # moto restores from "manual" and "automated" snapshots only; AWS Backup's are of type "awsbackup"
    kind, snapshot.snapshot_type = snapshot.snapshot_type, "manual"
    try:
        database = rds.restore_db_instance_from_db_snapshot(snapshot_id, overrides)
    finally:
        snapshot.snapshot_type = kind
    tags = list(rds.database_snapshots[snapshot_id].tags or []) if copy_tags else []
    database.tags = [t for t in tags if not t["Key"].startswith("aws:")] + [
        {"Key": k, "Value": v} for k, v in restore_tags.items()
    ]
    return database.arn


def _restore_metadata(account: str, rp: dict) -> dict:
    """What AWS Backup answers as a recovery point's restore metadata (strings only)."""
    region = rp["Region"]
    rtype = rp["ResourceType"]
    source_id = rp["ResourceArn"].rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if rtype == "EBS":
        ec2 = _backend("ec2", account, region)
        snap = ec2.get_snapshot(rp["RecoveryPointArn"].rsplit("/", 1)[1])
        meta = {
            "volumeId": source_id,
            "volumeSize": str(snap.volume.size),
            "volumeType": getattr(snap.volume, "volume_type", None) or "gp3",
            "availabilityZone": (getattr(snap.volume, "zone", None) and snap.volume.zone.name) or f"{region}a",
            "encrypted": str(bool(snap.encrypted)).lower(),
        }
        if snap.kms_key_id:
            meta["kmsKeyId"] = snap.kms_key_id
        if meta["availabilityZone"][:-1] != region:
            meta["availabilityZone"] = f"{region}a"
        return meta
    if rtype == "EC2":
        meta = {"InstanceType": "t3.micro", "RequireIMDSv2": "true"}
        try:
            src_region, _, instance_id = _parse_resource_arn(rp["ResourceArn"])
            instance = _backend("ec2", account, src_region).get_instance(instance_id)
            meta["InstanceType"] = instance.instance_type
            if src_region == region:
                meta["SubnetId"] = instance.subnet_id or ""
                meta["SecurityGroupIds"] = json.dumps([g.id for g in instance.security_groups])
                meta["AvailabilityZone"] = getattr(instance.placement, "zone", None) or ""
        except Exception as error:  # the instance is gone: restore with the defaults
            log.info("restore metadata of %s without its instance: %s", rp["RecoveryPointArn"], error)
        return {k: v for k, v in meta.items() if v}
    snapshot_id = rp["RecoveryPointArn"].split(":snapshot:", 1)[1].lower()
    snap = _backend("rds", account, region).database_snapshots.get(snapshot_id)
    meta = {"DBInstanceIdentifier": source_id, "Engine": "", "DBInstanceClass": "", "MultiAZ": "false"}
    if snap is not None:
        meta.update(
            Engine=snap.engine or "",
            DBInstanceClass=getattr(snap.database, "db_instance_class", "") or "",
            MultiAZ=str(bool(getattr(snap.database, "multi_az", False))).lower(),
        )
    return {k: v for k, v in meta.items() if v}


# --- records ---------------------------------------------------------------------------------------------


def _rp_out(rp: dict, fields: tuple[str, ...] | None = None) -> dict:
    out = {k: copy.deepcopy(v) for k, v in rp.items() if k not in ("Region", "Tags") and v is not None}
    if fields is not None:
        out = {k: v for k, v in out.items() if k in fields}
    return out


_BY_VAULT = (
    "RecoveryPointArn",
    "BackupVaultName",
    "BackupVaultArn",
    "SourceBackupVaultArn",
    "ResourceArn",
    "ResourceType",
    "CreatedBy",
    "IamRoleArn",
    "Status",
    "StatusMessage",
    "CreationDate",
    "InitiationDate",
    "CompletionDate",
    "BackupSizeInBytes",
    "CalculatedLifecycle",
    "Lifecycle",
    "EncryptionKeyArn",
    "IsEncrypted",
    "LastRestoreTime",
    "ResourceName",
    "VaultType",
)


def _count(vault, delta: int) -> None:
    """Keep moto's vault's recovery point count (answered by ListBackupVaults and DescribeBackupVault)."""
    vault.num_of_recovery_points = max(0, (getattr(vault, "num_of_recovery_points", 0) or 0) + delta)
    vault.number_of_recovery_points = vault.num_of_recovery_points


def _record_recovery_point(
    account, region, vault, resource_arn, rtype, made, lifecycle, role, created_by, tags, source_vault=None
):
    now = _now()
    rp = {
        "RecoveryPointArn": made["arn"],
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "SourceBackupVaultArn": source_vault,
        "ResourceArn": resource_arn,
        "ResourceType": rtype,
        "CreatedBy": created_by or None,
        "IamRoleArn": role,
        "Status": "COMPLETED",
        "CreationDate": now,
        "InitiationDate": now,
        "CompletionDate": now,
        "BackupSizeInBytes": made.get("size", 0),
        "CalculatedLifecycle": _calculated(now, lifecycle) or None,
        "Lifecycle": copy.deepcopy(lifecycle) or None,
        "EncryptionKeyArn": made.get("key") or None,
        "IsEncrypted": bool(made.get("encrypted")),
        "StorageClass": "WARM",
        "ResourceName": made.get("name") or None,
        "VaultType": "BACKUP_VAULT",
        "Region": region,
        "Tags": dict(tags or {}),
    }
    _state(account)["recovery_points"][made["arn"]] = rp
    _count(vault, 1)
    return rp


def start_backup(account, region, vault_name, resource_arn, role, lifecycle, tags, created_by=None) -> dict:
    """Run a backup job now (AWS Backup's StartBackupJob, or a plan rule); the job record."""
    vault = _vault(account, region, vault_name)
    res_region, rtype, resource_id = _parse_resource_arn(resource_arn)
    if res_region != region:
        raise _invalid(f"Resource {resource_arn} is not in the vault's region {region}")
    _check_role(account, role)
    job_id = str(uuid.uuid4()).upper()
    now = _now()
    job = {
        "AccountId": account,
        "BackupJobId": job_id,
        "BackupVaultName": vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "ResourceArn": resource_arn,
        "ResourceType": rtype,
        "CreationDate": now,
        "StartBy": now + datetime.timedelta(hours=8),
        "IamRoleArn": role,
        "BackupType": "",
        "PercentDone": "100.0",
        "VaultType": "BACKUP_VAULT",
        "VaultLockState": "LOCKED" if getattr(vault, "locked", False) else None,
        "Region": region,
    }
    if created_by:
        job["CreatedBy"] = created_by
    if lifecycle:
        job["RecoveryPointLifecycle"] = copy.deepcopy(lifecycle)
    refused = _check_lifecycle(vault, lifecycle)
    if refused:
        job.update(State="FAILED", StatusMessage=refused, CompletionDate=now)
    else:
        try:
            made = _backup_resource(account, region, rtype, resource_id, job_id, tags or {})
        except AdditionError:
            raise
        except Exception as error:  # moto refused: the resource is gone
            job.update(State="FAILED", StatusMessage=f"{type(error).__name__}: {error}", CompletionDate=now)
        else:
            rp = _record_recovery_point(
                account, region, vault, resource_arn, rtype, made, lifecycle, role, created_by, tags
            )
            job.update(
                State="COMPLETED",
                CompletionDate=now,
                RecoveryPointArn=rp["RecoveryPointArn"],
                BackupSizeInBytes=rp["BackupSizeInBytes"],
                BytesTransferred=rp["BackupSizeInBytes"],
                IsEncrypted=rp["IsEncrypted"],
                ResourceName=rp.get("ResourceName"),
            )
            if rp.get("EncryptionKeyArn"):
                job["EncryptionKeyArn"] = rp["EncryptionKeyArn"]
    _state(account)["backup_jobs"][job_id] = job
    return job


def start_copy(
    account, region, rp_arn, source_vault_name, dest_vault_arn, role, lifecycle, created_by=None, backup_job_id=None
) -> dict:
    state = _state(account)
    rp = state["recovery_points"].get(rp_arn)
    if rp is None or rp["Region"] != region or rp["BackupVaultName"] != source_vault_name:
        raise _not_found(f"Recovery point {rp_arn} not found in vault {source_vault_name}")
    _check_role(account, role)
    dest_region, dest_vault = _vault_by_arn(account, dest_vault_arn)
    job_id = str(uuid.uuid4()).upper()
    now = _now()
    job = {
        "AccountId": account,
        "CopyJobId": job_id,
        "SourceBackupVaultArn": rp["BackupVaultArn"],
        "SourceRecoveryPointArn": rp_arn,
        "DestinationBackupVaultArn": dest_vault.backup_vault_arn,
        "DestinationVaultType": "BACKUP_VAULT",
        "ResourceArn": rp["ResourceArn"],
        "ResourceType": rp["ResourceType"],
        "CreationDate": now,
        "IamRoleArn": role,
        "BackupSizeInBytes": rp["BackupSizeInBytes"],
        "Region": region,
    }
    if getattr(dest_vault, "locked", False):
        job["DestinationVaultLockState"] = "LOCKED"
    if lifecycle:
        job["DestinationRecoveryPointLifecycle"] = copy.deepcopy(lifecycle)
    if created_by:
        job["CreatedBy"] = created_by
    if backup_job_id:
        job["CreatedByBackupJobId"] = backup_job_id
    if rp.get("ResourceName"):
        job["ResourceName"] = rp["ResourceName"]
    refused = _check_lifecycle(dest_vault, lifecycle) or kms_policies.refusal(
        account,
        role,
        [
            (region, rp.get("EncryptionKeyArn"), kms_policies.READ_ACTIONS),
            (dest_region, dest_vault.encryption_key_arn, kms_policies.WRITE_ACTIONS),
        ],
        _KMS_SERVICE.get(rp["ResourceType"], "backup"),
    )
    if refused:
        job.update(State="FAILED", StatusMessage=refused, CompletionDate=now)
    else:
        made = _copy_backup(account, rp, dest_region, dest_vault.encryption_key_arn, job_id)
        made.update(size=rp["BackupSizeInBytes"], name=rp.get("ResourceName"))
        copied = _record_recovery_point(
            account,
            dest_region,
            dest_vault,
            rp["ResourceArn"],
            rp["ResourceType"],
            made,
            lifecycle,
            role,
            created_by,
            rp.get("Tags"),
            source_vault=rp["BackupVaultArn"],
        )
        job.update(
            State="COMPLETED",
            CompletionDate=now,
            DestinationRecoveryPointArn=copied["RecoveryPointArn"],
        )
        if dest_vault.encryption_key_arn:
            job["DestinationEncryptionKeyArn"] = dest_vault.encryption_key_arn
    state["copy_jobs"][job_id] = job
    return job


def _duration(account: str, rp: dict) -> float:
    durations = _state(account)["durations"]
    for key in (rp["ResourceArn"], rp["RecoveryPointArn"], rp["ResourceType"], "*"):
        if key in durations:
            return float(durations[key])
    return 0.0


def start_restore(
    account, region, rp_arn, metadata, role, resource_type=None, copy_tags=False, created_by=None
) -> dict:
    state = _state(account)
    rp = state["recovery_points"].get(rp_arn)
    if rp is None or rp["Region"] != region:
        raise _not_found(f"Recovery point {rp_arn} not found in {region}")
    _check_role(account, role)
    if resource_type and resource_type != rp["ResourceType"]:
        raise _invalid(f"ResourceType {resource_type} does not match the recovery point's {rp['ResourceType']}")
    job_id = uuid.uuid4().hex[:32].upper()
    now = _now()
    job = {
        "AccountId": account,
        "RestoreJobId": job_id,
        "RecoveryPointArn": rp_arn,
        "SourceResourceArn": rp["ResourceArn"],
        "BackupVaultArn": rp["BackupVaultArn"],
        "CreationDate": now,
        "BackupSizeInBytes": rp["BackupSizeInBytes"],
        "IamRoleArn": role,
        "ResourceType": rp["ResourceType"],
        "RecoveryPointCreationDate": rp["CreationDate"],
        "Seconds": _duration(account, rp),
        "Region": region,
    }
    if created_by:
        job["CreatedBy"] = created_by
    wanted_key = (metadata or {}).get("kmsKeyId")
    uses = [(region, rp.get("EncryptionKeyArn"), kms_policies.READ_ACTIONS)]
    if wanted_key and wanted_key != rp.get("EncryptionKeyArn"):
        uses.append((region, wanted_key, kms_policies.WRITE_ACTIONS))
    refused = kms_policies.refusal(account, role, uses, _KMS_SERVICE.get(rp["ResourceType"], "backup"))
    try:
        if refused:
            job["Failed"] = refused
        else:
            job["Created"] = _restore(account, rp, dict(metadata or {}), copy_tags, job_id)
    except AdditionError:
        raise
    except Exception as error:  # moto refused the restore
        job["Failed"] = f"{type(error).__name__}: {error}"
    rp["LastRestoreTime"] = now
    state["restore_jobs"][job_id] = job
    return job


def _restore_out(job: dict) -> dict:
    out = {k: v for k, v in job.items() if k not in ("Seconds", "Region", "Created", "Failed", "Validation")}
    elapsed = (_now() - job["CreationDate"]).total_seconds()
    if job.get("Failed"):
        out.update(Status="FAILED", StatusMessage=job["Failed"], CompletionDate=job["CreationDate"])
    elif elapsed < job["Seconds"]:
        out.update(
            Status="RUNNING",
            PercentDone=f"{100.0 * elapsed / job['Seconds']:.1f}",
            ExpectedCompletionTimeMinutes=max(1, int((job["Seconds"] - elapsed) // 60 + 1)),
        )
    else:
        out.update(
            Status="COMPLETED",
            PercentDone="100.0",
            CreatedResourceArn=job["Created"],
            CompletionDate=job["CreationDate"] + datetime.timedelta(seconds=job["Seconds"]),
        )
    if job.get("Validation"):
        out.update(job["Validation"])
    return out


def _job(ctx, kind: str, id_param: str) -> dict:
    job_id = ctx.require(id_param)
    job = _state(ctx.account_id)[kind].get(job_id)
    if job is None or job["Region"] != ctx.region:
        raise _not_found(f"{id_param} {job_id} not found")
    return job


def _page(ctx, items: list, key: str) -> dict:
    size = int(ctx.param("MaxResults", 1000))
    if size < 1 or size > 1000:
        raise _invalid("MaxResults must be between 1 and 1000")
    start = 0
    token = ctx.param("NextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise _invalid("The NextToken is not valid") from None
    out = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _filter_dates(items, ctx, created="CreationDate"):
    before, after = ctx.param("ByCreatedBefore"), ctx.param("ByCreatedAfter")
    return [
        i
        for i in items
        if (before is None or i[created] < _aware(before)) and (after is None or i[created] > _aware(after))
    ]


def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value


# --- examples ---------------------------------------------------------------------------------------------


def _example_role(client) -> str:
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    iam = client("iam")
    try:
        return iam.get_role(RoleName="example-backup-role")["Role"]["Arn"]
    except Exception:  # first use
        return iam.create_role(RoleName="example-backup-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]


def _example_volume(client) -> str:
    ec2 = client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    return f"arn:aws:ec2:us-east-1:123456789012:volume/{volume}"


def _example_vault(client, name="example-vault") -> str:
    backup = client("backup")
    for vault in backup.list_backup_vaults()["BackupVaultList"]:
        if vault["BackupVaultName"] == name:
            return vault["BackupVaultArn"]
    return backup.create_backup_vault(BackupVaultName=name)["BackupVaultArn"]


def _example_start(client) -> dict:
    _example_vault(client)
    return {
        "BackupVaultName": "example-vault",
        "ResourceArn": _example_volume(client),
        "IamRoleArn": _example_role(client),
        "Lifecycle": {"DeleteAfterDays": 35},
        "RecoveryPointTags": {"Project": "example"},
    }


def _example_job(client) -> dict:
    return client("backup").start_backup_job(**_example_start(client))


def _example_rp(client) -> dict:
    job = _example_job(client)
    return {"BackupVaultName": "example-vault", "RecoveryPointArn": job["RecoveryPointArn"]}


def _example_copy(client) -> dict:
    rp = _example_rp(client)
    dest = _example_vault(client, "example-vault-2")
    return {
        "RecoveryPointArn": rp["RecoveryPointArn"],
        "SourceBackupVaultName": "example-vault",
        "DestinationBackupVaultArn": dest,
        "IamRoleArn": _example_role(client),
    }


def _example_restore(client) -> dict:
    rp = _example_rp(client)
    return {
        "RecoveryPointArn": rp["RecoveryPointArn"],
        "Metadata": {"availabilityZone": "us-east-1a", "encrypted": "false"},
        "IamRoleArn": _example_role(client),
        "ResourceType": "EBS",
    }


# --- backup jobs ----------------------------------------------------------------------------------------


@addition("backup", "StartBackupJob", example=_example_start)
def start_backup_job(ctx):
    vault_name = ctx.param("BackupVaultName")
    if not vault_name:
        raise _missing("BackupVaultName")
    resource = ctx.param("ResourceArn")
    if not resource:
        raise _missing("ResourceArn")
    with _lock:
        token = ctx.param("IdempotencyToken")
        if token:
            for job in _state(ctx.account_id)["backup_jobs"].values():
                if job.get("IdempotencyToken") == token:
                    return _start_answer(job)
        job = start_backup(
            ctx.account_id,
            ctx.region,
            vault_name,
            resource,
            ctx.param("IamRoleArn"),
            ctx.param("Lifecycle"),
            ctx.param("RecoveryPointTags"),
        )
        if token:
            job["IdempotencyToken"] = token
    return _start_answer(job)


def _start_answer(job: dict) -> dict:
    out = {"BackupJobId": job["BackupJobId"], "CreationDate": job["CreationDate"], "IsParent": False}
    if job.get("RecoveryPointArn"):
        out["RecoveryPointArn"] = job["RecoveryPointArn"]
    return out


def _backup_job_out(job: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in job.items() if k not in ("Region", "IdempotencyToken") and v is not None}


@addition("backup", "DescribeBackupJob", example=lambda client: {"BackupJobId": _example_job(client)["BackupJobId"]})
def describe_backup_job(ctx):
    with _lock:
        return _backup_job_out(_job(ctx, "backup_jobs", "BackupJobId"))


@addition("backup", "ListBackupJobs", example={})
def list_backup_jobs(ctx):
    with _lock:
        jobs = [j for j in _state(ctx.account_id)["backup_jobs"].values() if j["Region"] == ctx.region]
    for param, field in (
        ("ByResourceArn", "ResourceArn"),
        ("ByState", "State"),
        ("ByBackupVaultName", "BackupVaultName"),
        ("ByResourceType", "ResourceType"),
    ):
        if ctx.param(param):
            jobs = [j for j in jobs if j.get(field) == ctx.params[param]]
    jobs = sorted(_filter_dates(jobs, ctx), key=lambda j: j["CreationDate"], reverse=True)
    return _page(ctx, [_backup_job_out(j) for j in jobs], "BackupJobs")


# --- recovery points -------------------------------------------------------------------------------------


def _rp(ctx) -> dict:
    vault_name = ctx.require("BackupVaultName")
    arn = ctx.require("RecoveryPointArn")
    _vault(ctx.account_id, ctx.region, vault_name)
    rp = _state(ctx.account_id)["recovery_points"].get(arn)
    if rp is None or rp["Region"] != ctx.region or rp["BackupVaultName"] != vault_name:
        raise _not_found(f"Recovery point {arn} not found in vault {vault_name}")
    return rp


@addition("backup", "DescribeRecoveryPoint", example=_example_rp)
def describe_recovery_point(ctx):
    with _lock:
        return _rp_out(_rp(ctx))


@addition(
    "backup",
    "ListRecoveryPointsByBackupVault",
    example=lambda client: {"BackupVaultName": _example_rp(client)["BackupVaultName"]},
)
def list_recovery_points_by_backup_vault(ctx):
    vault_name = ctx.require("BackupVaultName")
    with _lock:
        _vault(ctx.account_id, ctx.region, vault_name)
        points = [
            rp
            for rp in _state(ctx.account_id)["recovery_points"].values()
            if rp["Region"] == ctx.region and rp["BackupVaultName"] == vault_name
        ]
    if ctx.param("ByResourceArn"):
        points = [rp for rp in points if rp["ResourceArn"] == ctx.params["ByResourceArn"]]
    if ctx.param("ByResourceType"):
        points = [rp for rp in points if rp["ResourceType"] == ctx.params["ByResourceType"]]
    if ctx.param("ByBackupPlanId"):
        points = [
            rp for rp in points if (rp.get("CreatedBy") or {}).get("BackupPlanId") == ctx.params["ByBackupPlanId"]
        ]
    points = sorted(_filter_dates(points, ctx), key=lambda rp: rp["CreationDate"], reverse=True)
    return _page(ctx, [_rp_out(rp, _BY_VAULT) for rp in points], "RecoveryPoints")


_BY_RESOURCE = (
    "RecoveryPointArn",
    "CreationDate",
    "Status",
    "StatusMessage",
    "EncryptionKeyArn",
    "BackupVaultName",
    "ResourceName",
    "VaultType",
)


@addition(
    "backup",
    "ListRecoveryPointsByResource",
    example=lambda client: {"ResourceArn": _example_start(client)["ResourceArn"]},
)
def list_recovery_points_by_resource(ctx):
    arn = ctx.require("ResourceArn")
    with _lock:
        points = [
            rp
            for rp in _state(ctx.account_id)["recovery_points"].values()
            if rp["Region"] == ctx.region and rp["ResourceArn"] == arn
        ]
    out = []
    for rp in sorted(points, key=lambda rp: rp["CreationDate"], reverse=True):
        member = _rp_out(rp, _BY_RESOURCE)
        member["BackupSizeBytes"] = rp["BackupSizeInBytes"]
        out.append(member)
    return _page(ctx, out, "RecoveryPoints")


@addition("backup", "GetRecoveryPointRestoreMetadata", example=_example_rp)
def get_recovery_point_restore_metadata(ctx):
    with _lock:
        rp = _rp(ctx)
        return {
            "BackupVaultArn": rp["BackupVaultArn"],
            "RecoveryPointArn": rp["RecoveryPointArn"],
            "RestoreMetadata": _restore_metadata(ctx.account_id, rp),
            "ResourceType": rp["ResourceType"],
        }


@addition("backup", "DeleteRecoveryPoint", example=_example_rp)
def delete_recovery_point(ctx):
    with _lock:
        rp = _rp(ctx)
        vault = _vault(ctx.account_id, ctx.region, rp["BackupVaultName"])
        if getattr(vault, "locked", False) and vault.min_retention_days:
            age = _now() - rp["CreationDate"]
            if age < datetime.timedelta(days=vault.min_retention_days):
                raise AdditionError(
                    "InvalidRequestException",
                    f"Recovery point {rp['RecoveryPointArn']} is protected by the vault lock of "
                    f"{vault.backup_vault_name} until it is {vault.min_retention_days} days old",
                )
        policy = _state(ctx.account_id)["vault_policies"].get((ctx.region, rp["BackupVaultName"]))
        if policy and _denies_delete(policy):
            raise AdditionError(
                "AccessDeniedException",
                f"The access policy of vault {rp['BackupVaultName']} denies backup:DeleteRecoveryPoint",
                403,
            )
        _delete_backing(ctx.account_id, rp)
        del _state(ctx.account_id)["recovery_points"][rp["RecoveryPointArn"]]
        _count(vault, -1)
    return {}


def _denies_delete(policy: str) -> bool:
    try:
        statements = json.loads(policy).get("Statement", [])
    except ValueError:
        return False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Deny" and any(fnmatch.fnmatch("backup:DeleteRecoveryPoint", a) for a in actions):
            return True
    return False


def _delete_backing(account: str, rp: dict) -> None:
    region = rp["Region"]
    try:
        if rp["ResourceType"] == "EBS":
            _backend("ec2", account, region).delete_snapshot(rp["RecoveryPointArn"].rsplit("/", 1)[1])
        elif rp["ResourceType"] == "EC2":
            _backend("ec2", account, region).deregister_image(rp["RecoveryPointArn"].rsplit("/", 1)[1])
        else:
            _backend("rds", account, region).delete_db_snapshot(
                rp["RecoveryPointArn"].split(":snapshot:", 1)[1].lower()
            )
    except Exception as error:  # already gone in moto
        log.info("backing of %s already gone: %s", rp["RecoveryPointArn"], error)


# --- copy jobs ------------------------------------------------------------------------------------------


@addition("backup", "StartCopyJob", example=_example_copy)
def start_copy_job(ctx):
    for name in ("RecoveryPointArn", "SourceBackupVaultName", "DestinationBackupVaultArn", "IamRoleArn"):
        if not ctx.param(name):
            raise _missing(name)
    with _lock:
        job = start_copy(
            ctx.account_id,
            ctx.region,
            ctx.params["RecoveryPointArn"],
            ctx.params["SourceBackupVaultName"],
            ctx.params["DestinationBackupVaultArn"],
            ctx.params["IamRoleArn"],
            ctx.param("Lifecycle"),
        )
    return {"CopyJobId": job["CopyJobId"], "CreationDate": job["CreationDate"], "IsParent": False}


def _copy_out(job: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in job.items() if k != "Region" and v is not None}


@addition(
    "backup",
    "DescribeCopyJob",
    example=lambda client: {"CopyJobId": client("backup").start_copy_job(**_example_copy(client))["CopyJobId"]},
)
def describe_copy_job(ctx):
    with _lock:
        return {"CopyJob": _copy_out(_job(ctx, "copy_jobs", "CopyJobId"))}


@addition("backup", "ListCopyJobs", example={})
def list_copy_jobs(ctx):
    with _lock:
        jobs = [j for j in _state(ctx.account_id)["copy_jobs"].values() if j["Region"] == ctx.region]
    for param, field in (
        ("ByResourceArn", "ResourceArn"),
        ("ByState", "State"),
        ("ByResourceType", "ResourceType"),
        ("ByDestinationVaultArn", "DestinationBackupVaultArn"),
        ("BySourceRecoveryPointArn", "SourceRecoveryPointArn"),
    ):
        if ctx.param(param):
            jobs = [j for j in jobs if j.get(field) == ctx.params[param]]
    jobs = sorted(_filter_dates(jobs, ctx), key=lambda j: j["CreationDate"], reverse=True)
    return _page(ctx, [_copy_out(j) for j in jobs], "CopyJobs")


# --- restore jobs ---------------------------------------------------------------------------------------


@addition("backup", "StartRestoreJob", example=_example_restore)
def start_restore_job(ctx):
    arn = ctx.param("RecoveryPointArn")
    if not arn:
        raise _missing("RecoveryPointArn")
    metadata = ctx.param("Metadata")
    if metadata is None:
        raise _missing("Metadata")
    with _lock:
        token = ctx.param("IdempotencyToken")
        if token:
            for job in _state(ctx.account_id)["restore_jobs"].values():
                if job.get("IdempotencyToken") == token:
                    return {"RestoreJobId": job["RestoreJobId"]}
        job = start_restore(
            ctx.account_id,
            ctx.region,
            arn,
            metadata,
            ctx.param("IamRoleArn"),
            ctx.param("ResourceType"),
            bool(ctx.param("CopySourceTagsToRestoredResource", False)),
        )
        if token:
            job["IdempotencyToken"] = token
    return {"RestoreJobId": job["RestoreJobId"]}


def _restore_public(job: dict) -> dict:
    out = _restore_out(job)
    out.pop("IdempotencyToken", None)
    return out


@addition(
    "backup",
    "DescribeRestoreJob",
    example=lambda client: {
        "RestoreJobId": client("backup").start_restore_job(**_example_restore(client))["RestoreJobId"]
    },
)
def describe_restore_job(ctx):
    with _lock:
        return _restore_public(_job(ctx, "restore_jobs", "RestoreJobId"))


_LIST_RESTORE = (
    "AccountId",
    "RestoreJobId",
    "RecoveryPointArn",
    "SourceResourceArn",
    "BackupVaultArn",
    "CreationDate",
    "CompletionDate",
    "Status",
    "StatusMessage",
    "PercentDone",
    "BackupSizeInBytes",
    "IamRoleArn",
    "ExpectedCompletionTimeMinutes",
    "CreatedResourceArn",
    "ResourceType",
    "RecoveryPointCreationDate",
    "CreatedBy",
    "ValidationStatus",
    "ValidationStatusMessage",
)


@addition("backup", "ListRestoreJobs", example={})
def list_restore_jobs(ctx):
    with _lock:
        jobs = [
            _restore_public(j) for j in _state(ctx.account_id)["restore_jobs"].values() if j["Region"] == ctx.region
        ]
    if ctx.param("ByResourceType"):
        jobs = [j for j in jobs if j["ResourceType"] == ctx.params["ByResourceType"]]
    if ctx.param("ByStatus"):
        jobs = [j for j in jobs if j["Status"] == ctx.params["ByStatus"]]
    if ctx.param("ByRestoreTestingPlanArn"):
        jobs = [
            j
            for j in jobs
            if (j.get("CreatedBy") or {}).get("RestoreTestingPlanArn") == ctx.params["ByRestoreTestingPlanArn"]
        ]
    jobs = sorted(_filter_dates(jobs, ctx), key=lambda j: j["CreationDate"], reverse=True)
    return _page(ctx, [{k: v for k, v in j.items() if k in _LIST_RESTORE} for j in jobs], "RestoreJobs")


@addition(
    "backup",
    "PutRestoreValidationResult",
    example=lambda client: {
        "RestoreJobId": client("backup").start_restore_job(**_example_restore(client))["RestoreJobId"],
        "ValidationStatus": "SUCCESSFUL",
    },
)
def put_restore_validation_result(ctx):
    status = ctx.require("ValidationStatus")
    if status not in ("FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING"):
        raise _invalid(f"ValidationStatus {status!r} is not valid")
    with _lock:
        job = _job(ctx, "restore_jobs", "RestoreJobId")
        validation = {"ValidationStatus": status}
        if ctx.param("ValidationStatusMessage"):
            validation["ValidationStatusMessage"] = ctx.params["ValidationStatusMessage"]
        job["Validation"] = validation
    return {}


# --- vaults --------------------------------------------------------------------------------------------------


def _timestamp(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)


@addition("backup", "DescribeBackupVault", example=lambda client: {"BackupVaultName": _example_vault_quiet(client)})
def describe_backup_vault(ctx):
    """As AWS: a vault that does not exist answers AccessDeniedException (403), not ResourceNotFoundException
    (moto's answer), so callers that treat AccessDenied as "absent" (amazon.aws.backup_vault) work as on AWS."""
    name = ctx.require("BackupVaultName")
    vault = _backend("backup", ctx.account_id, ctx.region).vaults.get(name)
    if vault is None:
        raise AdditionError("AccessDeniedException", "Insufficient privileges to perform this action.", 403)
    out = {
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "CreationDate": _timestamp(vault.creation_date),
        "CreatorRequestId": vault.creator_request_id,
        "NumberOfRecoveryPoints": int(getattr(vault, "num_of_recovery_points", 0) or 0),
        "Locked": bool(vault.locked),
    }
    if vault.encryption_key_arn:
        out["EncryptionKeyArn"] = vault.encryption_key_arn
    for key, value in (
        ("MinRetentionDays", vault.min_retention_days),
        ("MaxRetentionDays", vault.max_retention_days),
        ("LockDate", _timestamp(vault.lock_date)),
    ):
        if value is not None:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


def _example_vault_quiet(client, name="example-vault") -> str:
    client("backup").create_backup_vault(BackupVaultName=name)
    return name


def _example_update_plan(client) -> dict:
    rule = {"RuleName": "daily", "TargetBackupVaultName": "example-vault"}
    _example_vault(client)
    plan_id = client("backup").create_backup_plan(BackupPlan={"BackupPlanName": "example-plan", "Rules": [rule]})[
        "BackupPlanId"
    ]
    return {
        "BackupPlanId": plan_id,
        "BackupPlan": {"BackupPlanName": "example-plan", "Rules": [{**rule, "Lifecycle": {"DeleteAfterDays": 35}}]},
    }


@addition("backup", "UpdateBackupPlan", example=_example_update_plan)
def update_backup_plan(ctx):
    """Replace a plan's rules (new version id, new rule ids, defaults filled in as CreateBackupPlan does)."""
    plan_id = ctx.require("BackupPlanId")
    body = ctx.require("BackupPlan")
    backend = _backend("backup", ctx.account_id, ctx.region)
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise _not_found(f"Backup plan {plan_id} not found")
    rules = copy.deepcopy(body.get("Rules") or [])
    if not rules:
        raise _missing("BackupPlan.Rules")
    for rule in rules:
        if not rule.get("RuleName") or not rule.get("TargetBackupVaultName"):
            raise _invalid("Each rule needs RuleName and TargetBackupVaultName")
        if rule["TargetBackupVaultName"] not in backend.vaults:
            raise _not_found(f"Backup vault {rule['TargetBackupVaultName']} not found")
        rule.setdefault("ScheduleExpression", "cron(0 5 ? * * *)")
        rule.setdefault("StartWindowMinutes", 480)
        rule.setdefault("CompletionWindowMinutes", 10080)
        rule.setdefault("ScheduleExpressionTimezone", "Etc/UTC")
        rule["RuleId"] = str(uuid.uuid4())
    plan.backup_plan = {**plan.backup_plan, **copy.deepcopy(body), "Rules": rules}
    plan.advanced_backup_settings = body.get("AdvancedBackupSettings") or []
    plan.version_id = uuid.uuid4().hex + uuid.uuid4().hex[:16]
    out = {
        "BackupPlanId": plan.backup_plan_id,
        "BackupPlanArn": plan.backup_plan_arn,
        "CreationDate": _timestamp(plan.creation_date),
        "VersionId": plan.version_id,
    }
    if plan.advanced_backup_settings:
        out["AdvancedBackupSettings"] = plan.advanced_backup_settings
    return out


# --- vault access policies ---------------------------------------------------------------------------------


def _example_policy(client) -> dict:
    arn = _example_vault(client)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint", "Resource": arn}],
    }
    return {"BackupVaultName": "example-vault", "Policy": json.dumps(policy)}


def _example_policy_set(client) -> dict:
    params = _example_policy(client)
    client("backup").put_backup_vault_access_policy(**params)
    return {"BackupVaultName": params["BackupVaultName"]}


@addition("backup", "PutBackupVaultAccessPolicy", example=_example_policy)
def put_backup_vault_access_policy(ctx):
    name = ctx.require("BackupVaultName")
    policy = ctx.param("Policy") or ""
    try:
        document = json.loads(policy)
    except ValueError:
        raise _invalid("Policy is not a valid JSON policy document") from None
    if not isinstance(document, dict) or not document.get("Statement"):
        raise _invalid("Policy needs a Statement")
    with _lock:
        _vault(ctx.account_id, ctx.region, name)
        _state(ctx.account_id)["vault_policies"][(ctx.region, name)] = policy
    return {}


@addition("backup", "GetBackupVaultAccessPolicy", example=_example_policy_set)
def get_backup_vault_access_policy(ctx):
    name = ctx.require("BackupVaultName")
    with _lock:
        vault = _vault(ctx.account_id, ctx.region, name)
        policy = _state(ctx.account_id)["vault_policies"].get((ctx.region, name))
    if policy is None:
        raise _not_found(f"Backup vault {name} has no access policy")
    return {"BackupVaultName": name, "BackupVaultArn": vault.backup_vault_arn, "Policy": policy}


@addition("backup", "DeleteBackupVaultAccessPolicy", example=_example_policy_set)
def delete_backup_vault_access_policy(ctx):
    name = ctx.require("BackupVaultName")
    with _lock:
        _vault(ctx.account_id, ctx.region, name)
        _state(ctx.account_id)["vault_policies"].pop((ctx.region, name), None)
    return {}


# --- restore testing ----------------------------------------------------------------------------------------

_TEST_NAME = re.compile(r"^[a-zA-Z0-9_]{1,50}$")
_ALGORITHMS = ("LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW")


def _check_testing_plan(plan: dict, creating: bool) -> None:
    if creating:
        name = plan.get("RestoreTestingPlanName") or ""
        if not _TEST_NAME.match(name):
            raise _invalid(f"Invalid RestoreTestingPlanName {name!r}: 1 to 50 letters, digits or '_'")
    schedule = plan.get("ScheduleExpression")
    if creating and not schedule:
        raise _missing("RestoreTestingPlan.ScheduleExpression")
    if schedule and not re.match(r"^(cron|rate)\(.+\)$", schedule):
        raise _invalid(f"Invalid ScheduleExpression {schedule!r}")
    selection = plan.get("RecoveryPointSelection")
    if creating and not selection:
        raise _missing("RestoreTestingPlan.RecoveryPointSelection")
    if selection:
        for name in ("Algorithm", "IncludeVaults", "RecoveryPointTypes"):
            if not selection.get(name):
                raise _missing(f"RecoveryPointSelection.{name}")
        if selection["Algorithm"] not in _ALGORITHMS:
            raise _invalid(f"Invalid Algorithm {selection['Algorithm']!r}; allowed: {', '.join(_ALGORITHMS)}")
        window = selection.get("SelectionWindowDays")
        if window is not None and not 1 <= int(window) <= 365:
            raise _invalid("SelectionWindowDays must be between 1 and 365")


def _testing_plan(ctx, name: str | None = None) -> dict:
    name = name or ctx.require("RestoreTestingPlanName")
    plan = _state(ctx.account_id)["testing_plans"].get((ctx.region, name))
    if plan is None:
        raise _not_found(f"Restore testing plan {name} not found")
    return plan


_EXAMPLE_TEST_PLAN = {
    "RestoreTestingPlanName": "example_plan",
    "ScheduleExpression": "cron(0 6 ? * SUN *)",
    "RecoveryPointSelection": {
        "Algorithm": "LATEST_WITHIN_WINDOW",
        "IncludeVaults": ["*"],
        "RecoveryPointTypes": ["SNAPSHOT"],
        "SelectionWindowDays": 7,
    },
}


def _example_test_plan(client) -> dict:
    backup = client("backup")
    # the shape test counts the calls of the operation it checks: prepare with Create only (and tolerate a plan
    # left by an earlier example in the same test)
    with contextlib.suppress(backup.exceptions.AlreadyExistsException):
        backup.create_restore_testing_plan(RestoreTestingPlan=_EXAMPLE_TEST_PLAN)
    return {"RestoreTestingPlanName": "example_plan"}


def _example_test_selection(client) -> dict:
    return {
        "RestoreTestingSelectionName": "example_ebs",
        "ProtectedResourceType": "EBS",
        "IamRoleArn": _example_role(client),
        "ProtectedResourceArns": ["*"],
        "ValidationWindowHours": 1,
    }


def _example_test_selection_set(client) -> dict:
    plan = _example_test_plan(client)
    client("backup").create_restore_testing_selection(RestoreTestingSelection=_example_test_selection(client), **plan)
    return {**plan, "RestoreTestingSelectionName": "example_ebs"}


@addition("backup", "CreateRestoreTestingPlan", example={"RestoreTestingPlan": _EXAMPLE_TEST_PLAN})
def create_restore_testing_plan(ctx):
    plan = ctx.param("RestoreTestingPlan")
    if not plan:
        raise _missing("RestoreTestingPlan")
    _check_testing_plan(plan, True)
    name = plan["RestoreTestingPlanName"]
    with _lock:
        plans = _state(ctx.account_id)["testing_plans"]
        if (ctx.region, name) in plans:
            raise AdditionError("AlreadyExistsException", f"Restore testing plan {name} already exists")
        now = _now()
        record = {
            **copy.deepcopy(plan),
            "RestoreTestingPlanArn": f"arn:{_partition(ctx.region)}:backup:{ctx.region}:{ctx.account_id}:"
            f"restore-testing-plan:{name}-{uuid.uuid4().hex[:8]}",
            "CreationTime": now,
            "LastUpdateTime": now,
            "ScheduleExpressionTimezone": plan.get("ScheduleExpressionTimezone") or "Etc/UTC",
            "StartWindowHours": int(plan.get("StartWindowHours") or 24),
        }
        if ctx.param("CreatorRequestId"):
            record["CreatorRequestId"] = ctx.params["CreatorRequestId"]
        plans[(ctx.region, name)] = record
    return {
        "CreationTime": now,
        "RestoreTestingPlanArn": record["RestoreTestingPlanArn"],
        "RestoreTestingPlanName": name,
    }


@addition("backup", "GetRestoreTestingPlan", example=_example_test_plan)
def get_restore_testing_plan(ctx):
    with _lock:
        return {"RestoreTestingPlan": copy.deepcopy(_testing_plan(ctx))}


@addition("backup", "ListRestoreTestingPlans", example={})
def list_restore_testing_plans(ctx):
    fields = (
        "CreationTime",
        "LastExecutionTime",
        "LastUpdateTime",
        "RestoreTestingPlanArn",
        "RestoreTestingPlanName",
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "StartWindowHours",
    )
    with _lock:
        plans = [p for (region, _), p in _state(ctx.account_id)["testing_plans"].items() if region == ctx.region]
        members = [
            {k: copy.deepcopy(p[k]) for k in fields if k in p} for p in sorted(plans, key=lambda p: p["CreationTime"])
        ]
    return _page(ctx, members, "RestoreTestingPlans")


@addition(
    "backup",
    "UpdateRestoreTestingPlan",
    example=lambda client: {
        **_example_test_plan(client),
        "RestoreTestingPlan": {"ScheduleExpression": "cron(0 7 ? * SUN *)"},
    },
)
def update_restore_testing_plan(ctx):
    update = ctx.param("RestoreTestingPlan") or {}
    _check_testing_plan(update, False)
    with _lock:
        plan = _testing_plan(ctx)
        plan.update(copy.deepcopy(update))
        plan["LastUpdateTime"] = _now()
        return {
            "CreationTime": plan["CreationTime"],
            "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
            "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
            "UpdateTime": plan["LastUpdateTime"],
        }


@addition("backup", "DeleteRestoreTestingPlan", example=_example_test_plan)
def delete_restore_testing_plan(ctx):
    with _lock:
        plan = _testing_plan(ctx)
        state = _state(ctx.account_id)
        name = plan["RestoreTestingPlanName"]
        if any(key[0] == ctx.region and key[1] == name for key in state["testing_selections"]):
            raise AdditionError(
                "InvalidRequestException", f"Delete the selections of restore testing plan {name} first"
            )
        del state["testing_plans"][(ctx.region, name)]
    return {}


def _check_testing_selection(selection: dict, creating: bool) -> None:
    if creating:
        name = selection.get("RestoreTestingSelectionName") or ""
        if not _TEST_NAME.match(name):
            raise _invalid(f"Invalid RestoreTestingSelectionName {name!r}: 1 to 50 letters, digits or '_'")
        if selection.get("ProtectedResourceType") not in ("EBS", "EC2", "RDS"):
            raise _invalid(
                f"Invalid ProtectedResourceType {selection.get('ProtectedResourceType')!r}; allowed: EBS, EC2, RDS"
            )
        if not selection.get("IamRoleArn"):
            raise _missing("RestoreTestingSelection.IamRoleArn")
        if not (selection.get("ProtectedResourceArns") or selection.get("ProtectedResourceConditions")):
            raise _invalid("A restore testing selection needs ProtectedResourceArns or ProtectedResourceConditions")
    hours = selection.get("ValidationWindowHours")
    if hours is not None and not 0 <= int(hours) <= 168:
        raise _invalid("ValidationWindowHours must be between 0 and 168")


def _testing_selection(ctx) -> dict:
    plan = _testing_plan(ctx)
    name = ctx.require("RestoreTestingSelectionName")
    selection = _state(ctx.account_id)["testing_selections"].get((ctx.region, plan["RestoreTestingPlanName"], name))
    if selection is None:
        raise _not_found(f"Restore testing selection {name} not found in plan {plan['RestoreTestingPlanName']}")
    return selection


@addition(
    "backup",
    "CreateRestoreTestingSelection",
    example=lambda client: {**_example_test_plan(client), "RestoreTestingSelection": _example_test_selection(client)},
)
def create_restore_testing_selection(ctx):
    selection = ctx.param("RestoreTestingSelection")
    if not selection:
        raise _missing("RestoreTestingSelection")
    _check_testing_selection(selection, True)
    _check_role(ctx.account_id, selection["IamRoleArn"])
    with _lock:
        plan = _testing_plan(ctx)
        key = (ctx.region, plan["RestoreTestingPlanName"], selection["RestoreTestingSelectionName"])
        selections = _state(ctx.account_id)["testing_selections"]
        if key in selections:
            raise AdditionError("AlreadyExistsException", f"Restore testing selection {key[2]} already exists")
        now = _now()
        record = {
            **copy.deepcopy(selection),
            "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
            "CreationTime": now,
            "ValidationWindowHours": int(selection.get("ValidationWindowHours") or 0),
        }
        if ctx.param("CreatorRequestId"):
            record["CreatorRequestId"] = ctx.params["CreatorRequestId"]
        selections[key] = record
    return {
        "CreationTime": now,
        "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
        "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
        "RestoreTestingSelectionName": key[2],
    }


@addition("backup", "GetRestoreTestingSelection", example=_example_test_selection_set)
def get_restore_testing_selection(ctx):
    with _lock:
        return {"RestoreTestingSelection": copy.deepcopy(_testing_selection(ctx))}


@addition("backup", "ListRestoreTestingSelections", example=_example_test_plan)
def list_restore_testing_selections(ctx):
    fields = (
        "CreationTime",
        "IamRoleArn",
        "ProtectedResourceType",
        "RestoreTestingPlanName",
        "RestoreTestingSelectionName",
        "ValidationWindowHours",
    )
    with _lock:
        plan = _testing_plan(ctx)
        members = [
            {k: copy.deepcopy(s[k]) for k in fields if k in s}
            for (region, plan_name, _), s in sorted(
                _state(ctx.account_id)["testing_selections"].items(), key=lambda item: item[1]["CreationTime"]
            )
            if region == ctx.region and plan_name == plan["RestoreTestingPlanName"]
        ]
    return _page(ctx, members, "RestoreTestingSelections")


@addition(
    "backup",
    "UpdateRestoreTestingSelection",
    example=lambda client: {
        **_example_test_selection_set(client),
        "RestoreTestingSelection": {"ValidationWindowHours": 2},
    },
)
def update_restore_testing_selection(ctx):
    update = ctx.param("RestoreTestingSelection") or {}
    _check_testing_selection(update, False)
    if update.get("IamRoleArn"):
        _check_role(ctx.account_id, update["IamRoleArn"])
    with _lock:
        selection = _testing_selection(ctx)
        selection.update(copy.deepcopy(update))
        plan = _testing_plan(ctx)
        now = _now()
    return {
        "CreationTime": selection["CreationTime"],
        "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
        "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
        "RestoreTestingSelectionName": selection["RestoreTestingSelectionName"],
        "UpdateTime": now,
    }


@addition("backup", "DeleteRestoreTestingSelection", example=_example_test_selection_set)
def delete_restore_testing_selection(ctx):
    with _lock:
        selection = _testing_selection(ctx)
        del _state(ctx.account_id)["testing_selections"][
            (ctx.region, selection["RestoreTestingPlanName"], selection["RestoreTestingSelectionName"])
        ]
    return {}


# --- control routes -------------------------------------------------------------------------------------------


def _account(payload: dict) -> str:
    from sandbox import DEFAULT_ACCOUNT_ID

    return str(payload.get("account_id") or DEFAULT_ACCOUNT_ID)


def _resource_tags(account: str, region: str) -> list[tuple[str, dict]]:
    """Every protectable resource in the region: (ARN, tags)."""
    out = []
    ec2 = _backend("ec2", account, region)
    for volume in ec2.volumes.values():
        out.append((_resource_arn(region, account, "EBS", volume.id), _ec2_tags(volume)))
    for instance in ec2.all_instances():
        if instance.state in ("terminated", "shutting-down"):
            continue
        out.append((_resource_arn(region, account, "EC2", instance.id), _ec2_tags(instance)))
    for database in _backend("rds", account, region).databases.values():
        tags = {t["Key"]: t["Value"] for t in database.tags or []}
        out.append((database.arn, tags))
    return out


def _selected(selection: dict, arn: str, tags: dict) -> bool:
    if any(fnmatch.fnmatch(arn, pattern) for pattern in selection.get("NotResources") or []):
        return False
    if any(fnmatch.fnmatch(arn, pattern) for pattern in selection.get("Resources") or []):
        return True
    for cond in selection.get("ListOfTags") or []:
        if tags.get(cond.get("ConditionKey")) == cond.get("ConditionValue"):
            return True
    conditions = selection.get("Conditions") or {}
    equals = conditions.get("StringEquals") or []
    return bool(equals) and all(
        tags.get(c["ConditionKey"].replace("aws:ResourceTag/", "")) == c["ConditionValue"] for c in equals
    )


@control("backup/run-plan", "POST")
def run_plan(query, payload):
    """Run a backup plan's rules now: ``{"region", "plan_id" or "plan_name", "rules": [names] (optional)}``.

    For each rule, a backup job per resource its selections pick, then the rule's copy actions. Answers the
    jobs: ``{"backup_jobs": [...], "copy_jobs": [...]}`` with their ids, states and recovery point ARNs.
    """
    payload = payload or {}
    region = payload.get("region") or query.get("region") or "us-east-1"
    account = _account(payload)
    backend = _backend("backup", account, region)
    plan = None
    wanted = payload.get("plan_id") or query.get("plan_id")
    name = payload.get("plan_name") or query.get("plan_name")
    for candidate in backend.plans.values():
        if candidate.deletion_date is not None:
            continue
        if candidate.backup_plan_id == wanted or candidate.backup_plan.get("BackupPlanName") == name:
            plan = candidate
    if plan is None:
        raise ControlError(f"no backup plan {wanted or name!r} in {region}", 404)
    selections = backup_selections._SELECTIONS.get((account, region), {}).get(plan.backup_plan_id, {})
    resources = _resource_tags(account, region)
    rules = payload.get("rules")
    out = {"backup_jobs": [], "copy_jobs": []}
    with _lock:
        for rule in plan.backup_plan["Rules"]:
            if rules and rule["RuleName"] not in rules:
                continue
            created_by = {
                "BackupPlanId": plan.backup_plan_id,
                "BackupPlanArn": plan.backup_plan_arn,
                "BackupPlanName": plan.backup_plan.get("BackupPlanName"),
                "BackupPlanVersion": plan.version_id,
                "BackupRuleId": rule.get("RuleId", ""),
                "BackupRuleName": rule["RuleName"],
                "BackupRuleCron": rule.get("ScheduleExpression", ""),
                "BackupRuleTimezone": rule.get("ScheduleExpressionTimezone", "Etc/UTC"),
            }
            picked = {}
            for record in selections.values():
                selection = record["BackupSelection"]
                for arn, tags in resources:
                    if arn not in picked and _selected(selection, arn, tags):
                        picked[arn] = selection["IamRoleArn"]
            for arn, role in picked.items():
                job = start_backup(
                    account,
                    region,
                    rule["TargetBackupVaultName"],
                    arn,
                    role,
                    rule.get("Lifecycle"),
                    rule.get("RecoveryPointTags"),
                    created_by,
                )
                out["backup_jobs"].append(
                    _summary(job, "BackupJobId", "State", "RecoveryPointArn", "ResourceArn", "StatusMessage")
                )
                if job["State"] != "COMPLETED":
                    continue
                for action in rule.get("CopyActions") or []:
                    copy_job = start_copy(
                        account,
                        region,
                        job["RecoveryPointArn"],
                        rule["TargetBackupVaultName"],
                        action["DestinationBackupVaultArn"],
                        role,
                        action.get("Lifecycle"),
                        created_by,
                        job["BackupJobId"],
                    )
                    out["copy_jobs"].append(
                        _summary(
                            copy_job,
                            "CopyJobId",
                            "State",
                            "DestinationRecoveryPointArn",
                            "DestinationBackupVaultArn",
                            "ResourceArn",
                            "StatusMessage",
                        )
                    )
        plan.last_execution_date = _now().timestamp()
    return out


def _summary(job: dict, *keys: str) -> dict:
    return {k: job[k] for k in keys if job.get(k) is not None}


@control("backup/restore-durations", "PUT")
def set_restore_durations(query, payload):
    """How long restores take: ``{"<resource ARN, recovery point ARN, EBS/EC2/RDS or *>": seconds}``."""
    if not isinstance(payload, dict):
        raise ControlError("the body must be a JSON object of key -> seconds")
    durations = {}
    for key, seconds in payload.items():
        if key == "account_id":
            continue
        try:
            durations[key] = float(seconds)
        except (TypeError, ValueError):
            raise ControlError(f"duration of {key!r} must be a number of seconds, not {seconds!r}") from None
        if durations[key] < 0:
            raise ControlError(f"duration of {key!r} must not be negative")
    with _lock:
        state = _state(_account(payload))
        state["durations"] = durations
    return {"durations": durations}


@control("backup/restore-durations", "GET")
def get_restore_durations(query, payload):
    with _lock:
        return {"durations": dict(_state(_account(query))["durations"])}


def _conditions_match(conditions: dict | None, tags: dict | None) -> bool:
    """A restore testing selection's ProtectedResourceConditions against the source resource's tags (keys are
    given as aws:ResourceTag/<key>); a resource that no longer exists matches no condition."""
    if not conditions:
        return True
    tags = tags or {}

    def key(item):
        return item["Key"].removeprefix("aws:ResourceTag/")

    equals = conditions.get("StringEquals") or []
    not_equals = conditions.get("StringNotEquals") or []
    return all(tags.get(key(c)) == c["Value"] for c in equals) and all(
        tags.get(key(c)) != c["Value"] for c in not_equals
    )


def _random_point(state: dict, region: str, newest: dict, since) -> dict:
    """RANDOM_WITHIN_WINDOW: any completed point of the same resource and vault within the window."""
    candidates = [
        rp
        for rp in state["recovery_points"].values()
        if rp["Region"] == region
        and rp["ResourceArn"] == newest["ResourceArn"]
        and rp["BackupVaultArn"] == newest["BackupVaultArn"]
        and rp["CreationDate"] >= since
    ]
    return random.choice(candidates) if candidates else newest  # noqa: S311 - not cryptographic


@control("backup/run-restore-test", "POST")
def run_restore_test(query, payload):
    """Run a restore testing plan now: ``{"region", "plan_name"}``: for each selection, restore the newest
    recovery point (within the plan's window, from the included vaults) of each selected resource. Answers the
    restore jobs started."""
    payload = payload or {}
    region = payload.get("region") or query.get("region") or "us-east-1"
    account = _account(payload)
    name = payload.get("plan_name") or query.get("plan_name")
    with _lock:
        state = _state(account)
        plan = state["testing_plans"].get((region, name))
        if plan is None:
            raise ControlError(f"no restore testing plan {name!r} in {region}", 404)
        choose = plan["RecoveryPointSelection"]
        window = datetime.timedelta(days=int(choose.get("SelectionWindowDays") or 30))
        now = _now()
        jobs = []
        tags = dict(_resource_tags(account, region))
        for (sel_region, plan_name, _), selection in list(state["testing_selections"].items()):
            if sel_region != region or plan_name != plan["RestoreTestingPlanName"]:
                continue
            newest = {}
            for rp in state["recovery_points"].values():
                if rp["Region"] != region or rp["ResourceType"] != selection["ProtectedResourceType"]:
                    continue
                if now - rp["CreationDate"] > window:
                    continue
                if not any(
                    fnmatch.fnmatch(rp["BackupVaultName"], v) or fnmatch.fnmatch(rp["BackupVaultArn"], v)
                    for v in choose["IncludeVaults"]
                ):
                    continue
                if any(
                    fnmatch.fnmatch(rp["BackupVaultName"], v) or fnmatch.fnmatch(rp["BackupVaultArn"], v)
                    for v in choose.get("ExcludeVaults") or []
                ):
                    continue
                arns = selection.get("ProtectedResourceArns") or []
                if arns and not any(fnmatch.fnmatch(rp["ResourceArn"], a) for a in arns):
                    continue
                if not _conditions_match(selection.get("ProtectedResourceConditions"), tags.get(rp["ResourceArn"])):
                    continue
                if "SNAPSHOT" not in (choose.get("RecoveryPointTypes") or ["SNAPSHOT"]):
                    continue  # the sandbox's recovery points are all snapshots
                current = newest.get(rp["ResourceArn"])
                if current is None or rp["CreationDate"] > current["CreationDate"]:
                    newest[rp["ResourceArn"]] = rp
            if choose["Algorithm"] == "RANDOM_WITHIN_WINDOW":
                newest = {arn: _random_point(state, region, rp, now - window) for arn, rp in newest.items()}
            for rp in newest.values():
                metadata = _restore_metadata(account, rp)
                if rp["ResourceType"] == "RDS":
                    metadata["DBInstanceIdentifier"] = f"restore-test-{uuid.uuid4().hex[:8]}"
                metadata.update(selection.get("RestoreMetadataOverrides") or {})
                job = start_restore(
                    account,
                    region,
                    rp["RecoveryPointArn"],
                    metadata,
                    selection["IamRoleArn"],
                    created_by={"RestoreTestingPlanArn": plan["RestoreTestingPlanArn"]},
                )
                jobs.append(
                    _summary(
                        _restore_out(job),
                        "RestoreJobId",
                        "Status",
                        "RecoveryPointArn",
                        "SourceResourceArn",
                        "CreatedResourceArn",
                    )
                )
        plan["LastExecutionTime"] = now
    return {"restore_jobs": jobs}
