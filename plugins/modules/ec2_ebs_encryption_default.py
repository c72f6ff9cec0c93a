#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_ebs_encryption_default
version_added: 0.1.0
short_description: Manage EBS encryption by default and its default KMS key
description:
  - Turns EBS encryption by default on or off in one or more regions, and sets the KMS key
    that new EBS volumes and snapshot copies are encrypted with when no key is given.
  - Closes finding C(3.4) of the risk register (EBS volumes are not encrypted) for every volume
    created from now on. Existing volumes are not changed.
  - Every region is read and every input is checked before anything is changed. Bad input fails
    without changing any region.
  - The default key is compared by its key ARN, so an alias name, an alias ARN, a key id and a
    key ARN that point at the same key are the same setting and cause no change.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(enabled) turns EBS encryption by default on, V(disabled) turns it off.
      - The default KMS key is kept when encryption by default is turned off.
    type: str
    choices: [enabled, disabled]
    default: enabled
  kms_key_id:
    description:
      - The KMS key new EBS volumes are encrypted with by default.
      - A key id, a multi-Region key id (C(mrk-...)), an alias name (C(alias/my-key)), a key ARN
        or an alias ARN. An ARN names one region, so it can only be used with that one region;
        use an alias name or a multi-Region key id to set the same key in several regions.
      - The key must exist in every target region, be enabled and be a symmetric encryption key.
      - V(aws/ebs) or V(alias/aws/ebs) resets the default to the AWS managed key for EBS.
      - When omitted, the current default key is left as it is.
    type: str
  regions:
    description:
      - The regions to manage, for example V([us-east-1, us-west-2]).
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is used.
      - Each entry must be a region that the installed botocore knows for EC2.
    type: list
    elements: str
notes:
  - EBS encryption by default is a per-region account setting. See
    U(https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html).
  - Supports C(check_mode) and C(diff_mode). In check mode only read calls are made
    (C(GetEbsEncryptionByDefault), C(GetEbsDefaultKmsKeyId), C(kms:DescribeKey)).
  - "IAM permissions: C(ec2:GetEbsEncryptionByDefault), C(ec2:GetEbsDefaultKmsKeyId),
    C(ec2:EnableEbsEncryptionByDefault), C(ec2:DisableEbsEncryptionByDefault),
    C(ec2:ModifyEbsDefaultKmsKeyId), C(ec2:ResetEbsDefaultKmsKeyId) and C(kms:DescribeKey)."
seealso:
  - module: medcircle.cloudops.ec2_ebs_encryption_default_info
  - module: amazon.aws.kms_key
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 3.4 | PATCH | Encrypt new EBS volumes by default with the MedCircle key in both regions
  medcircle.cloudops.ec2_ebs_encryption_default:
    regions:
      - us-east-1
      - us-west-2
    kms_key_id: alias/medcircle-ebs
  register: ebs_encryption

- name: 3.4 | PATCH | Encrypt new EBS volumes by default in the current region, keeping the default key
  medcircle.cloudops.ec2_ebs_encryption_default:
    region: us-east-1

- name: 3.4 | PATCH | Use a specific key in one region, given by its ARN
  medcircle.cloudops.ec2_ebs_encryption_default:
    regions: [us-east-1]
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab

- name: Go back to the AWS managed key for EBS
  medcircle.cloudops.ec2_ebs_encryption_default:
    regions: [us-east-1, us-west-2]
    kms_key_id: aws/ebs

- name: Turn encryption by default off (the default key is kept)
  medcircle.cloudops.ec2_ebs_encryption_default:
    regions: [us-west-2]
    state: disabled

- name: 3.4 | AUDIT | Show what would change, without changing anything
  medcircle.cloudops.ec2_ebs_encryption_default:
    regions: [us-east-1, us-west-2]
    kms_key_id: alias/medcircle-ebs
  check_mode: true
  diff: true
  register: ebs_encryption_plan
"""

RETURN = r"""
changed:
  description: Whether any region was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
regions:
  description: The setting of each target region after the task (in check mode, the setting it would have).
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
        - In check mode, the key ARN that the requested key resolves to.
      returned: always
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    changed:
      description: Whether this region was changed (or, in check mode, would be).
      returned: always
      type: bool
      sample: true
diff:
  description: The setting of each region before and after, keyed by region.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Each region's setting before the task.
      returned: when diff mode is on
      type: dict
      sample:
        us-east-1:
          ebs_encryption_by_default: false
          kms_key_id: arn:aws:kms:us-east-1:123456789012:alias/aws/ebs
    after:
      description: Each region's setting after the task (in check mode, the setting it would have).
      returned: when diff mode is on
      type: dict
      sample:
        us-east-1:
          ebs_encryption_by_default: true
          kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import (
    exit_with_diff,
    regional_clients,
    target_regions,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.ebs_encryption import ensure_ebs_encryption


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
        "kms_key_id": {"type": "str"},
        "regions": {"type": "list", "elements": "str"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        regions = target_regions(module)
        ec2_clients = regional_clients(module, "ec2", regions)
        kms_clients = regional_clients(module, "kms", regions) if module.params["kms_key_id"] else {}
        result = ensure_ebs_encryption(
            ec2_clients,
            kms_clients,
            regions,
            enabled=module.params["state"] == "enabled",
            kms_key_id=module.params["kms_key_id"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
