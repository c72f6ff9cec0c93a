# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Encryption of existing EBS volumes, attached (root or data) or detached.

Used by the ec2_volume_encrypt module. Every function takes boto3 clients
(wrapped by AnsibleAWSModule.client with a retry decorator, so calls pass
``aws_retry=True``) and never the module, so the logic is tested with
botocore's Stubber.

An unencrypted volume is replaced, never changed in place:

1. record: the original volume is tagged with where it is attached
   (instance, device, whether the instance was running, DeleteOnTermination)
   before anything else happens, so a later run knows where to put the
   replacement even after the original has been detached;
2. stop: the instance is stopped (only with allow_stop), so the snapshot holds
   every write;
3. snapshot: a snapshot of the original;
4. copy: an encrypted copy of that snapshot (CopySnapshot Encrypted, KmsKeyId);
5. create_volume: a new volume from the copy, in the same Availability Zone
   with the same type, size, IOPS, throughput and tags;
6. detach: the original is detached;
7. attach: the new volume is attached at the same device;
8. delete_on_termination: the original's DeleteOnTermination is restored;
9. start: the instance is started again if it was running;
10. verify: the new volume is attached (or available, for a detached
    original), encrypted, and the instance is back in its state; only then is
    the original tagged ``cloudops:encrypt-status=verified``,
    ``cloudops:replaced-by`` and ``cloudops:retain-until``.

Every resource the module creates carries ``cloudops:encrypt-source`` (the
original volume id) and ``cloudops:encrypt-role`` in its creation call, so a
run that stops at any step is resumed by the next run from what AWS shows:
a step whose result exists is never repeated and nothing is created twice.
The original is never deleted here except by cleanup_originals(), and only
after its replacement was verified and its retention has passed.

The work is batched: one paginated describe per kind of resource, then each
step for all volumes together (all snapshots, then one wait for all of them,
and so on), one StopInstances and one StartInstances for all instances.
"""

import datetime
import math

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import (
    parse_kms_key_id,
    require_usable_kms_key,
)

TAG_SOURCE = "cloudops:encrypt-source"
TAG_ROLE = "cloudops:encrypt-role"
TAG_STATUS = "cloudops:encrypt-status"
TAG_INSTANCE = "cloudops:encrypt-instance"
TAG_DEVICE = "cloudops:encrypt-device"
TAG_WAS_RUNNING = "cloudops:encrypt-instance-was-running"
TAG_DELETE_ON_TERMINATION = "cloudops:encrypt-delete-on-termination"
TAG_KMS_KEY = "cloudops:encrypt-kms-key"
TAG_SNAPSHOT = "cloudops:encrypt-snapshot"
TAG_ENCRYPTED_SNAPSHOT = "cloudops:encrypt-encrypted-snapshot"
TAG_REPLACED_BY = "cloudops:replaced-by"
TAG_RETAIN_UNTIL = "cloudops:retain-until"
TAG_VERIFIED_AT = "cloudops:encrypt-verified-at"
ASG_TAG = "aws:autoscaling:groupName"

ROLE_SNAPSHOT = "source-snapshot"
ROLE_COPY = "encrypted-copy"
ROLE_REPLACEMENT = "replacement"
STATUS_IN_PROGRESS = "in-progress"
STATUS_VERIFIED = "verified"

STEPS = (
    "record",
    "stop",
    "snapshot",
    "copy",
    "create_volume",
    "detach",
    "attach",
    "delete_on_termination",
    "start",
    "verify",
)

# Volume types whose IOPS / throughput are set on creation.
IOPS_TYPES = ("io1", "io2", "gp3")
THROUGHPUT_TYPES = ("gp3",)
USABLE_VOLUME_STATES = ("available", "in-use")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class VolumeEncryptErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2Error


class StepError(AnsibleEC2Error):
    """A step failed part-way; ``volumes`` is the per-volume progress so far."""

    def __init__(self, message, exception=None, volumes=None):
        super().__init__(message=message, exception=exception)
        self.volumes = volumes or []


# --- EC2 API calls -----------------------------------------------------------


@VolumeEncryptErrorHandler.common_error_handler("describe EBS volumes")
def describe_volumes(client, filters):
    return _describe_all(client, "describe_volumes", "Volumes", Filters=filters)


@VolumeEncryptErrorHandler.common_error_handler("describe EC2 instances")
def describe_instances(client, instance_ids):
    reservations = _describe_all(
        client, "describe_instances", "Reservations", Filters=[{"Name": "instance-id", "Values": list(instance_ids)}]
    )
    return [instance for reservation in reservations for instance in reservation.get("Instances", [])]


@VolumeEncryptErrorHandler.common_error_handler("describe EBS snapshots")
def describe_snapshots(client, filters):
    return _describe_all(client, "describe_snapshots", "Snapshots", OwnerIds=["self"], Filters=filters)


def _describe_all(client, operation, key, **kwargs):
    """Every item of a paginated describe call, each page retried on throttling."""
    items = []
    token = None
    while True:
        params = dict(kwargs)
        if token:
            params["NextToken"] = token
        page = getattr(client, operation)(aws_retry=True, **params)
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items


@VolumeEncryptErrorHandler.common_error_handler("tag")
def create_tags(client, resource_ids, tags):
    client.create_tags(Resources=list(resource_ids), Tags=_tag_list(tags), aws_retry=True)


@VolumeEncryptErrorHandler.common_error_handler("stop instances")
def stop_instances(client, instance_ids):
    client.stop_instances(InstanceIds=list(instance_ids), aws_retry=True)


@VolumeEncryptErrorHandler.common_error_handler("start instances")
def start_instances(client, instance_ids):
    client.start_instances(InstanceIds=list(instance_ids), aws_retry=True)


@VolumeEncryptErrorHandler.common_error_handler("create a snapshot")
def create_snapshot(client, volume_id, tags):
    return client.create_snapshot(
        VolumeId=volume_id,
        Description=f"Snapshot of {volume_id} for encryption (medcircle.cloudops.ec2_volume_encrypt)",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": _tag_list(tags)}],
        aws_retry=True,
    )


@VolumeEncryptErrorHandler.common_error_handler("copy a snapshot with encryption")
def copy_snapshot(client, snapshot_id, region, volume_id, kms_key_id, tags):
    params = {
        "SourceSnapshotId": snapshot_id,
        "SourceRegion": region,
        "Encrypted": True,
        "Description": f"Encrypted copy of {snapshot_id} of {volume_id} (medcircle.cloudops.ec2_volume_encrypt)",
        "TagSpecifications": [{"ResourceType": "snapshot", "Tags": _tag_list(tags)}],
    }
    if kms_key_id:
        params["KmsKeyId"] = kms_key_id
    return client.copy_snapshot(aws_retry=True, **params)


@VolumeEncryptErrorHandler.common_error_handler("create the encrypted volume")
def create_volume(client, params):
    return client.create_volume(aws_retry=True, **params)


@VolumeEncryptErrorHandler.common_error_handler("detach the original volume")
def detach_volume(client, volume_id, instance_id, device):
    client.detach_volume(VolumeId=volume_id, InstanceId=instance_id, Device=device, aws_retry=True)


@VolumeEncryptErrorHandler.common_error_handler("attach the encrypted volume")
def attach_volume(client, volume_id, instance_id, device):
    client.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device=device, aws_retry=True)


@VolumeEncryptErrorHandler.common_error_handler("restore DeleteOnTermination")
def set_delete_on_termination(client, instance_id, devices):
    client.modify_instance_attribute(
        InstanceId=instance_id,
        BlockDeviceMappings=[{"DeviceName": device, "Ebs": {"DeleteOnTermination": True}} for device in devices],
        aws_retry=True,
    )


@VolumeEncryptErrorHandler.deletion_error_handler("delete a retained original volume")
def delete_volume(client, volume_id):
    client.delete_volume(VolumeId=volume_id, aws_retry=True)
    return True


@VolumeEncryptErrorHandler.deletion_error_handler("delete an intermediate snapshot")
def delete_snapshot(client, snapshot_id):
    client.delete_snapshot(SnapshotId=snapshot_id, aws_retry=True)
    return True


def wait(client, waiter_name, what, wait_delay, wait_timeout, **kwargs):
    """One botocore waiter for many resources; WaiterError becomes AnsibleEC2Error."""

    @VolumeEncryptErrorHandler.common_error_handler(what)
    def _wait():
        attempts = max(1, math.ceil(wait_timeout / max(wait_delay, 1)))
        client.get_waiter(waiter_name).wait(WaiterConfig={"Delay": wait_delay, "MaxAttempts": attempts}, **kwargs)

    _wait()


# --- Helpers -------------------------------------------------------------------


def _tag_list(tags):
    return [{"Key": key, "Value": str(value)} for key, value in tags.items()]


def tags_dict(tag_list):
    return {tag["Key"]: tag["Value"] for tag in tag_list or []}


def copyable_tags(tags):
    """The original's own tags, to copy to its replacement (not aws: or the module's own)."""
    return {k: v for k, v in tags.items() if not k.startswith("aws:") and not k.startswith("cloudops:encrypt")}


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def format_time(moment):
    return moment.strftime(TIME_FORMAT)


def parse_time(text):
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def boto3_filters(filters):
    """An Ansible filter dict ({name: value or [values]}) as a boto3 Filters list."""
    result = []
    for name, value in (filters or {}).items():
        values = value if isinstance(value, list) else [value]
        result.append({"Name": name, "Values": [str(v).lower() if isinstance(v, bool) else str(v) for v in values]})
    return result


# --- Validation ----------------------------------------------------------------


def validate_options(params):
    """Check the options that need no AWS call. Raises ParameterError.

    Returns the parsed kms_key_id (a KmsKeyRef) or None.
    """
    if params.get("state", "encrypted") == "encrypted" and not (
        params.get("volume_ids") or params.get("instance_ids") or params.get("filters")
    ):
        raise ParameterError(
            "volume_ids",
            None,
            "is not set, and neither are instance_ids nor filters",
            "at least one of volume_ids, instance_ids or filters (for example filters: {encrypted: false})",
        )
    for option in ("volume_ids", "instance_ids"):
        prefix = "vol-" if option == "volume_ids" else "i-"
        for value in params.get(option) or []:
            if not isinstance(value, str) or not value.startswith(prefix) or len(value) < len(prefix) + 8:
                raise ParameterError(option, value, "is not a well-formed id", f"ids such as {prefix}0123456789abcdef0")
    for option in ("original_retention_days",):
        if params.get(option) is not None and params[option] < 0:
            raise ParameterError(option, params[option], "must not be negative", "0 or more days")
    for option in ("wait_delay", "wait_timeout", "max_attempts"):
        if params.get(option) is not None and params[option] < 1:
            raise ParameterError(option, params[option], "must be at least 1", "a whole number of 1 or more")
    if params.get("kms_key_id"):
        return parse_kms_key_id(params["kms_key_id"])
    return None


# --- Discovery -----------------------------------------------------------------


def select_volumes(client, volume_ids=None, instance_ids=None, filters=None, cleanup=False):
    """The volumes the task acts on, by id; raises ParameterError for ids that do not exist.

    Replacement volumes made by this module are never selected.
    """
    selected = {}
    if volume_ids:
        found = describe_volumes(client, [{"Name": "volume-id", "Values": list(volume_ids)}])
        missing = sorted(set(volume_ids) - {v["VolumeId"] for v in found})
        if missing:
            raise ParameterError("volume_ids", missing, "were not found in the region", "ids of existing EBS volumes")
        selected.update({v["VolumeId"]: v for v in found})
    instances = {}
    if instance_ids:
        found = describe_instances(client, instance_ids)
        instances = {i["InstanceId"]: i for i in found}
        missing = sorted(set(instance_ids) - set(instances))
        if missing:
            raise ParameterError("instance_ids", missing, "were not found in the region", "ids of existing instances")
        ids = [m["Ebs"]["VolumeId"] for i in found for m in i.get("BlockDeviceMappings", []) or [] if m.get("Ebs")]
        filters_list = [{"Name": f"tag:{TAG_INSTANCE}", "Values": list(instance_ids)}]
        volumes = describe_volumes(client, filters_list)
        if ids:
            volumes += describe_volumes(client, [{"Name": "volume-id", "Values": ids}])
        selected.update({v["VolumeId"]: v for v in volumes})
    if filters:
        selected.update({v["VolumeId"]: v for v in describe_volumes(client, boto3_filters(filters))})
    if cleanup and not (volume_ids or instance_ids or filters):
        found = describe_volumes(client, [{"Name": f"tag:{TAG_STATUS}", "Values": [STATUS_VERIFIED]}])
        selected.update({v["VolumeId"]: v for v in found})
    return {
        vid: vol
        for vid, vol in sorted(selected.items())
        if tags_dict(vol.get("Tags")).get(TAG_ROLE) != ROLE_REPLACEMENT
    }, instances


def _pick(resources, state_key, bad_states):
    """The first usable resource made earlier for a volume (oldest first), or None."""
    usable = [r for r in resources if r.get(state_key) not in bad_states]
    usable.sort(key=lambda r: str(r.get("StartTime") or r.get("CreateTime") or ""))
    return usable[0] if usable else None


def gather(client, volumes, instances=None):
    """Instances, snapshots and replacement volumes related to ``volumes``, with batched describes."""
    instance_ids = set()
    for vol in volumes.values():
        tags = tags_dict(vol.get("Tags"))
        for attachment in vol.get("Attachments", []) or []:
            instance_ids.add(attachment["InstanceId"])
        if tags.get(TAG_INSTANCE):
            instance_ids.add(tags[TAG_INSTANCE])
    instances = dict(instances or {})
    missing = sorted(instance_ids - set(instances))
    if missing:
        instances.update({i["InstanceId"]: i for i in describe_instances(client, missing)})
    snapshots = {}
    replacements = {}
    if volumes:
        source_filter = [{"Name": f"tag:{TAG_SOURCE}", "Values": sorted(volumes)}]
        for snap in describe_snapshots(client, source_filter):
            snapshots.setdefault(tags_dict(snap.get("Tags")).get(TAG_SOURCE), []).append(snap)
        for vol in describe_volumes(client, source_filter):
            tags = tags_dict(vol.get("Tags"))
            if tags.get(TAG_ROLE) == ROLE_REPLACEMENT:
                replacements.setdefault(tags.get(TAG_SOURCE), []).append(vol)
    return instances, snapshots, replacements


# --- Planning ------------------------------------------------------------------


def _attachment(vol):
    attachments = [a for a in vol.get("Attachments", []) or [] if a.get("State") in ("attaching", "attached")]
    return attachments[0] if attachments else None


def _mapping(instance, device):
    for mapping in (instance or {}).get("BlockDeviceMappings", []) or []:
        if mapping.get("DeviceName") == device:
            return mapping
    return None


def plan_volume(vol, instances, snapshots, replacements, kms_arn, region):
    """Work out what a volume needs. Makes no call. Returns the volume's item."""
    vid = vol["VolumeId"]
    tags = tags_dict(vol.get("Tags"))
    attachment = _attachment(vol)
    item = {
        "volume_id": vid,
        "region": region,
        "availability_zone": vol.get("AvailabilityZone"),
        "size": vol.get("Size"),
        "volume_type": vol.get("VolumeType"),
        "iops": vol.get("Iops"),
        "throughput": vol.get("Throughput"),
        "encrypted": bool(vol.get("Encrypted")),
        "kms_key_id": vol.get("KmsKeyId"),
        "tags": tags,
        "instance_id": attachment["InstanceId"] if attachment else tags.get(TAG_INSTANCE),
        "device": attachment["Device"] if attachment else tags.get(TAG_DEVICE),
        "attached": attachment is not None,
        "root": False,
        "status": None,
        "steps": [],
        "steps_done": [],
        "message": "",
        "snapshot_id": tags.get(TAG_SNAPSHOT),
        "encrypted_snapshot_id": tags.get(TAG_ENCRYPTED_SNAPSHOT),
        "replacement_volume_id": tags.get(TAG_REPLACED_BY),
        "retain_until": tags.get(TAG_RETAIN_UNTIL),
        "target_kms_key_id": kms_arn,
    }
    instance = instances.get(item["instance_id"]) if item["instance_id"] else None
    item["instance_state"] = (instance or {}).get("State", {}).get("Name")
    if instance is not None:
        item["root"] = item["device"] == instance.get("RootDeviceName")

    if tags.get(TAG_STATUS) == STATUS_VERIFIED:
        item["status"] = "verified"
        item["message"] = (
            f"already replaced by {tags.get(TAG_REPLACED_BY)}; original kept until {tags.get(TAG_RETAIN_UNTIL)}"
        )
        return item
    if item["encrypted"] and tags.get(TAG_STATUS) != STATUS_IN_PROGRESS:
        item["status"] = "already_encrypted"
        item["message"] = f"already encrypted (key {vol.get('KmsKeyId') or 'default'}); no change"
        return item

    refusal = _refusal(vol, attachment, instance, item)
    if refusal:
        item["status"] = "refused"
        item["message"] = refusal
        return item

    found_snap = _pick(
        [s for s in snapshots.get(vid, []) if tags_dict(s.get("Tags")).get(TAG_ROLE) == ROLE_SNAPSHOT],
        "State",
        ("error",),
    )
    found_copy = _pick(
        [s for s in snapshots.get(vid, []) if tags_dict(s.get("Tags")).get(TAG_ROLE) == ROLE_COPY],
        "State",
        ("error",),
    )
    found_new = _pick(replacements.get(vid, []), "State", ("error", "deleting", "deleted"))
    item["snapshot_id"] = found_snap["SnapshotId"] if found_snap else None
    item["encrypted_snapshot_id"] = found_copy["SnapshotId"] if found_copy else None
    item["replacement_volume_id"] = found_new["VolumeId"] if found_new else None
    item["snapshot_state"] = found_snap.get("State") if found_snap else None
    item["copy_state"] = found_copy.get("State") if found_copy else None
    item["replacement_state"] = found_new.get("State") if found_new else None
    new_attachment = _attachment(found_new) if found_new else None

    was_running = tags.get(TAG_WAS_RUNNING)
    if was_running is None:
        was_running = "true" if item["instance_state"] in ("running", "pending", "stopping") and attachment else "false"
    item["was_running"] = was_running == "true"
    dot = tags.get(TAG_DELETE_ON_TERMINATION)
    if dot is None:
        dot = "true" if attachment and attachment.get("DeleteOnTermination") else "false"
        mapping = _mapping(instance, item["device"]) if attachment else None
        if mapping is not None:
            dot = "true" if mapping.get("Ebs", {}).get("DeleteOnTermination") else "false"
    item["delete_on_termination"] = dot == "true"
    has_instance = bool(item["instance_id"])

    steps = []
    if tags.get(TAG_STATUS) != STATUS_IN_PROGRESS or (has_instance and TAG_INSTANCE not in tags):
        steps.append("record")
    if attachment and item["instance_state"] in ("running", "pending", "stopping"):
        steps.append("stop")
    if not found_snap and not found_copy and not found_new:
        steps.append("snapshot")
    if not found_copy and not found_new:
        steps.append("copy")
    if not found_new:
        steps.append("create_volume")
    if has_instance:
        if attachment:
            steps.append("detach")
        attached_right = (
            new_attachment is not None
            and new_attachment.get("InstanceId") == item["instance_id"]
            and new_attachment.get("Device") == item["device"]
        )
        if not attached_right:
            steps.append("attach")
        if item["delete_on_termination"]:
            mapping = _mapping(instance, item["device"])
            dot_now = (
                attached_right
                and mapping is not None
                and mapping.get("Ebs", {}).get("VolumeId") == item["replacement_volume_id"]
                and mapping.get("Ebs", {}).get("DeleteOnTermination")
            )
            if not dot_now:
                steps.append("delete_on_termination")
        if item["was_running"] and ("stop" in steps or item["instance_state"] != "running"):
            steps.append("start")
    steps.append("verify")
    item["steps"] = steps
    item["status"] = "planned"
    item["message"] = _describe_plan(item)
    return item


def _refusal(vol, attachment, instance, item):
    vid = vol["VolumeId"]
    if vol.get("MultiAttachEnabled"):
        return (
            f"{vid} has Multi-Attach enabled; it cannot be swapped safely. Encrypt it by hand in a maintenance window"
        )
    if len([a for a in vol.get("Attachments", []) or [] if a.get("State") in ("attaching", "attached")]) > 1:
        return f"{vid} is attached to more than one instance; it cannot be swapped safely"
    if vol.get("State") not in USABLE_VOLUME_STATES:
        return f"{vid} is {vol.get('State')}; rerun when it is available or in-use"
    if attachment and attachment.get("State") != "attached":
        where = f"{attachment.get('State')} on {attachment.get('InstanceId')}"
        return f"{vid} is {where}; rerun when the attachment has settled"
    if item["instance_id"] and instance is None:
        return (
            f"{vid} was attached to {item['instance_id']}, which no longer exists; "
            "the original is kept, check it by hand"
        )
    if instance is not None:
        tags = tags_dict(instance.get("Tags"))
        if tags.get(ASG_TAG):
            return (
                f"{vid} belongs to {instance['InstanceId']} in Auto Scaling group {tags[ASG_TAG]}: the group would "
                "replace a stopped instance. Encrypt its volumes in the launch template (encrypted: true, kms_key_id) "
                "and run an instance refresh (amazon.aws.autoscaling_instance_refresh)"
            )
        if instance.get("RootDeviceType") == "instance-store" and item["device"] == instance.get("RootDeviceName"):
            return (
                f"{instance['InstanceId']} has an instance-store root device; it cannot be encrypted by a volume swap"
            )
        state = item["instance_state"]
        if state in ("shutting-down", "terminated"):
            return f"{vid} belongs to {instance['InstanceId']}, which is {state}"
    return None


def _describe_plan(item):
    where = f" ({item['device']} of {item['instance_id']})" if item["instance_id"] else " (detached)"
    return f"{item['volume_id']}{where}: " + ", ".join(item["steps"])


# --- Execution -----------------------------------------------------------------


class Runner:
    """Runs the steps of planned items, batched across volumes, recording progress on each item."""

    def __init__(self, client, region, items, kms_key_id, retention_days, wait_delay, wait_timeout):
        self.client = client
        self.region = region
        self.items = items
        self.kms_key_id = kms_key_id
        self.retention_days = retention_days
        self.wait_delay = wait_delay
        self.wait_timeout = wait_timeout
        self.instances_stopped = []
        self.instances_started = []

    def _with(self, step):
        return [item for item in self.items if step in item["steps"]]

    def _done(self, items, step):
        for item in items:
            item["steps_done"].append(step)

    def _wait(self, waiter, what, **kwargs):
        wait(self.client, waiter, what, self.wait_delay, self.wait_timeout, **kwargs)

    def run(self):
        for step in STEPS:
            items = self._with(step)
            if not items:
                continue
            try:
                getattr(self, f"step_{step}")(items)
            except AnsibleEC2Error as e:
                ids = ", ".join(item["volume_id"] for item in items)
                raise StepError(
                    f"Step {step} failed for {ids}: {e.message or e}. Nothing was deleted and every original volume "
                    "is kept; rerun the same task to resume from this step",
                    exception=e.exception,
                    volumes=self.items,
                ) from e
            self._done(items, step)

    def step_record(self, items):
        for item in items:
            tags = {TAG_STATUS: STATUS_IN_PROGRESS}
            if self.kms_key_id:
                tags[TAG_KMS_KEY] = self.kms_key_id
            if item["instance_id"]:
                tags.update(
                    {
                        TAG_INSTANCE: item["instance_id"],
                        TAG_DEVICE: item["device"],
                        TAG_WAS_RUNNING: "true" if item["was_running"] else "false",
                        TAG_DELETE_ON_TERMINATION: "true" if item["delete_on_termination"] else "false",
                    }
                )
            create_tags(self.client, [item["volume_id"]], tags)

    def step_stop(self, items):
        ids = sorted({item["instance_id"] for item in items})
        to_stop = [i for i in ids if self._state(items, i) in ("running", "pending")]
        if to_stop:
            stop_instances(self.client, to_stop)
            self.instances_stopped = to_stop
        self._wait("instance_stopped", "wait for the instances to stop", InstanceIds=ids)

    @staticmethod
    def _state(items, instance_id):
        return next(item["instance_state"] for item in items if item["instance_id"] == instance_id)

    def step_snapshot(self, items):
        for item in items:
            tags = {"Name": f"encrypt {item['volume_id']}", TAG_SOURCE: item["volume_id"], TAG_ROLE: ROLE_SNAPSHOT}
            item["snapshot_id"] = create_snapshot(self.client, item["volume_id"], tags)["SnapshotId"]
        self._wait(
            "snapshot_completed", "wait for the snapshots to complete", SnapshotIds=[i["snapshot_id"] for i in items]
        )

    def step_copy(self, items):
        pending = [i["snapshot_id"] for i in items if i.get("snapshot_state") == "pending"]
        if pending:
            self._wait("snapshot_completed", "wait for the snapshots to complete", SnapshotIds=pending)
        for item in items:
            tags = {"Name": f"encrypt {item['volume_id']}", TAG_SOURCE: item["volume_id"], TAG_ROLE: ROLE_COPY}
            item["encrypted_snapshot_id"] = copy_snapshot(
                self.client, item["snapshot_id"], self.region, item["volume_id"], self.kms_key_id, tags
            )["SnapshotId"]
        self._wait(
            "snapshot_completed",
            "wait for the encrypted snapshot copies to complete",
            SnapshotIds=[i["encrypted_snapshot_id"] for i in items],
        )

    def step_create_volume(self, items):
        pending = [i["encrypted_snapshot_id"] for i in items if i.get("copy_state") == "pending"]
        if pending:
            self._wait("snapshot_completed", "wait for the encrypted snapshot copies to complete", SnapshotIds=pending)
        for item in items:
            tags = copyable_tags(item["tags"])
            tags.update({TAG_SOURCE: item["volume_id"], TAG_ROLE: ROLE_REPLACEMENT})
            params = {
                "AvailabilityZone": item["availability_zone"],
                "SnapshotId": item["encrypted_snapshot_id"],
                "VolumeType": item["volume_type"],
                "Size": item["size"],
                "Encrypted": True,
                "TagSpecifications": [{"ResourceType": "volume", "Tags": _tag_list(tags)}],
                "ClientToken": f"cloudops-encrypt-{item['volume_id']}-{item['encrypted_snapshot_id']}"[:64],
            }
            if self.kms_key_id:
                params["KmsKeyId"] = self.kms_key_id
            if item["volume_type"] in IOPS_TYPES and item.get("iops"):
                params["Iops"] = item["iops"]
            if item["volume_type"] in THROUGHPUT_TYPES and item.get("throughput"):
                params["Throughput"] = item["throughput"]
            item["replacement_volume_id"] = create_volume(self.client, params)["VolumeId"]
        self._wait(
            "volume_available",
            "wait for the encrypted volumes to become available",
            VolumeIds=[i["replacement_volume_id"] for i in items],
        )

    def step_detach(self, items):
        for item in items:
            detach_volume(self.client, item["volume_id"], item["instance_id"], item["device"])
        self._wait(
            "volume_available", "wait for the original volumes to detach", VolumeIds=[i["volume_id"] for i in items]
        )

    def step_attach(self, items):
        pending = [i["replacement_volume_id"] for i in items if i.get("replacement_state") == "creating"]
        if pending:
            self._wait("volume_available", "wait for the encrypted volumes to become available", VolumeIds=pending)
        for item in items:
            attach_volume(self.client, item["replacement_volume_id"], item["instance_id"], item["device"])
        self._wait(
            "volume_in_use",
            "wait for the encrypted volumes to attach",
            VolumeIds=[i["replacement_volume_id"] for i in items],
        )

    def step_delete_on_termination(self, items):
        by_instance = {}
        for item in items:
            by_instance.setdefault(item["instance_id"], []).append(item["device"])
        for instance_id, devices in sorted(by_instance.items()):
            set_delete_on_termination(self.client, instance_id, sorted(devices))

    def step_start(self, items):
        ids = sorted({item["instance_id"] for item in items})
        start_instances(self.client, ids)
        self.instances_started = ids
        self._wait("instance_running", "wait for the instances to run again", InstanceIds=ids)

    def step_verify(self, items):
        new_ids = [i["replacement_volume_id"] for i in items]
        new_volumes = {
            v["VolumeId"]: v for v in describe_volumes(self.client, [{"Name": "volume-id", "Values": new_ids}])
        }
        instance_ids = sorted({i["instance_id"] for i in items if i["instance_id"]})
        instances = {i["InstanceId"]: i for i in describe_instances(self.client, instance_ids)} if instance_ids else {}
        problems = []
        for item in items:
            problem = verify_item(
                item, new_volumes.get(item["replacement_volume_id"]), instances.get(item["instance_id"])
            )
            if problem:
                problems.append(problem)
        if problems:
            raise AnsibleEC2Error(message="verification failed: " + "; ".join(problems))
        verified_at = now_utc()
        retain_until = format_time(verified_at + datetime.timedelta(days=self.retention_days))
        for item in items:
            item["retain_until"] = retain_until
            create_tags(
                self.client,
                [item["volume_id"]],
                {
                    TAG_STATUS: STATUS_VERIFIED,
                    TAG_REPLACED_BY: item["replacement_volume_id"],
                    TAG_RETAIN_UNTIL: retain_until,
                    TAG_VERIFIED_AT: format_time(verified_at),
                    TAG_SNAPSHOT: item["snapshot_id"] or "-",
                    TAG_ENCRYPTED_SNAPSHOT: item["encrypted_snapshot_id"] or "-",
                },
            )
            create_tags(self.client, [item["replacement_volume_id"]], {TAG_STATUS: STATUS_VERIFIED})
            item["status"] = "encrypted"


def verify_item(item, new_volume, instance):
    """A problem description, or None when the replacement is in place."""
    vid = item["volume_id"]
    if new_volume is None:
        return f"the replacement of {vid} ({item['replacement_volume_id']}) was not found"
    if not new_volume.get("Encrypted"):
        return f"the replacement {new_volume['VolumeId']} of {vid} is not encrypted"
    if item["instance_id"]:
        attachment = _attachment(new_volume)
        if (
            not attachment
            or attachment.get("InstanceId") != item["instance_id"]
            or attachment.get("Device") != item["device"]
        ):
            return f"{new_volume['VolumeId']} is not attached to {item['instance_id']} at {item['device']}"
        wanted = "running" if item["was_running"] else "stopped"
        state = (instance or {}).get("State", {}).get("Name")
        if state != wanted:
            return f"{item['instance_id']} is {state}, expected {wanted}"
    elif new_volume.get("State") != "available":
        return f"{new_volume['VolumeId']} is {new_volume.get('State')}, expected available"
    return None


# --- Cleanup -------------------------------------------------------------------


def plan_cleanup(client, items, moment=None):
    """Verified originals whose retention has passed and whose replacement is still in place.

    Returns (deletable, kept): lists of (item, reason). Makes read-only calls.
    """
    moment = moment or now_utc()
    candidates = [item for item in items if item["status"] in ("verified", "encrypted")]
    new_ids = [item["replacement_volume_id"] for item in candidates if item["replacement_volume_id"]]
    new_volumes = (
        {v["VolumeId"]: v for v in describe_volumes(client, [{"Name": "volume-id", "Values": new_ids}])}
        if new_ids
        else {}
    )
    instance_ids = sorted({item["instance_id"] for item in candidates if item["instance_id"]})
    instances = {i["InstanceId"]: i for i in describe_instances(client, instance_ids)} if instance_ids else {}
    deletable, kept = [], []
    for item in candidates:
        until = parse_time(item["retain_until"])
        if until is None or until > moment:
            kept.append((item, f"kept until {item['retain_until']}"))
            continue
        new_volume = new_volumes.get(item["replacement_volume_id"])
        problem = None
        if new_volume is None or not new_volume.get("Encrypted"):
            problem = f"its replacement {item['replacement_volume_id']} is missing or not encrypted"
        elif item["instance_id"]:
            attachment = _attachment(new_volume)
            if not attachment or attachment.get("InstanceId") != item["instance_id"]:
                problem = (
                    f"its replacement {item['replacement_volume_id']} is no longer attached to {item['instance_id']}"
                )
            elif instances.get(item["instance_id"]) is None:
                problem = f"{item['instance_id']} no longer exists"
        if item.get("attached"):
            problem = f"{item['volume_id']} is attached again"
        if problem:
            kept.append((item, f"kept: {problem}"))
        else:
            deletable.append((item, f"retention passed ({item['retain_until']})"))
    return deletable, kept


def cleanup_originals(client, deletable, snapshots):
    """Delete verified originals and their intermediate snapshots. Returns the deleted ids."""
    deleted = []
    for item, _reason in deletable:
        for snap in snapshots.get(item["volume_id"], []):
            if delete_snapshot(client, snap["SnapshotId"]):
                deleted.append(snap["SnapshotId"])
        if delete_volume(client, item["volume_id"]):
            deleted.append(item["volume_id"])
        item["status"] = "deleted"
    return deleted


# --- Entry point ---------------------------------------------------------------


def result_view(item):
    keys = (
        "volume_id",
        "status",
        "message",
        "instance_id",
        "device",
        "root",
        "availability_zone",
        "size",
        "volume_type",
        "steps",
        "steps_done",
        "snapshot_id",
        "encrypted_snapshot_id",
        "replacement_volume_id",
        "retain_until",
    )
    return {key: item.get(key) for key in keys}


def ensure_volumes_encrypted(ec2, kms, region, params, check_mode=False):
    """Plan, check and run the encryption (or the cleanup) of the selected volumes.

    ``params`` holds the module options. Returns a dict for exit_json (without
    ``diff`` when the caller does not want it: the key ``diff`` is always set).
    """
    ref = validate_options(params)
    cleanup_only = params["state"] == "cleanup"
    volumes, instances = select_volumes(
        ec2, params.get("volume_ids"), params.get("instance_ids"), params.get("filters"), cleanup=cleanup_only
    )
    refused = []
    for instance in instances.values():
        if instance.get("RootDeviceType") == "instance-store":
            refused.append(
                {
                    "volume_id": None,
                    "instance_id": instance["InstanceId"],
                    "status": "refused",
                    "message": f"{instance['InstanceId']} has an instance-store root device; it cannot be encrypted "
                    "by a volume swap. Rebuild it from an encrypted EBS-backed AMI",
                }
            )
    kms_arn = None
    if ref is not None and not cleanup_only:
        kms_arn = require_usable_kms_key(kms, ref, region)["Arn"]
    all_instances, snapshots, replacements = gather(ec2, volumes, instances)
    items = [plan_volume(vol, all_instances, snapshots, replacements, kms_arn, region) for vol in volumes.values()]

    refused += [result_view(item) for item in items if item["status"] == "refused"]
    if refused and not params.get("skip_refused"):
        raise ParameterError(
            "volume_ids/instance_ids/filters",
            None,
            "select volumes this module must not swap: "
            + "; ".join(r["message"] for r in refused)
            + ". Nothing was changed. Leave them out of the selection, or set skip_refused: true to encrypt the others",
        )
    planned = [item for item in items if item["status"] == "planned"] if not cleanup_only else []
    if planned and not params.get("allow_stop"):
        stopping = [item for item in planned if "stop" in item["steps"]]
        if stopping:
            what = "; ".join(
                f"{item['volume_id']} ({item['device']} of {item['instance_id']}, {item['instance_state']})"
                for item in stopping
            )
            raise ParameterError(
                "allow_stop",
                None,
                f"is false, but encrypting {what} needs the instance stopped for the volume swap. Nothing was changed",
                "allow_stop: true (role variable ebs_encryption_allow_stop: true) in a maintenance window, or "
                "leave these volumes out",
            )

    runner = Runner(
        ec2,
        region,
        planned,
        kms_arn,
        params.get("original_retention_days") or 0,
        params["wait_delay"],
        params["wait_timeout"],
    )
    diff = {"before": {}, "after": {}}
    for item in planned:
        diff["before"][item["volume_id"]] = {
            "encrypted": False,
            "attached_at": f"{item['instance_id']} {item['device']}" if item["instance_id"] else None,
            "replaced_by": None,
        }
        diff["after"][item["volume_id"]] = {
            "encrypted": False,
            "attached_at": None,
            "replaced_by": item["replacement_volume_id"] or "(new encrypted volume)",
            "replacement_attached_at": f"{item['instance_id']} {item['device']}" if item["instance_id"] else None,
        }
    if planned and not check_mode:
        runner.run()
        for item in planned:
            diff["after"][item["volume_id"]]["replaced_by"] = item["replacement_volume_id"]

    deleted = []
    cleanup = []
    if cleanup_only or params.get("cleanup_originals"):
        deletable, kept = plan_cleanup(ec2, items)
        cleanup = [{"volume_id": item["volume_id"], "delete": True, "reason": r} for item, r in deletable]
        cleanup += [{"volume_id": item["volume_id"], "delete": False, "reason": r} for item, r in kept]
        if deletable:
            if check_mode:
                for item, _reason in deletable:
                    item["status"] = "would_delete"
            else:
                cleanup_snapshots = {
                    item["volume_id"]: snapshots.get(item["volume_id"], []) for item, _reason in deletable
                }
                deleted = cleanup_originals(ec2, deletable, cleanup_snapshots)

    changed = bool(planned) or bool(deleted) or (check_mode and any(c["delete"] for c in cleanup))
    return {
        "changed": changed,
        "volumes": [result_view(item) for item in items],
        "refused": refused,
        "instances_stopped": runner.instances_stopped,
        "instances_started": runner.instances_started,
        "cleanup": cleanup,
        "deleted": deleted,
        "diff": diff,
    }
