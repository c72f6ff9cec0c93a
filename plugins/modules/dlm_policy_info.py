#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dlm_policy_info
version_added: 0.2.0
short_description: List Data Lifecycle Manager policies with their schedules
description:
  - Lists the Amazon Data Lifecycle Manager policies of a region with their details (schedules, retention,
    cross-region copy rules), optionally only the one a name owns (tag C(cloudops:dlm-policy)), some ids,
    or one state.
  - Read-only.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description: Only the policy carrying the tag C(cloudops:dlm-policy) with this value.
    type: str
  policy_ids:
    description: Only these policy ids.
    type: list
    elements: str
  state:
    description: Only policies in this state.
    type: str
    choices: [ENABLED, DISABLED, ERROR]
notes:
  - Supports C(check_mode).
  - "IAM permissions: C(dlm:GetLifecyclePolicies) and C(dlm:GetLifecyclePolicy)."
seealso:
  - module: medcircle.cloudops.dlm_policy
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 2.10 | AUDIT | List the snapshot policies in us-east-1
  medcircle.cloudops.dlm_policy_info:
    region: us-east-1
  register: dlm_policies

- name: 2.10 | AUDIT | Read the policy the collection manages as medcircle-volumes-daily
  medcircle.cloudops.dlm_policy_info:
    name: medcircle-volumes-daily
"""

RETURN = r"""
policies:
  description: The policies found.
  returned: always
  type: list
  elements: dict
  contains:
    policy_id:
      description: The policy id.
      returned: always
      type: str
      sample: policy-0123456789abcdef0
    policy_arn:
      description: The policy ARN.
      returned: when AWS answers it
      type: str
      sample: arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0
    description:
      description: The description.
      returned: always
      type: str
      sample: cloudops medcircle-volumes-daily
    state:
      description: ENABLED, DISABLED or ERROR.
      returned: always
      type: str
      sample: ENABLED
    execution_role_arn:
      description: The execution role.
      returned: when AWS answers it
      type: str
      sample: arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole
    policy_details:
      description: The PolicyDetails as AWS answers them (CamelCase).
      returned: always
      type: dict
      sample: {"PolicyType": "EBS_SNAPSHOT_MANAGEMENT"}
    tags:
      description: The policy's tags.
      returned: always
      type: dict
      sample: {"cloudops:dlm-policy": "medcircle-volumes-daily"}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.dlm import THROTTLED, find_policies, policy_view


def main():
    argument_spec = {
        "name": {"type": "str"},
        "policy_ids": {"type": "list", "elements": "str"},
        "state": {"type": "str", "choices": ["ENABLED", "DISABLED", "ERROR"]},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        client = module.client("dlm", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED))
        policies = find_policies(
            client, name=module.params["name"], policy_ids=module.params["policy_ids"], state=module.params["state"]
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not list the DLM policies")
    module.exit_json(changed=False, policies=[policy_view(p) for p in policies])


if __name__ == "__main__":
    main()
