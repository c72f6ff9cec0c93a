#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_instance_hardening
version_added: 0.1.0
short_description: Enforce metadata, protection and instance profile settings on many EC2 instances at once
description:
  - Brings every selected EC2 instance to the same hardened settings in one task, whether it is one
    instance or thousands.
  - The instances are selected by O(instance_ids), O(filters) or both. Terminated and shutting-down
    instances are never selected.
  - Enforces the instance metadata service settings (IMDSv2 required, hop limit, endpoint on or off),
    termination protection, stop protection and the IAM instance profile. Settings left unset are
    not touched.
  - Reads the whole selection with one paginated C(DescribeInstances) (plus C(DescribeInstanceAttribute)
    for each protection setting asked for, and, when O(iam_instance_profile) is set, one paginated
    C(DescribeIamInstanceProfileAssociations) per 200 instances and one C(iam:GetInstanceProfile)),
    then makes one modify call per
    setting that differs, per instance. An instance that already complies costs no modify call.
  - Closes findings C(1.7) (IMDSv2 optional), C(1.3) (no instance role) and, for instances outside Auto
    Scaling groups, C(5.5) (no termination protection) of the risk register.
  - Every input is checked and the whole selection is read before anything is changed. An instance id
    that does not exist, or an instance profile that does not exist, fails the task without any change.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  instance_ids:
    description:
      - The instances to harden, by id.
      - Every id must exist in the region and not be terminated, or the task fails before any change.
      - Combined with O(filters), an instance must match both.
    type: list
    elements: str
    default: []
  filters:
    description:
      - "DescribeInstances filters that select the instances, for example V({\"tag:Role\": \"app\"})."
      - See U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
      - A value can be a string or a list of strings.
      - Without an C(instance-state-name) filter only pending, running, stopping and stopped instances
        are selected.
    type: dict
    default: {}
  http_tokens:
    description:
      - V(required) makes the instance metadata service accept IMDSv2 (session token) requests only.
      - V(optional) also accepts IMDSv1 requests.
    type: str
    choices: [required, optional]
  http_put_response_hop_limit:
    description:
      - The hop limit of metadata service responses, from 1 to 64. V(1) keeps the metadata out of reach
        of containers that do not use the host network.
    type: int
  http_endpoint:
    description:
      - V(enabled) or V(disabled) turns the instance metadata service on or off.
    type: str
    choices: [enabled, disabled]
  termination_protection:
    description:
      - Turns termination protection (C(DisableApiTermination)) on or off.
      - Instances in an Auto Scaling group are skipped (and listed in RV(instances[].skipped)) unless
        O(asg_termination_protection=true), because Auto Scaling terminates its instances whatever this
        setting says; a protected group member would block people, not the group. Use the group's
        scale-in protection instead.
    type: bool
  stop_protection:
    description:
      - Turns stop protection (C(DisableApiStop)) on or off.
    type: bool
  iam_instance_profile:
    description:
      - The IAM instance profile every selected instance must have, by name or ARN.
      - It must exist, or the task fails before any change.
      - An instance without a profile is associated with it. An instance with a different profile is
        skipped unless O(replace_instance_profile=true).
    type: str
  replace_instance_profile:
    description:
      - Replace a different instance profile already associated with an instance by O(iam_instance_profile).
    type: bool
    default: false
  asg_termination_protection:
    description:
      - Also turn termination protection on or off for instances in Auto Scaling groups.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only read calls are made and the result says
    what would change on each instance. The diff shows each changing instance before and after.
  - The per-instance read calls (C(DescribeInstanceAttribute)) are made only for termination and stop
    protection, which C(DescribeInstances) does not report.
  - "IAM permissions: C(ec2:DescribeInstances), C(ec2:DescribeInstanceAttribute),
    C(ec2:DescribeIamInstanceProfileAssociations), C(ec2:ModifyInstanceMetadataOptions),
    C(ec2:ModifyInstanceAttribute), C(ec2:AssociateIamInstanceProfile),
    C(ec2:ReplaceIamInstanceProfileAssociation), C(iam:GetInstanceProfile) and C(iam:PassRole) on the
    profile's role."
seealso:
  - module: amazon.aws.ec2_instance
  - module: amazon.aws.iam_instance_profile
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 1.7 | PATCH | Require IMDSv2 with a hop limit of 1 on every application server
  medcircle.cloudops.ec2_instance_hardening:
    filters:
      "tag:Role": app
    http_tokens: required
    http_put_response_hop_limit: 1
    http_endpoint: enabled

- name: 1.3 | PATCH | 1.7 | 5.5 | Harden the whole production fleet in one call
  medcircle.cloudops.ec2_instance_hardening:
    filters:
      "tag:Environment": prod
    http_tokens: required
    http_put_response_hop_limit: 1
    termination_protection: true
    iam_instance_profile: medcircle-fleet-instance
  register: fleet_hardening

- name: 5.5 | PATCH | Protect two named instances against termination and stop
  medcircle.cloudops.ec2_instance_hardening:
    instance_ids:
      - i-0123456789abcdef0
      - i-0fedcba9876543210
    termination_protection: true
    stop_protection: true

- name: 1.3 | PATCH | Move instances from an old profile to the fleet profile
  medcircle.cloudops.ec2_instance_hardening:
    filters:
      "tag:Role": app
    iam_instance_profile: arn:aws:iam::123456789012:instance-profile/medcircle-fleet-instance
    replace_instance_profile: true

- name: 1.7 | AUDIT | Show which instances would change, without changing any
  medcircle.cloudops.ec2_instance_hardening:
    filters:
      "tag:Environment": prod
    http_tokens: required
  check_mode: true
  diff: true
  register: imds_plan
"""

RETURN = r"""
changed:
  description: Whether any instance was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
summary:
  description: Counts over the selection.
  returned: always
  type: dict
  contains:
    matched:
      description: Instances selected.
      returned: always
      type: int
      sample: 120
    changed:
      description: Instances changed (or, in check mode, that would be).
      returned: always
      type: int
      sample: 12
    unchanged:
      description: Instances that already complied (apart from skipped settings).
      returned: always
      type: int
      sample: 108
    skipped:
      description: Instances with at least one setting skipped (see RV(instances[].skipped)).
      returned: always
      type: int
      sample: 2
instances:
  description: One entry per selected instance, sorted by instance id.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance id.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    name:
      description: The value of the instance's C(Name) tag, if any.
      returned: always
      type: str
      sample: medcircle-app-01
    state:
      description: The instance state when it was read.
      returned: always
      type: str
      sample: running
    auto_scaling_group:
      description: The Auto Scaling group the instance belongs to, if any.
      returned: always
      type: str
      sample: medcircle-app
    changed:
      description: Whether this instance was changed (or, in check mode, would be).
      returned: always
      type: bool
      sample: true
    changes:
      description: "The settings changed, each as C(setting: before -> after)."
      returned: always
      type: list
      elements: str
      sample: ["http_tokens: optional -> required", "termination_protection: false -> true"]
    skipped:
      description: Settings left as they are on purpose, with the reason.
      returned: always
      type: list
      elements: str
      sample: []
    before:
      description: The managed settings before the task (only the settings asked for).
      returned: always
      type: dict
      sample: {"http_tokens": "optional", "termination_protection": false}
    after:
      description: The managed settings after the task (in check mode, the settings it would have).
      returned: always
      type: dict
      sample: {"http_tokens": "required", "termination_protection": true}
diff:
  description: The settings of each instance that changes, before and after, keyed by instance id.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Each changing instance's settings before the task.
      returned: when diff mode is on
      type: dict
      sample: {"i-0123456789abcdef0": {"http_tokens": "optional"}}
    after:
      description: Each changing instance's settings after the task.
      returned: when diff mode is on
      type: dict
      sample: {"i-0123456789abcdef0": {"http_tokens": "required"}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.instance_hardening import SETTINGS, ensure_hardening


def main():
    argument_spec = {
        "instance_ids": {"type": "list", "elements": "str", "default": []},
        "filters": {"type": "dict", "default": {}},
        "http_tokens": {"type": "str", "choices": ["required", "optional"]},
        "http_put_response_hop_limit": {"type": "int"},
        "http_endpoint": {"type": "str", "choices": ["enabled", "disabled"]},
        "termination_protection": {"type": "bool"},
        "stop_protection": {"type": "bool"},
        "iam_instance_profile": {"type": "str"},
        "replace_instance_profile": {"type": "bool", "default": False},
        "asg_termination_protection": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["instance_ids", "filters"]],
    )
    params = module.params

    try:
        ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        iam = (
            module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
            if params["iam_instance_profile"]
            else None
        )
        result = ensure_hardening(
            ec2,
            iam,
            params["instance_ids"],
            params["filters"],
            {key: params[key] for key in SETTINGS},
            replace_profile_association=params["replace_instance_profile"],
            asg_termination_protection=params["asg_termination_protection"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
