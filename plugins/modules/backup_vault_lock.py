#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_vault_lock
version_added: 0.2.0
short_description: Lock an AWS Backup vault and deny deleting its recovery points
description:
  - Sets AWS Backup Vault Lock on a vault (minimum and maximum retention, and for compliance mode the grace
    time in days during which the lock can still be changed or removed), and adds to the vault access policy a
    statement that denies deleting recovery points, shortening their lifecycle or replacing the policy.
    Other statements of the vault access policy are kept.
  - Closes finding C(5.1) of the risk register (retention too short, backups deletable).
  - The options are checked before any call; a lock whose grace time is over (compliance mode) can no longer
    change, and the module says so instead of sending a call AWS would refuse.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  vault_name:
    description: The backup vault, in the module's region.
    type: str
    required: true
  lock:
    description:
      - V(present) sets the lock, V(absent) removes it (only possible in governance mode or during the grace time).
    type: str
    choices: [present, absent]
    default: present
  min_retention_days:
    description: Recovery points must be kept at least this many days (1 to 36500).
    type: int
  max_retention_days:
    description: Recovery points are kept at most this many days (1 to 36500, not below O(min_retention_days)).
    type: int
  changeable_for_days:
    description:
      - Compliance mode. Days (3 or more) during which the lock can still be changed; after that it is
        permanent. Unset, the lock is in governance mode.
      - AWS does not answer this value back, so it only counts when the lock is set or changed.
    type: int
  deny_delete:
    description:
      - Keep a statement (Sid C(CloudopsDenyRecoveryPointDeletion)) in the vault access policy that denies
        C(backup:DeleteRecoveryPoint), C(backup:UpdateRecoveryPointLifecycle) and
        C(backup:PutBackupVaultAccessPolicy) to everyone. V(false) removes that statement only.
    type: bool
    default: true
notes:
  - Supports C(check_mode) and C(diff_mode). Check mode makes only read calls.
  - "IAM permissions: C(backup:DescribeBackupVault), C(backup:PutBackupVaultLockConfiguration),
    C(backup:DeleteBackupVaultLockConfiguration), C(backup:GetBackupVaultAccessPolicy),
    C(backup:PutBackupVaultAccessPolicy), C(backup:DeleteBackupVaultAccessPolicy)."
seealso:
  - module: amazon.aws.backup_vault
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 5.1 | PATCH | Lock the vault medcircle-backup (35 days to 10 years, permanent after 3 days)
  medcircle.cloudops.backup_vault_lock:
    region: us-east-1
    vault_name: medcircle-backup
    min_retention_days: 35
    max_retention_days: 3650
    changeable_for_days: 3

- name: 5.1 | AUDIT | Show what would change
  medcircle.cloudops.backup_vault_lock:
    vault_name: medcircle-backup
    min_retention_days: 35
    max_retention_days: 3650
  check_mode: true
  diff: true
"""

RETURN = r"""
vault_arn:
  description: The vault's ARN.
  returned: always
  type: str
  sample: arn:aws:backup:us-east-1:123456789012:backup-vault:medcircle-backup
vault_lock:
  description: The vault's lock after the task (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    locked:
      description: Whether Vault Lock protects the vault.
      returned: always
      type: bool
      sample: true
    min_retention_days:
      description: Minimum retention.
      returned: always
      type: int
      sample: 35
    max_retention_days:
      description: Maximum retention.
      returned: always
      type: int
      sample: 3650
    lock_date:
      description: When a compliance-mode lock becomes permanent (ISO 8601), null in governance mode.
      returned: always
      type: str
      sample: "2026-12-04T21:00:00+00:00"
access_policy:
  description: The vault access policy after the task, or null when the vault has none.
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": [{"Sid": "CloudopsDenyRecoveryPointDeletion", "Effect": "Deny"}]}
diff:
  description: Lock and policy before and after.
  returned: when diff mode is on
  type: dict
  sample: {"before": {}, "after": {}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup import (
    THROTTLED,
    check_lock_options,
    ensure_vault_lock,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff


def main():
    argument_spec = {
        "vault_name": {"type": "str", "required": True},
        "lock": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "min_retention_days": {"type": "int"},
        "max_retention_days": {"type": "int"},
        "changeable_for_days": {"type": "int"},
        "deny_delete": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        check_lock_options(params["min_retention_days"], params["max_retention_days"], params["changeable_for_days"])
        client = module.client("backup", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED))
        result = ensure_vault_lock(client, params["vault_name"], params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not lock the backup vault {params['vault_name']}")
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
