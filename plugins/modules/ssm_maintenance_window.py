#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_maintenance_window
version_added: 0.1.0
short_description: Manage Systems Manager maintenance windows with their targets and Run Command tasks
description:
  - Creates, updates or deletes an AWS Systems Manager maintenance window, found by its name, together with
    its targets (instances chosen by tag, by id or by resource group) and its Run Command tasks (for example
    C(AWS-RunPatchBaseline) with C(Operation=Install)) with rate control and an optional CloudWatch alarm that
    stops the run.
  - Targets and tasks are found by their name within the window. Those the window has but the task does not
    list are removed (O(purge_targets), O(purge_tasks)).
  - Helps close finding C(3.5) of the risk register (patch management not implemented).
  - Every option is checked before any call that changes AWS, including the schedule (a cron expression AWS
    would refuse fails here, naming O(schedule) and showing allowed examples) and the cutoff (it must be
    shorter than the duration).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description: The window's name (3 to 128 letters, digits, C(_), C(-) or C(.)); the module finds the window by it.
    type: str
    required: true
  state:
    description: V(present) creates or updates the window, V(absent) deletes it with its targets and tasks.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: A description of the window.
    type: str
  schedule:
    description:
      - When the window opens. Required when O(state=present).
      - "A cron expression with six fields, C(cron(minutes hours day-of-month month day-of-week year)), with C(?)
        in exactly one of day-of-month and day-of-week: V(cron(0 2 ? * TUE *)) is every Tuesday at 02:00,
        V(cron(30 23 ? * SUN#1 *)) the first Sunday of the month at 23:30."
      - A rate, V(rate(12 hours)) or V(rate(7 days)) (hours or days; C(hour)/C(day) for 1).
      - Once, V(at(2026-12-24T03:00:00)).
    type: str
  schedule_timezone:
    description: The IANA time zone of the schedule, for example V(Europe/Berlin). AWS uses UTC when omitted.
    type: str
  schedule_offset:
    description: Days (1 to 6) to wait after the cron date before the window opens (cron schedules only).
    type: int
  duration:
    description: How many hours (1 to 24) the window stays open. Required when O(state=present).
    type: int
  cutoff:
    description:
      - Hours (0 to 23) before the window closes after which no new task starts. It must be less than O(duration).
    type: int
    default: 1
  allow_unassociated_targets:
    description: Whether tasks may run on instances that are not registered targets of the window.
    type: bool
    default: false
  enabled:
    description: Whether the window runs on its schedule.
    type: bool
    default: true
  start_date:
    description: The date and time (ISO-8601) from which the window runs, for example V(2026-01-01T00:00:00+01:00).
    type: str
  end_date:
    description: The date and time (ISO-8601) after which the window no longer runs.
    type: str
  targets:
    description:
      - The window's targets, each found by its name within the window.
      - When omitted, the window's targets are left as they are.
    type: list
    elements: dict
    suboptions:
      name:
        description: The target's name within the window (3 to 128 letters, digits, C(_), C(-) or C(.)).
        type: str
        required: true
      tags:
        description:
          - "Instances with these tags, for example V({PatchGroup: prod}). A list of values matches any of them."
        type: dict
      instance_ids:
        description: Instances by id.
        type: list
        elements: str
      resource_group:
        description: The name of a resource group (sets O(targets[].resource_type=RESOURCE_GROUP) unless given).
        type: str
      resource_type:
        description: The kind of target. Defaults to V(INSTANCE), or V(RESOURCE_GROUP) with O(targets[].resource_group).
        type: str
        choices: [INSTANCE, RESOURCE_GROUP]
      owner_information:
        description: Text passed to every task run on this target (shown in the run's history).
        type: str
      description:
        description: A description of the target.
        type: str
  purge_targets:
    description: Remove targets of the window not listed in O(targets) (only when O(targets) is given).
    type: bool
    default: true
  tasks:
    description:
      - The window's Run Command tasks, each found by its name within the window.
      - When omitted, the window's tasks are left as they are.
    type: list
    elements: dict
    suboptions:
      name:
        description: The task's name within the window.
        type: str
        required: true
      document:
        description: The SSM document to run.
        type: str
        default: AWS-RunPatchBaseline
      targets:
        description: Names of the window's targets (from O(targets)) the task runs on.
        type: list
        elements: str
        required: true
      parameters:
        description:
          - The document's parameters. For C(AWS-RunPatchBaseline), C(Operation) is V(Scan) or V(Install) and
            C(RebootOption) V(RebootIfNeeded) or V(NoReboot).
        type: dict
      max_concurrency:
        description: How many instances (V(10)) or what share of them (V(25%)) the task runs on at the same time.
        type: str
        required: true
      max_errors:
        description: How many failures (V(1)) or what share (V(10%)) stop the task from starting on more instances.
        type: str
        required: true
      priority:
        description: Tasks with a lower priority run first; V(0) runs before all others.
        type: int
        default: 1
      service_role_arn:
        description: The IAM role Systems Manager uses to run the task. When omitted, the service-linked role is used.
        type: str
      cutoff_behavior:
        description: What happens to the running task when the cutoff is reached.
        type: str
        choices: [CONTINUE_TASK, CANCEL_TASK]
        default: CONTINUE_TASK
      alarms:
        description: CloudWatch alarm names; when one goes into ALARM the task stops.
        type: list
        elements: str
      ignore_poll_alarm_failure:
        description: Run the task even when the alarms cannot be read.
        type: bool
        default: false
      timeout_seconds:
        description: Seconds (30 to 2592000) a command may wait to start on an instance.
        type: int
      comment:
        description: A comment shown with each command.
        type: str
      output_s3_bucket:
        description: An S3 bucket for the commands' output.
        type: str
      output_s3_key_prefix:
        description: The key prefix in O(tasks[].output_s3_bucket).
        type: str
      cloudwatch_log_group:
        description: A CloudWatch Logs group for the commands' output.
        type: str
      description:
        description: A description of the task.
        type: str
  purge_tasks:
    description: Remove tasks of the window not listed in O(tasks) (only when O(tasks) is given).
    type: bool
    default: true
  tags:
    description: Tags for the window. When omitted, its tags are left as they are.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only read calls are made.
  - "IAM permissions: C(ssm:DescribeMaintenanceWindows), C(ssm:GetMaintenanceWindow),
    C(ssm:DescribeMaintenanceWindowTargets), C(ssm:DescribeMaintenanceWindowTasks), C(ssm:GetMaintenanceWindowTask),
    C(ssm:ListTagsForResource), C(ssm:CreateMaintenanceWindow), C(ssm:UpdateMaintenanceWindow),
    C(ssm:DeleteMaintenanceWindow), C(ssm:RegisterTargetWithMaintenanceWindow), C(ssm:UpdateMaintenanceWindowTarget),
    C(ssm:DeregisterTargetFromMaintenanceWindow), C(ssm:RegisterTaskWithMaintenanceWindow),
    C(ssm:UpdateMaintenanceWindowTask), C(ssm:DeregisterTaskFromMaintenanceWindow), C(ssm:AddTagsToResource),
    C(ssm:RemoveTagsFromResource), and C(iam:PassRole) for O(tasks[].service_role_arn)."
  - See U(https://docs.aws.amazon.com/systems-manager/latest/userguide/maintenance-windows.html).
seealso:
  - module: medcircle.cloudops.ssm_maintenance_window_info
  - module: medcircle.cloudops.ssm_patch_baseline
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.5 | PATCH | Production patch window, Sundays 03:00 Berlin time
  medcircle.cloudops.ssm_maintenance_window:
    name: medcircle-patch-prod
    description: Install approved patches on the prod patch group
    schedule: cron(0 3 ? * SUN *)
    schedule_timezone: Europe/Berlin
    duration: 4
    cutoff: 1
    targets:
      - name: prod-fleet
        tags:
          PatchGroup: prod
    tasks:
      - name: install-patches
        targets: [prod-fleet]
        parameters:
          Operation: Install
          RebootOption: RebootIfNeeded
        max_concurrency: 25%
        max_errors: "1"
        cutoff_behavior: CANCEL_TASK
        alarms: [medcircle-app-5xx]
    tags:
      Finding: "3.5"

- name: 3.5 | AUDIT | Show what would change in the staging window
  medcircle.cloudops.ssm_maintenance_window:
    name: medcircle-patch-staging
    schedule: cron(0 2 ? * TUE *)
    duration: 3
    cutoff: 1
  check_mode: true
  diff: true

- name: Delete a window
  medcircle.cloudops.ssm_maintenance_window:
    name: medcircle-patch-old
    state: absent
"""

RETURN = r"""
window:
  description: The window after the task (in check mode, as it would be). Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    window_id:
      description: The window id (absent in check mode for a window that does not exist yet).
      returned: when the window exists
      type: str
      sample: mw-0c50858d01EXAMPLE
    name:
      description: The name.
      returned: success
      type: str
      sample: medcircle-patch-prod
    schedule:
      description: The schedule.
      returned: success
      type: str
      sample: cron(0 3 ? * SUN *)
    schedule_timezone:
      description: The time zone of the schedule (empty for UTC).
      returned: success
      type: str
      sample: Europe/Berlin
    schedule_offset:
      description: Days after the cron date (0 for none).
      returned: success
      type: int
      sample: 0
    duration:
      description: Hours the window stays open.
      returned: success
      type: int
      sample: 4
    cutoff:
      description: Hours before the end after which no task starts.
      returned: success
      type: int
      sample: 1
    enabled:
      description: Whether the window runs.
      returned: success
      type: bool
      sample: true
    allow_unassociated_targets:
      description: Whether tasks may run on unregistered instances.
      returned: success
      type: bool
      sample: false
    description:
      description: The description.
      returned: success
      type: str
      sample: Install approved patches
    start_date:
      description: Start of the active period (empty for none).
      returned: success
      type: str
      sample: ""
    end_date:
      description: End of the active period (empty for none).
      returned: success
      type: str
      sample: ""
    targets:
      description: The targets, by name.
      returned: success
      type: list
      elements: dict
      sample: [{"name": "prod-fleet", "window_target_id": "e32eecb2-646c-4f4b-8ed1-205fbEXAMPLE",
                "resource_type": "INSTANCE",
                "targets": [{"key": "tag:PatchGroup", "values": ["prod"]}], "owner_information": "", "description": ""}]
    tasks:
      description: The tasks, by name; C(target_names) are the names of the targets they run on.
      returned: success
      type: list
      elements: dict
      sample: [{"name": "install-patches", "task_arn": "AWS-RunPatchBaseline", "task_type": "RUN_COMMAND",
                "target_names": ["prod-fleet"], "max_concurrency": "25%", "max_errors": "1", "priority": 1,
                "cutoff_behavior": "CANCEL_TASK",
                "task_invocation_parameters": {"run_command": {"parameters": {"Operation": ["Install"]}}}}]
    tags:
      description: The window's tags.
      returned: success
      type: dict
      sample: {"Finding": "3.5"}
diff:
  description: The window before and after.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: The window before the task (empty if it did not exist).
      returned: when diff mode is on
      type: dict
    after:
      description: The window after the task (empty if deleted).
      returned: when diff mode is on
      type: dict
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    CUTOFF_BEHAVIORS,
    RESOURCE_TYPES,
    RUN_PATCH_BASELINE,
    ensure_maintenance_window,
    retry_decorator,
)


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "description": {"type": "str"},
        "schedule": {"type": "str"},
        "schedule_timezone": {"type": "str"},
        "schedule_offset": {"type": "int"},
        "duration": {"type": "int"},
        "cutoff": {"type": "int", "default": 1},
        "allow_unassociated_targets": {"type": "bool", "default": False},
        "enabled": {"type": "bool", "default": True},
        "start_date": {"type": "str"},
        "end_date": {"type": "str"},
        "targets": {
            "type": "list",
            "elements": "dict",
            "options": {
                "name": {"type": "str", "required": True},
                "tags": {"type": "dict"},
                "instance_ids": {"type": "list", "elements": "str"},
                "resource_group": {"type": "str"},
                "resource_type": {"type": "str", "choices": list(RESOURCE_TYPES)},
                "owner_information": {"type": "str"},
                "description": {"type": "str"},
            },
        },
        "purge_targets": {"type": "bool", "default": True},
        "tasks": {
            "type": "list",
            "elements": "dict",
            "options": {
                "name": {"type": "str", "required": True},
                "document": {"type": "str", "default": RUN_PATCH_BASELINE},
                "targets": {"type": "list", "elements": "str", "required": True},
                "parameters": {"type": "dict"},
                "max_concurrency": {"type": "str", "required": True},
                "max_errors": {"type": "str", "required": True},
                "priority": {"type": "int", "default": 1},
                "service_role_arn": {"type": "str"},
                "cutoff_behavior": {"type": "str", "choices": list(CUTOFF_BEHAVIORS), "default": "CONTINUE_TASK"},
                "alarms": {"type": "list", "elements": "str"},
                "ignore_poll_alarm_failure": {"type": "bool", "default": False},
                "timeout_seconds": {"type": "int"},
                "comment": {"type": "str"},
                "output_s3_bucket": {"type": "str"},
                "output_s3_key_prefix": {"type": "str", "no_log": False},
                "cloudwatch_log_group": {"type": "str"},
                "description": {"type": "str"},
            },
        },
        "purge_tasks": {"type": "bool", "default": True},
        "tags": {"type": "dict", "aliases": ["resource_tags"]},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["schedule", "duration"])],
    )
    try:
        client = module.client("ssm", retry_decorator=retry_decorator())
        result = ensure_maintenance_window(client, module.params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not manage maintenance window {module.params['name']}")

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
