#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_vpc_flow_log
version_added: 0.1.0
short_description: Manage VPC, subnet and network interface flow logs
description:
  - Makes sure that each VPC, subnet or network interface named in O(resource_ids) has a flow log that
    captures O(traffic_type) traffic into the given CloudWatch Logs group or S3 bucket, or (O(state=absent))
    that it has none to that destination.
  - Closes finding C(4.6) of the risk register (subnet flow logs not configured).
  - A flow log is the same when its resource, traffic type and destination match. AWS cannot change a flow
    log in place, so one that matches but has another O(log_format) or O(max_aggregation_interval) is kept,
    reported in RV(mismatches) and warned about; delete it (O(state=absent)) and run again to replace it.
    Only its tags are changed.
  - All resources are read in one paginated C(DescribeFlowLogs) call (per 200 ids) and created in one
    C(CreateFlowLogs) call (per 1000 ids). Every option is checked before any change.
  - Flow logs that do not match (another destination or traffic type) are never touched.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(present) creates the flow logs that are missing; V(absent) deletes the matching ones.
    type: str
    choices: [present, absent]
    default: present
  resource_type:
    description: The kind of resource in O(resource_ids).
    type: str
    choices: [VPC, Subnet, NetworkInterface]
    default: VPC
  resource_ids:
    description:
      - The VPC (C(vpc-...)), subnet (C(subnet-...)) or network interface (C(eni-...)) ids, all of the
        O(resource_type).
    type: list
    elements: str
    required: true
  traffic_type:
    description: Which traffic to capture.
    type: str
    choices: [ALL, ACCEPT, REJECT]
    default: ALL
  log_destination_type:
    description: Where the flow log records go.
    type: str
    choices: [cloud-watch-logs, s3]
    default: cloud-watch-logs
  log_group_name:
    description:
      - The CloudWatch Logs group (O(log_destination_type=cloud-watch-logs)). Create it first, encrypted and
        with a retention period (M(amazon.aws.cloudwatchlogs_log_group)).
      - Give either this or O(log_destination).
    type: str
  log_destination:
    description:
      - The ARN of the destination. For V(s3), the bucket ARN with an optional prefix
        (C(arn:aws:s3:::bucket/prefix)); for V(cloud-watch-logs), the log group ARN instead of
        O(log_group_name).
    type: str
  deliver_logs_permission_arn:
    description:
      - The ARN of the IAM role that the flow logs service (C(vpc-flow-logs.amazonaws.com)) assumes to write
        to the log group. Required for V(cloud-watch-logs) with O(state=present); not used for V(s3).
    type: str
  max_aggregation_interval:
    description: The longest time, in seconds, over which a flow record is gathered. V(60) or V(600).
    type: int
  log_format:
    description:
      - The fields of a flow record, for example C(${version} ${account-id} ${interface-id} ${srcaddr}).
      - When omitted, the AWS default format.
    type: str
  tags:
    description: Tags of the flow logs. Set on creation and brought in line on existing matching flow logs.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags of a matching flow log that O(tags) does not list (only when O(tags) is given).
    type: bool
    default: true
notes:
  - Supports C(check_mode) (only C(DescribeFlowLogs) is called) and C(diff_mode).
  - "IAM permissions: C(ec2:DescribeFlowLogs), C(ec2:CreateFlowLogs), C(ec2:DeleteFlowLogs),
    C(ec2:CreateTags), C(ec2:DeleteTags), and C(iam:PassRole) on the delivery role."
  - See U(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html).
seealso:
  - module: amazon.aws.cloudwatchlogs_log_group
  - module: amazon.aws.iam_role
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 4.6 | PATCH | Log all traffic of the application VPC to an encrypted log group
  medcircle.cloudops.ec2_vpc_flow_log:
    region: us-east-1
    resource_ids: [vpc-0abc1234def567890]
    traffic_type: ALL
    log_group_name: /medcircle/vpc-flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/medcircle-flow-logs-role
    max_aggregation_interval: 60
    tags:
      Project: medcircle
      ManagedBy: medcircle.cloudops

- name: 4.6 | PATCH | Log rejected traffic of two subnets to S3
  medcircle.cloudops.ec2_vpc_flow_log:
    resource_type: Subnet
    resource_ids: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
    traffic_type: REJECT
    log_destination_type: s3
    log_destination: arn:aws:s3:::medcircle-flow-logs-123456789012/vpc

- name: Remove the flow logs of a VPC to that log group
  medcircle.cloudops.ec2_vpc_flow_log:
    state: absent
    resource_ids: [vpc-0abc1234def567890]
    log_group_name: /medcircle/vpc-flow-logs
"""

RETURN = r"""
flow_logs:
  description:
    - The matching flow logs after the task (with O(state=absent), none). In check mode, those that would
      exist; a flow log that would be created has no id.
  returned: always
  type: list
  elements: dict
  contains:
    flow_log_id:
      description: The flow log id (null for one check mode would create).
      type: str
      returned: always
      sample: fl-0123456789abcdef0
    resource_id:
      description: The VPC, subnet or network interface it watches.
      type: str
      returned: always
      sample: vpc-0abc1234def567890
    traffic_type:
      description: The traffic captured.
      type: str
      returned: always
      sample: ALL
    log_destination_type:
      description: V(cloud-watch-logs) or V(s3).
      type: str
      returned: always
      sample: cloud-watch-logs
    log_group_name:
      description: The log group, for CloudWatch Logs destinations.
      type: str
      returned: always
      sample: /medcircle/vpc-flow-logs
    log_destination:
      description: The destination ARN.
      type: str
      returned: always
      sample: arn:aws:logs:us-east-1:123456789012:log-group:/medcircle/vpc-flow-logs
    deliver_logs_permission_arn:
      description: The delivery role.
      type: str
      returned: always
      sample: arn:aws:iam::123456789012:role/medcircle-flow-logs-role
    deliver_logs_status:
      description: Whether delivery works (V(SUCCESS)) or fails (V(FAILED), for example a role without rights).
      type: str
      returned: always
      sample: SUCCESS
    flow_log_status:
      description: V(ACTIVE) when the flow log runs.
      type: str
      returned: always
      sample: ACTIVE
    max_aggregation_interval:
      description: The aggregation interval in seconds.
      type: int
      returned: always
      sample: 60
    log_format:
      description: The record format.
      type: str
      returned: always
      sample: ${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr}
    tags:
      description: The flow log's tags.
      type: dict
      returned: always
      sample: {Project: medcircle}
created:
  description: The resource ids that got a flow log (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [vpc-0abc1234def567890]
deleted:
  description: The flow log ids deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: []
mismatches:
  description: Matching flow logs whose format or aggregation interval differ from the request; left as they are.
  returned: always
  type: list
  elements: dict
  sample: [{flow_log_id: fl-0123456789abcdef0, resource_id: vpc-0abc1234def567890,
            differs: ["max_aggregation_interval 600 (wanted 60)"]}]
diff:
  description: The matching flow log ids of each resource before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: {flow_logs: {vpc-0abc1234def567890: []}}
    after: {flow_logs: {vpc-0abc1234def567890: ["(new)"]}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils import flow_logs
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "resource_type": {"type": "str", "choices": list(flow_logs.RESOURCE_TYPES), "default": "VPC"},
        "resource_ids": {"type": "list", "elements": "str", "required": True},
        "traffic_type": {"type": "str", "choices": list(flow_logs.TRAFFIC_TYPES), "default": "ALL"},
        "log_destination_type": {
            "type": "str",
            "choices": list(flow_logs.DESTINATION_TYPES),
            "default": "cloud-watch-logs",
        },
        "log_group_name": {"type": "str"},
        "log_destination": {"type": "str"},
        "deliver_logs_permission_arn": {"type": "str"},
        "max_aggregation_interval": {"type": "int"},
        "log_format": {"type": "str"},
        "tags": {"type": "dict", "aliases": ["resource_tags"]},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["log_group_name", "log_destination"]],
    )
    try:
        request = flow_logs.validate(module.params)
        client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        result = flow_logs.ensure(client, request, module.params["state"], module.check_mode)
    except flow_logs.FlowLogError as e:
        module.fail_json(msg="CreateFlowLogs or DeleteFlowLogs refused some resources: %s" % e)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to manage the flow logs of %s" % ", ".join(module.params["resource_ids"]))

    for item in result["mismatches"]:
        module.warn(
            "Flow log %s of %s differs from the request (%s); AWS cannot change it in place: delete it with "
            "state=absent and run again to replace it."
            % (item["flow_log_id"], item["resource_id"], "; ".join(item["differs"]))
        )
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
