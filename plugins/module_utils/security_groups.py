# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which security groups are in use, and which are not.

Used by the ec2_security_group_unused_info module. Functions take boto3 clients
(wrapped with a retry decorator by AnsibleAWSModule.client) and never the module.

A group is in use when a network interface holds it, or when something that
holds groups without listing them on a network interface in every endpoint's
answer names it: instances, RDS DB instances, load balancers and VPC
endpoints. A group that only other groups' rules reference is not in use, but
it is reported as referenced, because deleting it fails until those rules go.
"""

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


class SecurityGroupErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2Error


def _pages(client, operation, key, **kwargs):
    paginator = client.get_paginator(operation)
    return AWSRetry.jittered_backoff()(paginator.paginate(**kwargs).build_full_result)().get(key, [])


@SecurityGroupErrorHandler.list_error_handler("describe security groups", [])
def describe_security_groups(ec2, filters):
    return _pages(ec2, "describe_security_groups", "SecurityGroups", Filters=filters)


@SecurityGroupErrorHandler.list_error_handler("describe network interfaces", [])
def network_interface_groups(ec2, filters):
    used = set()
    for eni in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", Filters=filters):
        used.update(g["GroupId"] for g in eni.get("Groups") or [])
    return used


@SecurityGroupErrorHandler.list_error_handler("describe instances", [])
def instance_groups(ec2, filters):
    used = set()
    for reservation in _pages(ec2, "describe_instances", "Reservations", Filters=filters):
        for instance in reservation["Instances"]:
            if (instance.get("State") or {}).get("Name") == "terminated":
                continue
            used.update(g["GroupId"] for g in instance.get("SecurityGroups") or [])
    return used


@SecurityGroupErrorHandler.list_error_handler("describe VPC endpoints", [])
def endpoint_groups(ec2, filters):
    used = set()
    for endpoint in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=filters):
        used.update(g["GroupId"] for g in endpoint.get("Groups") or [])
    return used


@SecurityGroupErrorHandler.list_error_handler("describe RDS DB instances", [])
def rds_groups(rds):
    used = set()
    for db in _pages(rds, "describe_db_instances", "DBInstances"):
        used.update(g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups") or [])
    return used


@SecurityGroupErrorHandler.list_error_handler("describe load balancers", [])
def load_balancer_groups(elbv2):
    used = set()
    for balancer in _pages(elbv2, "describe_load_balancers", "LoadBalancers"):
        used.update(balancer.get("SecurityGroups") or [])
    return used


def referenced_groups(groups):
    """group id -> ids of the other groups whose rules name it."""
    referenced = {}
    for group in groups:
        for permission in (group.get("IpPermissions") or []) + (group.get("IpPermissionsEgress") or []):
            for pair in permission.get("UserIdGroupPairs") or []:
                if pair.get("GroupId") and pair["GroupId"] != group["GroupId"]:
                    referenced.setdefault(pair["GroupId"], set()).add(group["GroupId"])
    return {key: sorted(value) for key, value in referenced.items()}


def find_unused(ec2, rds=None, elbv2=None, vpc_ids=None, include_default=False):
    """Every security group (in ``vpc_ids`` if given) that nothing uses.

    Returns a dict: groups (every group with in_use and referenced_by) and
    unused (the unused ones, default groups left out unless include_default).
    """
    vpc_filter = [{"Name": "vpc-id", "Values": list(vpc_ids)}] if vpc_ids else []
    groups = describe_security_groups(ec2, vpc_filter)
    used = network_interface_groups(ec2, vpc_filter)
    used |= instance_groups(ec2, vpc_filter)
    used |= endpoint_groups(ec2, vpc_filter)
    if rds is not None:
        used |= rds_groups(rds)
    if elbv2 is not None:
        used |= load_balancer_groups(elbv2)
    referenced = referenced_groups(groups)

    report = []
    for group in sorted(groups, key=lambda g: (g.get("VpcId") or "", g["GroupName"])):
        report.append(
            {
                "group_id": group["GroupId"],
                "group_name": group["GroupName"],
                "vpc_id": group.get("VpcId"),
                "description": group.get("Description"),
                "tags": {t["Key"]: t["Value"] for t in group.get("Tags") or []},
                "in_use": group["GroupId"] in used,
                "referenced_by": referenced.get(group["GroupId"], []),
                "default": group["GroupName"] == "default",
            }
        )
    unused = [g for g in report if not g["in_use"] and (include_default or not g["default"])]
    return {"security_groups": report, "unused": unused}
