#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_security_group_unused_info
version_added: 0.1.0
short_description: Find security groups that nothing uses
description:
  - Lists the security groups of a region (or of some VPCs) and says which ones are in use.
  - A group is in use when a network interface holds it, or when an instance, an RDS DB instance, a
    load balancer or a VPC endpoint names it (some of these hold their groups without a network
    interface in every endpoint's answer).
  - A group that only other groups' rules reference is reported as unused, with the referencing groups
    in RV(security_groups[].referenced_by); deleting it fails until those rules are removed.
  - Read-only. Supports finding C(3.6) (unused security groups) of the risk register; the
    C(security_groups) role removes the unused groups that the collection created or that the
    operator named.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  vpc_ids:
    description:
      - Only look at the groups of these VPCs. All VPCs of the region when omitted.
    type: list
    elements: str
    default: []
  include_default:
    description:
      - Also list unused C(default) groups in RV(unused). A VPC's default group cannot be deleted.
    type: bool
    default: false
  check_rds:
    description:
      - Count the groups of RDS DB instances as used (C(rds:DescribeDBInstances)).
    type: bool
    default: true
  check_load_balancers:
    description:
      - Count the groups of Elastic Load Balancing v2 load balancers as used
        (C(elasticloadbalancing:DescribeLoadBalancers)).
    type: bool
    default: true
notes:
  - "IAM permissions: C(ec2:DescribeSecurityGroups), C(ec2:DescribeNetworkInterfaces),
    C(ec2:DescribeInstances), C(ec2:DescribeVpcEndpoints), and with the options above
    C(rds:DescribeDBInstances) and C(elasticloadbalancing:DescribeLoadBalancers)."
seealso:
  - module: amazon.aws.ec2_security_group
  - module: amazon.aws.ec2_security_group_info
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 3.6 | AUDIT | Find unused security groups in the application VPC
  medcircle.cloudops.ec2_security_group_unused_info:
    vpc_ids: [vpc-0123456789abcdef0]
  register: unused_groups

- name: 3.6 | AUDIT | Show them
  ansible.builtin.debug:
    msg: "{{ unused_groups.unused | map(attribute='group_name') | list }}"
"""

RETURN = r"""
security_groups:
  description: Every group looked at, sorted by VPC and name.
  returned: always
  type: list
  elements: dict
  contains:
    group_id:
      description: The group id.
      returned: always
      type: str
      sample: sg-0123456789abcdef0
    group_name:
      description: The group name.
      returned: always
      type: str
      sample: medcircle-legacy-sg
    vpc_id:
      description: The group's VPC.
      returned: always
      type: str
      sample: vpc-0123456789abcdef0
    description:
      description: The group's description.
      returned: always
      type: str
      sample: MedCircle legacy admin access
    tags:
      description: The group's tags as a dict.
      returned: always
      type: dict
      sample: {"Name": "medcircle-legacy-sg"}
    in_use:
      description: Whether anything uses the group.
      returned: always
      type: bool
      sample: false
    referenced_by:
      description: Ids of other groups whose rules name this group.
      returned: always
      type: list
      elements: str
      sample: []
    default:
      description: Whether this is a VPC's default group.
      returned: always
      type: bool
      sample: false
unused:
  description:
    - The groups nothing uses (same fields as RV(security_groups)).
    - Default groups only with O(include_default).
  returned: always
  type: list
  elements: dict
  sample: [{"group_id": "sg-0123456789abcdef0", "group_name": "medcircle-legacy-sg", "in_use": false}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.security_groups import find_unused


def main():
    argument_spec = {
        "vpc_ids": {"type": "list", "elements": "str", "default": []},
        "include_default": {"type": "bool", "default": False},
        "check_rds": {"type": "bool", "default": True},
        "check_load_balancers": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    for vpc_id in params["vpc_ids"]:
        if not vpc_id.startswith("vpc-"):
            module.fail_json(msg=f"vpc_ids {vpc_id} is not a VPC id. Allowed: ids such as vpc-0123456789abcdef0")

    retry = AWSRetry.jittered_backoff()
    try:
        result = find_unused(
            module.client("ec2", retry_decorator=retry),
            rds=module.client("rds", retry_decorator=retry) if params["check_rds"] else None,
            elbv2=module.client("elbv2", retry_decorator=retry) if params["check_load_balancers"] else None,
            vpc_ids=params["vpc_ids"],
            include_default=params["include_default"],
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
