#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_patch_baseline
version_added: 0.1.0
short_description: Manage Systems Manager patch baselines and their patch groups
description:
  - Creates, updates or deletes an AWS Systems Manager patch baseline, found by its name.
  - A baseline says which patches instances of one operating system install, and after how many days
    a released patch is approved. Instances find their baseline through their C(PatchGroup) tag;
    O(patch_groups) registers the baseline for those patch groups.
  - Helps close finding C(3.5) of the risk register (patch management not implemented).
  - Every option is checked before any call that changes AWS. Bad input fails with a message that
    names the option, the bad value and what is allowed.
  - Only baselines owned by the account are managed; AWS's predefined baselines are never changed or deleted.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description:
      - The name of the baseline; the module finds the baseline by this name.
      - 3 to 128 letters, digits, C(_), C(-) or C(.).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the baseline, V(absent) deletes it (after removing it from its patch groups).
      - A baseline that is the default for its operating system cannot be deleted.
    type: str
    choices: [present, absent]
    default: present
  operating_system:
    description:
      - The operating system the baseline is for. Required when O(state=present).
      - It cannot be changed on an existing baseline.
    type: str
    choices: [AMAZON_LINUX_2023, AMAZON_LINUX_2, AMAZON_LINUX_2022, AMAZON_LINUX, REDHAT_ENTERPRISE_LINUX, CENTOS,
              ORACLE_LINUX, ROCKY_LINUX, ALMA_LINUX, SUSE, UBUNTU, DEBIAN, RASPBIAN, WINDOWS, MACOS]
  description:
    description: A description of the baseline.
    type: str
  approval_rules:
    description:
      - The rules that approve patches automatically. Each rule approves the patches its filters match,
        O(approval_rules[].approve_after_days) after their release (or up to O(approval_rules[].approve_until_date)).
    type: list
    elements: dict
    suboptions:
      patch_filters:
        description:
          - The patch properties a patch must have, all of them.
          - Keys by operating system. Amazon Linux, RHEL, CentOS, Oracle, Rocky, Alma and SUSE
            C(PRODUCT), C(CLASSIFICATION), C(SEVERITY); Ubuntu, Debian and Raspbian C(PRODUCT), C(SECTION),
            C(PRIORITY); Windows C(PATCH_SET), C(PRODUCT), C(PRODUCT_FAMILY), C(CLASSIFICATION), C(MSRC_SEVERITY),
            C(PATCH_ID); macOS C(PRODUCT), C(CLASSIFICATION).
        type: list
        elements: dict
        required: true
        suboptions:
          key:
            description: The patch property, for example V(CLASSIFICATION).
            type: str
            required: true
          values:
            description: The values that match, for example V([Security]); V(*) matches all.
            type: list
            elements: str
            required: true
      approve_after_days:
        description:
          - Days after a patch's release before it is approved, 0 to 360.
          - Set this or O(approval_rules[].approve_until_date) (except for Ubuntu and Debian).
          - Ubuntu and Debian repositories carry no release dates, so AWS supports no delay for them; leave
            both unset (or set V(0)) and the rule approves what the repositories publish.
        type: int
      approve_until_date:
        description:
          - Approve patches released up to this date (C(YYYY-MM-DD)).
          - Set this or O(approval_rules[].approve_after_days), not both.
        type: str
      compliance_level:
        description: The compliance severity of missing patches this rule approves.
        type: str
        choices: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]
        default: UNSPECIFIED
      enable_non_security:
        description: Also install non-security updates from the repositories (Linux only).
        type: bool
        default: false
  global_filters:
    description: Filters every patch must match, before the approval rules (same keys as the rules' filters).
    type: list
    elements: dict
    suboptions:
      key:
        description: The patch property.
        type: str
        required: true
      values:
        description: The values that match.
        type: list
        elements: str
        required: true
  approved_patches:
    description: Patches always approved, whatever the rules say (names such as C(kernel-6.1.*) or ids).
    type: list
    elements: str
  approved_patches_compliance_level:
    description: The compliance severity of missing approved patches.
    type: str
    choices: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]
    default: UNSPECIFIED
  approved_patches_enable_non_security:
    description: Approved patches may be non-security updates (Linux only).
    type: bool
    default: false
  rejected_patches:
    description: Patches never approved.
    type: list
    elements: str
  rejected_patches_action:
    description:
      - V(ALLOW_AS_DEPENDENCY) installs a rejected patch when another patch needs it; V(BLOCK) never installs it.
    type: str
    choices: [ALLOW_AS_DEPENDENCY, BLOCK]
    default: ALLOW_AS_DEPENDENCY
  default:
    description:
      - V(true) makes this baseline the default baseline for its operating system (used by instances in no patch group).
      - V(false) leaves the default as it is. To stop using this baseline as the default,
        make another baseline the default.
    type: bool
    default: false
  patch_groups:
    description:
      - The patch groups (values of the instances' C(PatchGroup) tag) that use this baseline.
      - A patch group has one baseline per operating system; a group registered with another baseline for the same
        operating system is moved to this one (reported in RV(moved_patch_groups)).
      - When omitted, the baseline's patch groups are left as they are.
    type: list
    elements: str
  purge_patch_groups:
    description: Remove the baseline from patch groups not listed in O(patch_groups).
    type: bool
    default: true
  tags:
    description: Tags for the baseline. When omitted, its tags are left as they are.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only read calls are made.
  - "IAM permissions: C(ssm:DescribePatchBaselines), C(ssm:GetPatchBaseline), C(ssm:GetDefaultPatchBaseline),
    C(ssm:DescribePatchGroups), C(ssm:ListTagsForResource), C(ssm:CreatePatchBaseline), C(ssm:UpdatePatchBaseline),
    C(ssm:DeletePatchBaseline), C(ssm:RegisterPatchBaselineForPatchGroup),
    C(ssm:DeregisterPatchBaselineForPatchGroup), C(ssm:RegisterDefaultPatchBaseline), C(ssm:AddTagsToResource)
    and C(ssm:RemoveTagsFromResource)."
  - See U(https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-patch-baselines.html).
seealso:
  - module: medcircle.cloudops.ssm_patch_baseline_info
  - module: medcircle.cloudops.ssm_maintenance_window
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.5 | PATCH | Amazon Linux 2023 baseline for the prod patch group
  medcircle.cloudops.ssm_patch_baseline:
    name: medcircle-al2023-baseline
    operating_system: AMAZON_LINUX_2023
    description: Security patches, critical and important, approved after 7 days
    approval_rules:
      - patch_filters:
          - key: CLASSIFICATION
            values: [Security]
          - key: SEVERITY
            values: [Critical, Important]
        approve_after_days: 7
        compliance_level: CRITICAL
    patch_groups: [dev, staging, prod]
    tags:
      Finding: "3.5"

- name: 3.5 | PATCH | Debian baseline, made the default for Debian
  medcircle.cloudops.ssm_patch_baseline:
    name: medcircle-debian-baseline
    operating_system: DEBIAN
    approval_rules:
      - patch_filters:
          - key: PRIORITY
            values: [Required, Important]
        compliance_level: HIGH
    rejected_patches: [openssl-1.0*]
    rejected_patches_action: BLOCK
    default: true

- name: 3.5 | AUDIT | Show what would change
  medcircle.cloudops.ssm_patch_baseline:
    name: medcircle-al2023-baseline
    operating_system: AMAZON_LINUX_2023
    approval_rules:
      - patch_filters:
          - key: CLASSIFICATION
            values: [Security]
        approve_after_days: 3
  check_mode: true
  diff: true

- name: Delete a baseline the collection created
  medcircle.cloudops.ssm_patch_baseline:
    name: medcircle-old-baseline
    state: absent
"""

RETURN = r"""
baseline:
  description: The baseline after the task (in check mode, as it would be). Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    baseline_id:
      description: The baseline id (absent in check mode for a baseline that does not exist yet).
      returned: when the baseline exists
      type: str
      sample: pb-0c10e65780626ac6f
    name:
      description: The name.
      returned: success
      type: str
      sample: medcircle-al2023-baseline
    operating_system:
      description: The operating system.
      returned: success
      type: str
      sample: AMAZON_LINUX_2023
    description:
      description: The description.
      returned: success
      type: str
      sample: Security patches after 7 days
    approval_rules:
      description: The approval rules, as AWS returns them (snake_case).
      returned: success
      type: dict
      sample: {"patch_rules": [{"approve_after_days": 7, "compliance_level": "CRITICAL", "enable_non_security": false,
               "patch_filter_group": {"patch_filters": [{"key": "CLASSIFICATION", "values": ["Security"]}]}}]}
    global_filters:
      description: The global filters.
      returned: success
      type: dict
      sample: {"patch_filters": []}
    approved_patches:
      description: Patches always approved.
      returned: success
      type: list
      elements: str
      sample: []
    approved_patches_compliance_level:
      description: Compliance severity of missing approved patches.
      returned: success
      type: str
      sample: UNSPECIFIED
    approved_patches_enable_non_security:
      description: Whether approved patches may be non-security updates.
      returned: success
      type: bool
      sample: false
    rejected_patches:
      description: Patches never approved.
      returned: success
      type: list
      elements: str
      sample: []
    rejected_patches_action:
      description: What happens to rejected patches.
      returned: success
      type: str
      sample: ALLOW_AS_DEPENDENCY
    patch_groups:
      description: The patch groups that use this baseline.
      returned: success
      type: list
      elements: str
      sample: [dev, prod, staging]
    default_baseline:
      description: Whether this is the default baseline for its operating system.
      returned: success
      type: bool
      sample: false
    tags:
      description: The baseline's tags.
      returned: success
      type: dict
      sample: {"Finding": "3.5"}
moved_patch_groups:
  description: Patch groups that were (or would be) taken over from another baseline of the same operating system.
  returned: always
  type: list
  elements: dict
  sample: [{"patch_group": "prod", "from_baseline_id": "pb-0123456789abcdef0"}]
diff:
  description: The baseline before and after.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: The baseline before the task (empty if it did not exist).
      returned: when diff mode is on
      type: dict
    after:
      description: The baseline after the task (empty if deleted).
      returned: when diff mode is on
      type: dict
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    COMPLIANCE_LEVELS,
    OPERATING_SYSTEMS,
    REJECTED_ACTIONS,
    ensure_patch_baseline,
    retry_decorator,
)

FILTER_SPEC = {
    "key": {"type": "str", "required": True, "no_log": False},
    "values": {"type": "list", "elements": "str", "required": True},
}


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "operating_system": {"type": "str", "choices": list(OPERATING_SYSTEMS)},
        "description": {"type": "str"},
        "approval_rules": {
            "type": "list",
            "elements": "dict",
            "options": {
                "patch_filters": {"type": "list", "elements": "dict", "required": True, "options": FILTER_SPEC},
                "approve_after_days": {"type": "int"},
                "approve_until_date": {"type": "str"},
                "compliance_level": {"type": "str", "choices": list(COMPLIANCE_LEVELS), "default": "UNSPECIFIED"},
                "enable_non_security": {"type": "bool", "default": False},
            },
        },
        "global_filters": {"type": "list", "elements": "dict", "options": FILTER_SPEC},
        "approved_patches": {"type": "list", "elements": "str"},
        "approved_patches_compliance_level": {
            "type": "str",
            "choices": list(COMPLIANCE_LEVELS),
            "default": "UNSPECIFIED",
        },
        "approved_patches_enable_non_security": {"type": "bool", "default": False},
        "rejected_patches": {"type": "list", "elements": "str"},
        "rejected_patches_action": {"type": "str", "choices": list(REJECTED_ACTIONS), "default": "ALLOW_AS_DEPENDENCY"},
        "default": {"type": "bool", "default": False},
        "patch_groups": {"type": "list", "elements": "str"},
        "purge_patch_groups": {"type": "bool", "default": True},
        "tags": {"type": "dict", "aliases": ["resource_tags"]},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["operating_system"])],
    )
    try:
        client = module.client("ssm", retry_decorator=retry_decorator())
        result = ensure_patch_baseline(client, module.params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not manage patch baseline {module.params['name']}")

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
