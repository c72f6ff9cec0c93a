#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_ebs_encryption_default_info
version_added: 0.1.0
short_description: Report EBS encryption by default and its default KMS key
description:
  - Reports, for one or more regions, whether new EBS volumes are encrypted by default and
    which KMS key they are encrypted with.
  - Read-only; used by the audit of finding C(3.4) of the risk register (EBS volumes are not encrypted).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  regions:
    description:
      - The regions to report on, for example V([us-east-1, us-west-2]).
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is used.
      - Each entry must be a region that the installed botocore knows for EC2.
    type: list
    elements: str
notes:
  - "IAM permissions: C(ec2:GetEbsEncryptionByDefault) and C(ec2:GetEbsDefaultKmsKeyId)."
seealso:
  - module: medcircle.cloudops.ec2_ebs_encryption_default
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 3.4 | AUDIT | Read EBS encryption by default in both regions
  medcircle.cloudops.ec2_ebs_encryption_default_info:
    regions:
      - us-east-1
      - us-west-2
  register: ebs_encryption

- name: 3.4 | AUDIT | Fail if a region does not encrypt new volumes
  ansible.builtin.assert:
    that: ebs_encryption.regions | rejectattr('ebs_encryption_by_default') | list | length == 0
    fail_msg: >-
      EBS encryption by default is off in
      {{ ebs_encryption.regions | rejectattr('ebs_encryption_by_default') | map(attribute='region') | join(', ') }}
"""

RETURN = r"""
regions:
  description: The setting of each requested region, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The region.
      returned: always
      type: str
      sample: us-east-1
    ebs_encryption_by_default:
      description: Whether new EBS volumes in the region are encrypted by default.
      returned: always
      type: bool
      sample: true
    kms_key_id:
      description:
        - The default KMS key for EBS in the region, as AWS reports it.
        - A key ARN or an alias ARN; C(arn:...:alias/aws/ebs) means the AWS managed key.
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:alias/aws/ebs
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import regional_clients, target_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.ebs_encryption import describe_ebs_encryption


def main():
    argument_spec = {
        "regions": {"type": "list", "elements": "str"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        regions = target_regions(module)
        ec2_clients = regional_clients(module, "ec2", regions)
        results = [describe_ebs_encryption(ec2_clients[region], region) for region in regions]
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    module.exit_json(changed=False, regions=results)


if __name__ == "__main__":
    main()
