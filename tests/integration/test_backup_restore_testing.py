"""medcircle.cloudops.backup_restore_testing_plan through real `ansible` runs on the sandbox: create, modify and
delete, each in check mode (no mutating call), for real, and again (changed=false); a schedule AWS would refuse is
refused before any call; a plan AWS runs really restores the newest recovery point of the resources its selection
picks by tag."""

import pytest
from test_backup_modules import run_module

PLAN = "medcircle_weekly_restore_test"


def mutating(sandbox):
    return [r["operation"] for r in sandbox.requests(mutating=True) if r["service"] == "backup"]


@pytest.fixture
def estate(clean_sandbox):
    sb = clean_sandbox
    role = sb.client("iam").create_role(RoleName="medcircle-backup", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ec2 = sb.client("ec2")
    volumes = {
        tag: ec2.create_volume(
            AvailabilityZone="us-east-1a",
            Size=8,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Project", "Value": tag}]}],
        )["VolumeId"]
        for tag in ("medcircle", "other")
    }
    key = sb.client("kms").create_key()["KeyMetadata"]["Arn"]
    backup = sb.client("backup")
    vault = backup.create_backup_vault(BackupVaultName="medcircle-backup", EncryptionKeyArn=key)["BackupVaultArn"]
    sb.clear_requests()
    return {"sandbox": sb, "role": role, "volumes": volumes, "vault": vault}


def _args(estate, **changes):
    args = {
        "name": PLAN,
        "schedule_expression": "cron(0 6 ? * SUN *)",
        "schedule_expression_timezone": "Europe/Berlin",
        "start_window_hours": 4,
        "recovery_point_selection": {"include_vaults": [estate["vault"]], "selection_window_days": 7},
        "selections": [
            {
                "name": "volumes",
                "protected_resource_type": "EBS",
                "iam_role_arn": estate["role"],
                "protected_resource_conditions": {"string_equals": {"Project": "medcircle"}},
                "validation_window_hours": 1,
            }
        ],
    }
    args.update(changes)
    return args


def test_create_modify_delete_in_check_mode_for_real_and_again(estate):
    sb = estate["sandbox"]
    backup = sb.client("backup")
    args = _args(estate)

    planned = run_module(sb, "backup_restore_testing_plan", args, check=True, diff=True)
    assert planned["changed"] is True, planned
    assert planned["actions"] == [f"create restore test plan {PLAN}", "create selection volumes"]
    assert planned["diff"]["before"]["plan"] is None
    assert mutating(sb) == []

    created = run_module(sb, "backup_restore_testing_plan", args)
    assert created["changed"] is True, created
    assert mutating(sb) == ["CreateRestoreTestingPlan", "CreateRestoreTestingSelection"]
    plan = backup.get_restore_testing_plan(RestoreTestingPlanName=PLAN)["RestoreTestingPlan"]
    assert plan["ScheduleExpression"] == "cron(0 6 ? * SUN *)"
    assert plan["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert plan["StartWindowHours"] == 4
    assert plan["RecoveryPointSelection"]["IncludeVaults"] == [estate["vault"]]
    assert plan["RecoveryPointSelection"]["SelectionWindowDays"] == 7
    selection = backup.get_restore_testing_selection(
        RestoreTestingPlanName=PLAN, RestoreTestingSelectionName="volumes"
    )["RestoreTestingSelection"]
    assert selection["ProtectedResourceConditions"] == {
        "StringEquals": [{"Key": "aws:ResourceTag/Project", "Value": "medcircle"}]
    }
    assert created["plan"]["restore_testing_plan_arn"] == plan["RestoreTestingPlanArn"]

    sb.clear_requests()
    again = run_module(sb, "backup_restore_testing_plan", args)
    assert again["changed"] is False, again
    assert again["actions"] == []
    assert mutating(sb) == []

    changed = _args(
        estate,
        schedule_expression="cron(30 2 ? * SAT *)",
        recovery_point_selection={
            "include_vaults": [estate["vault"]],
            "selection_window_days": 7,
            "algorithm": "RANDOM_WITHIN_WINDOW",
        },
    )
    changed["selections"][0]["validation_window_hours"] = 3
    changed["selections"].append(
        {
            "name": "every_volume",
            "protected_resource_type": "EBS",
            "iam_role_arn": estate["role"],
            "protected_resource_arns": ["*"],
        }
    )
    planned = run_module(sb, "backup_restore_testing_plan", changed, check=True, diff=True)
    assert planned["changed"] is True
    assert planned["actions"] == [
        f"update restore test plan {PLAN}: RecoveryPointSelection, ScheduleExpression",
        "update selection volumes: ValidationWindowHours",
        "create selection every_volume",
    ]
    assert planned["diff"]["before"]["selections"]["volumes"]["validation_window_hours"] == 1
    assert planned["diff"]["after"]["selections"]["volumes"]["validation_window_hours"] == 3
    assert mutating(sb) == []
    updated = run_module(sb, "backup_restore_testing_plan", changed)
    assert updated["changed"] is True
    assert mutating(sb) == [
        "UpdateRestoreTestingPlan",
        "UpdateRestoreTestingSelection",
        "CreateRestoreTestingSelection",
    ]
    plan = backup.get_restore_testing_plan(RestoreTestingPlanName=PLAN)["RestoreTestingPlan"]
    assert plan["ScheduleExpression"] == "cron(30 2 ? * SAT *)"
    assert plan["RecoveryPointSelection"]["Algorithm"] == "RANDOM_WITHIN_WINDOW"
    sb.clear_requests()
    assert run_module(sb, "backup_restore_testing_plan", changed)["changed"] is False
    assert mutating(sb) == []

    # a selection not listed is kept unless purge_selections is on (the unit tests prove the keeping)
    purged = run_module(sb, "backup_restore_testing_plan", args | {"purge_selections": True})
    assert "delete selection every_volume" in purged["actions"]
    assert [s["restore_testing_selection_name"] for s in purged["selections"]] == ["volumes"]

    sb.clear_requests()
    gone = {"name": PLAN, "state": "absent"}
    planned = run_module(sb, "backup_restore_testing_plan", gone, check=True)
    assert planned["changed"] is True
    assert planned["actions"] == ["delete selection volumes", f"delete restore test plan {PLAN}"]
    assert mutating(sb) == []
    removed = run_module(sb, "backup_restore_testing_plan", gone)
    assert removed["changed"] is True, removed
    assert mutating(sb) == ["DeleteRestoreTestingSelection", "DeleteRestoreTestingPlan"]
    assert backup.list_restore_testing_plans()["RestoreTestingPlans"] == []
    assert run_module(sb, "backup_restore_testing_plan", gone)["changed"] is False


REFUSED = [
    ({"schedule_expression": "cron(0 6 * * SUN *)"}, "exactly one of day-of-month and day-of-week"),
    ({"schedule_expression": "cron(0 25 ? * SUN *)"}, "has hours 25, outside 0-23"),
    ({"schedule_expression": "rate(7 days)"}, "is not a schedule AWS Backup accepts"),
    ({"schedule_expression_timezone": "Mars/Olympus"}, "schedule_expression_timezone Mars/Olympus"),
    ({"start_window_hours": 200}, "start_window_hours 200 is out of range"),
    ({"recovery_point_selection": {"selection_window_days": 400}}, "selection_window_days 400 is out of range"),
    ({"name": "weekly-test"}, "name weekly-test is not a restore test plan name"),
    (
        {
            "selections": [
                {"name": "x", "protected_resource_type": "EBS", "iam_role_arn": "arn:aws:iam::123456789012:role/r"}
            ]
        },
        "selections[x] needs either protected_resource_arns or protected_resource_conditions",
    ),
]


def test_refused_before_any_call(estate):
    sb = estate["sandbox"]
    for change, message in REFUSED:
        sb.clear_requests()
        result = run_module(sb, "backup_restore_testing_plan", _args(estate, **change))
        assert result.get("failed") is True, change
        assert message in result["msg"], result["msg"]
        assert sb.requests() == [], change


def test_a_scheduled_restore_test_restores_the_newest_point_of_the_tagged_volume(estate):
    sb = estate["sandbox"]
    backup = sb.client("backup")
    for volume in estate["volumes"].values():
        for _ in range(2):
            backup.start_backup_job(
                BackupVaultName="medcircle-backup",
                ResourceArn=f"arn:aws:ec2:us-east-1:123456789012:volume/{volume}",
                IamRoleArn=estate["role"],
            )
    assert run_module(sb, "backup_restore_testing_plan", _args(estate))["changed"] is True
    jobs = sb.call("POST", "backup/run-restore-test", {"region": "us-east-1", "plan_name": PLAN})
    jobs = jobs["restore_jobs"]
    # the selection picks by tag: only the medcircle volume, its newest point only
    assert [j["SourceResourceArn"].rsplit("/", 1)[1] for j in jobs] == [estate["volumes"]["medcircle"]]
    points = backup.list_recovery_points_by_resource(
        ResourceArn=f"arn:aws:ec2:us-east-1:123456789012:volume/{estate['volumes']['medcircle']}"
    )["RecoveryPoints"]
    newest = max(points, key=lambda p: p["CreationDate"])
    assert jobs[0]["RecoveryPointArn"] == newest["RecoveryPointArn"]
    assert jobs[0]["Status"] == "COMPLETED"
    restored = jobs[0]["CreatedResourceArn"].rsplit("/", 1)[1]
    assert sb.client("ec2").describe_volumes(VolumeIds=[restored])["Volumes"][0]["State"] == "available"
    plan_arn = backup.get_restore_testing_plan(RestoreTestingPlanName=PLAN)["RestoreTestingPlan"][
        "RestoreTestingPlanArn"
    ]
    listed = backup.list_restore_jobs(ByRestoreTestingPlanArn=plan_arn)["RestoreJobs"]
    assert [j["RestoreJobId"] for j in listed] == [jobs[0]["RestoreJobId"]]
