"""Systems Manager patch baselines, patch groups and maintenance windows: what moto 5.2 lacks or answers wrongly.

moto's SSM backend stays the one source of truth: baselines are ``backend.baselines`` (FakePatchBaseline),
patch group registrations ``backend.patch_groups`` (FakePatchGroup.associations: operating system -> baseline),
windows ``backend.windows`` (FakeMaintenanceWindow with its ``targets`` and ``tasks``). What moto's objects do
not hold (a window's Enabled and AllowUnassociatedTargets, created/modified dates, a task's cutoff behavior
and alarm configuration are kept by moto already) is set as attributes on those same objects.

Added: GetPatchBaseline, UpdatePatchBaseline, RegisterDefaultPatchBaseline, GetDefaultPatchBaseline,
DescribePatchGroups, UpdateMaintenanceWindow, UpdateMaintenanceWindowTarget, GetMaintenanceWindowTask,
UpdateMaintenanceWindowTask.
Replaced (moto answers them wrongly): DescribePatchBaselines (NAME_PREFIX matched whole names, no OWNER or
OPERATING_SYSTEM filter, no AWS-owned baselines), CreatePatchBaseline and Add/RemoveTagsToResource,
ListTagsForResource (moto refuses tags on patch baselines), Register/DeregisterPatchBaselineForPatchGroup
(moto never frees a group), CreateMaintenanceWindow, GetMaintenanceWindow, DescribeMaintenanceWindows
(Enabled and AllowUnassociatedTargets lost), DescribeMaintenanceWindowTargets (OwnerInformation lost),
DescribeMaintenanceWindowTasks (CutoffBehavior, AlarmConfiguration lost), RegisterTaskWithMaintenanceWindow
(moto drops AlarmConfiguration).

Running a window on demand (what AWS does when the window opens) is Run Command's control route
``POST /_sandbox/ssm/maintenance-windows/run`` in ssm_run_command.py, which reads the windows, targets and tasks
kept here; RegisterDefaultPatchBaseline also marks moto's baselines (``default_baseline``) so that
AWS-RunPatchBaseline there picks the default baseline of an instance without a patch group.
"""

import datetime
import threading

from sandbox.additions import AdditionError, addition, on_reset

_DEFAULTS: dict[tuple[str, str, str], str] = {}
_lock = threading.Lock()

AWS_NAMES = {
    "AMAZON_LINUX_2023": "AWS-AmazonLinux2023DefaultPatchBaseline",
    "AMAZON_LINUX_2022": "AWS-AmazonLinux2022DefaultPatchBaseline",
    "AMAZON_LINUX_2": "AWS-AmazonLinux2DefaultPatchBaseline",
    "AMAZON_LINUX": "AWS-AmazonLinuxDefaultPatchBaseline",
    "REDHAT_ENTERPRISE_LINUX": "AWS-RedHatDefaultPatchBaseline",
    "CENTOS": "AWS-CentOSDefaultPatchBaseline",
    "ORACLE_LINUX": "AWS-OracleLinuxDefaultPatchBaseline",
    "ROCKY_LINUX": "AWS-RockyLinuxDefaultPatchBaseline",
    "ALMA_LINUX": "AWS-AlmaLinuxDefaultPatchBaseline",
    "SUSE": "AWS-SuseDefaultPatchBaseline",
    "UBUNTU": "AWS-UbuntuDefaultPatchBaseline",
    "DEBIAN": "AWS-DebianDefaultPatchBaseline",
    "RASPBIAN": "AWS-RaspbianDefaultPatchBaseline",
    "WINDOWS": "AWS-DefaultPatchBaseline",
    "MACOS": "AWS-MacOSDefaultPatchBaseline",
}


@on_reset
def _clear() -> None:
    with _lock:
        _DEFAULTS.clear()


def _now():
    return datetime.datetime.now(datetime.UTC)


def _aws_baselines(region: str) -> dict[str, str]:
    """operating system -> ARN of AWS's predefined default baseline in ``region`` (moto's own list)."""
    from moto.utilities.utils import load_resource

    try:
        return dict(load_resource("ssm/resources/default_baselines.json").get(region, {}))
    except FileNotFoundError:  # pragma: no cover - moto ships it
        return {}


def _default_id(ctx, operating_system: str) -> str:
    with _lock:
        chosen = _DEFAULTS.get((ctx.account_id, ctx.region, operating_system))
    if chosen and chosen in ctx.backend().baselines:
        return chosen
    return _aws_baselines(ctx.region).get(operating_system, "")


def _baseline(ctx, baseline_id: str):
    baseline = ctx.backend().baselines.get(baseline_id.rsplit("/", 1)[-1])
    if baseline is None:
        raise AdditionError("DoesNotExistException", f"Patch Baseline {baseline_id} does not exist.")
    return baseline


def _identity(ctx, baseline) -> dict:
    return {
        "BaselineId": baseline.id,
        "BaselineName": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "BaselineDescription": baseline.description or "",
        "DefaultBaseline": _default_id(ctx, baseline.operating_system) == baseline.id,
    }


def _groups_of(ctx, baseline_id: str, operating_system: str) -> list[str]:
    return sorted(
        name
        for name, group in ctx.backend().patch_groups.items()
        if group.associations.get(operating_system) == baseline_id
    )


def _full(ctx, baseline, with_groups=True) -> dict:
    out = {
        "BaselineId": baseline.id,
        "Name": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "GlobalFilters": baseline.global_filters or {"PatchFilters": []},
        "ApprovalRules": baseline.approval_rules or {"PatchRules": []},
        "ApprovedPatches": list(baseline.approved_patches or []),
        "ApprovedPatchesComplianceLevel": baseline.approved_patches_compliance_level or "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": bool(baseline.approved_patches_enable_non_security),
        "RejectedPatches": list(baseline.rejected_patches or []),
        "RejectedPatchesAction": baseline.rejected_patches_action or "ALLOW_AS_DEPENDENCY",
        "CreatedDate": getattr(baseline, "created_date", None) or _now(),
        "ModifiedDate": getattr(baseline, "modified_date", None) or _now(),
        "Sources": list(baseline.sources or []),
    }
    if baseline.description:
        out["Description"] = baseline.description
    if with_groups:
        out["PatchGroups"] = _groups_of(ctx, baseline.id, baseline.operating_system)
    return out


def _example_baseline(client):
    baseline = client("ssm").create_patch_baseline(Name="sandbox-example-baseline", OperatingSystem="AMAZON_LINUX_2023")
    return {"BaselineId": baseline["BaselineId"]}


@addition("ssm", "CreatePatchBaseline", example={"Name": "sandbox-example", "OperatingSystem": "AMAZON_LINUX_2023"})
def create_patch_baseline(ctx):
    name = ctx.require("Name")
    backend = ctx.backend()
    baseline_id = backend.create_patch_baseline(
        name=name,
        operating_system=ctx.param("OperatingSystem", "WINDOWS"),
        global_filters=ctx.param("GlobalFilters"),
        approval_rules=ctx.param("ApprovalRules"),
        approved_patches=ctx.param("ApprovedPatches"),
        approved_patches_compliance_level=ctx.param("ApprovedPatchesComplianceLevel", "UNSPECIFIED"),
        approved_patches_enable_non_security=ctx.param("ApprovedPatchesEnableNonSecurity", False),
        rejected_patches=ctx.param("RejectedPatches"),
        rejected_patches_action=ctx.param("RejectedPatchesAction", "ALLOW_AS_DEPENDENCY"),
        description=ctx.param("Description"),
        sources=ctx.param("Sources"),
        tags=None,
    )
    baseline = backend.baselines[baseline_id]
    baseline.created_date = baseline.modified_date = _now()
    tags = {t["Key"]: t["Value"] for t in ctx.param("Tags", [])}
    if tags:
        backend._resource_tags["PatchBaseline"][baseline_id].update(tags)
    return {"BaselineId": baseline_id}


@addition("ssm", "DescribePatchBaselines", example={"Filters": [{"Key": "OWNER", "Values": ["AWS"]}]})
def describe_patch_baselines(ctx):
    owner, prefix, systems = "All", None, None
    for flt in ctx.param("Filters", []):
        values = flt.get("Values") or []
        if flt.get("Key") == "OWNER" and values:
            owner = values[0]
        elif flt.get("Key") == "NAME_PREFIX" and values:
            prefix = values[0]
        elif flt.get("Key") == "OPERATING_SYSTEM":
            systems = set(values)
    items = []
    if owner in ("All", "Self"):
        items += [_identity(ctx, b) for b in ctx.backend().baselines.values()]
    if owner in ("All", "AWS"):
        for operating_system, arn in sorted(_aws_baselines(ctx.region).items()):
            items.append(
                {
                    "BaselineId": arn,
                    "BaselineName": AWS_NAMES.get(operating_system, f"AWS-{operating_system}DefaultPatchBaseline"),
                    "OperatingSystem": operating_system,
                    "BaselineDescription": f"Default Patch Baseline for {operating_system} Provided by AWS.",
                    "DefaultBaseline": _default_id(ctx, operating_system) == arn,
                }
            )
    if prefix:
        items = [i for i in items if i["BaselineName"].startswith(prefix)]
    if systems is not None:
        items = [i for i in items if i["OperatingSystem"] in systems]
    return _page(ctx, items, "BaselineIdentities", 100)


@addition("ssm", "GetPatchBaseline", example=_example_baseline)
def get_patch_baseline(ctx):
    return _full(ctx, _baseline(ctx, ctx.require("BaselineId")))


@addition("ssm", "UpdatePatchBaseline", example=_example_baseline)
def update_patch_baseline(ctx):
    baseline = _baseline(ctx, ctx.require("BaselineId"))
    replace = bool(ctx.param("Replace", False))
    fields = {
        "Name": "name",
        "GlobalFilters": "global_filters",
        "ApprovalRules": "approval_rules",
        "ApprovedPatches": "approved_patches",
        "ApprovedPatchesComplianceLevel": "approved_patches_compliance_level",
        "ApprovedPatchesEnableNonSecurity": "approved_patches_enable_non_security",
        "RejectedPatches": "rejected_patches",
        "RejectedPatchesAction": "rejected_patches_action",
        "Description": "description",
        "Sources": "sources",
    }
    for param, attribute in fields.items():
        value = ctx.params.get(param)
        if value is not None:
            setattr(baseline, attribute, value)
        elif replace and param != "Name":
            setattr(baseline, attribute, None)
    baseline.modified_date = _now()
    return _full(ctx, baseline, with_groups=False)


@addition("ssm", "RegisterDefaultPatchBaseline", example=_example_baseline)
def register_default_patch_baseline(ctx):
    baseline = _baseline(ctx, ctx.require("BaselineId"))
    with _lock:
        _DEFAULTS[(ctx.account_id, ctx.region, baseline.operating_system)] = baseline.id
    # Run Command's AWS-RunPatchBaseline looks for ``default_baseline`` on moto's baselines.
    for other in ctx.backend().baselines.values():
        if other.operating_system == baseline.operating_system:
            other.default_baseline = other.id == baseline.id
    return {"BaselineId": baseline.id}


@addition("ssm", "GetDefaultPatchBaseline", example={"OperatingSystem": "AMAZON_LINUX_2023"})
def get_default_patch_baseline(ctx):
    operating_system = ctx.param("OperatingSystem", "WINDOWS")
    return {"BaselineId": _default_id(ctx, operating_system), "OperatingSystem": operating_system}


def _example_group(client):
    ssm = client("ssm")
    baseline = ssm.create_patch_baseline(Name="sandbox-example-baseline", OperatingSystem="AMAZON_LINUX_2023")
    return {"BaselineId": baseline["BaselineId"], "PatchGroup": "sandbox-example"}


@addition("ssm", "RegisterPatchBaselineForPatchGroup", example=_example_group)
def register_patch_baseline_for_patch_group(ctx):
    baseline = _baseline(ctx, ctx.require("BaselineId"))
    group_name = ctx.require("PatchGroup")
    backend = ctx.backend()
    group = backend.patch_groups.get(group_name)
    if group is not None:
        current = group.associations.get(baseline.operating_system)
        if current in backend.baselines and current != baseline.id:
            raise AdditionError(
                "AlreadyExistsException",
                "Patch Group baseline already has a baseline registered for OperatingSystem "
                f"{baseline.operating_system}.",
            )
        group.associations[baseline.operating_system] = baseline.id
    else:
        backend.register_patch_baseline_for_patch_group(baseline.id, group_name)
    return {"BaselineId": baseline.id, "PatchGroup": group_name}


def _example_deregister(client):
    params = _example_group(client)
    client("ssm").register_patch_baseline_for_patch_group(**params)
    return params


@addition("ssm", "DeregisterPatchBaselineForPatchGroup", example=_example_deregister)
def deregister_patch_baseline_for_patch_group(ctx):
    baseline = _baseline(ctx, ctx.require("BaselineId"))
    group_name = ctx.require("PatchGroup")
    group = ctx.backend().patch_groups.get(group_name)
    if group is None or group.associations.get(baseline.operating_system) != baseline.id:
        raise AdditionError(
            "DoesNotExistException", f"Patch Baseline {baseline.id} is not registered for Patch Group {group_name}."
        )
    group.associations[baseline.operating_system] = _aws_baselines(ctx.region).get(baseline.operating_system, "")
    return {"BaselineId": baseline.id, "PatchGroup": group_name}


@addition("ssm", "DescribePatchGroups", example={})
def describe_patch_groups(ctx):
    backend = ctx.backend()
    mappings = []
    for name in sorted(backend.patch_groups):
        for _system, baseline_id in sorted(backend.patch_groups[name].associations.items()):
            if baseline_id in backend.baselines:
                mappings.append(
                    {"PatchGroup": name, "BaselineIdentity": _identity(ctx, backend.baselines[baseline_id])}
                )
    for flt in ctx.param("Filters", []):
        values = flt.get("Values") or []
        if flt.get("Key") == "NAME_PREFIX" and values:
            mappings = [m for m in mappings if m["PatchGroup"].startswith(values[0])]
        elif flt.get("Key") == "OPERATING_SYSTEM":
            mappings = [m for m in mappings if m["BaselineIdentity"]["OperatingSystem"] in values]
    return _page(ctx, mappings, "Mappings", 100)


# --- tags: moto refuses them on patch baselines -------------------------------------------------


def _tag_store(ctx, resource_type: str, resource_id: str) -> dict:
    backend = ctx.backend()
    if resource_type == "PatchBaseline":
        if resource_id not in backend.baselines:
            raise AdditionError("InvalidResourceId", "The resource ID is not valid. Verify the ID and try again.")
        return backend._resource_tags["PatchBaseline"][resource_id]
    return None


def _moto_call(fn, *args):
    from moto.core.exceptions import JsonRESTError

    try:
        return fn(*args)
    except JsonRESTError as error:
        raise AdditionError(error.error_type, error.message) from None


def _example_tags(client):
    params = _example_baseline(client)
    return {"ResourceType": "PatchBaseline", "ResourceId": params["BaselineId"], "Tags": [{"Key": "k", "Value": "v"}]}


@addition("ssm", "AddTagsToResource", example=_example_tags)
def add_tags_to_resource(ctx):
    resource_type, resource_id = ctx.require("ResourceType"), ctx.require("ResourceId")
    tags = {t["Key"]: t["Value"] for t in ctx.require("Tags")}
    store = _tag_store(ctx, resource_type, resource_id)
    if store is None:
        _moto_call(ctx.backend().add_tags_to_resource, resource_type, resource_id, tags)
    else:
        store.update(tags)
    return {}


def _example_untag(client):
    params = _example_tags(client)
    client("ssm").add_tags_to_resource(**params)
    return {"ResourceType": "PatchBaseline", "ResourceId": params["ResourceId"], "TagKeys": ["k"]}


@addition("ssm", "RemoveTagsFromResource", example=_example_untag)
def remove_tags_from_resource(ctx):
    resource_type, resource_id = ctx.require("ResourceType"), ctx.require("ResourceId")
    keys = ctx.require("TagKeys")
    store = _tag_store(ctx, resource_type, resource_id)
    if store is None:
        _moto_call(ctx.backend().remove_tags_from_resource, resource_type, resource_id, keys)
    else:
        for key in keys:
            store.pop(key, None)
    return {}


def _example_list_tags(client):
    params = _example_tags(client)
    client("ssm").add_tags_to_resource(**params)
    return {"ResourceType": "PatchBaseline", "ResourceId": params["ResourceId"]}


@addition("ssm", "ListTagsForResource", example=_example_list_tags)
def list_tags_for_resource(ctx):
    resource_type, resource_id = ctx.require("ResourceType"), ctx.require("ResourceId")
    store = _tag_store(ctx, resource_type, resource_id)
    if store is None:
        store = _moto_call(ctx.backend().list_tags_for_resource, resource_type, resource_id)
    return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(store.items())]}


# --- maintenance windows ------------------------------------------------------------------------


def _window(ctx, window_id: str):
    window = ctx.backend().windows.get(window_id)
    if window is None:
        raise AdditionError("DoesNotExistException", f"Maintenance window {window_id} does not exist")
    return window


def _window_json(window, full=True) -> dict:
    out = {
        "WindowId": window.id,
        "Name": window.name,
        "Enabled": getattr(window, "enabled", True),
        "Duration": window.duration,
        "Cutoff": window.cutoff,
        "Schedule": window.schedule,
    }
    if window.description:
        out["Description"] = window.description
    for key, attribute in (
        ("ScheduleTimezone", "schedule_timezone"),
        ("StartDate", "start_date"),
        ("EndDate", "end_date"),
    ):
        if getattr(window, attribute, None):
            out[key] = getattr(window, attribute)
    if window.schedule_offset:
        out["ScheduleOffset"] = window.schedule_offset
    if full:
        out["AllowUnassociatedTargets"] = bool(getattr(window, "allow_unassociated_targets", False))
        out["CreatedDate"] = getattr(window, "created_date", None) or _now()
        out["ModifiedDate"] = getattr(window, "modified_date", None) or _now()
    return out


_WINDOW_EXAMPLE = {"Name": "sandbox-example-window", "Schedule": "cron(0 2 ? * TUE *)", "Duration": 2, "Cutoff": 1}


def _example_window(client):
    window = client("ssm").create_maintenance_window(AllowUnassociatedTargets=False, **_WINDOW_EXAMPLE)
    return {"WindowId": window["WindowId"]}


@addition("ssm", "CreateMaintenanceWindow", example=dict(_WINDOW_EXAMPLE, AllowUnassociatedTargets=True))
def create_maintenance_window(ctx):
    backend = ctx.backend()
    window_id = backend.create_maintenance_window(
        name=ctx.require("Name"),
        description=ctx.param("Description"),
        duration=ctx.require("Duration"),
        cutoff=ctx.param("Cutoff", 0),
        schedule=ctx.require("Schedule"),
        schedule_timezone=ctx.param("ScheduleTimezone"),
        schedule_offset=ctx.param("ScheduleOffset"),
        start_date=ctx.param("StartDate"),
        end_date=ctx.param("EndDate"),
        tags=ctx.param("Tags") or None,
    )
    window = backend.windows[window_id]
    window.enabled = True
    window.allow_unassociated_targets = bool(ctx.param("AllowUnassociatedTargets", False))
    window.created_date = window.modified_date = _now()
    return {"WindowId": window_id}


@addition("ssm", "GetMaintenanceWindow", example=_example_window)
def get_maintenance_window(ctx):
    return _window_json(_window(ctx, ctx.require("WindowId")))


@addition("ssm", "DescribeMaintenanceWindows", example={"Filters": [{"Key": "Name", "Values": ["x"]}]})
def describe_maintenance_windows(ctx):
    windows = list(ctx.backend().windows.values())
    for flt in ctx.param("Filters", []):
        values = flt.get("Values") or []
        if flt.get("Key") == "Name":
            windows = [w for w in windows if w.name in values]
        elif flt.get("Key") == "Enabled":
            wanted = {v.lower() == "true" for v in values}
            windows = [w for w in windows if getattr(w, "enabled", True) in wanted]
    return _page(ctx, [_window_json(w, full=False) for w in windows], "WindowIdentities", 50)


@addition("ssm", "UpdateMaintenanceWindow", example=_example_window)
def update_maintenance_window(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    replace = bool(ctx.param("Replace", False))
    required = {"Name": "name", "Schedule": "schedule", "Duration": "duration", "Cutoff": "cutoff"}
    optional = {
        "Description": "description",
        "StartDate": "start_date",
        "EndDate": "end_date",
        "ScheduleTimezone": "schedule_timezone",
        "ScheduleOffset": "schedule_offset",
    }
    flags = {"AllowUnassociatedTargets": "allow_unassociated_targets", "Enabled": "enabled"}
    if replace:
        missing = [p for p in (*required, "AllowUnassociatedTargets", "Enabled") if ctx.params.get(p) is None]
        if missing:
            raise AdditionError(
                "ValidationException", f"Replace requires every required field; missing: {', '.join(missing)}"
            )
    duration = ctx.param("Duration", window.duration)
    cutoff = ctx.param("Cutoff", window.cutoff)
    if cutoff >= duration:
        raise AdditionError("ValidationException", "The cutoff must be less than the duration of the window.")
    for param, attribute in {**required, **optional, **flags}.items():
        value = ctx.params.get(param)
        if value is not None:
            setattr(window, attribute, value)
        elif replace and param in optional:
            setattr(window, attribute, None)
    window.modified_date = _now()
    out = _window_json(window)
    for key in ("CreatedDate", "ModifiedDate"):
        out.pop(key)
    return out


def _target_json(target) -> dict:
    out = {
        "WindowId": target.window_id,
        "WindowTargetId": target.window_target_id,
        "ResourceType": target.resource_type,
        "Targets": target.targets or [],
    }
    for key, attribute in (("OwnerInformation", "owner_information"), ("Name", "name"), ("Description", "description")):
        if getattr(target, attribute, None):
            out[key] = getattr(target, attribute)
    return out


@addition("ssm", "DescribeMaintenanceWindowTargets", example=_example_window)
def describe_maintenance_window_targets(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    items = [_target_json(t) for t in window.targets.values()]
    for flt in ctx.param("Filters", []):
        key, values = flt.get("Key"), flt.get("Values") or []
        if key in ("WindowTargetId", "Name", "ResourceType", "OwnerInformation"):
            items = [i for i in items if i.get(key) in values]
    return _page(ctx, items, "Targets", 100)


def _example_target(client):
    params = _example_window(client)
    target = client("ssm").register_target_with_maintenance_window(
        ResourceType="INSTANCE", Targets=[{"Key": "tag:PatchGroup", "Values": ["dev"]}], Name="target-one", **params
    )
    return dict(params, WindowTargetId=target["WindowTargetId"], OwnerInformation="ops")


@addition("ssm", "UpdateMaintenanceWindowTarget", example=_example_target)
def update_maintenance_window_target(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    target = window.targets.get(ctx.require("WindowTargetId"))
    if target is None:
        raise AdditionError("DoesNotExistException", f"Target {ctx.params['WindowTargetId']} does not exist.")
    replace = bool(ctx.param("Replace", False))
    if replace and ctx.params.get("Targets") is None:
        raise AdditionError("ValidationException", "Replace requires Targets.")
    for param, attribute in (
        ("Targets", "targets"),
        ("OwnerInformation", "owner_information"),
        ("Name", "name"),
        ("Description", "description"),
    ):
        value = ctx.params.get(param)
        if value is not None:
            setattr(target, attribute, value)
        elif replace:
            setattr(target, attribute, None)
    out = _target_json(target)
    out.pop("ResourceType")
    return out


_TASK_FIELDS = (
    ("Targets", "targets"),
    ("TaskArn", "task_arn"),
    ("ServiceRoleArn", "service_role_arn"),
    ("TaskParameters", "task_parameters"),
    ("TaskInvocationParameters", "task_invocation_parameters"),
    ("Priority", "priority"),
    ("MaxConcurrency", "max_concurrency"),
    ("MaxErrors", "max_errors"),
    ("LoggingInfo", "logging_info"),
    ("Name", "name"),
    ("Description", "description"),
    ("CutoffBehavior", "cutoff_behavior"),
    ("AlarmConfiguration", "alarm_configurations"),
)


def _task_json(task, invocation=True) -> dict:
    out = {"WindowId": task.window_id, "WindowTaskId": task.window_task_id}
    for key, attribute in _TASK_FIELDS:
        value = getattr(task, attribute, None)
        if value is None or value == "" or (key == "TaskInvocationParameters" and not invocation):
            continue
        out[key] = value
    if "CutoffBehavior" not in out:
        out["CutoffBehavior"] = "CONTINUE_TASK"
    return out


def _task(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    task = window.tasks.get(ctx.require("WindowTaskId"))
    if task is None:
        raise AdditionError("DoesNotExistException", f"Task {ctx.params['WindowTaskId']} does not exist.")
    return task


@addition("ssm", "DescribeMaintenanceWindowTasks", example=_example_window)
def describe_maintenance_window_tasks(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    items = []
    for task in window.tasks.values():
        item = _task_json(task, invocation=False)
        item["Type"] = task.task_type
        items.append(item)
    for flt in ctx.param("Filters", []):
        key, values = flt.get("Key"), flt.get("Values") or []
        if key in ("WindowTaskId", "TaskArn", "Name"):
            items = [i for i in items if i.get(key) in values]
        elif key == "TaskType":
            items = [i for i in items if i.get("Type") in values]
    return _page(ctx, items, "Tasks", 100)


def _example_task(client):
    params = _example_window(client)
    task = client("ssm").register_task_with_maintenance_window(
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        MaxConcurrency="1",
        MaxErrors="1",
        Name="patch",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Scan"]}}},
        **params,
    )
    return dict(params, WindowTaskId=task["WindowTaskId"])


@addition(
    "ssm",
    "RegisterTaskWithMaintenanceWindow",
    example=lambda client: dict(
        _example_window(client),
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        MaxConcurrency="1",
        MaxErrors="1",
        Name="patch",
        AlarmConfiguration={"Alarms": [{"Name": "sandbox-alarm"}]},
    ),
)
def register_task_with_maintenance_window(ctx):
    window = _window(ctx, ctx.require("WindowId"))
    task_id = ctx.backend().register_task_with_maintenance_window(
        window_id=window.id,
        targets=ctx.param("Targets"),
        task_arn=ctx.require("TaskArn"),
        service_role_arn=ctx.param("ServiceRoleArn"),
        task_type=ctx.require("TaskType"),
        task_parameters=ctx.param("TaskParameters"),
        task_invocation_parameters=ctx.param("TaskInvocationParameters"),
        priority=ctx.param("Priority", 1),
        max_concurrency=ctx.param("MaxConcurrency"),
        max_errors=ctx.param("MaxErrors"),
        logging_info=ctx.param("LoggingInfo"),
        name=ctx.param("Name"),
        description=ctx.param("Description"),
        cutoff_behavior=ctx.param("CutoffBehavior"),
        alarm_configurations=ctx.param("AlarmConfiguration"),
    )
    return {"WindowTaskId": task_id}


@addition("ssm", "GetMaintenanceWindowTask", example=_example_task)
def get_maintenance_window_task(ctx):
    task = _task(ctx)
    out = _task_json(task)
    out["TaskType"] = task.task_type
    return out


@addition("ssm", "UpdateMaintenanceWindowTask", example=_example_task)
def update_maintenance_window_task(ctx):
    task = _task(ctx)
    replace = bool(ctx.param("Replace", False))
    for param, attribute in _TASK_FIELDS:
        value = ctx.params.get(param)
        if value is not None:
            setattr(task, attribute, value)
        elif replace and param not in ("TaskArn",):
            setattr(task, attribute, None)
    return _task_json(task)


def _page(ctx, items: list, key: str, max_size: int) -> dict:
    size = int(ctx.param("MaxResults", max_size))
    if size < 1 or size > max_size:
        raise AdditionError("ValidationException", f"MaxResults must be between 1 and {max_size}")
    start = 0
    token = ctx.param("NextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise AdditionError("InvalidNextToken", "The specified token is not valid.") from None
    out = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out
