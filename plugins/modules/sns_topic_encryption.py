#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sns_topic_encryption
version_added: 0.1.0
short_description: Encrypt an SNS topic at rest with a KMS key, or turn its encryption off
description:
  - Makes an existing Amazon SNS topic encrypted at rest with the KMS key asked for (the topic's
    C(KmsMasterKeyId) attribute). M(community.aws.sns_topic) cannot set it. Used for the security alert
    topic of finding C(2.11), which must be encrypted with the company's customer-managed logs key.
  - The key may be named by key id, alias name, key ARN or alias ARN. The topic's current key and the key
    asked for are both resolved to a key ARN (KMS C(DescribeKey)) before they are compared, so an alias and the
    key ARN behind it count as the same key and a second run changes nothing.
  - When the topic has to change, its C(KmsMasterKeyId) is set to the key B(ARN), so the topic keeps its key
    even if the alias is later pointed at another key.
  - The key must exist in the topic's region, be enabled and be a symmetric encryption key; this and the
    topic ARN are checked before any change.
  - Publishers of an encrypted topic need C(kms:GenerateDataKey*) and C(kms:Decrypt) on the key. For CloudWatch
    alarms that means a key policy statement for C(cloudwatch.amazonaws.com); the C(kms_keys) role adds one to
    the logs key.
  - O(state=absent) turns encryption off (sets C(KmsMasterKeyId) to an empty string). The topic itself is never
    created or deleted.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  topic_arn:
    description:
      - The ARN of the topic. The topic must exist; the calls go to the region of the ARN.
    type: str
    required: true
  kms_key_id:
    description:
      - The KMS key to encrypt the topic with - a key id, an alias name (V(alias/medcircle-logs)), a key ARN or
        an alias ARN, in the topic's region.
      - Required when O(state=present).
    type: str
  state:
    description:
      - V(present) encrypts the topic with O(kms_key_id), V(absent) turns its encryption off.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only C(sns:GetTopicAttributes) and C(kms:DescribeKey)
    are called.
  - "IAM permissions: C(sns:GetTopicAttributes), C(sns:SetTopicAttributes) and C(kms:DescribeKey) on the key
    asked for and on the key the topic has now."
seealso:
  - module: community.aws.sns_topic
  - module: amazon.aws.kms_key
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 2.11 | PATCH | Encrypt the security alert topic with the logs key
  medcircle.cloudops.sns_topic_encryption:
    topic_arn: arn:aws:sns:us-east-1:123456789012:medcircle-security-alerts
    kms_key_id: alias/medcircle-logs
  register: alert_topic_encryption

- name: Show what would change, changing nothing
  medcircle.cloudops.sns_topic_encryption:
    topic_arn: arn:aws:sns:us-east-1:123456789012:medcircle-security-alerts
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
  check_mode: true
  diff: true

- name: Turn the topic's encryption off
  medcircle.cloudops.sns_topic_encryption:
    topic_arn: arn:aws:sns:us-east-1:123456789012:medcircle-test-alerts
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the topic's encryption was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
topic_arn:
  description: The topic's ARN.
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:medcircle-security-alerts
kms_master_key_id:
  description:
    - The topic's C(KmsMasterKeyId) after the task (in check mode, what it would be), as SNS reports it;
      null when the topic is not encrypted.
    - The key ARN when the task set it; an unchanged topic keeps whatever form was set before.
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
kms_key_arn:
  description:
    - The ARN of the key the topic is encrypted with after the task (in check mode, would be);
      null when the topic is not encrypted (or its key no longer exists).
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
diff:
  description: The topic's C(kms_master_key_id) and C(kms_key_arn) before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: {kms_master_key_id: null, kms_key_arn: null}
    after:
      kms_master_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
      kms_key_arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.sns import ensure_topic_encryption, parse_topic_arn


def main():
    argument_spec = {
        "topic_arn": {"type": "str", "required": True},
        "kms_key_id": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    try:
        region = parse_topic_arn(params["topic_arn"])
        sns = module.client("sns", region=region, retry_decorator=AWSRetry.jittered_backoff())
        kms = module.client("kms", region=region, retry_decorator=AWSRetry.jittered_backoff())
        result = ensure_topic_encryption(
            sns,
            kms,
            params["topic_arn"],
            state=params["state"],
            kms_key_id=params["kms_key_id"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
