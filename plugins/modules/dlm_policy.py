#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dlm_policy
version_added: 0.2.0
short_description: Manage Data Lifecycle Manager policies for EBS snapshots and EBS-backed AMIs
description:
  - Creates, updates or deletes one Amazon Data Lifecycle Manager (DLM) policy that snapshots the volumes
    (or the instances, or makes AMIs of the instances) carrying the target tags, on a schedule, keeps them
    for a count or an age, and copies them, encrypted, to other regions with their own retention.
  - Closes finding C(2.10) of the risk register (no automatic snapshots) and, with cross-region copies, the
    data half of C(2.3).
  - The policy is identified by the tag C(cloudops:dlm-policy) with the value of O(name), which the module
    puts on every policy it creates. Policies without that tag are never changed or deleted.
  - Every option is checked before any AWS call. A schedule DLM would refuse (an interval that is not 1, 2,
    3, 4, 6, 8, 12 or 24 hours, a malformed cron expression, more than one start time), a retention missing
    or out of range, a copy rule to the policy's own region, or a copy key from a region other than the
    copy's target region fail with a message naming the option.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description:
      - The name the module knows the policy by (the value of its C(cloudops:dlm-policy) tag).
      - 1 to 120 letters, digits, spaces, C(_) or C(-).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the policy, V(absent) deletes it (only if it carries the name tag).
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - The policy's description. Defaults to C(cloudops <name>).
    type: str
  enabled:
    description:
      - Whether DLM runs the policy (C(ENABLED)) or not (C(DISABLED)).
    type: bool
    default: true
  execution_role_arn:
    description:
      - ARN of the IAM role DLM uses (for example the AWS managed C(AWSDataLifecycleManagerDefaultRole)).
      - Required when O(state=present).
    type: str
  policy_type:
    description:
      - V(EBS_SNAPSHOT_MANAGEMENT) snapshots volumes, V(IMAGE_MANAGEMENT) makes AMIs of instances.
    type: str
    choices: [EBS_SNAPSHOT_MANAGEMENT, IMAGE_MANAGEMENT]
    default: EBS_SNAPSHOT_MANAGEMENT
  resource_types:
    description:
      - What the target tags select, V(VOLUME) or V(INSTANCE) (every volume of the instance).
      - Must be V([INSTANCE]) for an V(IMAGE_MANAGEMENT) policy.
    type: list
    elements: str
    default: [VOLUME]
  target_tags:
    description:
      - "Resources with any of these tags are targeted, for example C(Backup=daily)."
    type: dict
  no_reboot:
    description:
      - For V(IMAGE_MANAGEMENT) policies, whether instances are left running while the AMI is made.
    type: bool
    default: true
  schedules:
    description:
      - One to four schedules.
    type: list
    elements: dict
    suboptions:
      name:
        description: The schedule name (unique in the policy).
        type: str
        required: true
      interval:
        description:
          - Hours between runs, one of 1, 2, 3, 4, 6, 8, 12, 24. Exclusive with O(schedules[].cron_expression).
        type: int
      times:
        description: One UTC start time (C(HH:MM)) for an interval schedule.
        type: list
        elements: str
      cron_expression:
        description: A DLM cron expression such as C(cron(0 3 ? * SUN *)).
        type: str
      retain_count:
        description: Keep this many snapshots per source (1 to 1000). Exclusive with O(schedules[].retain_interval).
        type: int
      retain_interval:
        description: Keep snapshots for this many O(schedules[].retain_interval_unit).
        type: int
      retain_interval_unit:
        description: Unit of O(schedules[].retain_interval).
        type: str
        choices: [DAYS, WEEKS, MONTHS, YEARS]
        default: DAYS
      copy_tags:
        description: Copy the source's tags to the snapshots.
        type: bool
        default: true
      tags_to_add:
        description: Tags put on every snapshot the schedule makes.
        type: dict
      fast_restore_availability_zones:
        description: Enable fast snapshot restore in these availability zones of the policy's region.
        type: list
        elements: str
      fast_restore_count:
        description: How many of the newest snapshots keep fast snapshot restore.
        type: int
        default: 1
      cross_region_copy:
        description: Up to three copy rules, each to another region.
        type: list
        elements: dict
        suboptions:
          target_region:
            description: The region the copies go to (not the policy's region).
            type: str
            required: true
          encrypted:
            description: Encrypt the copies.
            type: bool
            default: true
          cmk_arn:
            description: ARN of the KMS key (in O(schedules[].cross_region_copy[].target_region)) for the copies.
            type: str
          copy_tags:
            description: Copy the snapshot's tags to the copies.
            type: bool
            default: true
          retain_interval:
            description: Keep the copies for this many O(schedules[].cross_region_copy[].retain_interval_unit).
            type: int
            required: true
          retain_interval_unit:
            description: Unit of the copies' retention.
            type: str
            choices: [DAYS, WEEKS, MONTHS, YEARS]
            default: DAYS
  tags:
    description:
      - Tags of the policy itself. The name tag C(cloudops:dlm-policy) is always added.
    type: dict
  purge_tags:
    description:
      - Remove policy tags not in O(tags) (never the name tag or C(aws:) tags).
    type: bool
    default: true
notes:
  - Supports C(check_mode) and C(diff_mode). Check mode makes only read calls (C(GetLifecyclePolicies),
    C(GetLifecyclePolicy)).
  - The policy details are compared with what AWS answers, ignoring the defaults AWS adds.
  - "IAM permissions: C(dlm:GetLifecyclePolicies), C(dlm:GetLifecyclePolicy), C(dlm:CreateLifecyclePolicy),
    C(dlm:UpdateLifecyclePolicy), C(dlm:DeleteLifecyclePolicy), C(dlm:TagResource), C(dlm:UntagResource)
    and C(iam:PassRole) on the execution role."
seealso:
  - module: medcircle.cloudops.dlm_policy_info
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 2.10 | PATCH | Daily snapshots of volumes tagged Backup=daily, kept 14 days, copied encrypted to us-west-2
  medcircle.cloudops.dlm_policy:
    region: us-east-1
    name: medcircle-volumes-daily
    execution_role_arn: arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole
    resource_types: [VOLUME]
    target_tags:
      Backup: daily
    schedules:
      - name: daily
        interval: 24
        times: ["03:00"]
        retain_count: 14
        tags_to_add:
          CreatedBy: dlm
        cross_region_copy:
          - target_region: us-west-2
            cmk_arn: arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
            retain_interval: 14

- name: 2.10 | PATCH | Weekly AMIs of the app servers
  medcircle.cloudops.dlm_policy:
    name: medcircle-app-amis
    execution_role_arn: arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRoleForAMIManagement
    policy_type: IMAGE_MANAGEMENT
    resource_types: [INSTANCE]
    target_tags:
      Role: app
    schedules:
      - name: weekly
        cron_expression: cron(0 4 ? * SUN *)
        retain_interval: 8
        retain_interval_unit: WEEKS

- name: Remove the policy
  medcircle.cloudops.dlm_policy:
    name: medcircle-volumes-daily
    state: absent
"""

RETURN = r"""
policy:
  description: The policy after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    policy_id:
      description: The policy id (null in check mode before creation).
      returned: when present
      type: str
      sample: policy-0123456789abcdef0
    policy_arn:
      description: The policy ARN.
      returned: when present
      type: str
      sample: arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0
    description:
      description: The description.
      returned: when present
      type: str
      sample: cloudops medcircle-volumes-daily
    state:
      description: ENABLED or DISABLED.
      returned: when present
      type: str
      sample: ENABLED
    execution_role_arn:
      description: The execution role.
      returned: when present
      type: str
      sample: arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole
    policy_details:
      description: The PolicyDetails as AWS answers them (CamelCase, as in the DLM API).
      returned: when present
      type: dict
      sample: {"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"]}
    tags:
      description: The policy's tags.
      returned: when present
      type: dict
      sample: {"cloudops:dlm-policy": "medcircle-volumes-daily"}
diff:
  description: The policy before and after.
  returned: when diff mode is on
  type: dict
  sample: {"before": {}, "after": {"state": "ENABLED"}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.dlm import THROTTLED, ensure_policy

UNITS = ["DAYS", "WEEKS", "MONTHS", "YEARS"]

COPY_RULE = {
    "target_region": {"type": "str", "required": True},
    "encrypted": {"type": "bool", "default": True},
    "cmk_arn": {"type": "str"},
    "copy_tags": {"type": "bool", "default": True},
    "retain_interval": {"type": "int", "required": True},
    "retain_interval_unit": {"type": "str", "choices": UNITS, "default": "DAYS"},
}

SCHEDULE = {
    "name": {"type": "str", "required": True},
    "interval": {"type": "int"},
    "times": {"type": "list", "elements": "str"},
    "cron_expression": {"type": "str"},
    "retain_count": {"type": "int"},
    "retain_interval": {"type": "int"},
    "retain_interval_unit": {"type": "str", "choices": UNITS, "default": "DAYS"},
    "copy_tags": {"type": "bool", "default": True},
    "tags_to_add": {"type": "dict"},
    "fast_restore_availability_zones": {"type": "list", "elements": "str"},
    "fast_restore_count": {"type": "int", "default": 1},
    "cross_region_copy": {"type": "list", "elements": "dict", "options": COPY_RULE},
}


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "description": {"type": "str"},
        "enabled": {"type": "bool", "default": True},
        "execution_role_arn": {"type": "str"},
        "policy_type": {
            "type": "str",
            "choices": ["EBS_SNAPSHOT_MANAGEMENT", "IMAGE_MANAGEMENT"],
            "default": "EBS_SNAPSHOT_MANAGEMENT",
        },
        "resource_types": {"type": "list", "elements": "str", "default": ["VOLUME"]},
        "target_tags": {"type": "dict"},
        "no_reboot": {"type": "bool", "default": True},
        "schedules": {"type": "list", "elements": "dict", "options": SCHEDULE},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["execution_role_arn", "target_tags", "schedules"])],
    )
    try:
        if not module.region:
            module.fail_json(msg="region is not set: set the region option, AWS_REGION or AWS_DEFAULT_REGION")
        client = module.client("dlm", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED))
        result = ensure_policy(client, module.params, module.region, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not manage the DLM policy")
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
