#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_instance_master_secret
version_added: 0.1.0
short_description: Hand the master password of RDS DB instances to AWS Secrets Manager
description:
  - Turns on C(ManageMasterUserPassword) for RDS DB instances, so RDS generates the master password,
    keeps it in a Secrets Manager secret encrypted with O(kms_key_id), and rotates it (every 7 days unless the
    secret's rotation schedule is changed). Nobody needs to know the password; applications read the secret.
  - The password that was set by hand stops working when RDS takes over; applications must read the secret.
  - Closes finding C(3.2) of the risk register (weak, never rotated master password).
  - amazon.aws.rds_instance has no option for this.
  - Read replicas are skipped, because they use their source's credentials.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  db_instance_identifiers:
    description:
      - The DB instances to manage. All are read in one paginated call.
    type: list
    elements: str
    required: true
  kms_key_id:
    description:
      - The KMS key that encrypts the secret. A key id, alias name, key ARN or alias ARN in the module's region.
      - When omitted, Secrets Manager's AWS managed key (C(aws/secretsmanager)) is used.
      - Only used when the password is handed over; an instance that already has a managed secret keeps its key.
    type: str
  rotate:
    description:
      - V(true) rotates the secret of every listed instance now (C(RotateMasterUserPassword)).
        Not idempotent by nature; use it on demand only.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode). Check mode makes only read calls (C(DescribeDBInstances),
    C(kms:DescribeKey)).
  - The password itself never appears in the module's input or output.
  - "IAM permissions: C(rds:DescribeDBInstances), C(rds:ModifyDBInstance), C(secretsmanager:CreateSecret),
    C(secretsmanager:TagResource), C(kms:DescribeKey), C(kms:CreateGrant), C(kms:GenerateDataKey) and
    C(kms:Decrypt) on the key."
seealso:
  - module: amazon.aws.rds_instance
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.2 | PATCH | Hand the master password of medcircledb to Secrets Manager
  medcircle.cloudops.rds_instance_master_secret:
    db_instance_identifiers: [medcircledb]
    kms_key_id: alias/medcircle-rds
"""

RETURN = r"""
changed:
  description: Whether an instance was changed (in check mode, would be).
  returned: always
  type: bool
  sample: true
db_instances:
  description: One entry per listed instance.
  returned: always
  type: list
  elements: dict
  contains:
    db_instance_identifier:
      description: The instance.
      returned: always
      type: str
      sample: medcircledb
    managed:
      description: Whether Secrets Manager holds the master password after the task (in check mode, would).
      returned: always
      type: bool
      sample: true
    secret_arn:
      description: The ARN of the secret; null until RDS has created it (and in check mode).
      returned: always
      type: str
      sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf
    changed:
      description: Whether this instance was changed (in check mode, would be).
      returned: always
      type: bool
      sample: true
    skipped:
      description: Why the instance was left alone (read replica), or null.
      returned: always
      type: str
      sample: null
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import parse_kms_key_id, require_usable_kms_key
from ansible_collections.medcircle.cloudops.plugins.module_utils.rds_encryption import (
    describe_db_instances,
    modify_db_instance,
    validate_identifier,
)


def ensure_master_secrets(rds, kms, region, identifiers, kms_key_id=None, rotate=False, check_mode=False):
    ids = [validate_identifier(i, "db_instance_identifiers") for i in identifiers]
    key_arn = None
    if kms_key_id:
        ref = parse_kms_key_id(kms_key_id)
        key_arn = require_usable_kms_key(kms, ref, region)["Arn"]
    instances = {db["DBInstanceIdentifier"]: db for db in describe_db_instances(rds)}
    missing = [i for i in ids if i not in instances]
    if missing:
        raise ParameterError(
            "db_instance_identifiers", ", ".join(missing), f"not found in {region}", "existing DB instance identifiers"
        )
    results, before, after = [], {}, {}
    for db_id in ids:
        db = instances[db_id]
        secret = (db.get("MasterUserSecret") or {}).get("SecretArn")
        entry = {"db_instance_identifier": db_id, "managed": bool(secret), "secret_arn": secret, "changed": False}
        entry["skipped"] = "read replica" if db.get("ReadReplicaSourceDBInstanceIdentifier") else None
        before[db_id] = {"managed": bool(secret)}
        if entry["skipped"] is None:
            params = {}
            if not secret:
                params["ManageMasterUserPassword"] = True
                if key_arn:
                    params["MasterUserSecretKmsKeyId"] = key_arn
            elif rotate:
                params["RotateMasterUserPassword"] = True
            if params:
                entry["changed"] = True
                entry["managed"] = True
                if not check_mode:
                    updated = modify_db_instance(rds, db_id, params)
                    entry["secret_arn"] = (updated.get("MasterUserSecret") or {}).get("SecretArn")
        after[db_id] = {"managed": entry["managed"]}
        results.append(entry)
    return {
        "changed": any(e["changed"] for e in results),
        "db_instances": results,
        "diff": {"before": before, "after": after},
    }


def main():
    argument_spec = {
        "db_instance_identifiers": {"type": "list", "elements": "str", "required": True},
        "kms_key_id": {"type": "str"},
        "rotate": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        retry = AWSRetry.jittered_backoff()
        result = ensure_master_secrets(
            module.client("rds", retry_decorator=retry),
            module.client("kms", retry_decorator=retry),
            module.region,
            module.params["db_instance_identifiers"],
            kms_key_id=module.params["kms_key_id"],
            rotate=module.params["rotate"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
