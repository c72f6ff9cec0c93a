#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_volume_encrypt
version_added: 0.1.0
short_description: Encrypt existing EBS volumes, attached (root or data) or detached, keeping the originals
description:
  - Replaces each selected unencrypted EBS volume with an encrypted copy and keeps the original.
    Closes findings C(1.4) (unencrypted root volume) and C(3.4) (unencrypted EBS volumes) for
    volumes that already exist; M(medcircle.cloudops.ec2_ebs_encryption_default) covers new ones.
  - "The steps, for every selected volume together: record where the volume is attached (tags on
    the original), stop its instance (only with O(allow_stop=true)), snapshot, copy the snapshot
    with encryption (O(kms_key_id)), create a new volume from the copy in the same Availability
    Zone with the same type, size, IOPS, throughput and tags, detach the original, attach the new
    volume at the same device, restore DeleteOnTermination, start the instance if it was running,
    and verify (attached, encrypted, instance back in its state)."
  - Only after verification is the original tagged C(cloudops:encrypt-status=verified),
    C(cloudops:replaced-by) and C(cloudops:retain-until). It is kept until O(state=cleanup) (or
    O(cleanup_originals=true)) finds its retention passed and its replacement still in place.
  - Every resource the module creates is tagged with C(cloudops:encrypt-source) (the original volume)
    in the call that creates it, so a run that fails at any step is resumed by the next run with
    the same options. No finished step is repeated, nothing is created twice, and nothing is
    deleted before verification.
  - Instances are stopped once for all their volumes and started once again; one describe per kind
    of resource and one waiter per step serve all volumes.
  - "Refused, with a message and before any change: volumes with Multi-Attach, volumes attached to
    more than one instance, volumes of instances in an Auto Scaling group (encrypt the launch
    template and run an instance refresh instead), instance-store root devices, and volumes of a
    running instance when O(allow_stop=false)."
  - Volumes that are already encrypted are left as they are, whatever their key.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(encrypted) encrypts the selected volumes.
      - V(cleanup) deletes the retained originals among the selected volumes (all verified originals
        in the region when nothing is selected) whose C(cloudops:retain-until) has passed and whose
        replacement is still encrypted and attached where the original was, together with the two
        intermediate snapshots the module made for them. Nothing is encrypted.
    type: str
    choices: [encrypted, cleanup]
    default: encrypted
  volume_ids:
    description:
      - The volumes to encrypt, for example V([vol-0123456789abcdef0]).
      - Each must exist in the region.
    type: list
    elements: str
  instance_ids:
    description:
      - Encrypt every EBS volume of these instances (root and data volumes).
    type: list
    elements: str
  filters:
    description:
      - "A dict of EC2 DescribeVolumes filters, for example V({encrypted: false}) or
        V({tag:Environment: prod, encrypted: false}). See
        U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html)."
      - With O(volume_ids) and O(instance_ids), the union of all three is selected.
      - At least one of O(volume_ids), O(instance_ids) or O(filters) is required with O(state=encrypted).
    type: dict
  kms_key_id:
    description:
      - The KMS key the new volumes are encrypted with. A key id, an alias name (V(alias/medcircle-ebs)),
        a key ARN or an alias ARN of this region. It must exist, be enabled and be symmetric.
      - When omitted, the region's default EBS key is used.
    type: str
  allow_stop:
    description:
      - Allow the module to stop instances whose attached volumes it replaces (and to start them
        again). A running instance is down from the stop until the start.
      - When V(false) and a selected volume is attached to a running instance, the task fails before
        any change and says what to set.
    type: bool
    default: false
  skip_refused:
    description:
      - When V(false), a selected volume that the module refuses (see the description) fails the task
        before any change. When V(true), refused volumes are reported in RV(refused) and the others
        are encrypted.
    type: bool
    default: false
  original_retention_days:
    description:
      - How many days an original volume is kept after its replacement is verified
        (tag C(cloudops:retain-until)). V(0) lets the next cleanup delete it.
    type: int
    default: 7
  cleanup_originals:
    description:
      - With O(state=encrypted), also delete the selected originals whose retention has passed (as
        O(state=cleanup) does), at the end of the run.
    type: bool
    default: false
  wait_delay:
    description:
      - Seconds between two checks while waiting for instances, snapshots and volumes.
    type: int
    default: 15
  wait_timeout:
    description:
      - Seconds to wait for one step (for example all snapshots to complete) before the task fails.
        The next run resumes the step.
    type: int
    default: 3600
  max_attempts:
    description:
      - How many times one AWS call is tried when AWS throttles it or answers with a server error
        (jittered back-off) before the task fails. The next run resumes where this one stopped.
    type: int
    default: 10
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only read calls are made
    (C(DescribeVolumes), C(DescribeInstances), C(DescribeSnapshots), C(kms:DescribeKey)) and the
    plan of every volume is returned in RV(volumes[].steps).
  - One region per task (the O(region) option); loop over regions in the playbook.
  - A running instance is stopped before the snapshot, so the copy holds every write. Its downtime is
    the time of the snapshot, the copy, the new volume and the swap.
  - "IAM permissions: C(ec2:DescribeVolumes), C(ec2:DescribeInstances), C(ec2:DescribeSnapshots),
    C(ec2:CreateTags), C(ec2:CreateSnapshot), C(ec2:CopySnapshot), C(ec2:CreateVolume),
    C(ec2:StopInstances), C(ec2:StartInstances), C(ec2:DetachVolume), C(ec2:AttachVolume),
    C(ec2:ModifyInstanceAttribute), C(ec2:DeleteVolume) and C(ec2:DeleteSnapshot) (cleanup),
    C(kms:DescribeKey), and on the key C(kms:CreateGrant), C(kms:GenerateDataKeyWithoutPlaintext),
    C(kms:ReEncrypt*) and C(kms:Decrypt)."
seealso:
  - module: medcircle.cloudops.ec2_ebs_encryption_default
  - module: amazon.aws.ec2_vol
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 3.4 | PATCH | Show what encrypting every unencrypted volume would do
  medcircle.cloudops.ec2_volume_encrypt:
    region: us-east-1
    filters:
      encrypted: false
    kms_key_id: alias/medcircle-ebs
  check_mode: true
  register: ebs_encryption_plan

- name: 1.4 | PATCH | Encrypt the root and data volumes of the app server (stops it for the swap)
  medcircle.cloudops.ec2_volume_encrypt:
    region: us-east-1
    instance_ids:
      - i-0123456789abcdef0
    kms_key_id: alias/medcircle-ebs
    allow_stop: true
    original_retention_days: 14

- name: 3.4 | PATCH | Encrypt two detached volumes (no instance is touched)
  medcircle.cloudops.ec2_volume_encrypt:
    region: us-east-1
    volume_ids:
      - vol-0123456789abcdef0
      - vol-0fedcba9876543210
    kms_key_id: alias/medcircle-ebs

- name: Delete the originals whose retention has passed
  medcircle.cloudops.ec2_volume_encrypt:
    region: us-east-1
    state: cleanup
"""

RETURN = r"""
changed:
  description: Whether any volume was replaced or deleted (in check mode, would be).
  returned: always
  type: bool
  sample: true
volumes:
  description: One entry per selected volume.
  returned: always
  type: list
  elements: dict
  contains:
    volume_id:
      description: The original volume.
      returned: always
      type: str
      sample: vol-0123456789abcdef0
    status:
      description:
        - V(encrypted) replaced in this run and verified; V(planned) would be replaced (check mode);
          V(verified) replaced by an earlier run, original kept; V(already_encrypted) no change;
          V(refused) left alone (see message); V(deleted) original deleted by cleanup;
          V(would_delete) cleanup would delete it (check mode).
      returned: always
      type: str
      sample: encrypted
    message:
      description: What happens or happened to the volume, in words.
      returned: always
      type: str
      sample: "vol-0123 (/dev/xvda of i-0abc): record, stop, snapshot, copy, create_volume, detach, attach, verify"
    instance_id:
      description: The instance the volume is (or was) attached to; null when detached.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    device:
      description: The device name of the attachment.
      returned: always
      type: str
      sample: /dev/xvda
    root:
      description: Whether the volume is the instance's root volume.
      returned: always
      type: bool
      sample: true
    availability_zone:
      description: The Availability Zone of the volume and its replacement.
      returned: always
      type: str
      sample: us-east-1a
    size:
      description: Size in GiB.
      returned: always
      type: int
      sample: 8
    volume_type:
      description: The volume type, kept by the replacement.
      returned: always
      type: str
      sample: gp3
    steps:
      description: The steps this run planned for the volume, in order.
      returned: always
      type: list
      elements: str
      sample: [record, stop, snapshot, copy, create_volume, detach, attach, delete_on_termination, start, verify]
    steps_done:
      description: The steps this run finished (empty in check mode).
      returned: always
      type: list
      elements: str
      sample: [record, stop, snapshot]
    snapshot_id:
      description: The snapshot of the original.
      returned: always
      type: str
      sample: snap-0123456789abcdef0
    encrypted_snapshot_id:
      description: The encrypted copy of that snapshot.
      returned: always
      type: str
      sample: snap-0fedcba9876543210
    replacement_volume_id:
      description: The encrypted volume that replaces the original.
      returned: always
      type: str
      sample: vol-0fedcba9876543210
    retain_until:
      description: When cleanup may delete the original (UTC).
      returned: always
      type: str
      sample: "2026-12-05T22:30:00Z"
refused:
  description: Volumes (or instances) the module would not touch, with the reason in C(message).
  returned: always
  type: list
  elements: dict
  sample: [{"volume_id": "vol-0123", "instance_id": "i-0abc", "status": "refused", "message": "... Auto Scaling ..."}]
instances_stopped:
  description: Instances this run stopped.
  returned: always
  type: list
  elements: str
  sample: [i-0123456789abcdef0]
instances_started:
  description: Instances this run started again.
  returned: always
  type: list
  elements: str
  sample: [i-0123456789abcdef0]
cleanup:
  description: For each verified original considered by cleanup, whether it is deleted and why.
  returned: always
  type: list
  elements: dict
  sample: [{"volume_id": "vol-0123", "delete": false, "reason": "kept until 2026-12-05T22:30:00Z"}]
deleted:
  description: The original volumes and intermediate snapshots deleted by cleanup.
  returned: always
  type: list
  elements: str
  sample: [snap-0123456789abcdef0, vol-0123456789abcdef0]
diff:
  description: Each replaced volume before and after, keyed by original volume id.
  returned: when diff mode is on
  type: dict
  sample:
    before: {"vol-0123": {"encrypted": false, "attached_at": "i-0abc /dev/xvda", "replaced_by": null}}
    after: {"vol-0123": {"encrypted": false, "attached_at": null, "replaced_by": "vol-0fed",
            "replacement_attached_at": "i-0abc /dev/xvda"}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import (
    ParameterError,
    exit_with_diff,
    validate_regions,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.volume_encrypt import (
    StepError,
    ensure_volumes_encrypted,
    result_view,
)


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["encrypted", "cleanup"], "default": "encrypted"},
        "volume_ids": {"type": "list", "elements": "str"},
        "instance_ids": {"type": "list", "elements": "str"},
        "filters": {"type": "dict"},
        "kms_key_id": {"type": "str"},
        "allow_stop": {"type": "bool", "default": False},
        "skip_refused": {"type": "bool", "default": False},
        "original_retention_days": {"type": "int", "default": 7},
        "cleanup_originals": {"type": "bool", "default": False},
        "wait_delay": {"type": "int", "default": 15},
        "wait_timeout": {"type": "int", "default": 3600},
        "max_attempts": {"type": "int", "default": 10},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        if not module.region:
            raise ParameterError(
                "region", None, "is not set and AWS_REGION is not set either", "a region name such as us-east-1"
            )
        region = validate_regions([module.region], option="region")[0]
        if module.params["max_attempts"] < 1:
            raise ParameterError("max_attempts", module.params["max_attempts"], "must be at least 1", "1 or more")
        retry = AWSRetry.jittered_backoff(retries=module.params["max_attempts"])
        ec2 = module.client("ec2", region=region, retry_decorator=retry)
        kms = module.client("kms", region=region, retry_decorator=retry)
        result = ensure_volumes_encrypted(ec2, kms, region, module.params, check_mode=module.check_mode)
    except StepError as e:
        volumes = [result_view(item) for item in e.volumes]
        if e.exception is not None:
            module.fail_json_aws(e.exception, msg=e.message, volumes=volumes)
        module.fail_json(msg=e.message, volumes=volumes)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
