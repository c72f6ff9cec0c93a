"""Patch baselines, patch groups and maintenance windows in the sandbox (sandbox/additions/ssm_patching.py):
what moto 5.2 lacks or answers wrongly, checked through a real boto3 client (answers are also checked
against botocore's output shapes by the sandbox itself)."""

import pytest
from botocore.exceptions import ClientError


def _baseline(ssm, name="medcircle-al2023", operating_system="AMAZON_LINUX_2023", **extra):
    return ssm.create_patch_baseline(Name=name, OperatingSystem=operating_system, **extra)["BaselineId"]


def _self(ssm, **filters):
    flt = [{"Key": "OWNER", "Values": ["Self"]}] + [{"Key": k, "Values": [v]} for k, v in filters.items()]
    return [b["BaselineName"] for b in ssm.describe_patch_baselines(Filters=flt)["BaselineIdentities"]]


def test_describe_baselines_filters_by_prefix_owner_and_os(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    _baseline(ssm, "medcircle-al2023")
    _baseline(ssm, "medcircle-al2023-strict")
    _baseline(ssm, "medcircle-debian", "DEBIAN")
    assert sorted(_self(ssm, NAME_PREFIX="medcircle-al2023")) == ["medcircle-al2023", "medcircle-al2023-strict"]
    assert _self(ssm, OPERATING_SYSTEM="DEBIAN") == ["medcircle-debian"]
    aws = ssm.describe_patch_baselines(
        Filters=[{"Key": "OWNER", "Values": ["AWS"]}, {"Key": "OPERATING_SYSTEM", "Values": ["AMAZON_LINUX_2023"]}]
    )["BaselineIdentities"]
    assert [(b["BaselineName"], b["DefaultBaseline"]) for b in aws] == [
        ("AWS-AmazonLinux2023DefaultPatchBaseline", True)
    ]
    assert aws[0]["BaselineId"].startswith("arn:aws:ssm:us-east-1:")
    # Pagination: one at a time, every baseline once.
    seen, token = [], None
    while True:
        page = ssm.describe_patch_baselines(
            Filters=[{"Key": "OWNER", "Values": ["Self"]}], MaxResults=1, **({"NextToken": token} if token else {})
        )
        seen += [b["BaselineName"] for b in page["BaselineIdentities"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == ["medcircle-al2023", "medcircle-al2023-strict", "medcircle-debian"]


def test_get_update_and_default_baseline(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    rules = {
        "PatchRules": [
            {
                "PatchFilterGroup": {"PatchFilters": [{"Key": "CLASSIFICATION", "Values": ["Security"]}]},
                "ApproveAfterDays": 7,
                "ComplianceLevel": "CRITICAL",
            }
        ]
    }
    baseline_id = _baseline(ssm, ApprovalRules=rules, Description="first", RejectedPatches=["kernel-debug*"])
    got = ssm.get_patch_baseline(BaselineId=baseline_id)
    assert (got["Description"], got["ApprovalRules"], got["RejectedPatches"]) == ("first", rules, ["kernel-debug*"])

    # Replace=True clears what the request leaves out; without it, fields are kept.
    ssm.update_patch_baseline(BaselineId=baseline_id, Description="second")
    assert ssm.get_patch_baseline(BaselineId=baseline_id)["RejectedPatches"] == ["kernel-debug*"]
    ssm.update_patch_baseline(BaselineId=baseline_id, Name="medcircle-al2023", ApprovalRules=rules, Replace=True)
    got = ssm.get_patch_baseline(BaselineId=baseline_id)
    assert got["RejectedPatches"] == []
    assert "Description" not in got

    default = ssm.get_default_patch_baseline(OperatingSystem="AMAZON_LINUX_2023")["BaselineId"]
    assert default.endswith("/pb-027cc0f2e94d2b9a0") or default.startswith("arn:aws:ssm:")
    ssm.register_default_patch_baseline(BaselineId=baseline_id)
    assert ssm.get_default_patch_baseline(OperatingSystem="AMAZON_LINUX_2023")["BaselineId"] == baseline_id
    assert ssm.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"] != baseline_id
    with pytest.raises(ClientError) as error:
        ssm.get_patch_baseline(BaselineId="pb-0123456789abcdef0")
    assert error.value.response["Error"]["Code"] == "DoesNotExistException"


def test_patch_groups_one_baseline_per_os_and_freed_on_deregister(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    first, second = _baseline(ssm, "medcircle-al2023"), _baseline(ssm, "medcircle-al2023-strict")
    debian = _baseline(ssm, "medcircle-debian", "DEBIAN")
    ssm.register_patch_baseline_for_patch_group(BaselineId=first, PatchGroup="prod")
    ssm.register_patch_baseline_for_patch_group(BaselineId=debian, PatchGroup="prod")
    with pytest.raises(ClientError) as error:
        ssm.register_patch_baseline_for_patch_group(BaselineId=second, PatchGroup="prod")
    assert error.value.response["Error"]["Code"] == "AlreadyExistsException"
    mappings = ssm.describe_patch_groups()["Mappings"]
    assert sorted((m["PatchGroup"], m["BaselineIdentity"]["BaselineId"]) for m in mappings) == sorted(
        [("prod", first), ("prod", debian)]
    )
    assert ssm.get_patch_baseline(BaselineId=first)["PatchGroups"] == ["prod"]

    ssm.deregister_patch_baseline_for_patch_group(BaselineId=first, PatchGroup="prod")
    assert ssm.get_patch_baseline(BaselineId=first)["PatchGroups"] == []
    ssm.register_patch_baseline_for_patch_group(BaselineId=second, PatchGroup="prod")
    only = ssm.describe_patch_groups(Filters=[{"Key": "OPERATING_SYSTEM", "Values": ["AMAZON_LINUX_2023"]}])
    assert [m["BaselineIdentity"]["BaselineId"] for m in only["Mappings"]] == [second]
    with pytest.raises(ClientError) as error:
        ssm.deregister_patch_baseline_for_patch_group(BaselineId=first, PatchGroup="prod")
    assert error.value.response["Error"]["Code"] == "DoesNotExistException"


def test_tags_on_baselines_and_windows(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    baseline_id = _baseline(ssm, Tags=[{"Key": "Finding", "Value": "3.5"}])
    ssm.add_tags_to_resource(ResourceType="PatchBaseline", ResourceId=baseline_id, Tags=[{"Key": "A", "Value": "b"}])
    ssm.remove_tags_from_resource(ResourceType="PatchBaseline", ResourceId=baseline_id, TagKeys=["Finding"])
    tags = ssm.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"]
    assert tags == [{"Key": "A", "Value": "b"}]
    window_id = ssm.create_maintenance_window(
        Name="w-tags", Schedule="rate(7 days)", Duration=2, Cutoff=1, AllowUnassociatedTargets=False
    )["WindowId"]
    ssm.add_tags_to_resource(ResourceType="MaintenanceWindow", ResourceId=window_id, Tags=[{"Key": "K", "Value": "v"}])
    tags = ssm.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId=window_id)["TagList"]
    assert tags == [{"Key": "K", "Value": "v"}]


def test_window_fields_round_trip_and_update(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    window_id = ssm.create_maintenance_window(
        Name="medcircle-patch-prod",
        Schedule="cron(0 3 ? * SUN *)",
        ScheduleTimezone="Europe/Berlin",
        Duration=4,
        Cutoff=1,
        AllowUnassociatedTargets=True,
    )["WindowId"]
    window = ssm.get_maintenance_window(WindowId=window_id)
    assert (window["Enabled"], window["AllowUnassociatedTargets"], window["ScheduleTimezone"]) == (
        True,
        True,
        "Europe/Berlin",
    )
    ssm.update_maintenance_window(WindowId=window_id, Enabled=False, Duration=6, Cutoff=2)
    window = ssm.get_maintenance_window(WindowId=window_id)
    assert (window["Enabled"], window["Duration"], window["Cutoff"]) == (False, 6, 2)
    listed = ssm.describe_maintenance_windows(Filters=[{"Key": "Enabled", "Values": ["false"]}])["WindowIdentities"]
    assert [w["WindowId"] for w in listed] == [window_id]
    with pytest.raises(ClientError) as error:
        ssm.update_maintenance_window(WindowId=window_id, Cutoff=6)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as error:
        ssm.update_maintenance_window(WindowId=window_id, Replace=True, Name="x-window")
    assert "Replace requires" in error.value.response["Error"]["Message"]


def test_targets_and_tasks_keep_what_moto_drops(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    window_id = ssm.create_maintenance_window(
        Name="medcircle-patch-dev", Schedule="rate(1 day)", Duration=3, Cutoff=1, AllowUnassociatedTargets=False
    )["WindowId"]
    target_id = ssm.register_target_with_maintenance_window(
        WindowId=window_id,
        ResourceType="INSTANCE",
        Targets=[{"Key": "tag:PatchGroup", "Values": ["dev"]}],
        Name="dev",
        OwnerInformation="it-support",
    )["WindowTargetId"]
    ssm.update_maintenance_window_target(
        WindowId=window_id, WindowTargetId=target_id, Targets=[{"Key": "tag:PatchGroup", "Values": ["dev", "test"]}]
    )
    [target] = ssm.describe_maintenance_window_targets(WindowId=window_id)["Targets"]
    assert (target["OwnerInformation"], target["Targets"][0]["Values"]) == ("it-support", ["dev", "test"])

    task_id = ssm.register_task_with_maintenance_window(
        WindowId=window_id,
        Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}],
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        MaxConcurrency="10%",
        MaxErrors="1",
        Priority=2,
        Name="install",
        CutoffBehavior="CANCEL_TASK",
        AlarmConfiguration={"Alarms": [{"Name": "medcircle-5xx"}], "IgnorePollAlarmFailure": False},
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Install"]}}},
    )["WindowTaskId"]
    [summary] = ssm.describe_maintenance_window_tasks(WindowId=window_id)["Tasks"]
    assert (summary["CutoffBehavior"], summary["AlarmConfiguration"]["Alarms"], summary["Type"]) == (
        "CANCEL_TASK",
        [{"Name": "medcircle-5xx"}],
        "RUN_COMMAND",
    )
    ssm.update_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id, MaxConcurrency="25%")
    task = ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    assert (task["MaxConcurrency"], task["MaxErrors"], task["Priority"]) == ("25%", "1", 2)
    assert task["TaskInvocationParameters"]["RunCommand"]["Parameters"] == {"Operation": ["Install"]}
    ssm.update_maintenance_window_task(
        WindowId=window_id,
        WindowTaskId=task_id,
        Replace=True,
        TaskArn="AWS-RunPatchBaseline",
        Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}],
        MaxConcurrency="1",
        MaxErrors="0",
    )
    task = ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    assert "AlarmConfiguration" not in task
    assert task["CutoffBehavior"] == "CONTINUE_TASK"
