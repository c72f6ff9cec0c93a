#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_patch_baseline_info
version_added: 0.1.0
short_description: List Systems Manager patch baselines and patch groups
description:
  - Lists the account's patch baselines with their approval rules, patch groups, tags and whether each is the
    default for its operating system, and every patch group with the baseline it uses.
  - Read-only; shows how finding C(3.5) of the risk register (patch management) is addressed.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description: Only the baseline with this name.
    type: str
  operating_system:
    description: Only baselines for this operating system, for example V(AMAZON_LINUX_2023).
    type: str
    choices: [AMAZON_LINUX_2023, AMAZON_LINUX_2, AMAZON_LINUX_2022, AMAZON_LINUX, REDHAT_ENTERPRISE_LINUX, CENTOS,
              ORACLE_LINUX, ROCKY_LINUX, ALMA_LINUX, SUSE, UBUNTU, DEBIAN, RASPBIAN, WINDOWS, MACOS]
  include_aws_baselines:
    description: Also list the baselines AWS provides (names, ids and whether each is the default; no rules).
    type: bool
    default: false
notes:
  - "IAM permissions: C(ssm:DescribePatchBaselines), C(ssm:GetPatchBaseline), C(ssm:GetDefaultPatchBaseline),
    C(ssm:DescribePatchGroups) and C(ssm:ListTagsForResource)."
seealso:
  - module: medcircle.cloudops.ssm_patch_baseline
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.5 | AUDIT | Patch baselines and patch groups
  medcircle.cloudops.ssm_patch_baseline_info:
  register: patching

- name: 3.5 | AUDIT | Show which baseline each patch group uses
  ansible.builtin.debug:
    msg: "{{ item.patch_group }} uses {{ item.baseline_name }} for {{ item.operating_system }}"
  loop: "{{ patching.patch_groups }}"
  loop_control:
    label: "{{ item.patch_group }}"

- name: One baseline
  medcircle.cloudops.ssm_patch_baseline_info:
    name: medcircle-al2023-baseline
"""

RETURN = r"""
baselines:
  description: The account's baselines (in the form M(medcircle.cloudops.ssm_patch_baseline) returns), sorted by name.
  returned: always
  type: list
  elements: dict
  sample: [{"baseline_id": "pb-0c10e65780626ac6f", "name": "medcircle-al2023-baseline",
            "operating_system": "AMAZON_LINUX_2023",
            "patch_groups": ["prod"], "default_baseline": false, "tags": {}}]
aws_baselines:
  description: AWS's predefined baselines, when O(include_aws_baselines=true).
  returned: always
  type: list
  elements: dict
  sample: [{"baseline_id": "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-05c9c9bf778d4c4d0",
            "baseline_name": "AWS-AmazonLinux2023DefaultPatchBaseline", "operating_system": "AMAZON_LINUX_2023",
            "default_baseline": true}]
patch_groups:
  description: Every registered patch group and the baseline it uses for one operating system.
  returned: always
  type: list
  elements: dict
  sample: [{"patch_group": "prod", "baseline_id": "pb-0c10e65780626ac6f", "baseline_name": "medcircle-al2023-baseline",
            "operating_system": "AMAZON_LINUX_2023"}]
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    OPERATING_SYSTEMS,
    describe_baseline,
    find_baselines,
    paginate,
    retry_decorator,
)


def main():
    argument_spec = {
        "name": {"type": "str"},
        "operating_system": {"type": "str", "choices": list(OPERATING_SYSTEMS)},
        "include_aws_baselines": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        client = module.client("ssm", retry_decorator=retry_decorator())
        identities = find_baselines(client, name=params["name"], operating_system=params["operating_system"])
        baselines = [describe_baseline(client, i["BaselineId"])[0] for i in identities]
        aws_baselines = []
        if params["include_aws_baselines"]:
            aws_baselines = [
                camel_dict_to_snake_dict(i)
                for i in find_baselines(client, operating_system=params["operating_system"], owner="AWS")
            ]
        groups = []
        for mapping in paginate(client, "describe_patch_groups", "Mappings"):
            identity = mapping.get("BaselineIdentity") or {}
            if params["operating_system"] and identity.get("OperatingSystem") != params["operating_system"]:
                continue
            groups.append(
                {
                    "patch_group": mapping["PatchGroup"],
                    "baseline_id": identity.get("BaselineId"),
                    "baseline_name": identity.get("BaselineName"),
                    "operating_system": identity.get("OperatingSystem"),
                }
            )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list patch baselines")

    module.exit_json(
        changed=False,
        baselines=sorted(baselines, key=lambda b: b["name"]),
        aws_baselines=aws_baselines,
        patch_groups=sorted(groups, key=lambda g: (g["patch_group"], g["operating_system"] or "")),
    )


if __name__ == "__main__":
    main()
