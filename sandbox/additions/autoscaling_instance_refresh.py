"""Auto Scaling instance refresh: StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh.

moto has none of them. The sandbox records a refresh as AWS reports it right after the start (``Pending``,
with the group's instance count to update) and keeps it there: it does not replace instances (AWS does that
over the following minutes; moto's Auto Scaling would launch replacements without the launch template's
metadata options and instance profile). A second start while one is active fails as on AWS, and a cancel
moves it to ``Cancelled``.
"""

import datetime
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

_ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
_lock = threading.Lock()
_REFRESHES: dict[tuple[str, str, str], list[dict]] = {}


@on_reset
def _reset():
    with _lock:
        _REFRESHES.clear()


def _group(ctx):
    name = ctx.params.get("AutoScalingGroupName")
    if not name:
        raise AdditionError("ValidationError", "AutoScalingGroupName is required")
    group = ctx.backend("autoscaling").autoscaling_groups.get(name)
    if group is None:
        raise AdditionError("ValidationError", f"AutoScalingGroup name not found - {name}")
    return name, group


def _example_group(client, name):
    ec2 = client("ec2")
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b"})
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        AvailabilityZones=["us-east-1a"],
    )


def _example_start(client):
    _example_group(client, "sandbox-example-refresh-start")
    return {
        "AutoScalingGroupName": "sandbox-example-refresh-start",
        "Strategy": "Rolling",
        "Preferences": {"MinHealthyPercentage": 90, "InstanceWarmup": 60},
    }


def _example_describe(client):
    _example_group(client, "sandbox-example-refresh-describe")
    client("autoscaling").start_instance_refresh(AutoScalingGroupName="sandbox-example-refresh-describe")
    return {"AutoScalingGroupName": "sandbox-example-refresh-describe"}


def _example_cancel(client):
    _example_group(client, "sandbox-example-refresh-cancel")
    client("autoscaling").start_instance_refresh(AutoScalingGroupName="sandbox-example-refresh-cancel")
    return {"AutoScalingGroupName": "sandbox-example-refresh-cancel"}


@addition("autoscaling", "StartInstanceRefresh", example=_example_start)
def start_instance_refresh(ctx):
    name, group = _group(ctx)
    key = (ctx.account_id, ctx.region, name)
    strategy = ctx.params.get("Strategy") or "Rolling"
    if strategy not in ("Rolling", "ReplaceRootVolume"):
        raise AdditionError("ValidationError", f"Strategy {strategy!r} is not Rolling or ReplaceRootVolume")
    preferences = dict(ctx.params.get("Preferences") or {})
    healthy = preferences.get("MinHealthyPercentage")
    if healthy is not None and not 0 <= int(healthy) <= 100:
        raise AdditionError("ValidationError", "MinHealthyPercentage must be between 0 and 100")
    with _lock:
        refreshes = _REFRESHES.setdefault(key, [])
        if any(r["Status"] in _ACTIVE for r in refreshes):
            raise AdditionError(
                "InstanceRefreshInProgress",
                f"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh "
                f"for AutoScalingGroup {name}.",
            )
        refresh = {
            "InstanceRefreshId": str(uuid.uuid4()),
            "AutoScalingGroupName": name,
            "Status": "Pending",
            "StatusReason": "Waiting for the Auto Scaling group to start the refresh.",
            "StartTime": datetime.datetime.now(datetime.UTC),
            "PercentageComplete": 0,
            "InstancesToUpdate": len(getattr(group, "instance_states", []) or []),
            "Preferences": preferences,
            "Strategy": strategy,
        }
        if ctx.params.get("DesiredConfiguration"):
            refresh["DesiredConfiguration"] = ctx.params["DesiredConfiguration"]
        refreshes.insert(0, refresh)  # AWS lists the newest first
    return {"InstanceRefreshId": refresh["InstanceRefreshId"]}


@addition("autoscaling", "DescribeInstanceRefreshes", example=_example_describe)
def describe_instance_refreshes(ctx):
    name, _group_obj = _group(ctx)
    wanted = set(ctx.params.get("InstanceRefreshIds") or [])
    with _lock:
        refreshes = [dict(r) for r in _REFRESHES.get((ctx.account_id, ctx.region, name), [])]
    if wanted:
        refreshes = [r for r in refreshes if r["InstanceRefreshId"] in wanted]
    start = int(ctx.params.get("NextToken") or 0)
    size = int(ctx.params.get("MaxRecords") or 50)
    page = refreshes[start : start + size]
    output = {"InstanceRefreshes": page}
    if start + size < len(refreshes):
        output["NextToken"] = str(start + size)
    return output


@addition("autoscaling", "CancelInstanceRefresh", example=_example_cancel)
def cancel_instance_refresh(ctx):
    name, _group_obj = _group(ctx)
    with _lock:
        for refresh in _REFRESHES.get((ctx.account_id, ctx.region, name), []):
            if refresh["Status"] in _ACTIVE:
                refresh["Status"] = "Cancelled"
                refresh["StatusReason"] = "Cancelled by request."
                refresh["EndTime"] = datetime.datetime.now(datetime.UTC)
                return {"InstanceRefreshId": refresh["InstanceRefreshId"]}
    raise AdditionError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for {name}")
