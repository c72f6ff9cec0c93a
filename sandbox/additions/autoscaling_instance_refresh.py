"""Auto Scaling instance refresh: StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh.

moto has none of them. The sandbox runs a refresh as AWS does, compressed into a few seconds: ``Pending``,
then ``InProgress`` while the group's instances are replaced in batches, then ``Successful`` (or ``Baking``
first when the preferences ask for a bake time). Each step takes ``STEP_SECONDS`` (0.5 s; the control route
``PUT /_sandbox/autoscaling/instance-refresh`` changes it); a refresh advances on its own and every call of
these operations catches it up, so a poller sees the states in order.

What a step does, as AWS does it:

- the plan: the group's InService instances, less those that already run the desired launch template version
  when ``SkipMatching`` is on; instances protected from scale in are replaced (``ScaleInProtectedInstances``
  Refresh), left alone (Ignore) or waited for (Wait, the default: the refresh fails when they stay protected,
  after ``WAIT_STEPS`` steps instead of AWS's hour); Standby instances likewise with ``StandbyInstances``.
  EC2 termination protection (DisableApiTermination) does not stop Auto Scaling, as on AWS.
- a batch: as many instances as ``MinHealthyPercentage`` allows (at least one; 100 % means one at a time,
  0 % all at once; ``MaxHealthyPercentage`` above 100 widens it). Each replacement is launched from the
  group's launch template version (or the refresh's DesiredConfiguration): image, instance type, metadata
  options, instance profile, block device mappings with encryption and KMS key, security groups, the
  template's tags, the group's propagated tags and ``aws:autoscaling:groupName``, in a subnet of the group's
  VPCZoneIdentifier in the old instance's Availability Zone. It joins the group InService and the old one is
  terminated. Replacements register with Systems Manager like every sandbox instance whose profile allows it
  (``ssm_inventory.managed_instances``: the platform comes from the image's name).
- warm-up: the batch counts in ``PercentageComplete`` and ``InstancesToUpdate`` one step later.
- a launch that AWS would refuse (an image or instance profile that does not exist) fails the refresh with
  the reason in ``StatusReason``; the instances already replaced stay replaced.
- a cancel moves it to ``Cancelling``, then ``Cancelled`` at the next step: replacements done stay.
- on success with a DesiredConfiguration, the group takes that launch template and version.
"""

import datetime
import logging
import math
import threading
import time
import uuid

from sandbox.additions import AdditionError, ControlError, addition, control, on_reset

STEP_SECONDS = 0.5
WAIT_STEPS = 6
_DEFAULT_STEP = STEP_SECONDS
_ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
_lock = threading.RLock()
_REFRESHES: dict[tuple[str, str, str], list[dict]] = {}
_generation = [0]
ASG_TAG = "aws:autoscaling:groupName"
log = logging.getLogger("sandbox.additions.autoscaling")


@on_reset
def _reset():
    global STEP_SECONDS
    with _lock:
        _REFRESHES.clear()
        _generation[0] += 1
        STEP_SECONDS = _DEFAULT_STEP


@control("autoscaling/instance-refresh", "PUT")
def set_timing(query, payload):
    """``{"step_seconds": N}``: how long each step of a refresh takes (0.05 to 60)."""
    global STEP_SECONDS
    payload = payload or {}
    try:
        seconds = float(payload.get("step_seconds"))
    except (TypeError, ValueError):
        raise ControlError("step_seconds must be a number of seconds between 0.05 and 60") from None
    if not 0.05 <= seconds <= 60:
        raise ControlError(f"step_seconds must be between 0.05 and 60, got {seconds}")
    with _lock:
        STEP_SECONDS = seconds
    return {"step_seconds": STEP_SECONDS}


@control("autoscaling/instance-refresh", "GET")
def get_timing(query, payload):
    return {"step_seconds": STEP_SECONDS, "wait_steps": WAIT_STEPS}


def _now():
    return datetime.datetime.now(datetime.UTC)


def _backends(account: str, region: str):
    from moto.backends import get_backend

    return get_backend("autoscaling")[account][region], get_backend("ec2")[account][region]


def _group(ctx):
    name = ctx.params.get("AutoScalingGroupName")
    if not name:
        raise AdditionError("ValidationError", "AutoScalingGroupName is required")
    group = ctx.backend("autoscaling").autoscaling_groups.get(name)
    if group is None:
        raise AdditionError("ValidationError", f"AutoScalingGroup name not found - {name}")
    return name, group


# --- examples for the shape test -------------------------------------------------------------------------


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


# --- the desired configuration ---------------------------------------------------------------------------


def _desired_template(refresh: dict, group, ec2):
    """(launch template, version object) the replacements launch from, or (None, None) for a launch config."""
    spec = (refresh.get("DesiredConfiguration") or {}).get("LaunchTemplate")
    if spec and not refresh.get("_rollback"):  # a rollback launches from the group's own, unchanged settings
        template = (
            ec2.get_launch_template(spec["LaunchTemplateId"])
            if spec.get("LaunchTemplateId")
            else ec2.get_launch_template_by_name(spec["LaunchTemplateName"])
        )
        return template, template.get_version(spec.get("Version") or "$Default")
    template = getattr(group, "ec2_launch_template", None)
    if template is None:
        return None, None
    return template, template.get_version(getattr(group, "launch_template_version", None) or "$Default")


def _instance_tags(instance) -> dict:
    try:
        return {tag["key"]: tag["value"] for tag in instance.get_tags()}
    except Exception:  # an instance moto cannot tag has none
        return {}


def _matches(instance, template, version) -> bool:
    tags = _instance_tags(instance)
    return (
        template is not None
        and tags.get("aws:ec2launchtemplate:id") == template.id
        and tags.get("aws:ec2launchtemplate:version") == str(version.number)
    )


def _plan(refresh: dict) -> None:
    """Work out which instances the refresh replaces (at the start, and again when it leaves Pending)."""
    autoscaling, ec2 = _backends(refresh["_account"], refresh["_region"])
    group = autoscaling.autoscaling_groups.get(refresh["AutoScalingGroupName"])
    prefs = refresh["Preferences"]
    todo, ignored = [], []
    if group is not None:
        try:
            template, version = _desired_template(refresh, group, ec2)
        except Exception:  # the template or version is gone: the launch step reports it
            template, version = None, None
        for state in list(group.instance_states):
            instance = state.instance
            if instance.state not in ("pending", "running", "stopped", "stopping"):
                continue
            if state.lifecycle_state == "Standby" and prefs.get("StandbyInstances", "Wait") == "Ignore":
                ignored.append(instance.id)
                continue
            if state.lifecycle_state not in ("InService", "Standby"):
                continue
            if state.protected_from_scale_in and prefs.get("ScaleInProtectedInstances", "Wait") == "Ignore":
                ignored.append(instance.id)
                continue
            if prefs.get("SkipMatching") and version is not None and _matches(instance, template, version):
                continue
            todo.append(instance.id)
    refresh["_todo"], refresh["_ignored"] = todo, ignored
    refresh["_total"] = len(todo)
    refresh["InstancesToUpdate"] = len(todo)


def _batch_size(refresh: dict, group) -> int:
    prefs = refresh["Preferences"]
    capacity = max(1, len([s for s in group.instance_states if s.lifecycle_state == "InService"]))
    minimum = math.ceil(capacity * int(prefs.get("MinHealthyPercentage", 90)) / 100)
    maximum = math.floor(capacity * int(prefs.get("MaxHealthyPercentage") or 100) / 100)
    return max(1, max(capacity, maximum) - minimum)


# --- launching and terminating ---------------------------------------------------------------------------


class _LaunchFailed(Exception):
    pass


def _subnet_for(group, ec2, old_instance) -> str | None:
    """A subnet of the group for a replacement: in the Availability Zone with the fewest of the group's
    instances (AWS keeps a group balanced across its zones), the old instance's zone on a tie."""
    subnets = []
    for subnet_id in [s for s in (group.vpc_zone_identifier or "").split(",") if s]:
        try:
            subnets.append((subnet_id, ec2.get_subnet(subnet_id).availability_zone))
        except Exception as error:  # a subnet deleted since: not a place to launch
            log.debug("subnet %s of %s is gone: %s", subnet_id, group.name, error)
    if not subnets:
        return None
    old_id = getattr(old_instance, "id", None)
    old_zone = getattr(getattr(old_instance, "placement", None), "zone", None)
    counts = {zone: 0 for _subnet, zone in subnets}
    for state in group.instance_states:
        zone = state.instance.placement.zone
        if state.instance.id != old_id and zone in counts:
            counts[zone] += 1
    subnet, _zone = min(subnets, key=lambda item: (counts[item[1]], item[1] != old_zone))
    return subnet


def _launch(refresh: dict, group, autoscaling, ec2, old_instance):
    """Launch one replacement from the desired configuration and put it in the group, InService."""
    from moto.autoscaling.models import InstanceState

    template, version = _desired_template(refresh, group, ec2)
    if template is None:  # a launch configuration: moto's own launch (no template settings to honour)
        before = {s.instance.id for s in group.instance_states}
        group.replace_autoscaling_group_instances(1, group.get_propagated_tags())
        return next(s.instance for s in group.instance_states if s.instance.id not in before)
    data = version.data
    image_id = data.get("ImageId")
    if not image_id or image_id not in ec2.amis:
        raise _LaunchFailed(
            f"The image id '[{image_id}]' does not exist. Launching EC2 instance failed."
            if image_id
            else "The launch template has no image id. Launching EC2 instance failed."
        )
    nic = next((n for n in data.get("NetworkInterfaces") or [] if int(n.get("DeviceIndex", 0)) == 0), {})
    groups = list(data.get("SecurityGroupIds") or []) + list(nic.get("Groups") or [])
    zone = getattr(old_instance.placement, "zone", None) if old_instance is not None else None
    subnet = nic.get("SubnetId") or _subnet_for(group, ec2, old_instance)
    tags = {}
    for spec in data.get("TagSpecifications") or []:
        if spec.get("ResourceType") == "instance":
            tags.update({t["Key"]: t["Value"] for t in spec.get("Tags") or []})
    tags.update(group.get_propagated_tags())
    tags[ASG_TAG] = group.name
    volume_tags = {}
    for spec in data.get("TagSpecifications") or []:
        if spec.get("ResourceType") == "volume":
            volume_tags.update({t["Key"]: t["Value"] for t in spec.get("Tags") or []})
    kwargs = {
        "instance_type": data.get("InstanceType") or "m1.small",
        "is_instance_type_default": False,
        "region_name": refresh["_region"],
        "subnet_id": subnet,
        "placement": None if subnet else (zone or (group.availability_zones or [None])[0]),
        "security_group_ids": groups,
        "key_name": data.get("KeyName"),
        "tags": {"instance": tags, "volume": volume_tags},
        "launch_template": {"LaunchTemplateId": template.id, "Version": str(version.number)},
        "metadata_options": dict(data.get("MetadataOptions") or {}),
        "monitoring_state": "enabled" if (data.get("Monitoring") or {}).get("Enabled") else "disabled",
        "ebs_optimized": bool(data.get("EbsOptimized")),
        "disable_api_termination": bool(data.get("DisableApiTermination")),
    }
    if "AssociatePublicIpAddress" in nic:
        kwargs["associate_public_ip"] = bool(nic["AssociatePublicIpAddress"])
    if data.get("BlockDeviceMappings"):
        kwargs["block_device_mappings"] = [m for m in data["BlockDeviceMappings"] if m.get("Ebs")]
    profile = data.get("IamInstanceProfile") or {}
    if profile:
        from moto.ec2.utils import filter_iam_instance_profiles

        try:
            filter_iam_instance_profiles(
                refresh["_account"],
                partition="aws",
                iam_instance_profile_arn=profile.get("Arn"),
                iam_instance_profile_name=profile.get("Name"),
            )
        except Exception:
            raise _LaunchFailed(
                f"Invalid IamInstanceProfile: {profile.get('Arn') or profile.get('Name')}. "
                "Launching EC2 instance failed."
            ) from None
    try:
        reservation = ec2.run_instances(image_id, 1, data.get("UserData"), [], **kwargs)
    except Exception as error:  # moto refused the launch: AWS would fail the launch activity
        raise _LaunchFailed(f"{getattr(error, 'message', error)}. Launching EC2 instance failed.") from None
    instance = reservation.instances[0]
    if profile:
        ec2.associate_iam_instance_profile(
            instance_id=instance.id,
            iam_instance_profile_name=profile.get("Name"),
            iam_instance_profile_arn=profile.get("Arn"),
        )
    instance.autoscaling_group = group
    group.instance_states.append(
        InstanceState(
            instance,
            protected_from_scale_in=group.new_instances_protected_from_scale_in,
            autoscaling_group=group,
        )
    )
    return instance


def _terminate(refresh: dict, group, autoscaling, instance_id: str) -> None:
    """Take an instance out of the group and terminate it (termination protection does not stop Auto Scaling)."""
    state = next((s for s in group.instance_states if s.instance.id == instance_id), None)
    if state is None:
        return
    group.instance_states = [s for s in group.instance_states if s.instance.id != instance_id]
    instance = state.instance
    if instance.state not in ("terminated", "shutting-down"):
        instance.terminate()
    try:
        from moto.backends import get_backend

        get_backend("elbv2")[refresh["_account"]][refresh["_region"]].notify_terminate_instances([instance_id])
    except Exception as error:  # no load balancer state in this region
        log.debug("no target deregistration for %s: %s", instance_id, error)


def _sync_targets(autoscaling, group) -> None:
    try:
        autoscaling.update_attached_elbs(group.name)
        autoscaling.update_attached_target_groups(group.name)
    except Exception as error:  # load balancers deleted under the group: nothing to register with
        log.debug("no target registration for %s: %s", group.name, error)


# --- the state machine -----------------------------------------------------------------------------------


def _finish(refresh: dict, status: str, reason: str | None = None) -> None:
    refresh["Status"] = status
    if reason:
        refresh["StatusReason"] = reason
    else:
        refresh.pop("StatusReason", None)
    refresh["EndTime"] = _now()
    refresh["_phase"] = "done"


def _progress(refresh: dict) -> None:
    if refresh.get("_rollback"):  # PercentageComplete goes back down to zero as the replacements are undone
        undone, total = len(refresh["_done"]), refresh["_total"]
        details = refresh["RollbackDetails"]
        refresh["PercentageComplete"] = (
            0 if total == 0 else int(details["PercentageCompleteOnRollback"] * (total - undone) / total)
        )
        return
    total, done = refresh["_total"], len(refresh["_done"])
    refresh["PercentageComplete"] = 100 if total == 0 else int(100 * done / total)
    refresh["InstancesToUpdate"] = total - done
    refresh["ProgressDetails"] = {
        "LivePoolProgress": {
            "PercentageComplete": refresh["PercentageComplete"],
            "InstancesToUpdate": refresh["InstancesToUpdate"],
        }
    }


def _complete(refresh: dict, group) -> None:
    if refresh.get("_rollback"):
        _finish(refresh, "RollbackSuccessful", refresh["RollbackDetails"].get("RollbackReason"))
        return
    if int(refresh["Preferences"].get("BakeTime") or 0) > 0 and refresh["_phase"] != "baking":
        refresh["Status"], refresh["_phase"] = "Baking", "baking"
        refresh["StatusReason"] = "Waiting for the bake time to end before completing the instance refresh."
        return
    spec = (refresh.get("DesiredConfiguration") or {}).get("LaunchTemplate")
    if spec and group is not None:
        group._set_launch_configuration(None, dict(spec), None)
    _finish(refresh, "Successful")


def _step(refresh: dict) -> None:
    """One step of a refresh (called with the lock held)."""
    autoscaling, ec2 = _backends(refresh["_account"], refresh["_region"])
    group = autoscaling.autoscaling_groups.get(refresh["AutoScalingGroupName"])
    phase = refresh["_phase"]
    if group is None:
        _finish(refresh, "Failed", "The Auto Scaling group was deleted during the instance refresh.")
        return
    if refresh["Status"] == "Cancelling":
        if phase == "warm":
            refresh["_done"] += refresh["_batch"]
            _progress(refresh)
        _finish(refresh, "Cancelled", "The instance refresh was cancelled.")
        return
    if phase == "pending" and not refresh.get("_rollback"):
        _plan(refresh)
        refresh["Status"] = "InProgress"
        _progress(refresh)
        if not refresh["_todo"]:
            _complete(refresh, group)
            return
        refresh["_phase"] = "launch"
        refresh["StatusReason"] = "Replacing instances."
        return
    if phase == "baking":
        _complete(refresh, group)
        return
    if phase == "warm":
        refresh["_done"] += refresh["_batch"]
        refresh["_batch"] = []
        _progress(refresh)
        if not refresh["_todo"]:
            _complete(refresh, group)
            return
        refresh["_phase"] = "launch"
        refresh["StatusReason"] = "Replacing instances."
        return
    # phase == "launch": replace the next batch
    states = {s.instance.id: s for s in group.instance_states}
    refresh["_todo"] = [i for i in refresh["_todo"] if i in states]  # gone meanwhile: nothing to replace
    prefs = refresh["Preferences"]
    ready, waiting = [], []
    for instance_id in refresh["_todo"]:
        state = states[instance_id]
        protected = state.protected_from_scale_in and prefs.get("ScaleInProtectedInstances", "Wait") == "Wait"
        standby = state.lifecycle_state == "Standby" and prefs.get("StandbyInstances", "Wait") == "Wait"
        (waiting if protected or standby else ready).append(instance_id)
    if not refresh["_todo"]:
        _complete(refresh, group)
        return
    if not ready:
        refresh["_waited"] = refresh.get("_waited", 0) + 1
        if refresh["_waited"] > WAIT_STEPS:
            _finish(
                refresh,
                "Failed",
                f"Timed out waiting for instances {', '.join(waiting)} to be unprotected from scale in or to "
                "leave Standby. Remove their scale-in protection (or return them to service), or start the "
                "refresh with ScaleInProtectedInstances Refresh or Ignore.",
            )
            return
        refresh["StatusReason"] = (
            f"Waiting for instances {', '.join(waiting)}: they are protected from scale in or in Standby."
        )
        return
    batch = ready[: _batch_size(refresh, group)]
    replaced = []
    for old_id in batch:
        old = states[old_id].instance
        try:
            new = _launch(refresh, group, autoscaling, ec2, old)
        except _LaunchFailed as failure:
            _sync_targets(autoscaling, group)
            reason = f"{failure} {len(refresh['_done'])} instance(s) were replaced before this."
            if refresh["Preferences"].get("AutoRollback") and not refresh.get("_rollback"):
                _start_rollback(refresh, group, reason)
            elif refresh.get("_rollback"):
                _finish(refresh, "RollbackFailed", reason)
            else:
                _finish(refresh, "Failed", reason)
            return
        _terminate(refresh, group, autoscaling, old_id)
        refresh["_replaced"].append({"old": old_id, "new": new.id})
        replaced.append(new.id)
    _sync_targets(autoscaling, group)
    refresh["_todo"] = [i for i in refresh["_todo"] if i not in batch]
    refresh["_batch"] = batch
    refresh["_phase"] = "warm"
    refresh["StatusReason"] = (
        f"Waiting for instances to warm up before continuing. For example: {replaced[0]} is warming up."
    )


def _advance(refresh: dict) -> None:
    """Catch a refresh up with the clock (lock held)."""
    now = time.monotonic()
    while refresh["Status"] in _ACTIVE and now >= refresh["_next"]:
        try:
            _step(refresh)
        except Exception as error:  # moto refused something mid-step: the refresh fails, as a launch would
            _finish(refresh, "Failed", f"The instance refresh failed: {type(error).__name__}: {error}")
        refresh["_next"] += STEP_SECONDS


def _advance_group(key) -> None:
    with _lock:
        for refresh in _REFRESHES.get(key, []):
            _advance(refresh)


def _runner(key, refresh_id: str, generation: int) -> None:
    """Move a refresh on by itself, as AWS does, whether anyone asks about it or not."""
    while True:
        time.sleep(STEP_SECONDS)
        with _lock:
            if _generation[0] != generation:
                return
            refresh = next((r for r in _REFRESHES.get(key, []) if r["InstanceRefreshId"] == refresh_id), None)
            if refresh is None:
                return
            _advance(refresh)
            if refresh["Status"] not in _ACTIVE:
                return


def _public(refresh: dict) -> dict:
    return {key: value for key, value in refresh.items() if not key.startswith("_")}


# --- the operations --------------------------------------------------------------------------------------


def _validate_preferences(preferences: dict, desired: dict | None) -> None:
    healthy = preferences.get("MinHealthyPercentage")
    if healthy is not None and not 0 <= int(healthy) <= 100:
        raise AdditionError("ValidationError", "MinHealthyPercentage must be between 0 and 100")
    maximum = preferences.get("MaxHealthyPercentage")
    if maximum is not None:
        if not 100 <= int(maximum) <= 200:
            raise AdditionError("ValidationError", "MaxHealthyPercentage must be between 100 and 200")
        if healthy is None:
            raise AdditionError(
                "ValidationError", "MinHealthyPercentage must be specified when MaxHealthyPercentage is specified"
            )
        if int(maximum) - int(healthy) > 100:
            raise AdditionError(
                "ValidationError", "The difference between MaxHealthyPercentage and MinHealthyPercentage exceeds 100"
            )
    for name, allowed in (
        ("ScaleInProtectedInstances", ("Refresh", "Ignore", "Wait")),
        ("StandbyInstances", ("Terminate", "Ignore", "Wait")),
    ):
        if preferences.get(name) is not None and preferences[name] not in allowed:
            raise AdditionError("ValidationError", f"{name} must be one of {', '.join(allowed)}")
    if preferences.get("AutoRollback") and not (desired or {}).get("LaunchTemplate"):
        raise AdditionError(
            "ValidationError", "AutoRollback requires a DesiredConfiguration with a launch template version"
        )


@addition("autoscaling", "StartInstanceRefresh", example=_example_start)
def start_instance_refresh(ctx):
    name, group = _group(ctx)
    key = (ctx.account_id, ctx.region, name)
    strategy = ctx.params.get("Strategy") or "Rolling"
    if strategy not in ("Rolling", "ReplaceRootVolume"):
        raise AdditionError("ValidationError", f"Strategy {strategy!r} is not Rolling or ReplaceRootVolume")
    preferences = dict(ctx.params.get("Preferences") or {})
    desired = ctx.params.get("DesiredConfiguration") or None
    _validate_preferences(preferences, desired)
    if getattr(group, "ec2_launch_template", None) is None and getattr(group, "launch_config", None) is None:
        raise AdditionError("ValidationError", f"AutoScalingGroup {name} has no launch template or configuration")
    with _lock:
        for refresh in _REFRESHES.get(key, []):
            _advance(refresh)
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
            "StatusReason": "Waiting for the Auto Scaling group to start the instance refresh.",
            "StartTime": _now(),
            "PercentageComplete": 0,
            "InstancesToUpdate": 0,
            "Preferences": preferences,
            "Strategy": strategy,
            "_account": ctx.account_id,
            "_region": ctx.region,
            "_phase": "pending",
            "_next": time.monotonic() + STEP_SECONDS,
            "_done": [],
            "_batch": [],
            "_replaced": [],
        }
        if desired:
            refresh["DesiredConfiguration"] = desired
        _plan(refresh)
        refreshes.insert(0, refresh)  # AWS lists the newest first
        generation = _generation[0]
    threading.Thread(
        target=_runner, args=(key, refresh["InstanceRefreshId"], generation), name="asg-refresh", daemon=True
    ).start()
    return {"InstanceRefreshId": refresh["InstanceRefreshId"]}


@addition("autoscaling", "DescribeInstanceRefreshes", example=_example_describe)
def describe_instance_refreshes(ctx):
    name, _group_obj = _group(ctx)
    key = (ctx.account_id, ctx.region, name)
    wanted = set(ctx.params.get("InstanceRefreshIds") or [])
    with _lock:
        for refresh in _REFRESHES.get(key, []):
            _advance(refresh)
        refreshes = [_public(r) for r in _REFRESHES.get(key, [])]
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
            _advance(refresh)
            if refresh["Status"] in ("Pending", "InProgress", "Baking"):
                if refresh["_phase"] == "pending":
                    _finish(refresh, "Cancelled", "The instance refresh was cancelled.")
                else:
                    refresh["Status"] = "Cancelling"
                    refresh["StatusReason"] = "Cancelling the instance refresh."
                return {"InstanceRefreshId": refresh["InstanceRefreshId"]}
    raise AdditionError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for {name}")


def _start_rollback(refresh: dict, group, reason: str) -> None:
    """Undo a refresh: replace the instances it launched with instances of the group's own settings."""
    launched = {pair["new"] for pair in refresh["_replaced"]}
    current = {s.instance.id for s in group.instance_states}
    refresh["RollbackDetails"] = {
        "RollbackReason": reason,
        "RollbackStartTime": _now(),
        "PercentageCompleteOnRollback": refresh["PercentageComplete"],
        "InstancesToUpdateOnRollback": refresh["InstancesToUpdate"],
    }
    refresh["_rollback"] = True
    refresh["_todo"] = sorted(launched & current)
    refresh["_total"], refresh["_done"], refresh["_batch"] = len(refresh["_todo"]), [], []
    refresh["Status"], refresh["StatusReason"], refresh["_phase"] = "RollbackInProgress", reason, "launch"


def _example_rollback(client):
    _example_group(client, "sandbox-example-refresh-rollback")
    autoscaling = client("autoscaling")
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName="sandbox-example-refresh-rollback",
        LaunchTemplate={"LaunchTemplateName": "sandbox-example-refresh-rollback", "Version": "1"},
    )
    autoscaling.start_instance_refresh(
        AutoScalingGroupName="sandbox-example-refresh-rollback",
        DesiredConfiguration={
            "LaunchTemplate": {"LaunchTemplateName": "sandbox-example-refresh-rollback", "Version": "1"}
        },
    )
    return {"AutoScalingGroupName": "sandbox-example-refresh-rollback"}


@addition("autoscaling", "RollbackInstanceRefresh", example=_example_rollback)
def rollback_instance_refresh(ctx):
    """AWS rolls back only a refresh with a desired configuration, on a group that does not launch from the
    template's $Latest or $Default version: otherwise the refresh is irreversible."""
    name, group = _group(ctx)
    with _lock:
        for refresh in _REFRESHES.get((ctx.account_id, ctx.region, name), []):
            _advance(refresh)
            if refresh["Status"] not in ("Pending", "InProgress", "Baking"):
                continue
            desired = (refresh.get("DesiredConfiguration") or {}).get("LaunchTemplate")
            version = str(getattr(group, "provided_launch_template_version", None) or "$Default")
            if not desired or version.lower() in ("$latest", "$default"):
                raise AdditionError(
                    "IrreversibleInstanceRefresh",
                    "The request failed because a desired configuration was not found or an incompatible launch "
                    "template (uses a Systems Manager parameter instead of an AMI ID) or launch template version "
                    "($Latest or $Default) is present on the Auto Scaling group.",
                )
            _start_rollback(refresh, group, "Rollback requested by the user.")
            return {"InstanceRefreshId": refresh["InstanceRefreshId"]}
    raise AdditionError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for {name}")


def replaced_instances(account: str, region: str, group: str) -> list[dict]:
    """The (old, new) instance pairs every refresh of a group replaced, newest refresh first (for tests)."""
    with _lock:
        return [dict(pair) for r in _REFRESHES.get((account, region, group), []) for pair in r["_replaced"]]
