#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_instance_metadata_defaults
version_added: 0.1.0
short_description: Manage the account-level instance metadata (IMDS) defaults of EC2, per region
description:
  - Sets the account-level defaults of the instance metadata service in one or more regions. Every new
    instance launched in such a region gets these settings unless its launch request, its launch
    template or its AMI says otherwise.
  - Defence in depth for finding C(1.7) of the risk register (IMDSv2 set as optional on EC2 instances)
    with O(http_tokens=required). Existing instances are not changed; use
    M(medcircle.cloudops.ec2_instance_hardening) for them.
  - Only the options that are given are managed; a default that is not named is left as it is.
    V(no-preference) (V(-1) for the hop limit) removes a default.
  - Every region is read and every input is checked before anything is changed. Bad input fails
    without changing any region. A region is changed only where a setting differs, with one call that
    names only the settings that differ.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  regions:
    description:
      - The regions to manage, for example V([us-east-1, us-west-2]).
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is used.
      - Each entry must be a region that the installed botocore knows for EC2.
    type: list
    elements: str
  http_tokens:
    description:
      - V(required) makes IMDSv2 (session tokens) the default for new instances, so IMDSv1 is off.
      - V(optional) allows IMDSv1 and IMDSv2.
      - V(no-preference) removes the account default; new instances then get AWS's launch default.
      - When omitted, the current default is left as it is.
    type: str
    choices: [required, optional, no-preference]
  http_put_response_hop_limit:
    description:
      - How many network hops the IMDSv2 token answer may travel, from V(1) to V(64).
      - V(2) lets containers on the instance (Docker bridge networking, one hop more) reach the
        metadata service; V(1) confines it to processes on the instance itself.
      - V(-1) or V(no-preference) removes the account default.
      - When omitted, the current default is left as it is.
    type: raw
  http_endpoint:
    description:
      - V(enabled) or V(disabled) turns the metadata service of new instances on or off by default.
      - V(no-preference) removes the account default. When omitted, it is left as it is.
    type: str
    choices: [enabled, disabled, no-preference]
  instance_metadata_tags:
    description:
      - V(enabled) lets new instances read their tags from the metadata service by default,
        V(disabled) does not.
      - V(no-preference) removes the account default. When omitted, it is left as it is.
    type: str
    choices: [enabled, disabled, no-preference]
notes:
  - At least one of O(http_tokens), O(http_put_response_hop_limit), O(http_endpoint) and
    O(instance_metadata_tags) must be given.
  - The defaults are a per-region account setting. See
    U(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html).
  - Where a declarative policy of AWS Organizations manages the defaults, the account cannot change
    them; the module fails before changing any region if such a region would need a change.
  - Supports C(check_mode) and C(diff_mode). In check mode only C(GetInstanceMetadataDefaults) is called.
  - "IAM permissions: C(ec2:GetInstanceMetadataDefaults) and C(ec2:ModifyInstanceMetadataDefaults)."
seealso:
  - module: medcircle.cloudops.ec2_instance_hardening
  - module: amazon.aws.ec2_launch_template
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 1.7 | PATCH | Require IMDSv2 for new instances by default in both regions
  medcircle.cloudops.ec2_instance_metadata_defaults:
    regions:
      - us-east-1
      - us-west-2
    http_tokens: required
    # 2, not 1: containers on the instances reach the metadata service through one more hop.
    http_put_response_hop_limit: 2
  register: imds_defaults

- name: 1.7 | AUDIT | Show what would change, without changing anything
  medcircle.cloudops.ec2_instance_metadata_defaults:
    regions: [us-east-1, us-west-2]
    http_tokens: required
    http_put_response_hop_limit: 2
  check_mode: true
  diff: true
  register: imds_defaults_plan

- name: Remove the account's hop limit default in the current region, keeping the others
  medcircle.cloudops.ec2_instance_metadata_defaults:
    region: us-east-1
    http_put_response_hop_limit: no-preference

- name: Let new instances read their tags from the metadata service
  medcircle.cloudops.ec2_instance_metadata_defaults:
    regions: [us-east-1]
    instance_metadata_tags: enabled
"""

RETURN = r"""
changed:
  description: Whether any region was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
changes:
  description:
    - "What was changed (in check mode, what would be), one entry per setting and region, as
      C(<region>: <option> <before> -> <after>). Empty when nothing changed."
  returned: always
  type: list
  elements: str
  sample:
    - "us-east-1: http_tokens no-preference -> required"
    - "us-east-1: http_put_response_hop_limit no-preference -> 2"
regions:
  description: The defaults of each target region after the task (in check mode, the defaults it would have).
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The region.
      returned: always
      type: str
      sample: us-east-1
    http_tokens:
      description: The default of HttpTokens; V(no-preference) when the account sets none.
      returned: always
      type: str
      sample: required
    http_put_response_hop_limit:
      description: The default hop limit; V(-1) when the account sets none.
      returned: always
      type: int
      sample: 2
    http_endpoint:
      description: The default of HttpEndpoint; V(no-preference) when the account sets none.
      returned: always
      type: str
      sample: no-preference
    instance_metadata_tags:
      description: The default of InstanceMetadataTags; V(no-preference) when the account sets none.
      returned: always
      type: str
      sample: no-preference
    managed_by:
      description: Who manages the defaults, C(account) or C(declarative-policy) (AWS Organizations).
      returned: always
      type: str
      sample: account
    changed:
      description: Whether this region was changed (or, in check mode, would be).
      returned: always
      type: bool
      sample: true
    changes:
      description: What was (or would be) changed in this region, as in RV(changes).
      returned: always
      type: list
      elements: str
      sample: ["us-east-1: http_tokens no-preference -> required"]
diff:
  description: The defaults of each region before and after, keyed by region.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Each region's defaults before the task.
      returned: when diff mode is on
      type: dict
      sample:
        us-east-1:
          http_tokens: no-preference
          http_put_response_hop_limit: -1
          http_endpoint: no-preference
          instance_metadata_tags: no-preference
    after:
      description: Each region's defaults after the task (in check mode, the defaults it would have).
      returned: when diff mode is on
      type: dict
      sample:
        us-east-1:
          http_tokens: required
          http_put_response_hop_limit: 2
          http_endpoint: no-preference
          instance_metadata_tags: no-preference
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import (
    exit_with_diff,
    regional_clients,
    target_regions,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.instance_metadata_defaults import (
    SETTINGS,
    ensure_instance_metadata_defaults,
    validate_settings,
)


def main():
    argument_spec = {
        "regions": {"type": "list", "elements": "str"},
        "http_tokens": {"type": "str", "choices": ["required", "optional", "no-preference"]},
        "http_put_response_hop_limit": {"type": "raw"},
        "http_endpoint": {"type": "str", "choices": ["enabled", "disabled", "no-preference"]},
        "instance_metadata_tags": {"type": "str", "choices": ["enabled", "disabled", "no-preference"]},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    options = {option: module.params[option] for option in SETTINGS}
    try:
        validate_settings(options)  # before the regions, so the first message is about the settings
        regions = target_regions(module)
        ec2_clients = regional_clients(module, "ec2", regions)
        result = ensure_instance_metadata_defaults(ec2_clients, regions, options, check_mode=module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
