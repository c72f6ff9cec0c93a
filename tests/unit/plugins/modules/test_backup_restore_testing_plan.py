"""backup_restore_testing_plan through main(), with botocore's Stubber behind AnsibleAWSModule.client: every
request is checked against the service model, and a call that is not stubbed fails the test (so check mode and
refusals are proved to send no mutating call)."""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup_restore_testing import check_schedule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.modules import backup_restore_testing_plan

NAME = "weekly_restore"
ARN = f"arn:aws:backup:us-east-1:123456789012:restore-testing-plan:{NAME}-1a2b3c4d"
ROLE = "arn:aws:iam::123456789012:role/medcircle-backup-role"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
WANTED_PLAN = {
    "RestoreTestingPlanName": NAME,
    "ScheduleExpression": "cron(0 6 ? * SUN *)",
    "ScheduleExpressionTimezone": "Etc/UTC",
    "StartWindowHours": 24,
    "RecoveryPointSelection": {
        "Algorithm": "LATEST_WITHIN_WINDOW",
        "IncludeVaults": ["*"],
        "RecoveryPointTypes": ["SNAPSHOT"],
        "SelectionWindowDays": 30,
    },
}
WANTED_SELECTION = {
    "RestoreTestingSelectionName": "databases",
    "ProtectedResourceType": "RDS",
    "IamRoleArn": ROLE,
    # AWS takes conditions only together with the wildcard ARN
    "ProtectedResourceArns": ["*"],
    "ProtectedResourceConditions": {"StringEquals": [{"Key": "aws:ResourceTag/Project", "Value": "medcircle"}]},
    "RestoreMetadataOverrides": {"DBInstanceClass": "db.t3.micro"},
    "ValidationWindowHours": 2,
}
SELECTION_ARGS = {
    "name": "databases",
    "protected_resource_type": "RDS",
    "iam_role_arn": ROLE,
    "protected_resource_conditions": {"string_equals": {"Project": "medcircle"}},
    "restore_metadata_overrides": {"DBInstanceClass": "db.t3.micro"},
    "validation_window_hours": 2,
}


@pytest.fixture
def stub(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule, "client", lambda self, service, retry_decorator=None, **kw: aws.client(service, "us-east-1")
    )
    return aws.stub("backup", "us-east-1")


def run(args, capsys, check=False, diff=False):
    base = {
        "access_key": "AKIDEXAMPLE",
        "secret_key": "secret",
        "region": "us-east-1",
        "name": NAME,
        "schedule_expression": "cron(0 6 ? * SUN *)",
        "selections": [SELECTION_ARGS],
    }
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    if diff:
        base["_ansible_diff"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        backup_restore_testing_plan.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def no_plan(stub):
    stub.add_client_error(
        "get_restore_testing_plan",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"RestoreTestingPlanName": NAME},
    )


def plan(stub, **changes):
    stub.add_response(
        "get_restore_testing_plan",
        {
            "RestoreTestingPlan": {
                **WANTED_PLAN,
                "RestoreTestingPlanArn": ARN,
                "CreationTime": NOW,
                **changes,
            }
        },
        {"RestoreTestingPlanName": NAME},
    )


def selections(stub, *found):
    stub.add_response(
        "list_restore_testing_selections",
        {
            "RestoreTestingSelections": [
                {
                    "CreationTime": NOW,
                    "IamRoleArn": s["IamRoleArn"],
                    "ProtectedResourceType": s["ProtectedResourceType"],
                    "RestoreTestingPlanName": NAME,
                    "RestoreTestingSelectionName": s["RestoreTestingSelectionName"],
                }
                for s in found
            ]
        },
        {"RestoreTestingPlanName": NAME},
    )
    for s in found:
        stub.add_response(
            "get_restore_testing_selection",
            {"RestoreTestingSelection": {**s, "CreationTime": NOW, "RestoreTestingPlanName": NAME}},
            {"RestoreTestingPlanName": NAME, "RestoreTestingSelectionName": s["RestoreTestingSelectionName"]},
        )


def test_check_mode_on_a_missing_plan_plans_the_creation_and_sends_nothing(stub, capsys):
    no_plan(stub)
    code, out = run({}, capsys, check=True, diff=True)
    assert code == 0, out
    assert out["changed"] is True
    assert out["actions"] == [f"create restore test plan {NAME}", "create selection databases"]
    assert out["plan"]["schedule_expression"] == "cron(0 6 ? * SUN *)"
    assert out["selections"][0]["restore_metadata_overrides"] == {"DBInstanceClass": "db.t3.micro"}
    assert out["diff"]["before"] == {"plan": None, "selections": {}}
    stub.assert_no_pending_responses()


def test_creates_the_plan_then_its_selection(stub, capsys):
    no_plan(stub)
    stub.add_response(
        "create_restore_testing_plan",
        {"CreationTime": NOW, "RestoreTestingPlanArn": ARN, "RestoreTestingPlanName": NAME},
        {"RestoreTestingPlan": WANTED_PLAN},
    )
    stub.add_response(
        "create_restore_testing_selection",
        {
            "CreationTime": NOW,
            "RestoreTestingPlanArn": ARN,
            "RestoreTestingPlanName": NAME,
            "RestoreTestingSelectionName": "databases",
        },
        {"RestoreTestingPlanName": NAME, "RestoreTestingSelection": WANTED_SELECTION},
    )
    plan(stub)
    selections(stub, WANTED_SELECTION)
    code, out = run({}, capsys)
    assert code == 0, out
    assert out["changed"] is True
    assert out["plan"]["restore_testing_plan_arn"] == ARN
    stub.assert_no_pending_responses()


def test_a_plan_as_wanted_changes_nothing(stub, capsys):
    plan(stub)
    selections(stub, WANTED_SELECTION)
    code, out = run({}, capsys)
    assert code == 0, out
    assert out["changed"] is False
    assert out["actions"] == []
    stub.assert_no_pending_responses()


def test_updates_only_what_differs(stub, capsys):
    plan(stub, ScheduleExpression="cron(0 7 ? * SUN *)")
    selections(stub, {**WANTED_SELECTION, "ValidationWindowHours": 1})
    stub.add_response(
        "update_restore_testing_plan",
        {"CreationTime": NOW, "RestoreTestingPlanArn": ARN, "RestoreTestingPlanName": NAME, "UpdateTime": NOW},
        {"RestoreTestingPlanName": NAME, "RestoreTestingPlan": {"ScheduleExpression": "cron(0 6 ? * SUN *)"}},
    )
    stub.add_response(
        "update_restore_testing_selection",
        {
            "CreationTime": NOW,
            "RestoreTestingPlanArn": ARN,
            "RestoreTestingPlanName": NAME,
            "RestoreTestingSelectionName": "databases",
            "UpdateTime": NOW,
        },
        {
            "RestoreTestingPlanName": NAME,
            "RestoreTestingSelectionName": "databases",
            "RestoreTestingSelection": {"ValidationWindowHours": 2},
        },
    )
    plan(stub)
    selections(stub, WANTED_SELECTION)
    code, out = run({}, capsys)
    assert code == 0, out
    assert out["actions"] == [
        f"update restore test plan {NAME}: ScheduleExpression",
        "update selection databases: ValidationWindowHours",
    ]
    stub.assert_no_pending_responses()


def test_a_selection_whose_type_changes_is_replaced_and_unlisted_ones_kept(stub, capsys):
    plan(stub)
    other = {
        "RestoreTestingSelectionName": "volumes",
        "ProtectedResourceType": "EBS",
        "IamRoleArn": ROLE,
        "ProtectedResourceArns": ["*"],
    }
    selections(stub, {**WANTED_SELECTION, "ProtectedResourceType": "Aurora"}, other)
    stub.add_response(
        "delete_restore_testing_selection",
        {},
        {"RestoreTestingPlanName": NAME, "RestoreTestingSelectionName": "databases"},
    )
    stub.add_response(
        "create_restore_testing_selection",
        {
            "CreationTime": NOW,
            "RestoreTestingPlanArn": ARN,
            "RestoreTestingPlanName": NAME,
            "RestoreTestingSelectionName": "databases",
        },
        {"RestoreTestingPlanName": NAME, "RestoreTestingSelection": WANTED_SELECTION},
    )
    plan(stub)
    selections(stub, WANTED_SELECTION, other)
    code, out = run({}, capsys)
    assert code == 0, out
    assert out["actions"] == ["replace selection databases (its resource type changes)"]
    assert [s["restore_testing_selection_name"] for s in out["selections"]] == ["databases", "volumes"]
    stub.assert_no_pending_responses()


def test_absent_deletes_the_selections_first_then_the_plan(stub, capsys):
    plan(stub)
    selections(stub, WANTED_SELECTION)
    stub.add_response(
        "delete_restore_testing_selection",
        {},
        {"RestoreTestingPlanName": NAME, "RestoreTestingSelectionName": "databases"},
    )
    stub.add_response("delete_restore_testing_plan", {}, {"RestoreTestingPlanName": NAME})
    code, out = run({"state": "absent", "schedule_expression": None, "selections": []}, capsys)
    assert code == 0, out
    assert out["changed"] is True and out["plan"] is None
    stub.assert_no_pending_responses()


def test_a_delete_retried_after_a_lost_answer_finds_it_gone_and_succeeds(stub, capsys):
    """The first delete went through but its answer was lost; the retry is told the resource is gone."""
    plan(stub)
    selections(stub, WANTED_SELECTION)
    stub.add_client_error(
        "delete_restore_testing_selection",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"RestoreTestingPlanName": NAME, "RestoreTestingSelectionName": "databases"},
    )
    stub.add_client_error(
        "delete_restore_testing_plan",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"RestoreTestingPlanName": NAME},
    )
    code, out = run({"state": "absent", "schedule_expression": None, "selections": []}, capsys)
    assert code == 0, out
    assert out["changed"] is True and out["plan"] is None
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"schedule_expression": "cron(0 6 * * * *)"}, "schedule_expression 'cron(0 6 * * * *)' must have '?'"),
        ({"schedule_expression": "cron(61 6 ? * SUN *)"}, "minutes 61, outside 0-59"),
        ({"schedule_expression": "cron(0 6 ? * SUN)"}, "is not a schedule AWS Backup accepts"),
        ({"start_window_hours": 0}, "start_window_hours 0 is out of range. Allowed: 1 to 168"),
        (
            {"selections": [{**SELECTION_ARGS, "validation_window_hours": 200}]},
            "selections[databases].validation_window_hours 200 is out of range",
        ),
        (
            {
                "selections": [
                    {**SELECTION_ARGS, "protected_resource_arns": ["arn:aws:rds:us-east-1:123456789012:db:medcircledb"]}
                ]
            },
            "selections[databases] needs either protected_resource_arns or protected_resource_conditions "
            "(conditions only with * or no ARNs)",
        ),
        (
            {"selections": [{**SELECTION_ARGS, "iam_role_arn": "medcircle-backup-role"}]},
            "selections[databases].iam_role_arn medcircle-backup-role is not an IAM role ARN",
        ),
        ({"selections": [SELECTION_ARGS, SELECTION_ARGS]}, "selections databases is listed twice"),
    ],
)
def test_refused_before_any_call(stub, capsys, args, message):
    code, out = run(args, capsys)
    assert code == 1
    assert message in out["msg"], out["msg"]
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 6 ? * SUN *)",
        "cron(0 5 1 * ? *)",
        "cron(15 */6 ? * MON-FRI *)",
        "cron(0 0 L * ? *)",
        "cron(0 8 ? * 2#1 *)",
    ],
)
def test_schedules_aws_accepts_pass(expression):
    check_schedule(expression)


@pytest.mark.parametrize("expression", ["cron(0 6 ? * ? *)", "cron(0 6 1 * 1 *)", "cron(0 6 ? 13 * *)", "0 6 * * 0"])
def test_schedules_aws_refuses_fail(expression):
    with pytest.raises(ParameterError, match="schedule_expression"):
        check_schedule(expression)
