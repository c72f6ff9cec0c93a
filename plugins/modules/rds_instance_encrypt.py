#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_instance_encrypt
version_added: 0.1.0
short_description: Encrypt an existing unencrypted RDS DB instance, keeping its identifier and endpoint
description:
  - RDS cannot turn on encryption at rest for an existing instance. This module moves the instance onto
    encrypted storage in resumable steps, and keeps the unencrypted original.
  - "The steps: tag the original with the date of the change; take a snapshot C(<id>-pre-encrypt-<date>);
    copy it encrypted with O(kms_key_id) to C(<id>-encrypted-<date>); restore a new instance
    O(temporary_identifier) from the copy with the original's class, subnet group, security groups,
    parameter group, option group, Multi-AZ, port, backup settings, monitoring and tags; rename the original
    to C(<id>-unencrypted-<date>) with deletion protection on; rename the new instance to the original
    identifier, so the endpoint the applications use (C(<id>.<hash>.<region>.rds.amazonaws.com)) reaches it."
  - Each finished step is recorded in the original's C(cloudops:encrypt-step) tag, and what is left to do is
    worked out from what exists, so a run that stopped half way resumes where it stopped.
  - Nothing changes unless O(confirm=true). Without it the module returns the plan and changes nothing, and
    the instance stays unencrypted (finding C(1.5) of the risk register stays open).
  - The original is never deleted unless O(delete_original=true) is given after the swap; it is then deleted
    with a final snapshot C(<id>-unencrypted-<date>-final).
  - Writes that reach the original after its snapshot was taken are not in the encrypted instance. Stop the
    applications that write to the database before a confirmed run; they are down until the run ends.
  - Closes finding C(1.5) (and the encryption half of C(2.14)) of the risk register.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  db_instance_identifier:
    description:
      - The identifier of the DB instance to encrypt. It keeps this identifier and its endpoint.
      - At most 42 characters, so that C(<id>-unencrypted-<date>) fits the 63 characters RDS allows.
    type: str
    required: true
    aliases: [id]
  kms_key_id:
    description:
      - The KMS key the new instance's storage is encrypted with.
      - A key id, a multi-Region key id (C(mrk-...)), an alias name (C(alias/my-key)), a key ARN or an alias ARN
        in the module's region. The key must exist, be enabled and be a symmetric encryption key.
    type: str
    required: true
  temporary_identifier:
    description:
      - The identifier the encrypted instance has until the swap.
      - Defaults to C(<db_instance_identifier>-enc).
    type: str
  confirm:
    description:
      - V(true) runs the steps; V(false) only returns the plan and changes nothing.
    type: bool
    default: false
  delete_original:
    description:
      - After the swap, turn off deletion protection on the unencrypted original and delete it, keeping a
        final snapshot C(<id>-unencrypted-<date>-final).
      - Has an effect only together with O(confirm=true) and only once the swap is done.
    type: bool
    default: false
  wait_timeout:
    description:
      - How long to wait, in seconds, for each snapshot, restore, rename or deletion to finish.
    type: int
    default: 3600
  max_attempts:
    description:
      - How many times one AWS call is tried when AWS throttles it or answers with a server error
        (jittered back-off) before the task fails. The next run resumes where this one stopped.
    type: int
    default: 10
notes:
  - Supports C(check_mode) and C(diff_mode). Check mode makes only read calls (C(DescribeDBInstances),
    C(DescribeDBSnapshots), C(kms:DescribeKey)) and returns the plan.
  - The instance is unavailable to the applications from the start of a confirmed run to the end of the swap
    (snapshot, encrypted copy, restore and two renames; for a small database 20 to 60 minutes).
  - Read replicas are not moved; an instance with read replicas is refused.
  - "IAM permissions: C(rds:DescribeDBInstances), C(rds:DescribeDBSnapshots), C(rds:AddTagsToResource),
    C(rds:CreateDBSnapshot), C(rds:CopyDBSnapshot), C(rds:RestoreDBInstanceFromDBSnapshot),
    C(rds:ModifyDBInstance), C(rds:DeleteDBInstance) (only with O(delete_original)), C(kms:DescribeKey),
    C(kms:CreateGrant) and C(kms:GenerateDataKey*) on the key."
seealso:
  - module: amazon.aws.rds_instance
  - module: amazon.aws.rds_instance_snapshot
  - module: amazon.aws.kms_key
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 1.5 | AUDIT | Show what encrypting medcircledb would do
  medcircle.cloudops.rds_instance_encrypt:
    db_instance_identifier: medcircledb
    kms_key_id: alias/medcircle-rds
  register: rds_encrypt_plan

- name: 1.5 | PATCH | Encrypt medcircledb in the maintenance window (applications stopped)
  medcircle.cloudops.rds_instance_encrypt:
    db_instance_identifier: medcircledb
    kms_key_id: alias/medcircle-rds
    confirm: true

- name: 1.5 | PATCH | Delete the unencrypted original once the encrypted instance is verified
  medcircle.cloudops.rds_instance_encrypt:
    db_instance_identifier: medcircledb
    kms_key_id: alias/medcircle-rds
    confirm: true
    delete_original: true
"""

RETURN = r"""
changed:
  description:
    - Whether a step was run (in check mode with O(confirm=true), whether one would be).
    - Always false without O(confirm).
  returned: always
  type: bool
  sample: true
confirmed:
  description: The value of O(confirm).
  returned: always
  type: bool
  sample: false
encrypted:
  description: Whether the instance under O(db_instance_identifier) is encrypted after the task.
  returned: always
  type: bool
  sample: true
plan:
  description: The steps that were left to do when the task started, in order.
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: The step (tag, snapshot, copy, restore, rename_original, rename_new, delete_original).
      returned: always
      type: str
      sample: copy
    description:
      description: What the step does, with the names it uses.
      returned: always
      type: str
      sample: take snapshot medcircledb-pre-encrypt-20261128 of medcircledb
steps_done:
  description: The steps this task ran.
  returned: always
  type: list
  elements: str
  sample: [tag, snapshot, copy, restore, rename_original, rename_new]
names:
  description: Every name the encryption uses.
  returned: always
  type: dict
  sample:
    db_instance_identifier: medcircledb
    temporary_identifier: medcircledb-enc
    original_identifier: medcircledb-unencrypted-20261128
    snapshot: medcircledb-pre-encrypt-20261128
    encrypted_snapshot: medcircledb-encrypted-20261128
    final_snapshot: medcircledb-unencrypted-20261128-final
kms_key_arn:
  description: The ARN of the key O(kms_key_id) resolves to.
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
db_instance:
  description: The instance under O(db_instance_identifier) after the task; null while it is renamed away.
  returned: always
  type: dict
  sample:
    db_instance_identifier: medcircledb
    db_instance_arn: arn:aws:rds:us-east-1:123456789012:db:medcircledb
    db_instance_status: available
    storage_encrypted: true
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    endpoint: medcircledb.abcdefghij.us-east-1.rds.amazonaws.com
    deletion_protection: true
    tags: {cloudops:replaces: medcircledb-unencrypted-20261128}
original:
  description: The unencrypted original (same keys as RV(db_instance)); null once deleted or when there is none.
  returned: always
  type: dict
  sample:
    db_instance_identifier: medcircledb-unencrypted-20261128
    storage_encrypted: false
    deletion_protection: true
diff:
  description: The instance, the original and the temporary instance before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: {db_instance: {identifier: medcircledb, storage_encrypted: false, kms_key_id: null},
             original: medcircledb, temporary: null}
    after: {db_instance: {identifier: medcircledb, storage_encrypted: true,
                          kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            original: medcircledb-unencrypted-20261128, temporary: null}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.rds_encryption import encrypt_db_instance


def main():
    argument_spec = {
        "db_instance_identifier": {"type": "str", "required": True, "aliases": ["id"]},
        "kms_key_id": {"type": "str", "required": True},
        "temporary_identifier": {"type": "str"},
        "confirm": {"type": "bool", "default": False},
        "delete_original": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 3600},
        "max_attempts": {"type": "int", "default": 10},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    try:
        if params["wait_timeout"] < 1:
            raise ParameterError("wait_timeout", params["wait_timeout"], "is not a positive number of seconds")
        if not module.region:
            raise ParameterError(
                "region", None, "is not set", "a region in the region option, AWS_REGION or AWS_DEFAULT_REGION"
            )
        if params["max_attempts"] < 1:
            raise ParameterError("max_attempts", params["max_attempts"], "must be at least 1", "1 or more")
        retry = AWSRetry.jittered_backoff(retries=params["max_attempts"])
        rds = module.client("rds", retry_decorator=retry)
        kms = module.client("kms", retry_decorator=retry)
        result = encrypt_db_instance(
            rds,
            kms,
            module.region,
            params["db_instance_identifier"],
            params["kms_key_id"],
            temporary_identifier=params["temporary_identifier"],
            confirm=params["confirm"],
            delete_original=params["delete_original"],
            check_mode=module.check_mode,
            wait_timeout=params["wait_timeout"],
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    if result["plan"] and not params["confirm"]:
        module.warn(
            "%s: %d step(s) not run because confirm is false: %s. Set confirm: true to run them."
            % (
                params["db_instance_identifier"],
                len(result["plan"]),
                "; ".join(step["description"] for step in result["plan"]),
            )
        )
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
