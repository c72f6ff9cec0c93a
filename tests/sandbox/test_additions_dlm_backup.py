"""Data Lifecycle Manager policies and AWS Backup selections: the dlm and backup_selections additions,
through real boto3 clients."""

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
DETAILS = {
    "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
    "ResourceTypes": ["INSTANCE"],
    "TargetTags": [{"Key": "Backup", "Value": "daily"}],
    "Schedules": [
        {
            "Name": "daily",
            "CopyTags": True,
            "TagsToAdd": [{"Key": "SnapshotOf", "Value": "app"}],
            "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
            "RetainRule": {"Count": 14},
            "CrossRegionCopyRules": [
                {"TargetRegion": "us-west-2", "Encrypted": True, "RetainRule": {"Interval": 14, "IntervalUnit": "DAYS"}}
            ],
        }
    ],
}
VOLUME_DETAILS = {
    "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
    "ResourceTypes": ["VOLUME"],
    "TargetTags": [{"Key": "Tier", "Value": "data"}],
    "Schedules": [
        {"Name": "hourly", "CreateRule": {"CronExpression": "cron(0 * * * ? *)"}, "RetainRule": {"Count": 3}}
    ],
}


def _role(sandbox, name, service):
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    iam = sandbox.client("iam")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _error(raised):
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- DLM ------------------------------------------------------------------------------------------------


@pytest.fixture
def dlm_role(clean_sandbox):
    return _role(clean_sandbox, "dlm-role", "dlm.amazonaws.com")


def test_lifecycle_policy_create_get_list_update_delete(clean_sandbox, dlm_role):
    dlm = clean_sandbox.client("dlm")
    assert dlm.get_lifecycle_policies()["Policies"] == []
    policy_id = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role,
        Description="daily instance snapshots",
        State="ENABLED",
        PolicyDetails=DETAILS,
        Tags={"Project": "medcircle"},
    )["PolicyId"]
    assert policy_id.startswith("policy-") and len(policy_id) == len("policy-") + 17
    int(policy_id[len("policy-") :], 16)

    policy = dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]
    assert policy["PolicyArn"] == f"arn:aws:dlm:us-east-1:{ACCOUNT}:policy/{policy_id}"
    assert (policy["State"], policy["StatusMessage"]) == ("ENABLED", "ENABLED")
    assert policy["ExecutionRoleArn"] == dlm_role
    assert policy["Description"] == "daily instance snapshots"
    assert policy["PolicyDetails"] == DETAILS
    assert policy["Tags"] == {"Project": "medcircle"}
    assert policy["DefaultPolicy"] is False
    assert policy["DateCreated"] == policy["DateModified"]

    (summary,) = dlm.get_lifecycle_policies()["Policies"]
    assert summary == {
        "PolicyId": policy_id,
        "Description": "daily instance snapshots",
        "State": "ENABLED",
        "Tags": {"Project": "medcircle"},
        "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
        "DefaultPolicy": False,
    }

    dlm.update_lifecycle_policy(PolicyId=policy_id, State="DISABLED", Description="paused")
    updated = dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]
    assert (updated["State"], updated["StatusMessage"], updated["Description"]) == ("DISABLED", "DISABLED", "paused")
    assert updated["PolicyDetails"] == DETAILS
    assert updated["DateModified"] > updated["DateCreated"]
    dlm.update_lifecycle_policy(PolicyId=policy_id, PolicyDetails=VOLUME_DETAILS)
    assert dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]["PolicyDetails"] == VOLUME_DETAILS

    dlm.delete_lifecycle_policy(PolicyId=policy_id)
    assert dlm.get_lifecycle_policies()["Policies"] == []
    with pytest.raises(ClientError) as raised:
        dlm.get_lifecycle_policy(PolicyId=policy_id)
    assert _error(raised) == ("ResourceNotFoundException", 404)

    logged = {(e["operation"], e["mutating"]) for e in clean_sandbox.requests(service="dlm")}
    assert {("CreateLifecyclePolicy", True), ("GetLifecyclePolicies", False), ("DeleteLifecyclePolicy", True)} <= logged


def test_lifecycle_policy_filters(clean_sandbox, dlm_role):
    dlm = clean_sandbox.client("dlm")
    daily = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role, Description="daily", State="ENABLED", PolicyDetails=DETAILS
    )["PolicyId"]
    hourly = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role, Description="hourly", State="DISABLED", PolicyDetails=VOLUME_DETAILS
    )["PolicyId"]
    default = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role, Description="default", State="ENABLED", DefaultPolicy="VOLUME", RetainInterval=14
    )["PolicyId"]

    def ids(**filters):
        return {p["PolicyId"] for p in dlm.get_lifecycle_policies(**filters)["Policies"]}

    assert ids() == {daily, hourly, default}
    assert ids(PolicyIds=[hourly]) == {hourly}
    assert ids(State="ENABLED") == {daily, default}
    assert ids(State="DISABLED") == {hourly}
    assert ids(ResourceTypes=["INSTANCE"]) == {daily}
    assert ids(ResourceTypes=["VOLUME"]) == {hourly, default}
    assert ids(TargetTags=["Backup=daily"]) == {daily}
    assert ids(TargetTags=["Tier=data", "Backup=daily"]) == {daily, hourly}
    assert ids(TargetTags=["Backup=weekly"]) == set()
    assert ids(TagsToAdd=["SnapshotOf=app"]) == {daily}
    assert ids(DefaultPolicyType="VOLUME") == {default}
    assert ids(DefaultPolicyType="ALL") == {default}
    assert ids(DefaultPolicyType="INSTANCE") == set()
    details = dlm.get_lifecycle_policy(PolicyId=default)["Policy"]["PolicyDetails"]
    assert (details["ResourceType"], details["RetainInterval"], details["PolicyLanguage"]) == (
        "VOLUME",
        14,
        "SIMPLIFIED",
    )

    with pytest.raises(ClientError) as raised:
        dlm.get_lifecycle_policies(PolicyIds=["policy-0123456789abcdef0"])
    assert _error(raised) == ("ResourceNotFoundException", 404)
    # policies are regional
    assert clean_sandbox.client("dlm", region="eu-west-1").get_lifecycle_policies()["Policies"] == []


def test_lifecycle_policy_validation(clean_sandbox, dlm_role):
    dlm = clean_sandbox.client("dlm")
    missing_role = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    for bad in (
        {"ExecutionRoleArn": missing_role, "State": "ENABLED", "PolicyDetails": DETAILS},
        {"ExecutionRoleArn": "not-an-arn", "State": "ENABLED", "PolicyDetails": DETAILS},
        {"ExecutionRoleArn": dlm_role, "State": "ERROR", "PolicyDetails": DETAILS},
        {"ExecutionRoleArn": dlm_role, "State": "ENABLED"},
        {
            "ExecutionRoleArn": dlm_role,
            "State": "ENABLED",
            "PolicyDetails": {k: v for k, v in DETAILS.items() if k != "TargetTags"},
        },
        {"ExecutionRoleArn": dlm_role, "State": "ENABLED", "PolicyDetails": DETAILS, "Tags": {"aws:x": "y"}},
    ):
        with pytest.raises(ClientError) as raised:
            dlm.create_lifecycle_policy(Description="bad", **bad)
        assert _error(raised) == ("InvalidRequestException", 400), bad
    with pytest.raises(ClientError) as raised:
        dlm.create_lifecycle_policy(
            ExecutionRoleArn=dlm_role, Description="not: allowed!", State="ENABLED", PolicyDetails=DETAILS
        )
    assert _error(raised) == ("InvalidRequestException", 400)
    assert dlm.get_lifecycle_policies()["Policies"] == []

    policy_id = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role, Description="ok", State="ENABLED", PolicyDetails=DETAILS
    )["PolicyId"]
    with pytest.raises(ClientError) as raised:
        dlm.update_lifecycle_policy(PolicyId=policy_id, ExecutionRoleArn=missing_role)
    assert _error(raised) == ("InvalidRequestException", 400)
    with pytest.raises(ClientError) as raised:
        dlm.update_lifecycle_policy(PolicyId=policy_id, State="ERROR")
    assert _error(raised) == ("InvalidRequestException", 400)
    assert dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]["ExecutionRoleArn"] == dlm_role
    for call in (dlm.update_lifecycle_policy, dlm.delete_lifecycle_policy):
        with pytest.raises(ClientError) as raised:
            call(PolicyId="policy-00000000000000000")
        assert _error(raised) == ("ResourceNotFoundException", 404)


def test_lifecycle_policy_tags(clean_sandbox, dlm_role):
    dlm = clean_sandbox.client("dlm")
    policy_id = dlm.create_lifecycle_policy(
        ExecutionRoleArn=dlm_role, Description="tagged", State="ENABLED", PolicyDetails=DETAILS, Tags={"A": "1"}
    )["PolicyId"]
    arn = dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]["PolicyArn"]
    dlm.tag_resource(ResourceArn=arn, Tags={"B": "2", "A": "one"})
    assert dlm.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"A": "one", "B": "2"}
    dlm.untag_resource(ResourceArn=arn, TagKeys=["A", "missing"])
    assert dlm.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"B": "2"}
    assert dlm.get_lifecycle_policy(PolicyId=policy_id)["Policy"]["Tags"] == {"B": "2"}
    assert dlm.get_lifecycle_policies()["Policies"][0]["Tags"] == {"B": "2"}

    gone = f"arn:aws:dlm:us-east-1:{ACCOUNT}:policy/policy-00000000000000000"
    with pytest.raises(ClientError) as raised:
        dlm.list_tags_for_resource(ResourceArn=gone)
    assert _error(raised) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as raised:
        dlm.tag_resource(ResourceArn=arn, Tags={"aws:reserved": "x"})
    assert _error(raised) == ("InvalidRequestException", 400)


# --- Backup selections -----------------------------------------------------------------------------------


@pytest.fixture
def plan(clean_sandbox):
    role = _role(clean_sandbox, "backup-role", "backup.amazonaws.com")
    backup = clean_sandbox.client("backup")
    backup.create_backup_vault(BackupVaultName="vault")
    plan_id = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "plan",
            "Rules": [
                {"RuleName": "daily", "TargetBackupVaultName": "vault", "ScheduleExpression": "cron(0 5 * * ? *)"}
            ],
        }
    )["BackupPlanId"]
    return plan_id, role


def _by_tag(role, name="tagged-daily"):
    return {
        "SelectionName": name,
        "IamRoleArn": role,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Backup", "ConditionValue": "daily"}],
    }


def test_backup_selection_create_get_list_delete(clean_sandbox, plan):
    plan_id, role = plan
    backup = clean_sandbox.client("backup")
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    created = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=_by_tag(role), CreatorRequestId="req-1"
    )
    assert created["BackupPlanId"] == plan_id
    selection_id = created["SelectionId"]
    # the same request again answers the same selection
    assert (
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_by_tag(role), CreatorRequestId="req-1")[
            "SelectionId"
        ]
        == selection_id
    )

    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"] == _by_tag(role)
    assert (got["SelectionId"], got["BackupPlanId"], got["CreatorRequestId"]) == (selection_id, plan_id, "req-1")
    assert got["CreationDate"] == created["CreationDate"]

    (member,) = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert member["SelectionId"] == selection_id and member["SelectionName"] == "tagged-daily"
    assert member["IamRoleArn"] == role and member["BackupPlanId"] == plan_id

    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as raised:
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert _error(raised) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert _error(raised) == ("ResourceNotFoundException", 400)


def test_backup_selections_paginate(clean_sandbox, plan):
    plan_id, role = plan
    backup = clean_sandbox.client("backup")
    made = [
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_by_tag(role, f"sel-{n}"))["SelectionId"]
        for n in range(5)
    ]
    first = backup.list_backup_selections(BackupPlanId=plan_id, MaxResults=2)
    assert len(first["BackupSelectionsList"]) == 2 and first["NextToken"]
    pages = backup.get_paginator("list_backup_selections").paginate(
        BackupPlanId=plan_id, PaginationConfig={"PageSize": 2}
    )
    seen = [m["SelectionId"] for page in pages for m in page["BackupSelectionsList"]]
    assert sorted(seen) == sorted(made) and len(seen) == 5
    with pytest.raises(ClientError) as raised:
        backup.list_backup_selections(BackupPlanId=plan_id, NextToken="bogus")
    assert _error(raised) == ("InvalidParameterValueException", 400)


def test_backup_selection_errors(clean_sandbox, plan):
    plan_id, role = plan
    backup = clean_sandbox.client("backup")
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as raised:
        backup.create_backup_selection(BackupPlanId=unknown, BackupSelection=_by_tag(role))
    assert _error(raised) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        backup.list_backup_selections(BackupPlanId=unknown)
    assert _error(raised) == ("ResourceNotFoundException", 400)
    for bad in (
        _by_tag(f"arn:aws:iam::{ACCOUNT}:role/no-such-role"),
        _by_tag("not-an-arn"),
        _by_tag(role, "spaces are not allowed"),
        {"SelectionName": "nothing", "IamRoleArn": role},
        {
            "SelectionName": "bad-condition",
            "IamRoleArn": role,
            "ListOfTags": [{"ConditionType": "LIKE", "ConditionKey": "Backup", "ConditionValue": "daily"}],
        },
    ):
        with pytest.raises(ClientError) as raised:
            backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=bad)
        assert _error(raised) == ("InvalidParameterValueException", 400), bad
    # a deleted plan takes no selections
    backup.delete_backup_plan(BackupPlanId=plan_id)
    with pytest.raises(ClientError) as raised:
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_by_tag(role))
    assert _error(raised) == ("ResourceNotFoundException", 400)


def test_reset_forgets_policies_and_selections(clean_sandbox, dlm_role, plan):
    plan_id, role = plan
    clean_sandbox.client("backup").create_backup_selection(BackupPlanId=plan_id, BackupSelection=_by_tag(role))
    dlm = clean_sandbox.client("dlm")
    dlm.create_lifecycle_policy(ExecutionRoleArn=dlm_role, Description="x", State="ENABLED", PolicyDetails=DETAILS)
    clean_sandbox.reset("empty")
    assert all(item["calls"] == 0 for item in clean_sandbox.additions() if item["service"] in ("dlm", "backup"))
    assert dlm.get_lifecycle_policies()["Policies"] == []
    # the plan is gone with moto's state; a new plan of the same name starts without selections
    role = _role(clean_sandbox, "backup-role", "backup.amazonaws.com")
    backup = clean_sandbox.client("backup")
    backup.create_backup_vault(BackupVaultName="vault")
    new_plan = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": "plan", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "vault"}]}
    )["BackupPlanId"]
    assert backup.list_backup_selections(BackupPlanId=new_plan)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as raised:
        backup.list_backup_selections(BackupPlanId=plan_id)
    assert _error(raised) == ("ResourceNotFoundException", 400)
