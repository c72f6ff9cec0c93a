# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Disaster recovery: the DR plan's systems, and the drill that restores them in the DR region.

- validate_plan(): the plan's systems checked before any call (kind, resource, tier, RTO, RPO, regions).
- find_sources(): per system the newest cross-region copy in the DR region (AMI, EBS snapshot, DB snapshot,
  the RDS read replica, an AWS Backup recovery point, the DR bucket). Read-only.
- run_drill(): restores every system in parallel threads into the isolated drill network, verifies each,
  measures the recovery time (start to verified) and the recovery point (age of the data used), then deletes
  every resource tagged with the drill id, also when a step failed, and proves it with a tag scan.
- sweep()/scan(): the tag scan and the clean-up of drill resources (also for drills interrupted earlier).

Every resource a drill creates carries the tags ``cloudops:drill-id`` and ``cloudops:system``; a drill never
changes or deletes anything without its own drill id, and never calls a mutating API in the primary region.
Clients are retrying clients (``AWSRetry.jittered_backoff``), called with ``aws_retry=True``.
"""

import datetime
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore.exceptions
    import botocore.waiter
except ImportError:  # AnsibleAWSModule reports a missing botocore
    pass

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms_access import key_access

DRILL_TAG = "cloudops:drill-id"
# The set identifiers of the Route 53 failover pair the failover runbook switches: the primary site's, the DR site's
DNS_SETS = ("primary", "dr")
SYSTEM_TAG = "cloudops:system"
SOURCE_TAGS = {
    "ec2": "cloudops:source-instance",
    "ebs": "cloudops:source-volume",
    "rds": "cloudops:source-db",
}
KINDS = {
    "ec2": "EC2 instance: launched from the newest AMI copy in the DR region",
    "ebs": "EBS volume: created from the newest snapshot copy in the DR region",
    "rds": "RDS database: restored from the newest DB snapshot in the DR region (or a snapshot of the replica)",
    "s3": "S3 bucket: the replicated bucket in the DR region, read back",
    "dns": "Route 53 record: the failover record set (PRIMARY/SECONDARY) checked",
}
HEALTH_CHECKS = {
    "ec2": ("running", "ssm"),
    "ebs": ("available",),
    "rds": ("available", "tcp"),
    "s3": ("readable",),
    "dns": ("failover_records",),
}
# Where an RDS tcp health check opens its connection from: an instance of the same drill (by SSM Run Command,
# inside the isolated drill network the database is restored into) or the host running the playbook (only when
# it reaches the drill network, for example from inside the DR VPC).
TCP_FROM = ("drill_instance", "control_node")
TCP_TIMEOUT_MAX = 300
# The production inventory marks what must be filled in before the first run with this.
PLACEHOLDER = "CHANGE-ME"
DRILL_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.astimezone(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _as_time(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _tags(items):
    return {t.get("Key"): t.get("Value") for t in items or []}


def _error_code(error):
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


DR_SERVICES = ("ec2", "rds", "ssm", "s3", "route53", "backup", "kms", "sts", "iam")
PRIMARY_SERVICES = ("ec2", "rds", "s3")


def client_factory(module, primary_region, dr_region, dr_services=DR_SERVICES, primary_services=PRIMARY_SERVICES):
    """clients(service, region): retrying clients made up front (botocore sessions are not thread-safe).

    Route 53 is global: its client is made with the DR region, so nothing depends on the primary region.
    """
    made = {}
    for region, services in ((dr_region, dr_services), (primary_region, primary_services)):
        for service in services:
            made[(service, region)] = module.client(service, region=region, retry_decorator=AWSRetry.jittered_backoff())

    def clients(service, region):
        return made[(service, region)]

    return clients


# --- the plan -----------------------------------------------------------------------------------------


def _entry(index, system):
    name = system.get("name") if isinstance(system, dict) else None
    return "systems[%d]%s" % (index, " (%s)" % name if name else "")


def validate_plan(systems, primary_region, dr_region, only=None):
    """The systems to act on, normalised. Raises ParameterError naming the entry, the value and what is allowed."""
    validate_regions([primary_region], option="primary_region")
    validate_regions([dr_region], option="dr_region")
    if primary_region == dr_region:
        raise ParameterError(
            "dr_region", dr_region, "is the primary region", "a second region, different from %s" % primary_region
        )
    if not systems:
        raise ParameterError("systems", None, "is empty", "a list of the DR plan's systems")
    result = []
    names = set()
    for index, system in enumerate(systems):
        where = _entry(index, system)
        if not isinstance(system, dict):
            raise ParameterError(where, system, "is not a dictionary", "a dictionary with name, kind, resource, ...")
        name = system.get("name")
        if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}$", name or ""):
            raise ParameterError(where + ".name", name, "is not a valid system name", "letters, digits, -; 1-31")
        if name in names:
            raise ParameterError(where + ".name", name, "is listed twice", "each system once")
        names.add(name)
        for key, value in sorted(system.items()):
            if isinstance(value, str) and PLACEHOLDER in value:
                raise ParameterError(
                    "%s.%s" % (where, key), value, "is a placeholder to fill in", "the real value (see its comment)"
                )
        kind = system.get("kind")
        if kind not in KINDS:
            raise ParameterError(where + ".kind", kind, "is not a known kind of system", ", ".join(KINDS))
        resource = system.get("resource")
        if not isinstance(resource, str) or not resource.strip():
            raise ParameterError(
                where + ".resource", resource, "is missing", "the system's resource name or id in %s" % primary_region
            )
        for field in ("rto_minutes", "rpo_minutes"):
            value = system.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ParameterError(where + "." + field, value, "is missing or not a positive number", "minutes > 0")
        tier = system.get("tier", 1)
        if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= 4:
            raise ParameterError(where + ".tier", tier, "is not a tier", "1 (most critical) to 4")
        health = dict(system.get("health_check") or {})
        health.setdefault("type", HEALTH_CHECKS[kind][0])
        if health["type"] not in HEALTH_CHECKS[kind]:
            raise ParameterError(
                where + ".health_check.type", health["type"], "is not a health check for %s" % kind, HEALTH_CHECKS[kind]
            )
        if health["type"] == "tcp":
            health.setdefault("from", TCP_FROM[0])
            health.setdefault("timeout", 10)
            if health["from"] not in TCP_FROM:
                raise ParameterError(
                    where + ".health_check.from", health["from"], "is not where a tcp check can run from", TCP_FROM
                )
            timeout = health["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= TCP_TIMEOUT_MAX:
                raise ParameterError(
                    where + ".health_check.timeout", timeout, "is not a number of seconds", "1 to %d" % TCP_TIMEOUT_MAX
                )
        if kind == "s3" and not system.get("dr_resource"):
            raise ParameterError(
                where + ".dr_resource", None, "is missing", "the name of the replicated bucket in %s" % dr_region
            )
        normal = dict(system)
        normal.update({"name": name, "kind": kind, "resource": resource.strip(), "tier": tier, "health_check": health})
        result.append(normal)
    if only:
        unknown = [name for name in only if name not in names]
        if unknown:
            raise ParameterError("only", ", ".join(unknown), "names no system of the plan", ", ".join(sorted(names)))
        result = [s for s in result if s["name"] in only]
    probes = [s["name"] for s in result if s["kind"] == "ec2" and s["health_check"]["type"] == "ssm"]
    for system in result:
        if system["health_check"].get("from") == "drill_instance" and not probes:
            index = [s["name"] for s in systems if isinstance(s, dict)].index(system["name"])
            raise ParameterError(
                "%s.health_check.from" % _entry(index, system),
                "drill_instance",
                "has no instance to test from: this drill restores no EC2 system with health_check type ssm",
                "an EC2 system with health_check {type: ssm} in the same drill (the check runs on it by SSM), "
                "or from: control_node when the host running the playbook reaches the drill network",
            )
    return result


def validate_drill_id(drill_id):
    if not isinstance(drill_id, str) or not DRILL_ID_PATTERN.match(drill_id):
        raise ParameterError(
            "drill_id", drill_id, "is not a valid drill id", "3-40 lowercase letters, digits and -, e.g. drill-20260105"
        )
    return drill_id


# --- where each system's data is in the DR region --------------------------------------------------------


def _paginate(client, operation, key, **kwargs):
    """Every item of a paginated read (the retrying wrapper's paginator retries throttled pages)."""
    paginator = client.get_paginator(operation)
    return paginator.paginate(**kwargs).build_full_result().get(key, [])


def _primary_ids(system, clients, primary_region):
    """The system's resource id(s) in the primary region, to match the copies' source tags.

    Best effort: when the primary region does not answer, the copies are matched by system name only.
    Returns (ids, error) where error is a message when the resource is known not to exist.
    """
    kind, resource = system["kind"], system["resource"]
    ids = {resource}
    try:
        if kind == "ec2" and not resource.startswith("i-"):
            ec2 = clients("ec2", primary_region)
            found = ec2.describe_instances(
                Filters=[
                    {"Name": "tag:Name", "Values": [resource]},
                    {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
                ]
            )
            instances = [i for r in found.get("Reservations", []) for i in r.get("Instances", [])]
            if not instances:
                return ids, "no instance named %s in %s" % (resource, primary_region)
            ids.update(i["InstanceId"] for i in instances)
        elif kind == "ebs" and not resource.startswith("vol-"):
            ec2 = clients("ec2", primary_region)
            found = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [resource]}])
            if not found.get("Volumes"):
                return ids, "no volume named %s in %s" % (resource, primary_region)
            ids.update(v["VolumeId"] for v in found["Volumes"])
        elif kind == "rds":
            rds = clients("rds", primary_region)
            try:
                found = rds.describe_db_instances(DBInstanceIdentifier=resource)
                ids.update(d["DBInstanceArn"] for d in found.get("DBInstances", []))
            except botocore.exceptions.ClientError as error:
                if _error_code(error) == "DBInstanceNotFound":
                    return ids, "no DB instance %s in %s" % (resource, primary_region)
                raise
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        pass  # the primary region does not answer: match by the system's name and resource only
    return ids, None


def _newest(items, key):
    items = [i for i in items if i.get(key)]
    return max(items, key=lambda i: _as_time(i[key])) if items else None


def _ec2_source(system, ids, clients, dr_region):
    ec2 = clients("ec2", dr_region)
    images = []
    for tag, values in ((SOURCE_TAGS["ec2"], sorted(ids)), (SYSTEM_TAG, [system["name"]])):
        found = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:" + tag, "Values": values}], aws_retry=True)
        images.extend(i for i in found.get("Images", []) if i.get("State", "available") == "available")
    image = _newest(images, "CreationDate")
    if image:
        return {
            "type": "ami",
            "id": image["ImageId"],
            "created": _iso(_as_time(image["CreationDate"])),
            "detail": "AMI %s (%s)" % (image["ImageId"], image.get("Name", "")),
        }
    return None


def _ebs_source(system, ids, clients, dr_region):
    ec2 = clients("ec2", dr_region)
    snaps = []
    for tag, values in ((SOURCE_TAGS["ebs"], sorted(ids)), (SYSTEM_TAG, [system["name"]])):
        found = _paginate(
            ec2,
            "describe_snapshots",
            "Snapshots",
            OwnerIds=["self"],
            Filters=[{"Name": "tag:" + tag, "Values": values}, {"Name": "status", "Values": ["completed"]}],
        )
        snaps.extend(found)
    snap = _newest(snaps, "StartTime")
    if snap:
        return {
            "type": "ebs_snapshot",
            "id": snap["SnapshotId"],
            "created": _iso(_as_time(snap["StartTime"])),
            "size": snap.get("VolumeSize"),
            "detail": "snapshot %s" % snap["SnapshotId"],
        }
    return None


def _rds_source(system, ids, clients, dr_region):
    rds = clients("rds", dr_region)
    resource = system["resource"]
    snapshots = []
    for snap in _paginate(rds, "describe_db_snapshots", "DBSnapshots"):
        if snap.get("Status") != "available":
            continue
        tags = _tags(snap.get("TagList"))
        if DRILL_TAG in tags:
            continue
        if (
            snap.get("DBInstanceIdentifier") in ids
            or tags.get(SOURCE_TAGS["rds"]) in ids
            or tags.get(SYSTEM_TAG) == system["name"]
        ):
            snapshots.append(snap)
    snap = _newest(snapshots, "SnapshotCreateTime")
    if snap:
        return {
            "type": "db_snapshot",
            "id": snap["DBSnapshotIdentifier"],
            "arn": snap.get("DBSnapshotArn"),
            "created": _iso(_as_time(snap["SnapshotCreateTime"])),
            "detail": "DB snapshot %s" % snap["DBSnapshotIdentifier"],
        }
    for db in _paginate(rds, "describe_db_instances", "DBInstances"):
        source = db.get("ReadReplicaSourceDBInstanceIdentifier") or ""
        tags = _tags(db.get("TagList"))
        if source and (source in ids or source.split(":")[-1] == resource or tags.get("cloudops:replica-of") in ids):
            return {
                "type": "rds_replica",
                "id": db["DBInstanceIdentifier"],
                "created": None,
                "detail": "a snapshot of the read replica %s" % db["DBInstanceIdentifier"],
            }
    return None


def _replicated(item, copy):
    """The DR bucket's object ``copy`` holds the source object ``item``: same size, and the same ETag or a copy
    written no earlier than the source (a replica of an older version of the key was written before it)."""
    if copy is None or copy.get("Size") != item.get("Size"):
        return False
    if item.get("ETag") and item.get("ETag") == copy.get("ETag"):
        return True
    return _as_time(copy["LastModified"]) >= _as_time(item["LastModified"])


def _s3_source(system, clients, dr_region, primary_region):
    """The replicated bucket in the DR region, and the recovery point it gives.

    The recovery point is the newest write of the source bucket that the DR bucket holds; the RPO is how far it
    lags the source's newest write (0 when the newest write is replicated). When the source bucket cannot be read
    (the primary region does not answer), the RPO is the age of the DR bucket's newest object at the drill start,
    an upper bound.
    """
    s3 = clients("s3", dr_region)
    bucket = system["dr_resource"]
    try:
        objects = _paginate(s3, "list_objects_v2", "Contents", Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if _error_code(error) in ("NoSuchBucket", "404"):
            return None
        raise
    newest = _newest(objects, "LastModified")
    source = {
        "type": "s3_bucket",
        "id": bucket,
        "created": _iso(_as_time(newest["LastModified"])) if newest else None,
        "newest_key": newest["Key"] if newest else None,
        "objects": len(objects),
        "detail": "bucket %s (%d object(s))" % (bucket, len(objects)),
    }
    try:
        originals = _paginate(clients("s3", primary_region), "list_objects_v2", "Contents", Bucket=system["resource"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        source["rpo_basis"] = "source bucket %s not readable (%s): age of the newest replicated object" % (
            system["resource"],
            _error_code(error) or type(error).__name__,
        )
        return source
    copies = {o["Key"]: o for o in objects}
    latest = _newest(originals, "LastModified")
    held = _newest([o for o in originals if _replicated(o, copies.get(o["Key"]))], "LastModified")
    missing = sum(1 for o in originals if not _replicated(o, copies.get(o["Key"])))
    source["source_newest_write"] = _iso(_as_time(latest["LastModified"])) if latest else None
    source["missing"] = missing
    if latest is None:
        source["rpo_seconds"] = 0.0
        source["rpo_basis"] = "source bucket %s is empty" % system["resource"]
    elif held is None:
        source["rpo_seconds"] = None
        source["rpo_basis"] = "none of the %d objects of %s is in %s" % (len(originals), system["resource"], bucket)
    else:
        lag = (_as_time(latest["LastModified"]) - _as_time(held["LastModified"])).total_seconds()
        source["created"] = _iso(_as_time(held["LastModified"]))
        source["rpo_seconds"] = round(max(lag, 0.0), 1)
        source["rpo_basis"] = "newest replicated write %s vs the source's newest write %s (%d not replicated)" % (
            source["created"],
            source["source_newest_write"],
            missing,
        )
    source["detail"] = "bucket %s (%d object(s); %s)" % (
        bucket,
        len(objects),
        "every object of the source is replicated"
        if not missing
        else "%d of the source's not replicated yet" % missing,
    )
    return source


def _backup_source(system, ids, clients, dr_region, vault):
    """The newest AWS Backup recovery point in the DR vault whose source is the system, shaped as a source."""
    backup = clients("backup", dr_region)
    try:
        points = _paginate(backup, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=vault)
    except botocore.exceptions.ClientError:
        return None  # no vault, or recovery points not listable: the other copies still count
    mine = [
        p
        for p in points
        if p.get("Status") == "COMPLETED" and any(p.get("ResourceArn", "").endswith(i.split(":")[-1]) for i in ids)
    ]
    point = _newest(mine, "CreationDate")
    if not point:
        return None
    arn = point["RecoveryPointArn"]
    resource_id = arn.split("/")[-1].split(":")[-1]
    kinds = {"ec2": "ami", "ebs": "ebs_snapshot", "rds": "db_snapshot"}
    return {
        "type": kinds[system["kind"]],
        "id": resource_id,
        "arn": arn,
        "created": _iso(_as_time(point["CreationDate"])),
        "detail": "recovery point %s in vault %s" % (arn, vault),
    }


# What the principal running the drill needs on the KMS key of an encrypted copy: EC2 launches an instance or
# creates a volume from an encrypted snapshot with grants the caller makes (AWS's key policy requirements for
# encrypted EBS volumes); RDS restores an encrypted DB snapshot with a grant the caller creates.
RESTORE_KEY_ACTIONS = {
    "ec2": (
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ),
    "rds": ("kms:CreateGrant", "kms:DescribeKey"),
}
# the purpose of kms_keys_user_principals a key of each service belongs to (backup: AWS Backup's copies)
KEY_PURPOSE = {"ec2": "ebs", "rds": "rds"}


class KeyRefused(AnsibleAWSError):
    """A copy the drill would restore is encrypted with a KMS key that does not let the drill's principal use it."""


def _source_keys(source, clients, dr_region):
    """(service, [key ids]): the KMS keys the restore of this copy uses with the caller's permissions."""
    kind = source["type"]
    if kind in ("ami", "ebs_snapshot"):
        ec2 = clients("ec2", dr_region)
        snapshot_ids = [source["id"]]
        if kind == "ami":
            images = ec2.describe_images(ImageIds=[source["id"]], aws_retry=True).get("Images", [])
            snapshot_ids = [
                m["Ebs"]["SnapshotId"]
                for image in images
                for m in image.get("BlockDeviceMappings", [])
                if (m.get("Ebs") or {}).get("SnapshotId")
            ]
        snapshots = (
            ec2.describe_snapshots(SnapshotIds=snapshot_ids, aws_retry=True)["Snapshots"] if snapshot_ids else []
        )
        return "ec2", sorted({s["KmsKeyId"] for s in snapshots if s.get("Encrypted") and s.get("KmsKeyId")})
    rds = clients("rds", dr_region)
    if kind == "db_snapshot":
        found = rds.describe_db_snapshots(DBSnapshotIdentifier=source["id"], aws_retry=True)["DBSnapshots"]
        return "rds", sorted({d["KmsKeyId"] for d in found if d.get("Encrypted") and d.get("KmsKeyId")})
    if kind == "rds_replica":  # the drill restores a snapshot of the replica: the replica's key
        found = rds.describe_db_instances(DBInstanceIdentifier=source["id"], aws_retry=True)["DBInstances"]
        return "rds", sorted({d["KmsKeyId"] for d in found if d.get("StorageEncrypted") and d.get("KmsKeyId")})
    return None, []


def _principal(clients, region):
    """The ARN key policies name the principal running the drill by (an assumed role: the role, with its path)."""
    arn = clients("sts", region).get_caller_identity(aws_retry=True)["Arn"]
    resource = arn.split(":", 5)[5]
    if resource.startswith("assumed-role/"):
        role = clients("iam", region).get_role(RoleName=resource.split("/")[1], aws_retry=True)["Role"]
        return role["Arn"]
    return arn


def _read_key(kms, key_id):
    """The key as key_access() reads it, or None for an AWS managed key (IAM decides). Grants are None when they
    cannot be listed; any other read error is raised."""
    meta = kms.describe_key(KeyId=key_id, aws_retry=True)["KeyMetadata"]
    if meta.get("KeyManager") == "AWS":
        return None
    policy = kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default", aws_retry=True)["Policy"]
    try:
        grants = _paginate(kms, "list_grants", "Grants", KeyId=meta["KeyId"])
    except botocore.exceptions.ClientError:
        grants = None
    try:  # the alias tells which purpose of kms_keys_user_principals the key belongs to
        aliases = [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"], aws_retry=True).get("Aliases", [])]
    except botocore.exceptions.ClientError:
        aliases = []
    return {"key_arn": meta["Arn"], "key_policies": [policy], "grants": grants, "aliases": aliases}


def check_restore_keys(systems, sources, clients, dr_region):
    """Whether the principal running the drill may use the KMS keys of the copies it would restore. Read-only.

    Returns ({system name: why it is refused}, {system name: what could not be checked}). A refusal is a key
    whose policy and grants do not allow an action the restore needs; a condition the evaluation cannot judge,
    an unreadable key or grant list, or an unknown principal is a note, never a refusal."""
    refused, notes, wanted = {}, {}, {}
    for system in systems:
        source = sources.get(system["name"])
        if not source or system["kind"] not in ("ec2", "ebs", "rds"):
            continue
        try:
            service, keys = _source_keys(source, clients, dr_region)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            notes[system["name"]] = "the key of %s was not checked: %s" % (source["id"], error)
            continue
        if keys:
            wanted[system["name"]] = (service, keys, source["id"])
    if not wanted:
        return refused, notes
    try:
        principal = _principal(clients, dr_region)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        for name in wanted:
            notes[name] = "the copy's key was not checked: the principal running the drill could not be read (%s)" % (
                error
            )
        return refused, notes
    kms = clients("kms", dr_region)
    keys = {}
    for name, (service, key_ids, copy) in sorted(wanted.items()):
        for key_id in key_ids:
            if key_id not in keys:
                try:
                    keys[key_id] = _read_key(kms, key_id)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
                    keys[key_id] = "the key %s could not be read (%s)" % (key_id, error)
            key = keys[key_id]
            if key is None:
                continue
            if isinstance(key, str):
                notes[name] = "%s: not checked" % key
                continue
            access = key_access(
                key, principal, RESTORE_KEY_ACTIONS[service], "%s.%s.amazonaws.com" % (service, dr_region), True
            )
            if access["missing"] and key["grants"] is not None:
                refused[name] = "%s is encrypted with %s%s, whose key policy does not let %s use it (%s)" % (
                    copy,
                    key["key_arn"],
                    " (%s)" % ", ".join(key["aliases"]) if key["aliases"] else "",
                    principal,
                    ", ".join(access["missing"]),
                )
            elif access["missing"]:
                notes[name] = "the key policy of %s does not let %s use it (%s) and its grants could not be listed" % (
                    key["key_arn"],
                    principal,
                    ", ".join(access["missing"]),
                )
            elif access["unsure"]:
                notes[name] = "%s: %s" % (key["key_arn"], "; ".join(sorted(set(access["unsure"].values()))))
    return refused, notes


def find_sources(systems, clients, primary_region, dr_region, backup_vault=None):
    """{system name: source or None}, plus {system name: problem} for resources unknown in the primary."""
    sources, problems = {}, {}
    for system in systems:
        kind = system["kind"]
        ids, problem = _primary_ids(system, clients, primary_region) if kind in ("ec2", "ebs", "rds") else ({}, None)
        if problem:
            problems[system["name"]] = problem
            continue
        if kind == "ec2":
            source = _ec2_source(system, ids, clients, dr_region)
        elif kind == "ebs":
            source = _ebs_source(system, ids, clients, dr_region)
        elif kind == "rds":
            source = _rds_source(system, ids, clients, dr_region)
        elif kind == "s3":
            source = _s3_source(system, clients, dr_region, primary_region)
        else:
            source = {
                "type": "route53_record",
                "id": system["resource"],
                "created": None,
                "detail": "Route 53 failover records of %s" % system["resource"],
            }
        if kind in ("ec2", "ebs", "rds") and backup_vault:
            point = _backup_source(system, ids, clients, dr_region, backup_vault)
            if point and (not source or (source.get("created") or "") < point["created"]):
                source = point
        sources[system["name"]] = source
    return sources, problems


# --- one system's drill ---------------------------------------------------------------------------------

SSM_ONLINE_WAITER = {
    "version": 2,
    "waiters": {
        "InstanceOnline": {
            "operation": "DescribeInstanceInformation",
            "delay": 5,
            "maxAttempts": 60,
            "acceptors": [
                {
                    "matcher": "pathAny",
                    "argument": "InstanceInformationList[].PingStatus",
                    "expected": "Online",
                    "state": "success",
                },
                {"matcher": "error", "expected": "InvalidInstanceId", "state": "retry"},
            ],
        }
    },
}


def tcp_probe_script(host, port, timeout):
    """The shell lines that test, on a drill instance, whether host:port accepts a TCP connection within timeout
    seconds (bash's /dev/tcp, ``timeout`` from coreutils, run by /bin/sh). Exit 0 and "answers"; or exit 1 and
    why not on standard error: the system's reason (for example Connection refused, Name or service not known)
    or no answer within the timeout."""
    host = str(host)
    if not re.match(r"^[A-Za-z0-9.:-]{1,253}$", host):
        raise ValueError("%r is not a host name or address" % host)
    port, timeout = int(port), int(timeout)
    return [
        "host='%s'; port=%d" % (host, port),
        'if out=$(timeout %d bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$host" "$port" 2>&1); then' % timeout,
        '  echo "$host:$port answers from $(uname -n)"',
        "else",
        "  rc=$?",
        '  if [ "$rc" -eq 124 ]; then why="no answer within %d s"; else why=$(printf \'%%s\\n\' "$out" | head -n 1); '
        "why=${why##*: }; fi" % timeout,
        '  echo "$host:$port does not answer from $(uname -n): ${why:-exit code $rc}" >&2',
        "  exit 1",
        "fi",
    ]


class ProbeHosts:
    """The drill's instances that can run a check inside the drill network: an EC2 system offers its instance
    once its SSM agent is online, or withdraws (failed, or no SSM check). A database's tcp check waits for the
    first one offered, or learns that none will come."""

    def __init__(self, providers):
        self._pending = set(providers)
        self._hosts = []
        self._withdrawn = {}
        self._ready = threading.Condition()

    def offer(self, system, instance_id):
        with self._ready:
            self._pending.discard(system)
            self._hosts.append((instance_id, system))
            self._ready.notify_all()

    def withdraw(self, system, why):
        with self._ready:
            if system in self._pending:
                self._pending.discard(system)
                self._withdrawn[system] = why
                self._ready.notify_all()

    def wait(self, timeout):
        """(instance id, system) of the first instance offered; RuntimeError when none comes."""
        with self._ready:
            self._ready.wait_for(lambda: self._hosts or not self._pending, timeout=timeout)
            if self._hosts:
                return self._hosts[0]
            why = "; ".join("%s: %s" % item for item in sorted(self._withdrawn.items()))
            if self._pending:
                why = "; ".join(
                    filter(None, [why, "%s not online after %d s" % (", ".join(sorted(self._pending)), timeout)])
                )
            raise RuntimeError(
                "no instance of this drill came online in SSM to test the database from (%s)" % (why or "none")
            )


def _raw(client):
    """The botocore client behind amazon.aws's retrying wrapper (waiters are made on it)."""
    return getattr(client, "client", client)


def _wait(client, name, delay, max_attempts, **kwargs):
    _raw(client).get_waiter(name).wait(WaiterConfig={"Delay": delay, "MaxAttempts": max_attempts}, **kwargs)


class SystemDrill:
    """Restore, verify and measure one system; records every step on a timeline relative to the drill start."""

    def __init__(self, system, source, ctx):
        self.system = system
        self.source = source
        self.ctx = ctx
        self.steps = []
        self.created = []  # (kind, id) in creation order
        self.status = "pending"
        self.error = None
        self.verified_at = None
        self.started_at = None
        self.resource_name = "%s-%s" % (ctx["drill_id"], system["name"].lower())

    def _tags(self, extra_name=None):
        return [
            {"Key": "Name", "Value": extra_name or self.resource_name},
            {"Key": DRILL_TAG, "Value": self.ctx["drill_id"]},
            {"Key": SYSTEM_TAG, "Value": self.system["name"]},
        ]

    def step(self, name, func, *args, **kwargs):
        begin = time.monotonic()
        entry = {"step": name, "start": round(begin - self.ctx["t0"], 3)}
        try:
            detail = func(*args, **kwargs)
            entry["status"] = "ok"
            if detail:
                entry["detail"] = detail
            return detail
        except Exception as error:
            entry["status"] = "failed"
            entry["detail"] = "%s: %s" % (type(error).__name__, error)
            raise
        finally:
            end = time.monotonic()
            entry["end"] = round(end - self.ctx["t0"], 3)
            entry["seconds"] = round(end - begin, 3)
            with self.ctx["lock"]:
                self.steps.append(entry)

    def run(self):
        self.started_at = time.monotonic()
        kind = self.system["kind"]
        try:
            getattr(self, "_drill_" + kind)()
            self.verified_at = time.monotonic()
            self.status = "recovered"
        except Exception as error:
            self.status = "failed"
            self.error = "%s: %s" % (type(error).__name__, error)
        finally:
            if kind == "ec2":  # no-op once the instance was offered
                self.ctx["probes"].withdraw(self.system["name"], self.error or "no SSM health check")
        return self

    # EC2: launch the newest AMI copy into the drill subnet
    def _drill_ec2(self):
        ec2 = self.ctx["clients"]("ec2", self.ctx["dr_region"])
        network = self.ctx["network"]
        params = {
            "ImageId": self.source["id"],
            "InstanceType": self.system.get("instance_type") or "t3.micro",
            "MinCount": 1,
            "MaxCount": 1,
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": self._tags()},
                {"ResourceType": "volume", "Tags": self._tags()},
            ],
            "ClientToken": self.resource_name,
        }
        if network.get("subnet_id"):
            params["NetworkInterfaces"] = [
                {
                    "DeviceIndex": 0,
                    "SubnetId": network["subnet_id"],
                    "AssociatePublicIpAddress": False,
                    "Groups": [network["security_group_id"]] if network.get("security_group_id") else [],
                }
            ]
        if self.system.get("instance_profile"):
            params["IamInstanceProfile"] = {"Name": self.system["instance_profile"]}

        def launch():
            instance = ec2.run_instances(aws_retry=True, **params)["Instances"][0]
            self.created.append(("instance", instance["InstanceId"]))
            return "instance %s from %s" % (instance["InstanceId"], self.source["id"])

        self.step("launch", launch)
        instance_id = self.created[-1][1]
        self.step(
            "wait running",
            lambda: _wait(ec2, "instance_running", self.ctx["poll"], self.ctx["attempts"], InstanceIds=[instance_id]),
        )
        if self.system["health_check"]["type"] == "ssm":
            ssm = self.ctx["clients"]("ssm", self.ctx["dr_region"])

            def online():
                model = botocore.waiter.WaiterModel(SSM_ONLINE_WAITER)
                waiter = botocore.waiter.create_waiter_with_client("InstanceOnline", model, _raw(ssm))
                waiter.wait(
                    Filters=[{"Key": "InstanceIds", "Values": [instance_id]}],
                    WaiterConfig={"Delay": self.ctx["poll"], "MaxAttempts": self.ctx["attempts"]},
                )
                return "SSM agent online"

            self.step("verify ssm", online)
            self.ctx["probes"].offer(self.system["name"], instance_id)

    # EBS: a volume from the newest snapshot copy, in the drill subnet's zone
    def _drill_ebs(self):
        ec2 = self.ctx["clients"]("ec2", self.ctx["dr_region"])
        zone = self.ctx["network"].get("availability_zone") or self.ctx["dr_region"] + "a"

        def create():
            volume = ec2.create_volume(
                SnapshotId=self.source["id"],
                AvailabilityZone=zone,
                VolumeType="gp3",
                TagSpecifications=[{"ResourceType": "volume", "Tags": self._tags()}],
                aws_retry=True,
            )
            self.created.append(("volume", volume["VolumeId"]))
            return "volume %s from %s" % (volume["VolumeId"], self.source["id"])

        self.step("create volume", create)
        volume_id = self.created[-1][1]
        self.step(
            "wait available",
            lambda: _wait(ec2, "volume_available", self.ctx["poll"], self.ctx["attempts"], VolumeIds=[volume_id]),
        )

    # RDS: restore the newest DR-region snapshot (or a drill snapshot of the replica) under a drill identifier
    def _drill_rds(self):
        rds = self.ctx["clients"]("rds", self.ctx["dr_region"])
        network = self.ctx["network"]
        snapshot = self.source.get("arn") or self.source["id"]
        if self.source["type"] == "rds_replica":
            snap_id = self.resource_name + "-snap"

            def snap():
                rds.create_db_snapshot(
                    DBSnapshotIdentifier=snap_id,
                    DBInstanceIdentifier=self.source["id"],
                    Tags=self._tags(snap_id),
                    aws_retry=True,
                )
                self.created.append(("db_snapshot", snap_id))
                _wait(
                    rds, "db_snapshot_available", self.ctx["poll"], self.ctx["attempts"], DBSnapshotIdentifier=snap_id
                )
                found = rds.describe_db_snapshots(DBSnapshotIdentifier=snap_id, aws_retry=True)["DBSnapshots"][0]
                self.source["created"] = _iso(_as_time(found.get("SnapshotCreateTime")) or _now())
                return "snapshot %s of the replica %s" % (snap_id, self.source["id"])

            self.step("snapshot replica", snap)
            snapshot = snap_id
        params = {
            "DBInstanceIdentifier": self.resource_name,
            "DBSnapshotIdentifier": snapshot,
            "DBInstanceClass": self.system.get("instance_class") or "db.t3.micro",
            "PubliclyAccessible": False,
            "MultiAZ": False,
            "DeletionProtection": False,
            "Tags": self._tags(),
        }
        if network.get("db_subnet_group"):
            params["DBSubnetGroupName"] = network["db_subnet_group"]
        if network.get("security_group_id"):
            params["VpcSecurityGroupIds"] = [network["security_group_id"]]

        def restore():
            rds.restore_db_instance_from_db_snapshot(aws_retry=True, **params)
            self.created.append(("db_instance", self.resource_name))
            return "DB instance %s from %s" % (self.resource_name, snapshot)

        self.step("restore database", restore)

        def available():
            _wait(
                rds,
                "db_instance_available",
                self.ctx["poll"],
                self.ctx["attempts"],
                DBInstanceIdentifier=self.resource_name,
            )
            db = rds.describe_db_instances(DBInstanceIdentifier=self.resource_name, aws_retry=True)["DBInstances"][0]
            endpoint = db.get("Endpoint") or {}
            if not endpoint.get("Address"):
                raise RuntimeError("database %s is available but has no endpoint" % self.resource_name)
            self.endpoint = (endpoint["Address"], endpoint.get("Port") or 3306)
            return "available at %s:%s" % self.endpoint

        self.step("wait available", available)
        if self.system["health_check"]["type"] == "tcp":
            if self.system["health_check"]["from"] == "control_node":
                self.step("verify answers", self._answers_here)
            else:
                self.step("verify answers", self._answers_in_drill_network)

    def _answers_here(self):
        host, port = self.endpoint
        timeout = self.system["health_check"]["timeout"]
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return "%s:%s answers to this control node" % (host, port)
        except OSError as error:
            raise RuntimeError(
                "%s:%s does not answer this control node within %d s (%s); from: control_node needs a host that "
                "reaches the isolated drill network, else test from an instance of the drill (from: drill_instance)"
                % (host, port, timeout, error)
            ) from None

    def _answers_in_drill_network(self):
        """Open the connection from an instance this drill restored, by SSM Run Command: the database is in the
        isolated drill network, which the host running the playbook does not reach."""
        host, port = self.endpoint
        timeout = self.system["health_check"]["timeout"]
        instance_id, source = self.ctx["probes"].wait(self.ctx["poll"] * self.ctx["attempts"])
        ssm = self.ctx["clients"]("ssm", self.ctx["dr_region"])
        command = ssm.send_command(
            InstanceIds=[instance_id],
            DocumentName="AWS-RunShellScript",
            Comment=("DR drill %s: does %s answer on its port" % (self.ctx["drill_id"], self.system["name"]))[:100],
            Parameters={
                "commands": tcp_probe_script(host, port, timeout),
                "executionTimeout": [str(timeout + 30)],
            },
            TimeoutSeconds=60,
            aws_retry=True,
        )["Command"]
        where = "instance %s of %s, command %s" % (instance_id, source, command["CommandId"])
        try:
            _wait(
                ssm,
                "command_executed",
                self.ctx["poll"],
                self.ctx["attempts"],
                CommandId=command["CommandId"],
                InstanceId=instance_id,
            )
        except botocore.exceptions.WaiterError:
            invocation = ssm.get_command_invocation(
                CommandId=command["CommandId"], InstanceId=instance_id, aws_retry=True
            )
            said = (invocation.get("StandardErrorContent") or invocation.get("StandardOutputContent") or "").strip()
            status = invocation.get("StatusDetails") or invocation.get("Status")
            raise RuntimeError(
                "%s:%s: the check on %s ended %s%s" % (host, port, where, status, ": " + said[-300:] if said else "")
            ) from None
        return "%s:%s answers inside the drill network (%s)" % (host, port, where)

    # S3: read the replicated bucket back
    def _drill_s3(self):
        s3 = self.ctx["clients"]("s3", self.ctx["dr_region"])
        if not self.source.get("newest_key"):
            raise RuntimeError("the DR bucket %s holds no objects" % self.source["id"])

        def read():
            head = s3.head_object(Bucket=self.source["id"], Key=self.source["newest_key"], aws_retry=True)
            return "read %s (%s bytes)" % (self.source["newest_key"], head.get("ContentLength"))

        self.step("read newest object", read)

    # DNS: the failover records are in place
    def _drill_dns(self):
        route53 = self.ctx["clients"]("route53", self.ctx["dr_region"])

        def check():
            records = failover_records(route53, self.system["resource"], self.system.get("zone"))
            pair = {r.get("SetIdentifier"): r.get("Failover") for r in records if r.get("Failover")}
            kinds = sorted(set(pair.values()))
            if kinds != ["PRIMARY", "SECONDARY"]:
                raise RuntimeError(
                    "record %s has no PRIMARY/SECONDARY failover pair (found %s)"
                    % (self.system["resource"], ", ".join(kinds) or "no failover records")
                )
            if set(pair) != set(DNS_SETS):
                # the failover runbook switches the pair by these identifiers: a real failover would stop here
                raise RuntimeError(
                    "record %s has a failover pair with set identifiers %s; playbooks/dr_failover.yml switches the"
                    " pair whose set identifiers are %s (the primary site) and %s (the DR site), so a failover would"
                    " stop at DNS. Rename the sets in Route 53 (the same records under those identifiers)"
                    % (
                        self.system["resource"],
                        ", ".join("%s (%s)" % (n, pair[n]) for n in sorted(pair, key=str)),
                        DNS_SETS[0],
                        DNS_SETS[1],
                    )
                )
            return "PRIMARY and SECONDARY records present (%s)" % ", ".join(
                "%s: %s" % (n, pair[n]) for n in sorted(pair, key=str)
            )

        self.step("check failover records", check)

    def result(self):
        rto = self.system["rto_minutes"] * 60
        rpo = self.system["rpo_minutes"] * 60
        seconds = round(self.verified_at - self.started_at, 3) if self.verified_at else None
        created = _as_time(self.source.get("created")) if self.source else None
        rpo_seconds = None
        if self.source and "rpo_seconds" in self.source:  # s3: the replica's lag behind the source's newest write
            rpo_seconds = self.source["rpo_seconds"]
        elif created is not None:
            rpo_seconds = round(max((self.ctx["started"] - created).total_seconds(), 0), 1)
        elif self.system["kind"] == "dns":
            rpo_seconds = 0
        return {
            "name": self.system["name"],
            "kind": self.system["kind"],
            "tier": self.system["tier"],
            "resource": self.system["resource"],
            "status": self.status,
            "error": self.error,
            "source": self.source,
            "restored": [{"type": k, "id": i} for k, i in self.created],
            "rto_target_seconds": rto,
            "rto_seconds": seconds,
            "rto_met": seconds is not None and seconds <= rto,
            "rpo_target_seconds": rpo,
            "rpo_seconds": rpo_seconds,
            "rpo_met": rpo_seconds is not None and rpo_seconds <= rpo,
            "steps": sorted(self.steps, key=lambda s: s["start"]),
        }


def failover_records(route53, record_name, zone_name=None):
    """The record sets named ``record_name`` (A/AAAA/CNAME), found in the hosted zone that holds the name."""
    name = record_name.rstrip(".") + "."
    zones = _paginate(route53, "list_hosted_zones", "HostedZones")
    candidates = [
        z for z in zones if (zone_name and z["Name"] == zone_name.rstrip(".") + ".") or name.endswith("." + z["Name"])
    ]
    records = []
    for zone in candidates:
        found = _paginate(route53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone["Id"])
        records.extend(r for r in found if r["Name"] == name)
    return records


# --- clean-up and proof ---------------------------------------------------------------------------------


def scan(clients, region, drill_id=None):
    """Every drill resource left in ``region`` (one drill's, or every drill's when drill_id is None)."""
    ec2 = clients("ec2", region)
    rds = clients("rds", region)
    tag_filter = (
        {"Name": "tag:" + DRILL_TAG, "Values": [drill_id]} if drill_id else {"Name": "tag-key", "Values": [DRILL_TAG]}
    )
    left = []
    for reservation in _paginate(
        ec2,
        "describe_instances",
        "Reservations",
        Filters=[tag_filter, {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}],
    ):
        for instance in reservation.get("Instances", []):
            left.append(
                {"type": "instance", "id": instance["InstanceId"], "drill_id": _tags(instance.get("Tags"))[DRILL_TAG]}
            )
    for volume in _paginate(ec2, "describe_volumes", "Volumes", Filters=[tag_filter]):
        left.append({"type": "volume", "id": volume["VolumeId"], "drill_id": _tags(volume.get("Tags"))[DRILL_TAG]})

    def mine(tags):
        value = _tags(tags).get(DRILL_TAG)
        return value is not None and (drill_id is None or value == drill_id)

    for db in _paginate(rds, "describe_db_instances", "DBInstances"):
        if mine(db.get("TagList")) and db.get("DBInstanceStatus") != "deleted":
            left.append(
                {"type": "db_instance", "id": db["DBInstanceIdentifier"], "drill_id": _tags(db["TagList"])[DRILL_TAG]}
            )
    for snap in _paginate(rds, "describe_db_snapshots", "DBSnapshots", SnapshotType="manual"):
        if mine(snap.get("TagList")):
            left.append(
                {
                    "type": "db_snapshot",
                    "id": snap["DBSnapshotIdentifier"],
                    "drill_id": _tags(snap["TagList"])[DRILL_TAG],
                }
            )
    return left


def sweep(clients, region, drill_id=None, poll=5, attempts=120):
    """Delete every drill resource found by scan(); wait until each is gone. Returns (deleted, errors)."""
    ec2 = clients("ec2", region)
    rds = clients("rds", region)
    deleted, errors = [], []
    found = scan(clients, region, drill_id)
    order = {"instance": 0, "db_instance": 1, "volume": 2, "db_snapshot": 3}
    instances = [r["id"] for r in found if r["type"] == "instance"]
    dbs = [r["id"] for r in found if r["type"] == "db_instance"]

    def attempt(item, call):
        try:
            call()
            deleted.append(item)
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.WaiterError,
        ) as error:
            errors.append(dict(item, error=str(error)))

    if instances:
        attempt(
            {"type": "instance", "id": ", ".join(instances)},
            lambda: ec2.terminate_instances(InstanceIds=instances, aws_retry=True),
        )
    for db in dbs:
        attempt(
            {"type": "db_instance", "id": db},
            lambda db=db: rds.delete_db_instance(
                DBInstanceIdentifier=db, SkipFinalSnapshot=True, DeleteAutomatedBackups=True, aws_retry=True
            ),
        )
    if instances:
        attempt(
            {"type": "wait", "id": "instances terminated"},
            lambda: _wait(ec2, "instance_terminated", poll, attempts, InstanceIds=instances),
        )
    for db in dbs:
        attempt(
            {"type": "wait", "id": "%s deleted" % db},
            lambda db=db: _wait(rds, "db_instance_deleted", poll, attempts, DBInstanceIdentifier=db),
        )
    if instances:  # volumes deleted on termination are gone now; look again
        volumes = {r["id"] for r in scan(clients, region, drill_id) if r["type"] == "volume"}
        found = [r for r in found if r["type"] != "volume" or r["id"] in volumes]
    for item in sorted(found, key=lambda r: order[r["type"]]):
        if item["type"] == "volume":
            attempt(item, lambda item=item: ec2.delete_volume(VolumeId=item["id"], aws_retry=True))
        elif item["type"] == "db_snapshot":
            attempt(item, lambda item=item: rds.delete_db_snapshot(DBSnapshotIdentifier=item["id"], aws_retry=True))
    deleted = [d for d in deleted if d["type"] != "wait"]
    return deleted, errors


# --- the drill ------------------------------------------------------------------------------------------


def run_drill(
    systems,
    clients,
    primary_region,
    dr_region,
    drill_id,
    network=None,
    backup_vault=None,
    parallel=10,
    poll=5,
    attempts=120,
    check_mode=False,
):
    """Restore, verify, measure and clean up every system. Returns the drill record (a dict)."""
    validate_drill_id(drill_id)
    started = _now()
    t0 = time.monotonic()
    sources, problems = find_sources(systems, clients, primary_region, dr_region, backup_vault)
    if problems:
        name = sorted(problems)[0]
        index = [s["name"] for s in systems].index(name)
        raise ParameterError(
            "systems[%d] (%s).resource" % (index, name),
            systems[index]["resource"],
            "is unknown: %s" % problems[name],
            "a resource that exists in %s" % primary_region,
        )
    missing = [s["name"] for s in systems if not sources.get(s["name"])]
    if missing and not check_mode:
        raise ParameterError(
            "systems",
            ", ".join(missing),
            "have no cross-region copy in %s to recover from" % dr_region,
            "an AMI/snapshot copy tagged %s or %s, a DB snapshot or read replica, or the DR bucket"
            % (SYSTEM_TAG, "/".join(SOURCE_TAGS.values())),
        )
    refused, key_notes = check_restore_keys(systems, sources, clients, dr_region)
    if refused and not check_mode:
        services = sorted({"rds" if s["kind"] == "rds" else "ec2" for s in systems if s["name"] in refused})
        raise KeyRefused(
            message="The drill cannot restore %s: %s. Nothing was changed. Add the principal to "
            "kms_keys_user_principals under the key's purpose (%s; backup for AWS Backup's copies) and run the "
            "kms_keys role (playbooks/remediate/backups.yml makes the EBS and backup keys, "
            "playbooks/remediate/rds.yml the RDS key), or have the key's administrators allow it; or leave the "
            "system out with dr_drill_only"
            % (
                ", ".join(sorted(refused)),
                "; ".join("%s: %s" % item for item in sorted(refused.items())),
                " or ".join(KEY_PURPOSE[s] for s in services),
            )
        )
    record = {
        "drill_id": drill_id,
        "primary_region": primary_region,
        "dr_region": dr_region,
        "started_at": _iso(started),
        "check_mode": check_mode,
        "key_notes": key_notes,
    }
    if check_mode:
        record.update(
            {
                "result": "planned",
                "systems": [
                    {
                        "name": s["name"],
                        "kind": s["kind"],
                        "tier": s["tier"],
                        "resource": s["resource"],
                        "source": sources[s["name"]],
                        "problem": refused.get(s["name"])
                        if sources[s["name"]]
                        else "no cross-region copy in %s to recover from" % dr_region,
                    }
                    for s in systems
                ],
                "ready": not missing and not refused,
            }
        )
        return record
    ctx = {
        "clients": clients,
        "dr_region": dr_region,
        "drill_id": drill_id,
        "network": network or {},
        "t0": t0,
        "started": started,
        "lock": threading.Lock(),
        "poll": poll,
        "attempts": attempts,
        "probes": ProbeHosts(s["name"] for s in systems if s["kind"] == "ec2" and s["health_check"]["type"] == "ssm"),
    }
    drills = [SystemDrill(system, dict(sources[system["name"]]), ctx) for system in systems]
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(drills)))) as pool:
            list(pool.map(lambda d: d.run(), drills))
    finally:
        clean_begin = time.monotonic()
        deleted, errors = sweep(clients, dr_region, drill_id, poll=poll, attempts=attempts)
        left = scan(clients, dr_region, drill_id)
        clean_end = time.monotonic()
    results = [d.result() for d in drills]
    recovered = all(r["status"] == "recovered" for r in results)
    met = all(r["rto_met"] and r["rpo_met"] for r in results)
    finished = _now()
    record.update(
        {
            "finished_at": _iso(finished),
            "wall_seconds": round(clean_begin - t0, 3),
            "slowest_system_seconds": max((r["rto_seconds"] or 0) for r in results) if results else 0,
            "systems": results,
            "cleanup": {
                "start": round(clean_begin - t0, 3),
                "end": round(clean_end - t0, 3),
                "seconds": round(clean_end - clean_begin, 3),
                "deleted": deleted,
                "errors": errors,
                "left": left,
                "clean": not left,
            },
            "recovered": recovered,
            "targets_met": met,
            "result": "pass" if recovered and met and not left else "fail",
            "success": bool(recovered and met and not left),
        }
    )
    return record
