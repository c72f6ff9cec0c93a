#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_restore_job
version_added: 0.2.0
short_description: Restore an AWS Backup recovery point (EBS, EC2 or RDS) and wait for the resource
description:
  - Starts a restore of a recovery point with the restore metadata AWS Backup answers for it, changed by
    O(metadata) (checked against what the resource type accepts), waits until the restore ends, and returns
    the restored resource.
  - A restore never overwrites the original; an RDS restore needs a new instance name
    (C(DBInstanceIdentifier) in O(metadata)).
  - Idempotent. An RDS restore is done when an instance of that name exists. An EBS or EC2 restore of a
    recovery point that already has a restore job that did not fail is not started again (see
    O(reuse_existing)).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  recovery_point_arn:
    description:
      - The recovery point (an EBS snapshot, an AMI or an RDS snapshot ARN).
      - Exactly one of O(recovery_point_arn) and O(resource_arn) is required.
    type: str
  resource_arn:
    description:
      - Restore the newest completed recovery point of this protected resource (an EBS volume, EC2 instance or
        RDS DB instance ARN) found in O(backup_vault_name). This is how a restore test picks what to restore.
    type: str
  backup_vault_name:
    description: The vault holding the recovery point.
    type: str
    required: true
  iam_role_arn:
    description: The role AWS Backup restores with.
    type: str
    required: true
  resource_type:
    description: The resource type; found from the recovery point ARN when unset.
    type: str
    choices: [EBS, EC2, RDS]
  metadata:
    description:
      - "Restore settings that replace what AWS answers, for example C(availabilityZone) for EBS, C(SubnetId) and
        C(InstanceType) for EC2, C(DBInstanceIdentifier) (required) and C(DBInstanceClass) for RDS."
      - Lists and dicts are sent as JSON, booleans as C(true)/C(false).
    type: dict
  copy_source_tags:
    description: Copy the source resource's tags to the restored resource.
    type: bool
    default: true
  reuse_existing:
    description: For EBS and EC2, answer the existing restore of this recovery point instead of starting another.
    type: bool
    default: true
  idempotency_token:
    description: A token AWS uses to refuse starting the same restore twice.
    type: str
  wait:
    description: Wait until the restore job ends (and fail if it does not complete).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
  delay:
    description: Seconds between two looks at the job.
    type: int
    default: 15
notes:
  - Supports C(check_mode); check mode sends no restore, it only reads the metadata that would be used.
  - "IAM permissions: C(backup:GetRecoveryPointRestoreMetadata), C(backup:StartRestoreJob),
    C(backup:DescribeRestoreJob), C(backup:ListRestoreJobs), C(rds:DescribeDBInstances), C(iam:PassRole)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Backup | Restore the newest database recovery point as appdb-restore-test
  medcircle.cloudops.backup_restore_job:
    recovery_point_arn: "{{ newest_rds_point }}"
    backup_vault_name: medcircle-backup
    iam_role_arn: arn:aws:iam::123456789012:role/medcircle-backup
    metadata:
      DBInstanceIdentifier: appdb-restore-test
      DBInstanceClass: db.t3.micro
  register: restored

- name: Backup | Restore a volume snapshot into us-east-1b
  medcircle.cloudops.backup_restore_job:
    recovery_point_arn: arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0
    backup_vault_name: medcircle-backup
    iam_role_arn: arn:aws:iam::123456789012:role/medcircle-backup
    metadata:
      availabilityZone: us-east-1b
"""

RETURN = r"""
recovery_point_arn:
  description: The recovery point restored (or that would be).
  returned: always
  type: str
  sample: arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0
resource_type:
  description: EBS, EC2 or RDS.
  returned: always
  type: str
  sample: EBS
created_resource_arn:
  description: The restored resource (null in check mode or while not waited for).
  returned: always
  type: str
  sample: arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0
resource_id:
  description: The restored volume id, instance id or DB instance identifier.
  returned: always
  type: str
  sample: vol-0123456789abcdef0
metadata:
  description: The restore metadata sent (or, in check mode, that would be sent).
  returned: always
  type: dict
  sample: {"availabilityZone": "us-east-1a", "volumeType": "gp3"}
restore_job:
  description: The restore job (empty when none was needed).
  returned: always
  type: dict
  sample: {"restore_job_id": "52BEE289-xxxx", "status": "COMPLETED"}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup import THROTTLED, check_restore_options, restore


def main():
    argument_spec = {
        "recovery_point_arn": {"type": "str"},
        "resource_arn": {"type": "str"},
        "backup_vault_name": {"type": "str", "required": True},
        "iam_role_arn": {"type": "str", "required": True},
        "resource_type": {"type": "str", "choices": ["EBS", "EC2", "RDS"]},
        "metadata": {"type": "dict"},
        "copy_source_tags": {"type": "bool", "default": True},
        "reuse_existing": {"type": "bool", "default": True},
        "idempotency_token": {"type": "str", "no_log": False},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 1800},
        "delay": {"type": "int", "default": 15},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("recovery_point_arn", "resource_arn")],
        mutually_exclusive=[("recovery_point_arn", "resource_arn")],
    )
    try:
        rtype = check_restore_options(module.params)[0]
        retry = AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED)
        backup = module.client("backup", retry_decorator=retry)
        rds = module.client("rds", retry_decorator=retry) if rtype == "RDS" else None
        result = restore(backup, rds, module.params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e, msg=f"Could not restore {module.params['recovery_point_arn'] or module.params['resource_arn']}"
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
