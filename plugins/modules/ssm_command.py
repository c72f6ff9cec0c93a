#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_command
version_added: 0.1.0
short_description: Run a Systems Manager document on instances and wait for every result
description:
  - Sends a Systems Manager Run Command document (for example C(AWS-RunPatchBaseline) or
    C(AWS-RunShellScript)) to instances named by id or by tags, with AWS's rate control
    (O(max_concurrency), O(max_errors)), waits for it with a timeout, and returns each instance's
    status, exit code and an excerpt of its output.
  - The targets are checked first against Systems Manager's managed instances. An instance that
    is not managed, or whose agent is not online, is reported in RV(not_managed) and, unless
    O(on_unmanaged=skip), nothing is sent.
  - Run Command accepts at most 50 instance ids per command, so larger fleets are sent as several
    commands of up to 50. O(max_concurrency) and O(max_errors) are shared out so that the run as a
    whole honours them; once more invocations failed or timed out than O(max_errors) allows, the
    running commands are cancelled and the rest is not sent.
  - Used by the patch window (AWS-RunPatchBaseline Scan and Install) that closes findings C(3.5)
    and C(3.8) of the risk register.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  document_name:
    description:
      - The document to run, for example V(AWS-RunPatchBaseline) or V(AWS-RunShellScript), or a
        document ARN.
    type: str
    required: true
  parameters:
    description:
      - The document's parameters. A value may be a string or a list of strings.
      - For V(AWS-RunPatchBaseline), C(Operation) must be V(Scan) or V(Install) and
        C(RebootOption), when given, V(RebootIfNeeded) or V(NoReboot).
      - For V(AWS-RunShellScript), C(commands) is required.
    type: dict
    default: {}
  instance_ids:
    description:
      - The instances to run the document on. Mutually exclusive with O(tags).
    type: list
    elements: str
  tags:
    description:
      - "Run on every instance carrying all of these tags, for example V({PatchGroup: prod}).
        A value may be a list of accepted values. At most 5 tag keys."
      - Mutually exclusive with O(instance_ids).
    type: dict
  max_concurrency:
    description:
      - How many instances run the document at once, a number or a percentage of the targets,
        for example V(10) or V(25%).
    type: str
    default: "50"
  max_errors:
    description:
      - How many instances may fail or time out before the rest of the run is stopped, a number or
        a percentage of the targets. V(0) stops after the first error.
    type: str
    default: "0"
  timeout_seconds:
    description:
      - How long Systems Manager waits for an instance to pick the command up (delivery timeout),
        30 to 2592000 seconds. The AWS default (3600) when omitted.
      - How long a script may run is the document's own C(executionTimeout) parameter.
    type: int
  comment:
    description:
      - A comment shown with the command in the Systems Manager console (cut to 100 characters).
    type: str
  wait:
    description:
      - Wait until every invocation has finished. With V(false) the command is sent and the
        module returns its ids at once.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait in total. When it passes, the commands still running are
        cancelled (unless O(cancel_on_timeout=false)) and the module fails.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two status polls (the first polls are quicker).
    type: float
    default: 2.0
  cancel_on_timeout:
    description:
      - Cancel what is still running when O(wait_timeout) passes.
    type: bool
    default: true
  on_unmanaged:
    description:
      - V(fail) sends nothing when a target is not managed by Systems Manager (or not online) and
        fails listing them. V(skip) sends to the others and lists them in RV(not_managed).
    type: str
    choices: [fail, skip]
    default: fail
  fail_on_error:
    description:
      - Fail the task when an instance did not succeed, the wait timed out or part of the run was
        not sent. With V(false) the results are returned for the playbook to act on.
    type: bool
    default: true
  report_patch_state:
    description:
      - For V(AWS-RunPatchBaseline), read each instance's patch state after the run (one
        C(DescribeInstancePatchStates) call per 50 instances) and return it in RV(instances[].patch_state),
        as M(medcircle.cloudops.ssm_patch_compliance_info) returns it.
    type: bool
    default: false
  output_chars:
    description:
      - How many characters of each instance's output to return (the end of it). V(0) returns none.
    type: int
    default: 1000
notes:
  - Supports C(check_mode). In check mode only read calls are made (C(DescribeInstanceInformation),
    and C(DescribeInstances) for tag targets); nothing is sent and RV(instances) lists the instances
    that would run the document.
  - Each run sends a new command, so the task reports a change whenever something was sent. Use
    C(changed_when) for read-only documents such as C(AWS-RunPatchBaseline) with C(Operation=Scan).
  - "IAM permissions: C(ssm:DescribeInstanceInformation), C(ec2:DescribeInstances), C(ssm:SendCommand),
    C(ssm:ListCommands), C(ssm:ListCommandInvocations), C(ssm:CancelCommand) and, with O(report_patch_state),
    C(ssm:DescribeInstancePatchStates)."
seealso:
  - module: medcircle.cloudops.ssm_patch_compliance_info
  - module: amazon.aws.ec2_instance_info
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 3.8 | AUDIT | Scan the prod patch group for missing patches
  medcircle.cloudops.ssm_command:
    document_name: AWS-RunPatchBaseline
    parameters:
      Operation: Scan
    tags:
      PatchGroup: prod
    max_concurrency: 25%
    max_errors: "1"
  changed_when: false
  register: scan

- name: 3.8 | PATCH | Install missing patches on two instances, one at a time, reboot if needed
  medcircle.cloudops.ssm_command:
    document_name: AWS-RunPatchBaseline
    parameters:
      Operation: Install
      RebootOption: RebootIfNeeded
    instance_ids:
      - i-0123456789abcdef0
      - i-0fedcba9876543210
    max_concurrency: "1"
    max_errors: "0"
    wait_timeout: 1800
    fail_on_error: false
  register: install

- name: Check the disk space on the app servers
  medcircle.cloudops.ssm_command:
    document_name: AWS-RunShellScript
    parameters:
      commands:
        - df -h /
    tags:
      Role: app
    on_unmanaged: skip
  register: disk
"""

RETURN = r"""
changed:
  description: Whether a command was sent (in check mode, would be).
  returned: always
  type: bool
  sample: true
status:
  description:
    - The outcome of the run. C(Success) (every instance succeeded), C(Failed) (some instance failed
      or timed out), C(Stopped) (the error budget was exceeded and the rest of the run stopped),
      C(Cancelled), C(WaitTimedOut), C(Sent) (not waiting), C(WouldSend) (check mode),
      C(NotSent) (a target is not managed), C(NoTargets).
  returned: always
  type: str
  sample: Success
document_name:
  description: The document that was run.
  returned: always
  type: str
  sample: AWS-RunPatchBaseline
command_ids:
  description: The Run Command ids (one per batch of up to 50 instances).
  returned: always
  type: list
  elements: str
  sample: ["0b5d7a0e-3d5b-4f36-9a48-0c2f4f1d2b1e"]
target_ids:
  description: The managed, online instances the document was (or would be) sent to.
  returned: always
  type: list
  elements: str
  sample: ["i-0123456789abcdef0"]
instances:
  description: Each instance's result, sorted by instance id.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    instance_name:
      description: The instance's name as Systems Manager reports it.
      returned: when the command was sent
      type: str
      sample: ip-10-0-1-12.ec2.internal
    command_id:
      description: The command that ran on this instance.
      returned: when the command was sent
      type: str
      sample: 0b5d7a0e-3d5b-4f36-9a48-0c2f4f1d2b1e
    status:
      description: C(Success), C(Failed), C(TimedOut), C(Cancelled), still C(InProgress) after a wait
        timeout, or C(WouldRun) in check mode.
      returned: always
      type: str
      sample: Success
    status_details:
      description: Systems Manager's detail, for example C(Delivery Timed Out) or C(Execution Timed Out).
      returned: when the command was sent
      type: str
      sample: Success
    response_code:
      description: The exit code of the document's script (-1 when it never ran).
      returned: when the command was sent
      type: int
      sample: 0
    output:
      description: The last O(output_chars) characters of the output (Systems Manager keeps the first 2500).
      returned: when the command was sent
      type: str
      sample: "MissingCount: 0"
    patch_state:
      description: The instance's patch compliance after the run (see M(medcircle.cloudops.ssm_patch_compliance_info)).
      returned: when O(report_patch_state=true) and the document is AWS-RunPatchBaseline
      type: dict
      sample: {"compliance": "COMPLIANT", "missing_count": 0, "failed_count": 0, "installed_count": 412}
    output_truncated:
      description: Whether RV(instances[].output) was cut.
      returned: when the command was sent
      type: bool
      sample: false
    start_time:
      description: When the instance started running the document.
      returned: when the command was sent
      type: str
      sample: "2026-03-01T02:00:03.120000+00:00"
    end_time:
      description: When it finished.
      returned: when the command was sent
      type: str
      sample: "2026-03-01T02:03:41.551000+00:00"
not_managed:
  description: Target instances that are not managed by Systems Manager or whose agent is not online.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      returned: always
      type: str
      sample: i-0fedcba9876543210
    instance_name:
      description: Its Name tag when known.
      returned: always
      type: str
      sample: medcircle-app
    ping_status:
      description: C(NotRegistered), C(ConnectionLost) or C(Inactive).
      returned: always
      type: str
      sample: NotRegistered
    reason:
      description: Why it cannot run the document, and what to check.
      returned: always
      type: str
      sample: "not a managed instance: no SSM agent registration (check its instance profile and agent)"
not_sent:
  description: Targets that were never sent the document because the run stopped first.
  returned: when the module waited
  type: list
  elements: str
  sample: []
summary:
  description: Counts of the run.
  returned: always
  type: dict
  sample:
    targets: 2
    success: 2
    failed: 0
    timed_out: 0
    cancelled: 0
    in_progress: 0
    not_sent: 0
    not_managed: 0
msg:
  description: One line that says what happened.
  returned: always
  type: str
  sample: "AWS-RunPatchBaseline on 2 instance(s): 2 succeeded, 0 failed, 0 timed out, 0 cancelled"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm_run import RETRY_CODES, run_command


def main():
    argument_spec = {
        "document_name": {"type": "str", "required": True},
        "parameters": {"type": "dict", "default": {}},
        "instance_ids": {"type": "list", "elements": "str"},
        "tags": {"type": "dict"},
        "max_concurrency": {"type": "str", "default": "50"},
        "max_errors": {"type": "str", "default": "0"},
        "timeout_seconds": {"type": "int"},
        "comment": {"type": "str"},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 3600},
        "poll_interval": {"type": "float", "default": 2.0},
        "cancel_on_timeout": {"type": "bool", "default": True},
        "on_unmanaged": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
        "fail_on_error": {"type": "bool", "default": True},
        "output_chars": {"type": "int", "default": 1000},
        "report_patch_state": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("instance_ids", "tags")],
        required_one_of=[("instance_ids", "tags")],
    )
    try:
        ssm = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
        ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        result = run_command(ssm, ec2, module.params, check_mode=module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    error = result.pop("error", False)
    if error and (result["status"] == "NotSent" or module.params["fail_on_error"]):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
