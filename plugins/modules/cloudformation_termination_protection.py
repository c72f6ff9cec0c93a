#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudformation_termination_protection
version_added: 0.1.0
short_description: Turn on termination protection for every CloudFormation stack of one or more regions
description:
  - Sweeps the CloudFormation stacks of the given regions and turns termination protection on
    for every selected stack that has it off. Closes finding C(5.2) of the risk register
    (CloudFormation termination protection not enabled).
  - Reads each region with one paginated C(DescribeStacks) and calls C(UpdateTerminationProtection)
    only for the stacks whose setting differs.
  - Nested stacks are reported and skipped, because AWS sets their protection from their root stack
    and refuses to change it on the nested stack itself. Stacks being deleted are skipped too.
  - Every region is read and every input is checked before anything is changed.
  - With O(state=disabled) it turns protection off, but only for stacks named exactly in
    O(stack_names) (never as a sweep).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(enabled) turns termination protection on, V(disabled) turns it off.
    type: str
    choices: [enabled, disabled]
    default: enabled
  stack_names:
    description:
      - Stack names or shell-style patterns (C(*), C(?), C([...])) of the stacks to act on.
      - When empty (the default), every stack of the regions is selected.
      - With O(state=disabled), exact names are required.
    type: list
    elements: str
    default: []
  exclude_stack_names:
    description:
      - Stack names or shell-style patterns of stacks to leave alone.
    type: list
    elements: str
    default: []
  tags:
    description:
      - Only stacks that carry all of these tags with these values are selected.
    type: dict
    default: {}
  regions:
    description:
      - The regions to sweep, for example V([us-east-1, us-west-2]).
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is used.
    type: list
    elements: str
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only C(DescribeStacks) is called and
    the result lists what would change.
  - "IAM permissions: C(cloudformation:DescribeStacks) and C(cloudformation:UpdateTerminationProtection)."
seealso:
  - module: amazon.aws.cloudformation
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 5.2 | PATCH | Turn on termination protection for every stack of the primary and DR regions
  medcircle.cloudops.cloudformation_termination_protection:
    regions:
      - us-east-1
      - us-west-2
  register: stack_protection

- name: 5.2 | PATCH | Protect the MedCircle stacks only, leaving the sandbox stacks alone
  medcircle.cloudops.cloudformation_termination_protection:
    regions: [us-east-1]
    stack_names: ["medcircle-*"]
    exclude_stack_names: ["medcircle-sandbox-*"]
    tags:
      Project: medcircle

- name: 5.2 | AUDIT | List the stacks that would be protected, changing nothing
  medcircle.cloudops.cloudformation_termination_protection:
    regions: [us-east-1, us-west-2]
  check_mode: true
  register: stack_protection_plan

- name: Turn protection off for one stack before it is retired
  medcircle.cloudops.cloudformation_termination_protection:
    regions: [us-east-1]
    stack_names: [medcircle-old-stack]
    state: disabled
"""

RETURN = r"""
changed:
  description: Whether any stack was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
stacks:
  description:
    - Every selected stack, in region order, with its setting after the task.
    - In check mode, the setting it would have.
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The stack's region.
      returned: always
      type: str
      sample: us-east-1
    stack_name:
      description: The stack's name.
      returned: always
      type: str
      sample: medcircle-app
    stack_id:
      description: The stack's ARN.
      returned: always
      type: str
      sample: arn:aws:cloudformation:us-east-1:123456789012:stack/medcircle-app/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab
    stack_status:
      description: The stack's status.
      returned: always
      type: str
      sample: CREATE_COMPLETE
    termination_protection_before:
      description: Termination protection before the task.
      returned: always
      type: bool
      sample: false
    termination_protection:
      description: Termination protection after the task (in check mode, what it would be).
      returned: always
      type: bool
      sample: true
    changed:
      description: Whether this stack was changed (or would be).
      returned: always
      type: bool
      sample: true
    skipped:
      description: Why the stack was left alone (nested stack, being deleted), or null.
      returned: always
      type: str
      sample: null
summary:
  description: Counts of the selected stacks.
  returned: always
  type: dict
  contains:
    selected:
      description: Stacks selected.
      returned: always
      type: int
      sample: 3
    changed:
      description: Stacks changed (or that would be).
      returned: always
      type: int
      sample: 1
    already:
      description: Stacks that already had the wanted setting.
      returned: always
      type: int
      sample: 1
    skipped:
      description: Stacks left alone (nested, being deleted).
      returned: always
      type: int
      sample: 1
  sample: {selected: 3, changed: 1, already: 1, skipped: 1}
diff:
  description: Termination protection of each selected stack (C(region/name)) before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before:
      us-east-1/medcircle-app: false
    after:
      us-east-1/medcircle-app: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import (
    exit_with_diff,
    regional_clients,
    target_regions,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.stack_protection import ensure_termination_protection


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
        "stack_names": {"type": "list", "elements": "str", "default": []},
        "exclude_stack_names": {"type": "list", "elements": "str", "default": []},
        "tags": {"type": "dict", "default": {}},
        "regions": {"type": "list", "elements": "str"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        regions = target_regions(module, service="cloudformation")
        clients = regional_clients(module, "cloudformation", regions)
        result = ensure_termination_protection(
            clients,
            regions,
            stack_names=module.params["stack_names"],
            exclude_stack_names=module.params["exclude_stack_names"],
            tags=module.params["tags"],
            state=module.params["state"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
