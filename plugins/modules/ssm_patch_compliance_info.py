#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_patch_compliance_info
version_added: 0.1.0
short_description: Patch compliance of instances from Systems Manager, per instance and for the fleet
description:
  - Reads each instance's patch state as AWS-RunPatchBaseline last recorded it (installed, missing,
    failed and installed-pending-reboot counts, the last operation and when it ended, the baseline
    and patch group) and sums the fleet up.
  - Instances are named by id, by tags, or (neither given) every managed instance of the region.
    An instance named by id or carrying the tags that is not managed by Systems Manager is listed
    with compliance C(NOT_MANAGED); a managed instance never scanned has C(NOT_SCANNED).
  - Evidence for findings C(3.5) (patch management) and C(3.8) (missing security patches) of the
    risk register, and the before/after columns of the patch report.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  instance_ids:
    description:
      - The instances to report. Mutually exclusive with O(tags).
    type: list
    elements: str
  tags:
    description:
      - "Report every instance carrying all of these tags, for example V({PatchGroup: prod}).
        A value may be a list of accepted values."
    type: dict
notes:
  - Read-only; supports C(check_mode).
  - An instance is C(COMPLIANT) when its last scan or install left no missing and no failed
    patch. Installed patches waiting for a reboot are counted in RV(instances[].installed_pending_reboot_count).
  - "IAM permissions: C(ssm:DescribeInstanceInformation), C(ssm:DescribeInstancePatchStates) and,
    for tag targets, C(ec2:DescribeInstances)."
seealso:
  - module: medcircle.cloudops.ssm_command
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.8 | AUDIT | Patch compliance of the prod patch group
  medcircle.cloudops.ssm_patch_compliance_info:
    tags:
      PatchGroup: prod
  register: compliance

- name: 3.8 | AUDIT | Say how many instances miss patches
  ansible.builtin.debug:
    msg: "{{ compliance.summary.non_compliant }} of {{ compliance.summary.instances }} instances miss patches"

- name: Patch compliance of two instances
  medcircle.cloudops.ssm_patch_compliance_info:
    instance_ids:
      - i-0123456789abcdef0
      - i-0fedcba9876543210
"""

RETURN = r"""
instances:
  description: One entry per instance, in the order asked (sorted by id for tags or the whole region).
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    instance_name:
      description: The Name tag (tag targets) or the host name Systems Manager reports.
      returned: always
      type: str
      sample: medcircle-app
    managed:
      description: Whether Systems Manager lists the instance as managed.
      returned: always
      type: bool
      sample: true
    ping_status:
      description: The SSM agent's ping status, C(NotRegistered) when not managed.
      returned: always
      type: str
      sample: Online
    platform_name:
      description: The operating system Systems Manager reports.
      returned: always
      type: str
      sample: Debian GNU/Linux
    platform_version:
      description: Its version.
      returned: always
      type: str
      sample: "12"
    compliance:
      description: C(COMPLIANT), C(NON_COMPLIANT), C(NOT_SCANNED) or C(NOT_MANAGED).
      returned: always
      type: str
      sample: NON_COMPLIANT
    baseline_id:
      description: The patch baseline the last operation used (null when never scanned).
      returned: always
      type: str
      sample: pb-0c10e65780EXAMPLE
    patch_group:
      description: The instance's patch group.
      returned: always
      type: str
      sample: prod
    installed_count:
      description: Patches installed.
      returned: always
      type: int
      sample: 412
    installed_other_count:
      description: Installed patches not in the baseline.
      returned: always
      type: int
      sample: 0
    installed_pending_reboot_count:
      description: Patches installed that wait for a reboot.
      returned: always
      type: int
      sample: 0
    installed_rejected_count:
      description: Installed patches the baseline rejects.
      returned: always
      type: int
      sample: 0
    missing_count:
      description: Approved patches not installed.
      returned: always
      type: int
      sample: 3
    failed_count:
      description: Patches whose installation failed.
      returned: always
      type: int
      sample: 0
    not_applicable_count:
      description: Patches that do not apply.
      returned: always
      type: int
      sample: 0
    critical_non_compliant_count:
      description: Missing or failed patches of critical severity.
      returned: always
      type: int
      sample: 2
    security_non_compliant_count:
      description: Missing or failed security patches.
      returned: always
      type: int
      sample: 2
    other_non_compliant_count:
      description: Other missing or failed patches.
      returned: always
      type: int
      sample: 1
    last_operation:
      description: C(Scan) or C(Install).
      returned: always
      type: str
      sample: Scan
    reboot_option:
      description: The reboot option of the last operation.
      returned: always
      type: str
      sample: RebootIfNeeded
    last_operation_start_time:
      description: When the last operation started.
      returned: always
      type: str
      sample: "2026-03-01T02:00:03+00:00"
    last_operation_end_time:
      description: When it ended.
      returned: always
      type: str
      sample: "2026-03-01T02:01:10+00:00"
summary:
  description: The fleet in numbers.
  returned: always
  type: dict
  sample:
    instances: 3
    managed: 2
    not_managed: 1
    not_scanned: 0
    compliant: 1
    non_compliant: 1
    missing_count: 3
    failed_count: 0
    installed_pending_reboot_count: 0
    security_non_compliant_count: 2
    baselines:
      pb-0c10e65780EXAMPLE: 2
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm_run import RETRY_CODES, patch_compliance


def main():
    argument_spec = {
        "instance_ids": {"type": "list", "elements": "str"},
        "tags": {"type": "dict"},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[("instance_ids", "tags")]
    )
    try:
        ssm = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
        ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        result = patch_compliance(ssm, ec2, module.params["instance_ids"], module.params["tags"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
