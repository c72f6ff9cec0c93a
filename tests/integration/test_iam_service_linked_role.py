"""medcircle.cloudops.iam_service_linked_role through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m medcircle.cloudops.iam_service_linked_role -a <json>` with the sandbox's
environment. The roles are read back with boto3, and the sandbox's request log shows which AWS calls a run made:
check mode and a rerun make no mutating call, and bad input makes no call at all.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from playbook import run_module

MODULE = "medcircle.cloudops.iam_service_linked_role"
SERVICE = "autoscaling.amazonaws.com"
PATH = f"/aws-service-role/{SERVICE}/"
# The name AWS gives Auto Scaling's service-linked role (the sandbox gives the same).
ROLE_NAME = "AWSServiceRoleForAutoScaling"
ROLE_ARN = f"arn:aws:iam::123456789012:role{PATH}{ROLE_NAME}"


def mutating(sandbox):
    return [(r["service"], r["operation"]) for r in sandbox.requests(mutating=True)]


def linked_roles(sandbox):
    """Role name -> role, for every role under Auto Scaling's service-linked role path."""
    roles = sandbox.client("iam").list_roles(PathPrefix=PATH)["Roles"]
    return {role["RoleName"]: role for role in roles}


def test_create_check_mode_and_idempotent(clean_sandbox):
    sandbox = clean_sandbox
    assert linked_roles(sandbox) == {}

    # Check mode on a missing role: changed, nothing to return yet, only a look-up.
    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE}, check=True, diff=True)
    assert result["changed"] is True
    assert result["role"] == {}
    assert result["arn"] is None
    assert "would be created" in result["msg"] and SERVICE in result["msg"]
    assert result["diff"] == {"before": {}, "after": {"path": PATH}}
    assert sandbox.requests(service="iam", operation="ListRoles"), "the module did not reach the sandbox"
    assert mutating(sandbox) == []
    assert linked_roles(sandbox) == {}

    # For real: one CreateServiceLinkedRole; the role is named by AWS and lives under the service's path.
    sandbox.clear_requests()
    description = "Launches the fleet's instances"
    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE, "description": description})
    assert result["changed"] is True
    assert "diff" not in result
    assert mutating(sandbox) == [("iam", "CreateServiceLinkedRole")]
    role = result["role"]
    assert role["role_name"] == ROLE_NAME
    assert role["path"] == PATH
    assert role["arn"] == result["arn"] == ROLE_ARN
    assert role["description"] == description
    assert role["role_id"].startswith("AROA")
    assert role["create_date"][:4].isdigit()
    assert set(role) == {"arn", "role_name", "path", "role_id", "create_date", "description"}
    roles = linked_roles(sandbox)
    assert list(roles) == [ROLE_NAME]
    assert roles[ROLE_NAME]["Arn"] == ROLE_ARN
    assert roles[ROLE_NAME]["RoleId"] == role["role_id"]

    # Again: nothing to do, only a look-up; a description on an existing role is not applied.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE, "description": "another"}, diff=True)
    assert result["changed"] is False
    assert result["arn"] == ROLE_ARN
    assert result["role"] == role
    assert result["diff"] == {"before": role, "after": role}
    assert "exists" in result["msg"]
    assert [r["operation"] for r in sandbox.requests()] == ["ListRoles"]
    assert linked_roles(sandbox)[ROLE_NAME]["Description"] == description

    # Check mode on the existing role: not changed, the role is returned.
    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE}, check=True)
    assert result["changed"] is False
    assert result["arn"] == ROLE_ARN
    assert mutating(sandbox) == []


def test_custom_suffix_makes_a_second_role(clean_sandbox):
    sandbox = clean_sandbox
    first = run_module(sandbox, MODULE, {"aws_service_name": SERVICE})
    assert first["changed"] is True and first["arn"] == ROLE_ARN

    fleet = {"aws_service_name": SERVICE, "custom_suffix": "fleet"}
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, fleet, check=True)
    assert result["changed"] is True and result["arn"] is None
    assert "with the suffix fleet does not exist and would be created" in result["msg"]
    assert mutating(sandbox) == []

    result = run_module(sandbox, MODULE, fleet)
    assert result["changed"] is True
    assert result["role"]["role_name"] == f"{ROLE_NAME}_fleet"
    assert result["arn"] == f"{ROLE_ARN}_fleet" != first["arn"]
    assert result["role"]["role_id"] != first["role"]["role_id"]
    assert mutating(sandbox) == [("iam", "CreateServiceLinkedRole")]
    assert sorted(linked_roles(sandbox)) == [ROLE_NAME, f"{ROLE_NAME}_fleet"]

    # Each lookup finds its own role; neither creates anything.
    sandbox.clear_requests()
    again = run_module(sandbox, MODULE, fleet)
    assert again["changed"] is False and again["arn"] == f"{ROLE_ARN}_fleet"
    plain = run_module(sandbox, MODULE, {"aws_service_name": SERVICE})
    assert plain["changed"] is False and plain["arn"] == ROLE_ARN
    assert plain["role"] == first["role"]
    assert mutating(sandbox) == []


def test_suffixed_role_is_not_taken_for_the_usual_one(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.client("iam").create_service_linked_role(AWSServiceName=SERVICE, CustomSuffix="fleet")
    sandbox.clear_requests()

    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE}, check=True)
    assert result["changed"] is True and result["arn"] is None
    assert mutating(sandbox) == []

    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE})
    assert result["changed"] is True and result["arn"] == ROLE_ARN
    assert sorted(linked_roles(sandbox)) == [ROLE_NAME, f"{ROLE_NAME}_fleet"]


def test_role_created_by_another_run_at_the_same_moment(clean_sandbox):
    """The role appears between the module's look-up and its creation: the module returns it, unchanged."""
    sandbox = clean_sandbox
    # The module's CreateServiceLinkedRole waits 5 s in the sandbox before it is answered; meanwhile "another
    # run" (boto3 here) creates the role.
    sandbox.set_faults([{"service": "iam", "operation": "CreateServiceLinkedRole", "delay_seconds": 5, "count": 1}])
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_module, sandbox, MODULE, {"aws_service_name": SERVICE})
        deadline = time.monotonic() + 120
        while not sandbox.requests(operation="CreateServiceLinkedRole"):
            assert time.monotonic() < deadline, "the module never called CreateServiceLinkedRole"
            assert not running.done(), running.result()
            time.sleep(0.1)
        other = sandbox.client("iam").create_service_linked_role(AWSServiceName=SERVICE)["Role"]
        result = running.result()

    assert result["failed"] is False, result["msg"]
    assert result["changed"] is False
    assert result["arn"] == other["Arn"] == ROLE_ARN
    assert result["role"]["role_id"] == other["RoleId"]
    assert "name is taken" in result["msg"]
    assert list(linked_roles(sandbox)) == [ROLE_NAME]


def test_name_taken_by_a_role_elsewhere_fails(clean_sandbox):
    """A role of the service-linked role's name outside its path is not mistaken for it."""
    sandbox = clean_sandbox
    sandbox.client("iam").create_role(RoleName=ROLE_NAME, Path="/", AssumeRolePolicyDocument="{}")
    sandbox.clear_requests()

    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE})
    assert result["failed"] is True
    assert f"IAM answered that the name of the service-linked role of {SERVICE} ({ROLE_NAME}) is taken" in result["msg"]
    assert f"aws iam get-role --role-name {ROLE_NAME}" in result["msg"]
    assert linked_roles(sandbox) == {}


def test_throttled_calls_are_retried(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.set_faults(
        [
            {"service": "iam", "operation": "ListRoles", "throttle_rate": 1, "count": 2},
            {"service": "iam", "operation": "CreateServiceLinkedRole", "throttle_rate": 1, "count": 2},
        ]
    )
    result = run_module(sandbox, MODULE, {"aws_service_name": SERVICE})
    assert result["changed"] is True and result["arn"] == ROLE_ARN
    assert len(sandbox.requests(operation="CreateServiceLinkedRole", fault=True)) == 2
    assert list(linked_roles(sandbox)) == [ROLE_NAME]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            {"aws_service_name": "autoscaling"},
            "aws_service_name 'autoscaling' is not an AWS service principal. Allowed:",
        ),
        ({"aws_service_name": "AutoScaling.amazonaws.com"}, "aws_service_name 'AutoScaling.amazonaws.com' is not"),
        ({"aws_service_name": "autoscaling.amazonaws.com.evil"}, "aws_service_name 'autoscaling.amazonaws.com.evil'"),
        ({"aws_service_name": "arn:aws:iam::aws:autoscaling"}, "ending in .amazonaws.com"),
        ({"aws_service_name": ""}, "aws_service_name '' is not an AWS service principal"),
        (
            {"aws_service_name": SERVICE, "custom_suffix": "my fleet"},
            "custom_suffix 'my fleet' is not allowed. Allowed: 1 to 64 letters, digits",
        ),
        ({"aws_service_name": SERVICE, "custom_suffix": "my_fleet"}, "custom_suffix 'my_fleet' is not allowed"),
        ({"aws_service_name": SERVICE, "custom_suffix": "x" * 65}, "custom_suffix 'xxxxx"),
        ({"aws_service_name": SERVICE, "description": "d" * 1001}, "description is not allowed (1001 characters)"),
        ({"custom_suffix": "fleet"}, "missing required arguments: aws_service_name"),
    ],
)
def test_bad_input_fails_before_any_call(clean_sandbox, args, named):
    sandbox = clean_sandbox
    result = run_module(sandbox, MODULE, args)
    assert result["failed"] is True
    assert named in result["msg"], result["msg"]
    assert sandbox.requests() == []
    assert linked_roles(sandbox) == {}
