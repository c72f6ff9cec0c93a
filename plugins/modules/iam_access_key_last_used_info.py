#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_access_key_last_used_info
version_added: 0.1.0
short_description: Report when IAM access keys were last used, and for what
description:
  - Reports, for each access key given, its user and when it was last used, by which AWS service
    and in which region, as IAM records it.
  - IAM answers this one key at a time (C(iam:GetAccessKeyLastUsed)); the module asks once per key, in
    the order given.
  - Read-only. The role C(mfa_enforcement) uses it to tell IT support whether the access key that
    holds a console user back from MFA enforcement is still in use.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  access_key_ids:
    description:
      - The access key ids to report on, for example V([AKIAIOSFODNN7EXAMPLE]).
      - Each is 16 to 128 letters and digits, as IAM writes them.
      - Listing the same key twice reports it once.
    type: list
    elements: str
    required: true
notes:
  - "IAM permissions: C(iam:GetAccessKeyLastUsed)."
  - IAM records the last use with a delay of up to a few hours and keeps it from April 2015 on.
  - An access key id that no user of the account holds fails the module and names the key.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 1.1 | AUDIT | Read when the access keys of the held-back users were last used
  medcircle.cloudops.iam_access_key_last_used_info:
    access_key_ids:
      - AKIAIOSFODNN7EXAMPLE
  register: last_used

- name: 1.1 | AUDIT | Show the keys nobody has used
  ansible.builtin.debug:
    msg: "{{ last_used.access_keys | rejectattr('last_used_date') | map(attribute='access_key_id') | list }}"
"""

RETURN = r"""
access_keys:
  description: One entry per access key, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The access key id.
      returned: always
      type: str
      sample: AKIAIOSFODNN7EXAMPLE
    user_name:
      description: The IAM user that holds the key.
      returned: always
      type: str
      sample: ci-deployer
    last_used_date:
      description:
        - When the key was last used to sign a request, in ISO 8601 (UTC).
        - V(null) when IAM has no record of a use (never used, or not since April 2015).
      returned: always
      type: str
      sample: "2026-11-30T08:15:00+00:00"
    service_name:
      description:
        - The service of that request, for example V(s3); V(null) when the key has no recorded use.
      returned: always
      type: str
      sample: s3
    region:
      description:
        - The region of that request; V(null) when the key has no recorded use.
      returned: always
      type: str
      sample: us-east-1
"""

import re

try:
    import botocore
except ImportError:
    botocore = None  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
# What IAM answers for a key it has no record of a use for.
NOT_RECORDED = (None, "", "N/A")


def recorded(value):
    return None if value in NOT_RECORDED else value


def last_use(client, key_id):
    answer = client.get_access_key_last_used(AccessKeyId=key_id, aws_retry=True)
    used = answer.get("AccessKeyLastUsed") or {}
    when = used.get("LastUsedDate")
    return {
        "access_key_id": key_id,
        "user_name": answer.get("UserName"),
        "last_used_date": when.isoformat() if hasattr(when, "isoformat") else recorded(when),
        "service_name": recorded(used.get("ServiceName")),
        "region": recorded(used.get("Region")),
    }


def main():
    argument_spec = {"access_key_ids": {"type": "list", "elements": "str", "required": True, "no_log": False}}
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    key_ids = list(dict.fromkeys(module.params["access_key_ids"]))
    bad = [k for k in key_ids if not KEY_ID.match(k or "")]
    if bad:
        module.fail_json(
            msg="access_key_ids must be IAM access key ids (16 to 128 capital letters and digits, such as "
            "AKIAIOSFODNN7EXAMPLE); not: %s. Nothing was read." % ", ".join(repr(k) for k in bad)
        )

    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    results = []
    for key_id in key_ids:
        try:
            results.append(last_use(client, key_id))
        except is_boto3_error_code(["NoSuchEntity", "NoSuchEntityException"]):
            module.fail_json(
                msg="No IAM user of this account holds the access key %s (deleted since it was listed?); "
                "list the user's keys again and run once more." % key_id
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Could not read when access key %s was last used" % key_id)

    module.exit_json(changed=False, access_keys=results)


if __name__ == "__main__":
    main()
