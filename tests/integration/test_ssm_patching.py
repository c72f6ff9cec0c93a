"""medcircle.cloudops.ssm_patch_baseline / ssm_maintenance_window (and _info) through real `ansible` runs.

Each run is `ansible localhost -m <module> -a <json>` with the sandbox's environment (AWS_ENDPOINT_URL and
dummy credentials), so the modules also prove they honour AWS_ENDPOINT_URL. The sandbox's request log shows
which AWS calls a run made: check mode and idempotent runs must make no mutating call, and bad input must
fail before any call that changes AWS.
"""

import sys
from pathlib import Path

import pytest
from playbook import run_module

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
BASELINE = "medcircle.cloudops.ssm_patch_baseline"
BASELINE_INFO = "medcircle.cloudops.ssm_patch_baseline_info"
WINDOW = "medcircle.cloudops.ssm_maintenance_window"
WINDOW_INFO = "medcircle.cloudops.ssm_maintenance_window_info"


def mutating(sandbox):
    return [r["operation"] for r in sandbox.requests(mutating=True)]


def ssm(sandbox):
    return sandbox.client("ssm", "us-east-1")


AL2023 = {
    "name": "medcircle-al2023",
    "operating_system": "AMAZON_LINUX_2023",
    "description": "Security patches after 7 days",
    "approval_rules": [
        {
            "patch_filters": [
                {"key": "CLASSIFICATION", "values": ["Security"]},
                {"key": "SEVERITY", "values": ["Critical", "Important"]},
            ],
            "approve_after_days": 7,
            "compliance_level": "CRITICAL",
        }
    ],
    "rejected_patches": ["kernel-debug*"],
    "patch_groups": ["dev", "prod"],
    "tags": {"Finding": "3.5"},
}


def test_baseline_create_modify_default_delete(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.clear_requests()

    # Check mode: the plan, no mutating call.
    result = run_module(sandbox, BASELINE, AL2023, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["patch_groups"] == ["dev", "prod"]
    assert result["baseline"]["approval_rules"]["patch_rules"][0]["approve_after_days"] == 7
    assert mutating(sandbox) == []
    assert (
        ssm(sandbox).describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["Self"]}])["BaselineIdentities"]
        == []
    )

    # Create.
    result = run_module(sandbox, BASELINE, AL2023)
    assert result["changed"] is True, result
    baseline_id = result["baseline"]["baseline_id"]
    aws = ssm(sandbox).get_patch_baseline(BaselineId=baseline_id)
    assert aws["Name"] == "medcircle-al2023"
    assert aws["OperatingSystem"] == "AMAZON_LINUX_2023"
    assert aws["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] == 7
    assert aws["ApprovalRules"]["PatchRules"][0]["ComplianceLevel"] == "CRITICAL"
    assert aws["RejectedPatches"] == ["kernel-debug*"]
    assert sorted(aws["PatchGroups"]) == ["dev", "prod"]
    tags = ssm(sandbox).list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"]
    assert tags == [{"Key": "Finding", "Value": "3.5"}]
    assert (
        ssm(sandbox).get_patch_baseline_for_patch_group(PatchGroup="prod", OperatingSystem="AMAZON_LINUX_2023")[
            "BaselineId"
        ]
        == baseline_id
    )

    # Idempotent: nothing changes, no mutating call.
    sandbox.clear_requests()
    result = run_module(sandbox, BASELINE, AL2023)
    assert result["changed"] is False, result
    assert mutating(sandbox) == []

    # Modify: approve after 3 days, add staging, drop dev, make it the default; check mode first.
    modified = dict(AL2023, patch_groups=["prod", "staging"], default=True)
    modified["approval_rules"] = [dict(AL2023["approval_rules"][0], approve_after_days=3)]
    result = run_module(sandbox, BASELINE, modified, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["patch_groups"] == ["dev", "prod"]
    assert result["diff"]["after"]["patch_groups"] == ["prod", "staging"]
    assert result["diff"]["before"]["default_baseline"] is False
    assert result["diff"]["after"]["default_baseline"] is True
    assert mutating(sandbox) == []
    assert (
        ssm(sandbox).get_patch_baseline(BaselineId=baseline_id)["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"]
        == 7
    )

    result = run_module(sandbox, BASELINE, modified)
    assert result["changed"] is True
    aws = ssm(sandbox).get_patch_baseline(BaselineId=baseline_id)
    assert aws["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] == 3
    assert sorted(aws["PatchGroups"]) == ["prod", "staging"]
    default = ssm(sandbox).get_default_patch_baseline(OperatingSystem="AMAZON_LINUX_2023")["BaselineId"]
    assert default.endswith(baseline_id)
    assert result["baseline"]["default_baseline"] is True

    sandbox.clear_requests()
    assert run_module(sandbox, BASELINE, modified)["changed"] is False
    assert mutating(sandbox) == []

    # Info: the baseline with its groups; the patch group mappings.
    info = run_module(sandbox, BASELINE_INFO, {"operating_system": "AMAZON_LINUX_2023"})
    assert [b["name"] for b in info["baselines"]] == ["medcircle-al2023"]
    assert info["baselines"][0]["patch_groups"] == ["prod", "staging"]
    assert [(g["patch_group"], g["baseline_id"]) for g in info["patch_groups"]] == [
        ("prod", baseline_id),
        ("staging", baseline_id),
    ]

    # The default baseline cannot be deleted: refused before any call that changes AWS.
    sandbox.clear_requests()
    result = run_module(sandbox, BASELINE, {"name": "medcircle-al2023", "state": "absent"})
    assert result.get("failed") is True
    assert "default patch baseline" in result["msg"]
    assert mutating(sandbox) == []


def test_baseline_patch_group_moves_and_delete(clean_sandbox):
    sandbox = clean_sandbox
    first = run_module(sandbox, BASELINE, dict(AL2023, patch_groups=["prod"]))
    second_args = dict(AL2023, name="medcircle-al2023-strict", patch_groups=["prod"])
    result = run_module(sandbox, BASELINE, second_args, check=True)
    assert result["changed"] is True
    assert result["moved_patch_groups"] == [
        {"patch_group": "prod", "from_baseline_id": first["baseline"]["baseline_id"]}
    ]
    second = run_module(sandbox, BASELINE, second_args)
    assert second["changed"] is True
    group = ssm(sandbox).get_patch_baseline_for_patch_group(PatchGroup="prod", OperatingSystem="AMAZON_LINUX_2023")
    assert group["BaselineId"] == second["baseline"]["baseline_id"]

    # Delete: check mode, real, idempotent.
    sandbox.clear_requests()
    absent = {"name": "medcircle-al2023-strict", "state": "absent"}
    assert run_module(sandbox, BASELINE, absent, check=True)["changed"] is True
    assert mutating(sandbox) == []
    assert run_module(sandbox, BASELINE, absent)["changed"] is True
    names = [
        b["BaselineName"]
        for b in ssm(sandbox).describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["Self"]}])[
            "BaselineIdentities"
        ]
    ]
    assert names == ["medcircle-al2023"]
    sandbox.clear_requests()
    assert run_module(sandbox, BASELINE, absent)["changed"] is False
    assert mutating(sandbox) == []


def test_baseline_bad_input_fails_before_any_call(clean_sandbox):
    """Every option is checked before any AWS call (the unit tests cover each rule; this proves the wiring)."""
    sandbox = clean_sandbox
    sandbox.clear_requests()
    rule = {"patch_filters": [{"key": "SEVERITY", "values": ["Critical"]}], "approve_after_days": 400}
    result = run_module(sandbox, BASELINE, dict(AL2023, approval_rules=[rule]))
    assert result.get("failed") is True
    assert result["msg"].startswith("approval_rules[0].approve_after_days 400 is out of range"), result["msg"]
    assert "Allowed: 0 to 360 days" in result["msg"]
    assert sandbox.requests(service="ssm") == []


WINDOW_ARGS = {
    "name": "medcircle-patch-prod",
    "description": "Prod patch window",
    "schedule": "cron(0 3 ? * SUN *)",
    "schedule_timezone": "Europe/Berlin",
    "duration": 4,
    "cutoff": 1,
    "targets": [{"name": "prod-instances", "tags": {"PatchGroup": "prod"}}],
    "tasks": [
        {
            "name": "scan",
            "targets": ["prod-instances"],
            "parameters": {"Operation": "Scan"},
            "max_concurrency": "50%",
            "max_errors": "0",
            "priority": 1,
        },
        {
            "name": "install",
            "targets": ["prod-instances"],
            "parameters": {"Operation": "Install", "RebootOption": "RebootIfNeeded"},
            "max_concurrency": "10%",
            "max_errors": "1",
            "priority": 2,
            "alarms": ["medcircle-prod-5xx"],
        },
    ],
    "tags": {"Finding": "3.5"},
}


def test_window_create_modify_delete(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.clear_requests()

    result = run_module(sandbox, WINDOW, WINDOW_ARGS, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert [t["name"] for t in result["window"]["tasks"]] == ["install", "scan"]
    assert mutating(sandbox) == []

    result = run_module(sandbox, WINDOW, WINDOW_ARGS)
    assert result["changed"] is True, result
    window_id = result["window"]["window_id"]
    client = ssm(sandbox)
    window = client.get_maintenance_window(WindowId=window_id)
    assert (
        window["Schedule"],
        window["ScheduleTimezone"],
        window["Duration"],
        window["Cutoff"],
        window["Enabled"],
    ) == (
        "cron(0 3 ? * SUN *)",
        "Europe/Berlin",
        4,
        1,
        True,
    )
    targets = client.describe_maintenance_window_targets(WindowId=window_id)["Targets"]
    assert [(t["Name"], t["Targets"]) for t in targets] == [
        ("prod-instances", [{"Key": "tag:PatchGroup", "Values": ["prod"]}])
    ]
    tasks = {t["Name"]: t for t in client.describe_maintenance_window_tasks(WindowId=window_id)["Tasks"]}
    assert sorted(tasks) == ["install", "scan"]
    install = client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=tasks["install"]["WindowTaskId"])
    assert install["TaskArn"] == "AWS-RunPatchBaseline"
    assert install["TaskInvocationParameters"]["RunCommand"]["Parameters"] == {
        "Operation": ["Install"],
        "RebootOption": ["RebootIfNeeded"],
    }
    assert (install["MaxConcurrency"], install["MaxErrors"], install["Priority"]) == ("10%", "1", 2)
    assert install["AlarmConfiguration"]["Alarms"] == [{"Name": "medcircle-prod-5xx"}]
    assert install["Targets"] == [{"Key": "WindowTargetIds", "Values": [targets[0]["WindowTargetId"]]}]

    sandbox.clear_requests()
    assert run_module(sandbox, WINDOW, WINDOW_ARGS)["changed"] is False
    assert mutating(sandbox) == []

    # Modify: a longer window, install at 25 %, drop the scan task, disable; check mode first.
    modified = dict(WINDOW_ARGS, duration=6, cutoff=2, enabled=False)
    modified["tasks"] = [dict(WINDOW_ARGS["tasks"][1], max_concurrency="25%")]
    result = run_module(sandbox, WINDOW, modified, check=True, diff=True)
    assert result["changed"] is True
    assert (result["diff"]["before"]["duration"], result["diff"]["after"]["duration"]) == (4, 6)
    assert [t["name"] for t in result["diff"]["after"]["tasks"]] == ["install"]
    assert mutating(sandbox) == []

    result = run_module(sandbox, WINDOW, modified)
    assert result["changed"] is True
    window = client.get_maintenance_window(WindowId=window_id)
    assert (window["Duration"], window["Cutoff"], window["Enabled"]) == (6, 2, False)
    tasks = client.describe_maintenance_window_tasks(WindowId=window_id)["Tasks"]
    assert [(t["Name"], t["MaxConcurrency"]) for t in tasks] == [("install", "25%")]
    sandbox.clear_requests()
    assert run_module(sandbox, WINDOW, modified)["changed"] is False
    assert mutating(sandbox) == []

    info = run_module(sandbox, WINDOW_INFO, {"name": "medcircle-patch-prod"})
    assert [(w["name"], w["duration"], w["enabled"]) for w in info["windows"]] == [("medcircle-patch-prod", 6, False)]
    assert info["windows"][0]["tasks"][0]["task_invocation_parameters"]["run_command"]["parameters"] == {
        "Operation": ["Install"],
        "RebootOption": ["RebootIfNeeded"],
    }

    absent = {"name": "medcircle-patch-prod", "state": "absent"}
    sandbox.clear_requests()
    assert run_module(sandbox, WINDOW, absent, check=True)["changed"] is True
    assert mutating(sandbox) == []
    assert run_module(sandbox, WINDOW, absent)["changed"] is True
    assert client.describe_maintenance_windows()["WindowIdentities"] == []
    assert run_module(sandbox, WINDOW, absent)["changed"] is False


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"duration": 2, "cutoff": 2}, "cutoff"),
        ({"schedule": "cron(0 3 * * SUN *)"}, "schedule"),
    ],
)
def test_window_bad_input_fails_before_any_call(clean_sandbox, change, option):
    """A cutoff not shorter than the duration or a cron AWS refuses fails before any call, naming the option."""
    sandbox = clean_sandbox
    sandbox.clear_requests()
    result = run_module(sandbox, WINDOW, dict(WINDOW_ARGS, **change))
    assert result.get("failed") is True
    assert result["msg"].startswith(option), result["msg"]
    assert "Allowed:" in result["msg"]
    assert sandbox.requests(service="ssm") == []
