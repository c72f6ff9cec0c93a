"""ssm_maintenance_window (+ _info): schedule and rate-control validation, the change plan, and main().

Every AWS call is stubbed with botocore's Stubber (checked against the SSM service model); a call that was
not stubbed fails the test, so "no mutating call" is asserted by not stubbing one.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    comparable_task,
    ensure_maintenance_window,
    validate_schedule,
    validate_targets,
    validate_tasks,
    validate_window,
)
from ansible_collections.medcircle.cloudops.plugins.modules import ssm_maintenance_window, ssm_maintenance_window_info

REGION = "us-east-1"
WINDOW_ID = "mw-0123456789abcdef0"
TARGET_ID = "e32eecb2-646c-4f4b-8ed1-205fbEXAMPLE"
TASK_ID = "4f7ca192-7e9a-40fe-9192-5cb15EXAMPLE"

TASK = {
    "name": "install",
    "document": "AWS-RunPatchBaseline",
    "targets": ["prod"],
    "parameters": {"Operation": "Install", "RebootOption": "RebootIfNeeded"},
    "max_concurrency": "10%",
    "max_errors": "1",
    "priority": 1,
    "cutoff_behavior": "CONTINUE_TASK",
    "alarms": ["medcircle-prod-5xx"],
    "ignore_poll_alarm_failure": False,
}
PARAMS = {
    "name": "medcircle-patch-prod",
    "state": "present",
    "schedule": "cron(0 3 ? * SUN *)",
    "schedule_timezone": "Europe/Berlin",
    "duration": 4,
    "cutoff": 1,
    "allow_unassociated_targets": False,
    "enabled": True,
    "targets": [{"name": "prod", "tags": {"PatchGroup": "prod"}}],
    "purge_targets": True,
    "tasks": [TASK],
    "purge_tasks": True,
    "tags": None,
    "purge_tags": True,
}


def params(**changes):
    out = json.loads(json.dumps(PARAMS))
    out.update(changes)
    return out


def task(**changes):
    return dict(json.loads(json.dumps(TASK)), **changes)


# --- schedules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        "cron(0 3 ? * SUN *)",
        "cron(30 23 ? * SUN#1 *)",
        "cron(0 2 ? * MON-FRI *)",
        "cron(0 4 L * ? *)",
        "cron(15 10 1,15 * ? 2026)",
        "cron(0 */4 ? * * *)",
        "rate(1 day)",
        "rate(12 hours)",
        "rate(7 days)",
        "at(2026-12-24T03:00:00)",
    ],
)
def test_schedules_aws_accepts(schedule):
    assert validate_schedule(schedule) == schedule


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("", "is empty"),
        ("cron(0 3 * * SUN)", "has 5 cron fields; maintenance windows take 6"),
        ("cron(0 3 * * SUN *)", "must have '?' in exactly one of day-of-month and day-of-week"),
        ("cron(0 3 ? * ? *)", "must have '?' in exactly one"),
        ("cron(61 3 ? * SUN *)", "has a minutes field (61) out of range 0-59"),
        ("cron(0 24 ? * SUN *)", "has a hours field (24) out of range 0-23"),
        ("cron(0 3 ? * FUNDAY *)", "out of range"),
        ("cron(0 3 ? 13 MON *)", "month field (13)"),
        ("rate(30 minutes)", "is not a rate AWS accepts"),
        ("rate(1 days)", "must use a positive number with 'hour'/'day' for 1"),
        ("rate(0 hours)", "must use a positive number"),
        ("at(2026-02-30T03:00:00)", "is not a one-time schedule"),
        ("every sunday", "is not a cron(...), rate(...) or at(...) expression"),
    ],
)
def test_schedules_aws_refuses_name_the_option(schedule, problem):
    with pytest.raises(ParameterError) as error:
        validate_schedule(schedule)
    assert error.value.option == "schedule"
    assert problem in error.value.message
    assert "Allowed: cron(0 2 ? * TUE *)" in error.value.message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cutoff": 4}, "cutoff 4 must be shorter than duration (4 hours): no task could start. Allowed: 0 to 3"),
        ({"cutoff": 5}, "cutoff 5 must be shorter than duration"),
        ({"duration": 25}, "duration 25 is out of range. Allowed: 1 to 24 hours"),
        ({"duration": 0}, "duration 0 is out of range"),
        ({"cutoff": -1}, "cutoff -1 is out of range"),
        ({"schedule": None}, "schedule is required when state is present"),
        ({"schedule_timezone": "Mars/Olympus"}, "schedule_timezone Mars/Olympus is not an IANA time zone"),
        ({"schedule_offset": 2, "schedule": "rate(7 days)"}, "schedule_offset 2 only works with a cron(...)"),
        ({"schedule_offset": 7}, "schedule_offset 7 is out of range. Allowed: 1 to 6 days"),
        ({"start_date": "next tuesday"}, "start_date 'next tuesday' is not an ISO-8601 date and time"),
    ],
)
def test_window_options_checked(changes, message):
    with pytest.raises(ParameterError) as error:
        validate_window(params(**changes))
    assert error.value.message.startswith(message), error.value.message


def test_window_aws_form():
    assert validate_window(params(description="Prod")) == {
        "Name": "medcircle-patch-prod",
        "Description": "Prod",
        "Schedule": "cron(0 3 ? * SUN *)",
        "ScheduleTimezone": "Europe/Berlin",
        "ScheduleOffset": 0,
        "Duration": 4,
        "Cutoff": 1,
        "AllowUnassociatedTargets": False,
        "Enabled": True,
        "StartDate": "",
        "EndDate": "",
    }


# --- targets and tasks -------------------------------------------------------------------------------


def test_targets_by_tag_instance_ids_and_group():
    targets = validate_targets(
        [
            {"name": "prod", "tags": {"PatchGroup": ["prod", "prod-eu"], "Env": "prod"}},
            {"name": "two", "instance_ids": ["i-0123456789abcdef1", "i-0123456789abcdef0"]},
            {"name": "group", "resource_group": "medcircle-prod"},
        ]
    )
    assert targets["prod"]["Targets"] == [
        {"Key": "tag:Env", "Values": ["prod"]},
        {"Key": "tag:PatchGroup", "Values": ["prod", "prod-eu"]},
    ]
    assert targets["two"]["Targets"] == [
        {"Key": "InstanceIds", "Values": ["i-0123456789abcdef0", "i-0123456789abcdef1"]}
    ]
    assert (targets["group"]["ResourceType"], targets["group"]["Targets"]) == (
        "RESOURCE_GROUP",
        [{"Key": "resource-groups:Name", "Values": ["medcircle-prod"]}],
    )


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([{"name": "empty"}], "targets[0] empty selects nothing"),
        ([{"name": "bad", "instance_ids": ["web-1"]}], "targets[0].instance_ids web-1 is not an instance id"),
        (
            [{"name": "a1x", "tags": {"x": "y"}}, {"name": "a1x", "tags": {"x": "z"}}],
            "targets[1].name a1x is used twice",
        ),
        ([{"name": "notag", "tags": {"PatchGroup": []}}], "targets[0].tags.PatchGroup [] has no value"),
    ],
)
def test_bad_targets(targets, message):
    with pytest.raises(ParameterError) as error:
        validate_targets(targets)
    assert error.value.message.startswith(message), error.value.message


def test_task_aws_form():
    spec = validate_tasks([TASK], {"prod"})["install"]
    assert spec == {
        "Name": "install",
        "Description": "",
        "TaskArn": "AWS-RunPatchBaseline",
        "TaskType": "RUN_COMMAND",
        "TargetNames": ["prod"],
        "ServiceRoleArn": "",
        "Priority": 1,
        "MaxConcurrency": "10%",
        "MaxErrors": "1",
        "CutoffBehavior": "CONTINUE_TASK",
        "TaskInvocationParameters": {
            "RunCommand": {"Parameters": {"Operation": ["Install"], "RebootOption": ["RebootIfNeeded"]}}
        },
        "AlarmConfiguration": {"Alarms": [{"Name": "medcircle-prod-5xx"}], "IgnorePollAlarmFailure": False},
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_concurrency": "0"}, "tasks[0].max_concurrency 0 is not a count or percentage. Allowed: e.g. 10, 25%"),
        ({"max_concurrency": "101%"}, "tasks[0].max_concurrency 101% is not a count or percentage"),
        ({"max_concurrency": "ten"}, "tasks[0].max_concurrency ten is not"),
        ({"max_errors": "-1"}, "tasks[0].max_errors -1 is not a count or percentage"),
        ({"max_errors": None}, "tasks[0].max_errors is not a count or percentage"),
        (
            {"parameters": {"Operation": "Upgrade"}},
            "tasks[0].parameters.Operation Upgrade is not allowed. Allowed: Scan",
        ),
        ({"parameters": {"RebootOption": "Always"}}, "tasks[0].parameters.RebootOption Always is not allowed"),
        ({"targets": ["staging"]}, "tasks[0].targets staging is not one of the window's targets. Allowed: prod"),
        ({"priority": -1}, "tasks[0].priority -1 is out of range"),
        ({"timeout_seconds": 10}, "tasks[0].timeout_seconds 10 is out of range. Allowed: 30 to 2592000"),
        ({"cutoff_behavior": "STOP"}, "tasks[0].cutoff_behavior STOP is not allowed"),
    ],
)
def test_bad_tasks(changes, message):
    with pytest.raises(ParameterError) as error:
        validate_tasks([task(**changes)], {"prod"})
    assert error.value.message.startswith(message), error.value.message


# --- the change plan ---------------------------------------------------------------------------------


def stub_no_window(ssm):
    ssm.add_response(
        "describe_maintenance_windows",
        {"WindowIdentities": []},
        {"Filters": [{"Key": "Name", "Values": [PARAMS["name"]]}]},
    )


def aws_task(spec, target_id=TARGET_ID, task_id=TASK_ID):
    out = {k: v for k, v in spec.items() if k not in ("TargetNames", "Description", "ServiceRoleArn")}
    out.update(WindowId=WINDOW_ID, WindowTaskId=task_id, Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}])
    return out


def stub_existing(ssm, window_spec, target_spec, task_spec, tags=(), find=True):
    """The reads of an existing window: found by name (unless ``find`` is false), then read in full."""
    if find:
        ssm.add_response(
            "describe_maintenance_windows",
            {"WindowIdentities": [{"WindowId": WINDOW_ID, "Name": window_spec["Name"]}]},
            {"Filters": [{"Key": "Name", "Values": [window_spec["Name"]]}]},
        )
    window = {k: v for k, v in window_spec.items() if v not in ("", 0) or k == "Cutoff"}
    window["WindowId"] = WINDOW_ID
    ssm.add_response("get_maintenance_window", window, {"WindowId": WINDOW_ID})
    target = {k: v for k, v in target_spec.items() if v != ""}
    ssm.add_response(
        "describe_maintenance_window_targets",
        {"Targets": [dict(target, WindowId=WINDOW_ID, WindowTargetId=TARGET_ID)]},
        {"WindowId": WINDOW_ID},
    )
    summary = {k: v for k, v in aws_task(task_spec).items() if k not in ("TaskInvocationParameters", "TaskType")}
    summary["Type"] = "RUN_COMMAND"
    ssm.add_response("describe_maintenance_window_tasks", {"Tasks": [summary]}, {"WindowId": WINDOW_ID})
    ssm.add_response(
        "get_maintenance_window_task", aws_task(task_spec), {"WindowId": WINDOW_ID, "WindowTaskId": TASK_ID}
    )
    ssm.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": k, "Value": v} for k, v in tags]},
        {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID},
    )


def specs(p=PARAMS):
    targets = validate_targets(p["targets"])
    return validate_window(p), targets["prod"], validate_tasks(p["tasks"], set(targets))["install"]


def test_create_registers_targets_then_tasks(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    window_spec, target_spec, task_spec = specs()
    stub_no_window(ssm)
    ssm.add_response(
        "create_maintenance_window",
        {"WindowId": WINDOW_ID},
        {
            "Name": "medcircle-patch-prod",
            "Schedule": "cron(0 3 ? * SUN *)",
            "ScheduleTimezone": "Europe/Berlin",
            "Duration": 4,
            "Cutoff": 1,
            "AllowUnassociatedTargets": False,
        },
    )
    ssm.add_response(
        "register_target_with_maintenance_window",
        {"WindowTargetId": TARGET_ID},
        {
            "WindowId": WINDOW_ID,
            "Name": "prod",
            "ResourceType": "INSTANCE",
            "Targets": [{"Key": "tag:PatchGroup", "Values": ["prod"]}],
        },
    )
    ssm.add_response(
        "register_task_with_maintenance_window",
        {"WindowTaskId": TASK_ID},
        {
            "WindowId": WINDOW_ID,
            "Name": "install",
            "TaskArn": "AWS-RunPatchBaseline",
            "TaskType": "RUN_COMMAND",
            "Targets": [{"Key": "WindowTargetIds", "Values": [TARGET_ID]}],
            "Priority": 1,
            "MaxConcurrency": "10%",
            "MaxErrors": "1",
            "CutoffBehavior": "CONTINUE_TASK",
            "TaskInvocationParameters": task_spec["TaskInvocationParameters"],
            "AlarmConfiguration": task_spec["AlarmConfiguration"],
        },
    )
    # Read back.
    window = {k: v for k, v in window_spec.items() if v not in ("", 0) or k == "Cutoff"}
    ssm.add_response("get_maintenance_window", dict(window, WindowId=WINDOW_ID), {"WindowId": WINDOW_ID})
    ssm.add_response(
        "describe_maintenance_window_targets",
        {"Targets": [dict({k: v for k, v in target_spec.items() if v}, WindowId=WINDOW_ID, WindowTargetId=TARGET_ID)]},
        {"WindowId": WINDOW_ID},
    )
    ssm.add_response(
        "describe_maintenance_window_tasks",
        {"Tasks": [{"WindowId": WINDOW_ID, "WindowTaskId": TASK_ID, "Name": "install"}]},
        {"WindowId": WINDOW_ID},
    )
    ssm.add_response(
        "get_maintenance_window_task", aws_task(task_spec), {"WindowId": WINDOW_ID, "WindowTaskId": TASK_ID}
    )
    ssm.add_response(
        "list_tags_for_resource", {"TagList": []}, {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID}
    )
    result = ensure_maintenance_window(client, PARAMS, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    window = result["window"]
    assert (window["window_id"], window["duration"], window["cutoff"]) == (WINDOW_ID, 4, 1)
    assert window["targets"][0]["window_target_id"] == TARGET_ID
    assert window["tasks"][0]["target_names"] == ["prod"]
    assert window["tasks"][0]["task_invocation_parameters"]["run_command"]["parameters"] == {
        "Operation": ["Install"],
        "RebootOption": ["RebootIfNeeded"],
    }


def test_check_mode_create_is_the_plan_only(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_no_window(ssm)
    result = ensure_maintenance_window(client, PARAMS, check_mode=True)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert [t["name"] for t in result["window"]["tasks"]] == ["install"]
    assert result["window"]["tasks"][0]["max_concurrency"] == "10%"


def test_unchanged_window_is_not_touched(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_existing(ssm, *specs())
    result = ensure_maintenance_window(client, PARAMS, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is False


def test_empty_settings_aws_echoes_are_no_change():
    spec = validate_tasks([TASK], {"prod"})["install"]
    echoed = json.loads(json.dumps(aws_task(spec)))
    echoed["TaskInvocationParameters"]["RunCommand"].update(
        Comment="", CloudWatchOutputConfig={"CloudWatchOutputEnabled": False}, DocumentHashType="Sha256"
    )
    assert comparable_task(echoed, {TARGET_ID: "prod"}) == spec


def test_changed_rate_control_updates_only_the_task(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_existing(ssm, *specs())
    new = params(tasks=[task(max_concurrency="25%", max_errors="2")])
    task_spec = specs(new)[2]
    ssm.add_response(
        "update_maintenance_window_task",
        {},
        {
            "WindowId": WINDOW_ID,
            "WindowTaskId": TASK_ID,
            "Replace": True,
            "Name": "install",
            "TaskArn": "AWS-RunPatchBaseline",
            "Targets": [{"Key": "WindowTargetIds", "Values": [TARGET_ID]}],
            "Priority": 1,
            "MaxConcurrency": "25%",
            "MaxErrors": "2",
            "CutoffBehavior": "CONTINUE_TASK",
            "TaskInvocationParameters": task_spec["TaskInvocationParameters"],
            "AlarmConfiguration": task_spec["AlarmConfiguration"],
        },
    )
    stub_existing(ssm, specs()[0], specs()[1], task_spec, find=False)
    result = ensure_maintenance_window(client, new, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["diff"]["before"]["tasks"][0]["max_concurrency"] == "10%"


def test_a_kept_task_blocks_removing_its_target(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_existing(ssm, *specs())
    new = params(targets=[{"name": "other", "tags": {"PatchGroup": "dev"}}], tasks=None)
    with pytest.raises(ParameterError) as error:
        ensure_maintenance_window(client, new, check_mode=False)
    assert error.value.message.startswith("targets prod is used by task install, which is kept")


def test_delete(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_existing(ssm, *specs())
    ssm.add_response("delete_maintenance_window", {"WindowId": WINDOW_ID}, {"WindowId": WINDOW_ID})
    result = ensure_maintenance_window(client, {"name": PARAMS["name"], "state": "absent"}, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["window"] == {}


# --- main() ------------------------------------------------------------------------------------------


@pytest.fixture
def module_client(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule, "client", lambda self, service, retry_decorator=None, **kw: aws.client(service, REGION)
    )
    return aws.stub("ssm", REGION)


def run(module, args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": REGION, "_ansible_check_mode": check}
    base.update({k: v for k, v in args.items() if v is not None})
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_main_cutoff_not_shorter_than_duration_fails_before_any_call(module_client, capsys):
    rc, result = run(ssm_maintenance_window, params(duration=2, cutoff=2), capsys)
    assert rc == 1
    assert result["msg"] == ("cutoff 2 must be shorter than duration (2 hours): no task could start. Allowed: 0 to 1")
    module_client.assert_no_pending_responses()


def test_main_cron_aws_would_refuse_fails_before_any_call(module_client, capsys):
    rc, result = run(ssm_maintenance_window, params(schedule="cron(0 3 * * SUN *)"), capsys)
    assert rc == 1
    assert result["msg"].startswith("schedule 'cron(0 3 * * SUN *)' must have '?' in exactly one")


def test_main_requires_schedule_and_duration(module_client, capsys):
    rc, result = run(ssm_maintenance_window, {"name": "medcircle-patch-prod"}, capsys)
    assert rc == 1
    assert "schedule" in result["msg"] and "duration" in result["msg"]


def test_info_returns_windows(module_client, capsys):
    window_spec, target_spec, task_spec = specs()
    stub_existing(module_client, window_spec, target_spec, task_spec, tags=[("Finding", "3.5")])
    rc, result = run(ssm_maintenance_window_info, {"name": PARAMS["name"]}, capsys)
    assert rc == 0
    assert result["changed"] is False
    [window] = result["windows"]
    assert (window["name"], window["schedule"], window["tags"]) == (
        "medcircle-patch-prod",
        "cron(0 3 ? * SUN *)",
        {"Finding": "3.5"},
    )
    assert window["tasks"][0]["alarm_configuration"]["alarms"] == [{"name": "medcircle-prod-5xx"}]
    module_client.assert_no_pending_responses()
