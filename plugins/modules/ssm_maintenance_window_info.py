#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_maintenance_window_info
version_added: 0.1.0
short_description: List Systems Manager maintenance windows with their targets and tasks
description:
  - Lists maintenance windows with their schedule, targets, tasks (document, parameters, rate control,
    alarms) and tags, in the form M(medcircle.cloudops.ssm_maintenance_window) returns them.
  - Read-only; shows the patch windows that address finding C(3.5) of the risk register.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description: Only the window with this name.
    type: str
notes:
  - "IAM permissions: C(ssm:DescribeMaintenanceWindows), C(ssm:GetMaintenanceWindow),
    C(ssm:DescribeMaintenanceWindowTargets), C(ssm:DescribeMaintenanceWindowTasks), C(ssm:GetMaintenanceWindowTask)
    and C(ssm:ListTagsForResource)."
seealso:
  - module: medcircle.cloudops.ssm_maintenance_window
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.5 | AUDIT | Patch windows
  medcircle.cloudops.ssm_maintenance_window_info:
  register: windows

- name: 3.5 | AUDIT | When each window opens
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.schedule }} {{ item.schedule_timezone | default('UTC', true) }}"
  loop: "{{ windows.windows }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
windows:
  description: The windows, sorted by name; each as M(medcircle.cloudops.ssm_maintenance_window) returns it.
  returned: always
  type: list
  elements: dict
  sample: [{"window_id": "mw-0c50858d01EXAMPLE", "name": "medcircle-patch-prod", "schedule": "cron(0 3 ? * SUN *)",
            "schedule_timezone": "Europe/Berlin", "duration": 4, "cutoff": 1, "enabled": true, "targets": [],
            "tasks": [], "tags": {}}]
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    paginate,
    read_window,
    retry_decorator,
    window_view,
)


def main():
    module = AnsibleAWSModule(argument_spec={"name": {"type": "str"}}, supports_check_mode=True)
    name = module.params["name"]
    try:
        client = module.client("ssm", retry_decorator=retry_decorator())
        filters = [{"Key": "Name", "Values": [name]}] if name else []
        identities = paginate(client, "describe_maintenance_windows", "WindowIdentities", Filters=filters)
        windows = [
            window_view(*read_window(client, i["WindowId"])) for i in identities if not name or i["Name"] == name
        ]
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list maintenance windows")
    module.exit_json(changed=False, windows=sorted(windows, key=lambda w: w["name"]))


if __name__ == "__main__":
    main()
