#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_restore_testing_plan
version_added: 0.3.0
short_description: AWS Backup restore testing plans and their selections, which AWS runs on a schedule
description:
  - Creates, updates or deletes an AWS Backup restore testing plan, identified by its O(name), and sets when AWS runs it
    (a cron schedule in a time zone, a start window), which recovery points it picks (newest or random within
    a window of days, from which vaults, snapshots or continuous), and its selections (which protected resources of
    one type, by ARN or by tag, the restore settings to override, how long the restored resource is kept for
    validation).
  - A schedule AWS would refuse, a window out of range or a selection without resources fails before any call,
    naming the option.
  - Selections not listed are kept unless O(purge_selections=true). O(state=absent) deletes the plan and its
    selections (AWS requires the selections to go first); it never deletes a recovery point or a restored resource.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description: The plan's name, 1-50 letters, digits or C(_).
    type: str
    required: true
  state:
    description: Whether the plan exists.
    type: str
    choices: [present, absent]
    default: present
  schedule_expression:
    description:
      - When AWS starts the restore tests, as an AWS Backup cron expression
        C(cron(minutes hours day-of-month month day-of-week year)) with C(?) in one of the two day fields.
      - Required with O(state=present).
    type: str
  schedule_expression_timezone:
    description: The time zone of O(schedule_expression) (IANA name).
    type: str
    default: Etc/UTC
  start_window_hours:
    description: Hours after the scheduled time within which the tests must start, 1 to 168.
    type: int
    default: 24
  recovery_point_selection:
    description: Which recovery points the tests restore.
    type: dict
    default: {}
    suboptions:
      algorithm:
        description: The newest point within the window, or a random one.
        type: str
        choices: [LATEST_WITHIN_WINDOW, RANDOM_WITHIN_WINDOW]
        default: LATEST_WITHIN_WINDOW
      include_vaults:
        description: Vault ARNs the points come from; C(*) for every vault.
        type: list
        elements: str
        default: ["*"]
      exclude_vaults:
        description: Vault ARNs never used.
        type: list
        elements: str
        default: []
      recovery_point_types:
        description: Kinds of recovery points used.
        type: list
        elements: str
        choices: [SNAPSHOT, CONTINUOUS]
        default: [SNAPSHOT]
      selection_window_days:
        description: How many days back a recovery point may be, 1 to 365.
        type: int
        default: 30
  selections:
    description: The plan's restore testing selections, each identified by its name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The selection's name, 1-50 letters, digits or C(_).
        type: str
        required: true
      protected_resource_type:
        description: The type of the resources tested (one per selection); changing it replaces the selection.
        type: str
        required: true
        choices: [Aurora, DocumentDB, DynamoDB, EBS, EC2, EFS, FSx, Neptune, RDS, S3]
      iam_role_arn:
        description: The role AWS Backup restores with.
        type: str
        required: true
      protected_resource_arns:
        description: The resources tested, or C(["*"]) for every protected resource of the type.
          Give this or O(selections[].protected_resource_conditions); with conditions it is C(["*"]) or left out
          (AWS selects by conditions only together with the wildcard, so the module then sends C(["*"])).
        type: list
        elements: str
      protected_resource_conditions:
        description: The resources tested, by tag (sent as C(aws:ResourceTag/<key>) conditions).
        type: dict
        suboptions:
          string_equals:
            description: Tags the resource must have, key to value.
            type: dict
          string_not_equals:
            description: Tags the resource must not have with that value, key to value.
            type: dict
      restore_metadata_overrides:
        description: Restore settings that replace the recovery point's own (for example C(DBInstanceClass)).
        type: dict
      validation_window_hours:
        description: Hours the restored resource is kept for validation before AWS deletes it, 0 to 168.
        type: int
  purge_selections:
    description: Delete the plan's selections that O(selections) does not list.
    type: bool
    default: false
notes:
  - Supports C(check_mode) (only read calls; answers the plan as it would be) and C(diff_mode).
  - "IAM permissions: C(backup:GetRestoreTestingPlan), C(backup:CreateRestoreTestingPlan),
    C(backup:UpdateRestoreTestingPlan), C(backup:DeleteRestoreTestingPlan), C(backup:ListRestoreTestingSelections),
    C(backup:GetRestoreTestingSelection), C(backup:CreateRestoreTestingSelection),
    C(backup:UpdateRestoreTestingSelection), C(backup:DeleteRestoreTestingSelection), C(iam:PassRole)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 2.2 | PATCH | Restore-test the newest database and volume backups every Sunday at 06:00 Berlin time
  medcircle.cloudops.backup_restore_testing_plan:
    name: medcircle_weekly_restore_test
    schedule_expression: cron(0 6 ? * SUN *)
    schedule_expression_timezone: Europe/Berlin
    start_window_hours: 4
    recovery_point_selection:
      algorithm: LATEST_WITHIN_WINDOW
      include_vaults: ["arn:aws:backup:us-east-1:123456789012:backup-vault:medcircle-backup-vault"]
      selection_window_days: 7
    selections:
      - name: databases
        protected_resource_type: RDS
        iam_role_arn: arn:aws:iam::123456789012:role/medcircle-backup-role
        protected_resource_conditions:
          string_equals:
            Project: medcircle
        restore_metadata_overrides:
          DBInstanceClass: db.t3.micro
        validation_window_hours: 2
      - name: volumes
        protected_resource_type: EBS
        iam_role_arn: arn:aws:iam::123456789012:role/medcircle-backup-role
        protected_resource_arns: ["*"]

- name: 2.2 | AUDIT | Show what would change
  medcircle.cloudops.backup_restore_testing_plan:
    name: medcircle_weekly_restore_test
    schedule_expression: cron(0 6 ? * SUN *)
  check_mode: true
  diff: true

- name: Remove the plan and its selections
  medcircle.cloudops.backup_restore_testing_plan:
    name: medcircle_weekly_restore_test
    state: absent
"""

RETURN = r"""
plan:
  description: The plan after the task (in check mode, as it would be); null when absent.
  returned: always
  type: dict
  sample:
    restore_testing_plan_name: medcircle_weekly_restore_test
    restore_testing_plan_arn: arn:aws:backup:us-east-1:123456789012:restore-testing-plan:medcircle_weekly-1a2b
    schedule_expression: cron(0 6 ? * SUN *)
    schedule_expression_timezone: Europe/Berlin
    start_window_hours: 4
    recovery_point_selection:
      algorithm: LATEST_WITHIN_WINDOW
      include_vaults: ["*"]
      recovery_point_types: [SNAPSHOT]
      selection_window_days: 7
selections:
  description: The plan's selections after the task (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
  sample:
    - restore_testing_selection_name: databases
      protected_resource_type: RDS
      iam_role_arn: arn:aws:iam::123456789012:role/medcircle-backup-role
      protected_resource_arns: []
      protected_resource_conditions: {"string_equals": [{"key": "aws:ResourceTag/Project", "value": "medcircle"}]}
      restore_metadata_overrides: {"DBInstanceClass": "db.t3.micro"}
      validation_window_hours: 2
actions:
  description: What the task did (in check mode, would do), one line each.
  returned: always
  type: list
  elements: str
  sample: ["create restore test plan medcircle_weekly_restore_test", "create selection databases"]
diff:
  description: The plan and its selections before and after.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"plan": null, "selections": {}}, "after": {"plan": {}, "selections": {}}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup import THROTTLED
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup_restore_testing import (
    check_options,
    ensure_plan,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "schedule_expression": {"type": "str"},
        "schedule_expression_timezone": {"type": "str", "default": "Etc/UTC"},
        "start_window_hours": {"type": "int", "default": 24},
        "recovery_point_selection": {
            "type": "dict",
            "default": {},
            "options": {
                "algorithm": {
                    "type": "str",
                    "choices": ["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"],
                    "default": "LATEST_WITHIN_WINDOW",
                },
                "include_vaults": {"type": "list", "elements": "str", "default": ["*"]},
                "exclude_vaults": {"type": "list", "elements": "str", "default": []},
                "recovery_point_types": {
                    "type": "list",
                    "elements": "str",
                    "choices": ["SNAPSHOT", "CONTINUOUS"],
                    "default": ["SNAPSHOT"],
                },
                "selection_window_days": {"type": "int", "default": 30},
            },
        },
        "selections": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "protected_resource_type": {
                    "type": "str",
                    "required": True,
                    "choices": ["Aurora", "DocumentDB", "DynamoDB", "EBS", "EC2", "EFS", "FSx", "Neptune", "RDS", "S3"],
                },
                "iam_role_arn": {"type": "str", "required": True},
                "protected_resource_arns": {"type": "list", "elements": "str"},
                "protected_resource_conditions": {
                    "type": "dict",
                    "options": {
                        "string_equals": {"type": "dict"},
                        "string_not_equals": {"type": "dict"},
                    },
                },
                "restore_metadata_overrides": {"type": "dict"},
                "validation_window_hours": {"type": "int"},
            },
        },
        "purge_selections": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["schedule_expression"])],
    )
    params = module.params
    try:
        check_options(params)
        client = module.client("backup", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED))
        result = ensure_plan(client, params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not manage the restore testing plan {params['name']}")
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
