#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_patch_snapshot
version_added: 0.1.0
short_description: Pre-patch snapshots of every volume of instances, and rollback from them
description:
  - V(present) takes one crash-consistent snapshot set per instance (C(CreateSnapshots), every
    attached EBS volume, the root included), tagged with the patch run, the instance and an
    expiry date, and waits until they are completed. An instance that already has the
    run's snapshots is left alone, so a repeated run changes nothing.
  - V(restored) rolls instances back to the run's snapshots - stops the instance, creates a volume
    from each snapshot in the instance's zone, swaps it in at the same device, and starts the
    instance again if it was running. The volumes that were replaced are detached and kept, tagged
    C(cloudops:rolled-back-by), never deleted. An instance already running on volumes restored from
    the run's snapshots is left alone.
  - Used by the patch window (role C(patch_window)) for finding C(3.8).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  instance_ids:
    description:
      - The instances.
    type: list
    elements: str
    required: true
  run_id:
    description:
      - The patch run the snapshots belong to (tag C(cloudops:patch-run)). Letters, digits, C(-), C(_), C(.).
    type: str
    required: true
  state:
    description:
      - V(present) takes the snapshots, V(restored) rolls the instances back to them.
    type: str
    choices: [present, restored]
    default: present
  expire_after_days:
    description:
      - The snapshots are tagged C(cloudops:expires) with the date this many days from now (1 to 3650);
        the collection's clean-up deletes expired pre-patch snapshots.
    type: int
    default: 14
  tags:
    description:
      - More tags for the snapshots (and restored volumes).
    type: dict
    default: {}
  wait_timeout:
    description:
      - Seconds to wait for snapshots to complete, or for an instance to stop, its volumes to be
        ready and it to start again.
    type: int
    default: 1800
notes:
  - Supports C(check_mode); only C(DescribeInstances), C(DescribeSnapshots) and C(DescribeVolumes) are called.
  - One C(DescribeInstances) call per 1000 instances and one C(CreateSnapshots) call per instance.
  - "IAM permissions: C(ec2:DescribeInstances), C(ec2:DescribeSnapshots), C(ec2:DescribeVolumes),
    C(ec2:CreateSnapshots), C(ec2:CreateTags), and for V(restored) C(ec2:StopInstances),
    C(ec2:StartInstances), C(ec2:CreateVolume), C(ec2:DetachVolume) and C(ec2:AttachVolume)."
seealso:
  - module: medcircle.cloudops.ssm_command
  - module: amazon.aws.ec2_snapshot
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.8 | PATCH | Snapshot every volume of the instances before patching
  medcircle.cloudops.ec2_patch_snapshot:
    instance_ids: "{{ patch_targets }}"
    run_id: 20260301T020000Z
    expire_after_days: 14

- name: 3.8 | PATCH | Roll a failed instance back to its pre-patch snapshots
  medcircle.cloudops.ec2_patch_snapshot:
    instance_ids: [i-0123456789abcdef0]
    run_id: 20260301T020000Z
    state: restored
"""

RETURN = r"""
changed:
  description: Whether snapshots were taken or instances rolled back (in check mode, would be).
  returned: always
  type: bool
  sample: true
instances:
  description: One entry per instance.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    action:
      description: C(snapshotted), C(already_snapshotted), C(restored), C(already_restored), C(would_snapshot),
        C(would_restore), or C(failed).
      returned: always
      type: str
      sample: snapshotted
    snapshots:
      description: The run's snapshots of the instance.
      returned: always
      type: list
      elements: dict
      sample:
        - snapshot_id: snap-0123456789abcdef0
          volume_id: vol-0123456789abcdef0
          device: /dev/xvda
          state: completed
    restored_volumes:
      description: For V(restored), the new volume at each device and the volume it replaced (kept).
      returned: when state is restored
      type: list
      elements: dict
      sample:
        - device: /dev/xvda
          volume_id: vol-0aaa
          replaced_volume_id: vol-0bbb
          snapshot_id: snap-0ccc
    error:
      description: What went wrong for this instance.
      returned: when action is failed
      type: str
      sample: "no pre-patch snapshot of run 20260301T020000Z"
expires:
  description: The expiry date tagged on new snapshots.
  returned: always
  type: str
  sample: "2026-03-15"
"""

import datetime
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

RUN_TAG = "cloudops:patch-run"
INSTANCE_TAG = "cloudops:instance-id"
DEVICE_TAG = "cloudops:device"
EXPIRES_TAG = "cloudops:expires"
RESTORED_TAG = "cloudops:restored-from"
ROLLED_BACK_TAG = "cloudops:rolled-back-by"


def _chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def describe_instances(ec2, instance_ids):
    found = {}
    for chunk in _chunks(instance_ids, 1000):
        kwargs = {"InstanceIds": chunk}
        while True:
            page = ec2.describe_instances(aws_retry=True, **kwargs)
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    found[instance["InstanceId"]] = instance
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return found


def run_snapshots(ec2, run_id):
    """{instance id: [snapshot]} of the run's snapshots (one paginated call)."""
    kwargs = {"OwnerIds": ["self"], "Filters": [{"Name": "tag:" + RUN_TAG, "Values": [run_id]}]}
    found = {}
    while True:
        page = ec2.describe_snapshots(aws_retry=True, **kwargs)
        for snapshot in page.get("Snapshots", []):
            tags = {t["Key"]: t["Value"] for t in snapshot.get("Tags", [])}
            snapshot["TagMap"] = tags
            found.setdefault(tags.get(INSTANCE_TAG, ""), []).append(snapshot)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return found


def _snapshot_view(snapshot, device=""):
    return {
        "snapshot_id": snapshot["SnapshotId"],
        "volume_id": snapshot.get("VolumeId", ""),
        "device": device or snapshot.get("TagMap", {}).get(DEVICE_TAG, ""),
        "state": snapshot.get("State", ""),
    }


def _devices(instance):
    return {
        m["Ebs"]["VolumeId"]: m["DeviceName"]
        for m in instance.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("VolumeId")
    }


def snapshot(module, ec2, instances, ids, run_id, expires, extra_tags, check_mode, timeout):
    existing = run_snapshots(ec2, run_id)
    results, created = [], []
    for instance_id in ids:
        instance = instances.get(instance_id)
        if instance is None:
            results.append(
                {"instance_id": instance_id, "action": "failed", "snapshots": [], "error": "instance not found"}
            )
            continue
        if existing.get(instance_id):
            results.append(
                {
                    "instance_id": instance_id,
                    "action": "already_snapshotted",
                    "snapshots": [
                        _snapshot_view(s, _devices(instance).get(s.get("VolumeId"), "")) for s in existing[instance_id]
                    ],
                }
            )
            continue
        if check_mode:
            results.append({"instance_id": instance_id, "action": "would_snapshot", "snapshots": []})
            continue
        tags = dict(extra_tags)
        tags.update(
            {
                RUN_TAG: run_id,
                INSTANCE_TAG: instance_id,
                EXPIRES_TAG: expires,
                "Name": "pre-patch %s %s" % (instance_id, run_id),
            }
        )
        reply = ec2.create_snapshots(
            aws_retry=True,
            InstanceSpecification={"InstanceId": instance_id, "ExcludeBootVolume": False},
            Description="Pre-patch snapshot of %s, patch run %s" % (instance_id, run_id),
            TagSpecifications=[
                {"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": str(v)} for k, v in tags.items()]}
            ],
        )
        devices = _devices(instance)
        created += [info["SnapshotId"] for info in reply.get("Snapshots", [])]
        results.append(
            {
                "instance_id": instance_id,
                "action": "snapshotted",
                "snapshots": [
                    {
                        "snapshot_id": s["SnapshotId"],
                        "volume_id": s.get("VolumeId", ""),
                        "device": devices.get(s.get("VolumeId"), ""),
                        "state": s.get("State", "pending"),
                    }
                    for s in reply.get("Snapshots", [])
                ],
            }
        )
    if created:
        states = wait_snapshots(ec2, created, timeout)
        for entry in results:
            for snap in entry["snapshots"]:
                snap["state"] = states.get(snap["snapshot_id"], snap["state"])
            if any(s["state"] == "error" for s in entry["snapshots"]):
                entry["action"], entry["error"] = "failed", "a snapshot ended in state error"
    return results, bool(created) or any(r["action"] == "would_snapshot" for r in results)


def wait_snapshots(ec2, snapshot_ids, timeout):
    deadline = time.monotonic() + timeout
    delay = 1.0
    while True:
        states = {}
        for chunk in _chunks(snapshot_ids, 200):
            for snap in ec2.describe_snapshots(aws_retry=True, SnapshotIds=chunk).get("Snapshots", []):
                states[snap["SnapshotId"]] = snap.get("State", "")
        if all(states.get(s) in ("completed", "error") for s in snapshot_ids):
            return states
        if time.monotonic() > deadline:
            raise ParameterError(
                "wait_timeout", timeout, "passed before the snapshots completed", "a longer wait_timeout"
            )
        time.sleep(delay)
        delay = min(15.0, delay * 1.5)


def _volumes(ec2, volume_ids):
    found = {}
    for chunk in _chunks(list(volume_ids), 200):
        if chunk:
            for volume in ec2.describe_volumes(aws_retry=True, VolumeIds=chunk).get("Volumes", []):
                volume["TagMap"] = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
                found[volume["VolumeId"]] = volume
    return found


def _wait(ec2, name, timeout, **kwargs):
    ec2.get_waiter(name).wait(WaiterConfig={"Delay": 2, "MaxAttempts": max(1, timeout // 2)}, **kwargs)


def restore(module, ec2, instances, ids, run_id, extra_tags, check_mode, timeout):
    existing = run_snapshots(ec2, run_id)
    attached = {}
    for instance in instances.values():
        attached.update(dict.fromkeys(_devices(instance), instance["InstanceId"]))
    volumes = _volumes(ec2, attached)
    results, changed = [], False
    for instance_id in ids:
        instance = instances.get(instance_id)
        snaps = existing.get(instance_id, [])
        views = [_snapshot_view(s, _devices(instance or {}).get(s.get("VolumeId"), "")) for s in snaps]
        if instance is None or not snaps:
            error = "instance not found" if instance is None else "no pre-patch snapshot of run %s" % run_id
            results.append(
                {
                    "instance_id": instance_id,
                    "action": "failed",
                    "snapshots": views,
                    "restored_volumes": [],
                    "error": error,
                }
            )
            continue
        devices = _devices(instance)
        snapshot_ids = {s["SnapshotId"] for s in snaps}
        current = [volumes.get(v, {}).get("TagMap", {}).get(RESTORED_TAG) for v in devices]
        if current and all(c in snapshot_ids for c in current):
            results.append(
                {"instance_id": instance_id, "action": "already_restored", "snapshots": views, "restored_volumes": []}
            )
            continue
        if check_mode:
            results.append(
                {"instance_id": instance_id, "action": "would_restore", "snapshots": views, "restored_volumes": []}
            )
            changed = True
            continue
        changed = True
        try:
            results.append(_restore_one(ec2, instance, snaps, volumes, run_id, extra_tags, timeout, views))
        except AnsibleAWSError:
            raise
        except Exception as error:  # a waiter gave up: report it for this instance, go on with the others
            results.append(
                {
                    "instance_id": instance_id,
                    "action": "failed",
                    "snapshots": views,
                    "restored_volumes": [],
                    "error": str(error),
                }
            )
    return results, changed


def _restore_one(ec2, instance, snaps, volumes, run_id, extra_tags, timeout, views):
    instance_id = instance["InstanceId"]
    was_running = instance.get("State", {}).get("Name") in ("running", "pending")
    zone = instance.get("Placement", {}).get("AvailabilityZone")
    by_volume = _devices(instance)
    if was_running:
        ec2.stop_instances(aws_retry=True, InstanceIds=[instance_id])
        _wait(ec2, "instance_stopped", timeout, InstanceIds=[instance_id])
    restored = []
    for snap in snaps:
        device = snap["TagMap"].get(DEVICE_TAG) or by_volume.get(snap.get("VolumeId"), "")
        old_volume = next((v for v, d in by_volume.items() if d == device), None)
        original = volumes.get(old_volume or "", {})
        tags = dict(extra_tags)
        tags.update(
            {
                RUN_TAG: run_id,
                RESTORED_TAG: snap["SnapshotId"],
                INSTANCE_TAG: instance_id,
                "Name": "rolled back %s %s" % (instance_id, device),
            }
        )
        kwargs = {
            "SnapshotId": snap["SnapshotId"],
            "AvailabilityZone": zone,
            "TagSpecifications": [
                {"ResourceType": "volume", "Tags": [{"Key": k, "Value": str(v)} for k, v in tags.items()]}
            ],
        }
        if original.get("VolumeType"):
            kwargs["VolumeType"] = original["VolumeType"]
        new_volume = ec2.create_volume(aws_retry=True, **kwargs)["VolumeId"]
        _wait(ec2, "volume_available", timeout, VolumeIds=[new_volume])
        if old_volume:
            ec2.detach_volume(aws_retry=True, VolumeId=old_volume, InstanceId=instance_id)
            _wait(ec2, "volume_available", timeout, VolumeIds=[old_volume])
            ec2.create_tags(aws_retry=True, Resources=[old_volume], Tags=[{"Key": ROLLED_BACK_TAG, "Value": run_id}])
        ec2.attach_volume(aws_retry=True, VolumeId=new_volume, InstanceId=instance_id, Device=device)
        restored.append(
            {
                "device": device,
                "volume_id": new_volume,
                "replaced_volume_id": old_volume or "",
                "snapshot_id": snap["SnapshotId"],
            }
        )
    if was_running:
        ec2.start_instances(aws_retry=True, InstanceIds=[instance_id])
        _wait(ec2, "instance_running", timeout, InstanceIds=[instance_id])
    return {"instance_id": instance_id, "action": "restored", "snapshots": views, "restored_volumes": restored}


def main():
    argument_spec = {
        "instance_ids": {"type": "list", "elements": "str", "required": True},
        "run_id": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "restored"], "default": "present"},
        "expire_after_days": {"type": "int", "default": 14},
        "tags": {"type": "dict", "default": {}},
        "wait_timeout": {"type": "int", "default": 1800},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        if not re.match(r"^[A-Za-z0-9._-]{1,128}$", params["run_id"]):
            raise ParameterError(
                "run_id", params["run_id"], "is not valid", "letters, digits, '.', '_' and '-' (1-128)"
            )
        if not 1 <= params["expire_after_days"] <= 3650:
            raise ParameterError("expire_after_days", params["expire_after_days"], "is out of range", "1 to 3650 days")
        ids = list(dict.fromkeys(params["instance_ids"]))
        bad = [i for i in ids if not re.match(r"^i-[0-9a-f]{8,17}$", i)]
        if bad:
            raise ParameterError(
                "instance_ids", bad, "contains values that are not instance ids", "ids such as i-0abc1234"
            )
        expires = (
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=params["expire_after_days"])
        ).strftime("%Y-%m-%d")
        ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        instances = describe_instances(ec2, ids) if ids else {}
        if params["state"] == "present":
            results, changed = snapshot(
                module,
                ec2,
                instances,
                ids,
                params["run_id"],
                expires,
                params["tags"],
                module.check_mode,
                params["wait_timeout"],
            )
        else:
            results, changed = restore(
                module, ec2, instances, ids, params["run_id"], params["tags"], module.check_mode, params["wait_timeout"]
            )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    failed = [r for r in results if r["action"] == "failed"]
    result = {"changed": changed, "instances": results, "expires": expires}
    if failed:
        module.fail_json(
            msg="%d instance(s) failed: %s"
            % (len(failed), "; ".join("%s: %s" % (r["instance_id"], r["error"]) for r in failed)),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
