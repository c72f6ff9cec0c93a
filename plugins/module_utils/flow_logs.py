# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""VPC flow logs (finding 4.6): the logic of the ec2_vpc_flow_log module, as functions that take an EC2 client.

A flow log is identified by what it watches and where it writes: resource id, traffic type and destination (log
group name, or destination ARN). Flow logs cannot be modified in place, so a flow log with the same identity but
another format or aggregation interval is reported (``mismatches``) and left alone; only tags are changed.

Every resource is read in one paginated DescribeFlowLogs (filters of at most 200 ids), created with one
CreateFlowLogs per batch of 1000 ids (its limit), and deleted with one DeleteFlowLogs per 1000 flow logs.
"""

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

RESOURCE_TYPES = {"VPC": "vpc-", "Subnet": "subnet-", "NetworkInterface": "eni-"}
TRAFFIC_TYPES = ("ALL", "ACCEPT", "REJECT")
DESTINATION_TYPES = ("cloud-watch-logs", "s3")
AGGREGATION_INTERVALS = (60, 600)
DESCRIBE_FILTER_LIMIT = 200
CREATE_LIMIT = 1000


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def validate(params):
    """Check the module's options before any call. Returns the normalised request (a dict)."""
    resource_type = params["resource_type"]
    prefix = RESOURCE_TYPES[resource_type]
    resource_ids = list(dict.fromkeys(params.get("resource_ids") or []))
    for ident in resource_ids:
        if not isinstance(ident, str) or not ident.startswith(prefix):
            raise ParameterError(
                "resource_ids",
                ident,
                f"is not a {resource_type} id",
                f"ids starting with {prefix} (resource_type {resource_type})",
            )
    if params["state"] == "present" and not resource_ids:
        raise ParameterError("resource_ids", None, "is empty", f"one or more {resource_type} ids ({prefix}...)")
    destination_type = params["log_destination_type"]
    log_group = params.get("log_group_name")
    destination = params.get("log_destination")
    role = params.get("deliver_logs_permission_arn")
    if destination_type == "cloud-watch-logs":
        if not log_group and not destination:
            raise ParameterError(
                "log_group_name",
                None,
                "is required when log_destination_type is cloud-watch-logs",
                "a CloudWatch Logs group name, or log_destination with the group's ARN",
            )
        if params["state"] == "present" and not role:
            raise ParameterError(
                "deliver_logs_permission_arn",
                None,
                "is required when log_destination_type is cloud-watch-logs",
                "the ARN of an IAM role that vpc-flow-logs.amazonaws.com can assume and that may write to the group",
            )
        if role and not role.startswith("arn:"):
            raise ParameterError("deliver_logs_permission_arn", role, "is not an ARN", "arn:aws:iam::ACCOUNT:role/NAME")
    else:
        if not destination or not destination.startswith("arn:") or ":s3:::" not in destination:
            raise ParameterError(
                "log_destination",
                destination,
                "is not an S3 bucket ARN",
                "arn:aws:s3:::BUCKET or arn:aws:s3:::BUCKET/PREFIX when log_destination_type is s3",
            )
        if log_group:
            raise ParameterError("log_group_name", log_group, "cannot be used with log_destination_type s3")
    interval = params.get("max_aggregation_interval")
    if interval is not None and interval not in AGGREGATION_INTERVALS:
        raise ParameterError("max_aggregation_interval", interval, "is not allowed", "60 or 600 (seconds)")
    return {
        "resource_type": resource_type,
        "resource_ids": resource_ids,
        "traffic_type": params["traffic_type"],
        "log_destination_type": destination_type,
        "log_group_name": log_group if destination_type == "cloud-watch-logs" and not destination else None,
        "log_destination": destination,
        "deliver_logs_permission_arn": role,
        "max_aggregation_interval": interval,
        "log_format": params.get("log_format"),
        "tags": params.get("tags"),
        "purge_tags": params.get("purge_tags", True),
    }


@AWSRetry.jittered_backoff()
def _describe_page_set(client, resource_ids):
    paginator = client.get_paginator("describe_flow_logs")
    return paginator.paginate(Filters=[{"Name": "resource-id", "Values": resource_ids}]).build_full_result()


def describe(client, resource_ids):
    """Every flow log of the resources, in one paginated DescribeFlowLogs per 200 ids."""
    logs = []
    for chunk in _chunks(resource_ids, DESCRIBE_FILTER_LIMIT):
        logs.extend(_describe_page_set(client, chunk).get("FlowLogs", []))
    return logs


def _destination(log):
    if log.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs" and log.get("LogGroupName"):
        return "group:" + log["LogGroupName"]
    dest = log.get("LogDestination") or ""
    if ":log-group:" in dest:
        return "group:" + dest.split(":log-group:", 1)[1].split(":", 1)[0]
    return "arn:" + dest.rstrip("/")


def _wanted_destination(request):
    if request["log_group_name"]:
        return "group:" + request["log_group_name"]
    return _destination(
        {"LogDestinationType": request["log_destination_type"], "LogDestination": request["log_destination"]}
    )


def matches(log, request):
    """Whether an existing flow log is the one requested (same traffic type and destination)."""
    return (
        log.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
        and log.get("TrafficType") == request["traffic_type"]
        and log.get("LogDestinationType", "cloud-watch-logs") == request["log_destination_type"]
        and _destination(log) == _wanted_destination(request)
    )


def summarise(log):
    return {
        "flow_log_id": log.get("FlowLogId"),
        "resource_id": log.get("ResourceId"),
        "traffic_type": log.get("TrafficType"),
        "log_destination_type": log.get("LogDestinationType"),
        "log_group_name": log.get("LogGroupName"),
        "log_destination": log.get("LogDestination"),
        "deliver_logs_permission_arn": log.get("DeliverLogsPermissionArn"),
        "deliver_logs_status": log.get("DeliverLogsStatus"),
        "flow_log_status": log.get("FlowLogStatus"),
        "max_aggregation_interval": log.get("MaxAggregationInterval"),
        "log_format": log.get("LogFormat"),
        "tags": boto3_tag_list_to_ansible_dict(log.get("Tags", [])),
    }


def plan(existing, request, state):
    """What to do: flow logs to create (resource ids), to tag, to delete, and mismatching ones left alone."""
    by_resource = {}
    for log in existing:
        by_resource.setdefault(log.get("ResourceId"), []).append(log)
    create, keep, delete, retag, mismatches = [], [], [], [], []
    for ident in request["resource_ids"]:
        found = [log for log in by_resource.get(ident, []) if matches(log, request)]
        if state == "absent":
            delete.extend(found)
            continue
        if not found:
            create.append(ident)
            continue
        log = found[0]
        keep.append(log)
        differs = []
        interval = request["max_aggregation_interval"]
        if interval is not None and log.get("MaxAggregationInterval", 600) != interval:
            differs.append(
                "max_aggregation_interval %s (wanted %s)" % (log.get("MaxAggregationInterval", 600), interval)
            )
        if request["log_format"] and log.get("LogFormat") != request["log_format"]:
            differs.append("log_format %r (wanted %r)" % (log.get("LogFormat"), request["log_format"]))
        if differs:
            mismatches.append({"flow_log_id": log.get("FlowLogId"), "resource_id": ident, "differs": differs})
        if request["tags"] is not None:
            add, remove = compare_aws_tags(
                boto3_tag_list_to_ansible_dict(log.get("Tags", [])), request["tags"], request["purge_tags"]
            )
            if add or remove:
                retag.append((log, add, remove))
    return {"create": create, "keep": keep, "delete": delete, "retag": retag, "mismatches": mismatches}


def _create_request(request, resource_ids):
    params = {
        "ResourceIds": resource_ids,
        "ResourceType": request["resource_type"],
        "TrafficType": request["traffic_type"],
        "LogDestinationType": request["log_destination_type"],
    }
    if request["log_group_name"]:
        params["LogGroupName"] = request["log_group_name"]
    if request["log_destination"]:
        params["LogDestination"] = request["log_destination"]
    if request["deliver_logs_permission_arn"] and request["log_destination_type"] == "cloud-watch-logs":
        params["DeliverLogsPermissionArn"] = request["deliver_logs_permission_arn"]
    if request["max_aggregation_interval"] is not None:
        params["MaxAggregationInterval"] = request["max_aggregation_interval"]
    if request["log_format"]:
        params["LogFormat"] = request["log_format"]
    if request["tags"]:
        params["TagSpecifications"] = [
            {"ResourceType": "vpc-flow-log", "Tags": ansible_dict_to_boto3_tag_list(request["tags"])}
        ]
    return params


class FlowLogError(Exception):
    """CreateFlowLogs answered with unsuccessful items."""

    def __init__(self, unsuccessful):
        self.unsuccessful = unsuccessful
        super().__init__(
            "; ".join(
                "%s: %s" % (item.get("ResourceId"), (item.get("Error") or {}).get("Message", "unknown error"))
                for item in unsuccessful
            )
        )


def apply(client, request, steps, check_mode):
    """Carry out a plan. Returns the ids of the flow logs created (empty in check mode)."""
    created = []
    if check_mode:
        return created
    for chunk in _chunks(steps["create"], CREATE_LIMIT):
        answer = client.create_flow_logs(aws_retry=True, **_create_request(request, chunk))
        created.extend(answer.get("FlowLogIds", []))
        if answer.get("Unsuccessful"):
            raise FlowLogError(answer["Unsuccessful"])
    for log, add, remove in steps["retag"]:
        if remove:
            client.delete_tags(aws_retry=True, Resources=[log["FlowLogId"]], Tags=[{"Key": k} for k in remove])
        if add:
            client.create_tags(aws_retry=True, Resources=[log["FlowLogId"]], Tags=ansible_dict_to_boto3_tag_list(add))
    ids = [log["FlowLogId"] for log in steps["delete"]]
    for chunk in _chunks(ids, CREATE_LIMIT):
        answer = client.delete_flow_logs(aws_retry=True, FlowLogIds=chunk)
        if answer.get("Unsuccessful"):
            raise FlowLogError(answer["Unsuccessful"])
    return created


def planned_log(request, ident):
    """How a flow log that check mode would create is reported."""
    return {
        "flow_log_id": None,
        "resource_id": ident,
        "traffic_type": request["traffic_type"],
        "log_destination_type": request["log_destination_type"],
        "log_group_name": request["log_group_name"],
        "log_destination": request["log_destination"],
        "deliver_logs_permission_arn": request["deliver_logs_permission_arn"],
        "deliver_logs_status": None,
        "flow_log_status": None,
        "max_aggregation_interval": request["max_aggregation_interval"] or 600,
        "log_format": request["log_format"],
        "tags": request["tags"] or {},
    }


def ensure(client, request, state, check_mode):
    """Make the flow logs of the resources what ``request`` asks. Returns the module's result (with diff)."""
    existing = describe(client, request["resource_ids"])
    steps = plan(existing, request, state)
    before = {
        ident: sorted(log["FlowLogId"] for log in existing if log.get("ResourceId") == ident and matches(log, request))
        for ident in request["resource_ids"]
    }
    apply(client, request, steps, check_mode)
    changed = bool(steps["create"] or steps["retag"] or steps["delete"])
    if changed and not check_mode and state == "present":
        current = describe(client, request["resource_ids"])
        flow_logs = [summarise(log) for log in current if matches(log, request)]
    elif check_mode and state == "present":
        retagged = {log["FlowLogId"]: (add, remove) for log, add, remove in steps["retag"]}
        flow_logs = []
        for log in steps["keep"]:
            item = summarise(log)
            if log["FlowLogId"] in retagged:
                add, remove = retagged[log["FlowLogId"]]
                item["tags"] = {k: v for k, v in {**item["tags"], **add}.items() if k not in remove}
            flow_logs.append(item)
        flow_logs.extend(planned_log(request, ident) for ident in steps["create"])
    elif state == "present":
        flow_logs = [summarise(log) for log in steps["keep"]]
    else:
        flow_logs = []
    after = {}
    for ident in request["resource_ids"]:
        if state == "absent":
            after[ident] = []
        else:
            after[ident] = sorted(item["flow_log_id"] or "(new)" for item in flow_logs if item["resource_id"] == ident)
    return {
        "changed": changed,
        "flow_logs": flow_logs,
        "created": steps["create"],
        "deleted": [log["FlowLogId"] for log in steps["delete"]],
        "mismatches": steps["mismatches"],
        "diff": {"before": {"flow_logs": before}, "after": {"flow_logs": after}},
    }
