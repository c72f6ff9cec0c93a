"""medcircle.cloudops.iam_password_policy through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m medcircle.cloudops.iam_password_policy -a <json>` with the sandbox's
environment (AWS_ENDPOINT_URL and dummy credentials). The policy is read back with boto3, and the
sandbox's request log shows which AWS calls a run made: check mode and a rerun make no mutating call.
"""

import pytest
from playbook import run_module

MODULE = "medcircle.cloudops.iam_password_policy"

STRONG = {
    "minimum_length": 14,
    "require_uppercase": True,
    "require_lowercase": True,
    "require_numbers": True,
    "require_symbols": True,
    "allow_users_to_change": True,
    "max_age_days": 90,
    "reuse_prevention": 24,
}

STRONG_RESULT = {
    "minimum_password_length": 14,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "require_numbers": True,
    "require_symbols": True,
    "allow_users_to_change_password": True,
    "expire_passwords": True,
    "max_password_age": 90,
    "password_reuse_prevention": 24,
    "hard_expiry": False,
}


def mutating(sandbox):
    return [(r["service"], r["operation"]) for r in sandbox.requests(mutating=True)]


def policy(sandbox):
    iam = sandbox.client("iam")
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


@pytest.fixture
def weak_policy(clean_sandbox):
    """The as-assessed policy: 6 characters, no character classes, no expiry or reuse rules."""
    clean_sandbox.client("iam").update_account_password_policy(MinimumPasswordLength=6, AllowUsersToChangePassword=True)
    clean_sandbox.clear_requests()
    return clean_sandbox


def test_create_modify_idempotent_delete(clean_sandbox):
    sandbox = clean_sandbox
    assert policy(sandbox) is None

    # Check mode on an account without a policy: changed, a diff, no mutating call.
    result = run_module(sandbox, MODULE, STRONG, check=True, diff=True)
    assert result["changed"] is True
    assert result["password_policy"] == STRONG_RESULT
    assert result["diff"] == {"before": None, "after": STRONG_RESULT}
    assert "MinimumPasswordLength (no policy) -> 14" in result["changes"]
    assert sandbox.requests(service="iam", operation="GetAccountPasswordPolicy"), "the module did not reach the sandbox"
    assert mutating(sandbox) == []
    assert policy(sandbox) is None

    # For real: one UpdateAccountPasswordPolicy; boto3 reads back the policy.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, STRONG)
    assert result["changed"] is True
    assert "diff" not in result
    assert result["password_policy"] == STRONG_RESULT
    assert mutating(sandbox) == [("iam", "UpdateAccountPasswordPolicy")]
    current = policy(sandbox)
    assert current["MinimumPasswordLength"] == 14 and current["MaxPasswordAge"] == 90
    assert current["PasswordReusePrevention"] == 24 and current["AllowUsersToChangePassword"] is True
    assert all(current[k] for k in ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters"))
    assert current["RequireLowercaseCharacters"] is True and not current.get("HardExpiry")

    # Again, with the numbers as strings (as a template renders them): nothing to do, no mutating call.
    sandbox.clear_requests()
    again = dict(STRONG, minimum_length="14", max_age_days="90")
    result = run_module(sandbox, MODULE, again, diff=True)
    assert result["changed"] is False
    assert result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"] == STRONG_RESULT
    assert mutating(sandbox) == []

    # Modify one field and unset another: check mode first, then for real, then idempotent.
    change = dict(STRONG, minimum_length=16, reuse_prevention=0, hard_expiry=True)
    result = run_module(sandbox, MODULE, change, check=True, diff=True)
    assert result["changed"] is True
    assert result["changes"] == [
        "MinimumPasswordLength 14 -> 16",
        "PasswordReusePrevention 24 -> not set",
        "HardExpiry false -> true",
    ]
    assert result["diff"]["before"]["minimum_password_length"] == 14
    assert result["diff"]["after"]["password_reuse_prevention"] is None
    assert mutating(sandbox) == []
    assert policy(sandbox)["MinimumPasswordLength"] == 14

    result = run_module(sandbox, MODULE, change)
    assert result["changed"] is True
    assert mutating(sandbox) == [("iam", "UpdateAccountPasswordPolicy")]
    current = policy(sandbox)
    assert current["MinimumPasswordLength"] == 16 and current["HardExpiry"] is True
    assert not current.get("PasswordReusePrevention")
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, change)["changed"] is False
    assert mutating(sandbox) == []

    # Delete: check mode, for real, idempotent.
    result = run_module(sandbox, MODULE, {"state": "absent"}, check=True, diff=True)
    assert result["changed"] is True
    assert result["password_policy"] is None
    assert result["diff"]["after"] is None and result["diff"]["before"]["minimum_password_length"] == 16
    assert "MinimumPasswordLength 16 -> (no policy)" in result["changes"]
    assert mutating(sandbox) == []
    assert policy(sandbox) is not None

    result = run_module(sandbox, MODULE, {"state": "absent"})
    assert result["changed"] is True
    assert mutating(sandbox) == [("iam", "DeleteAccountPasswordPolicy")]
    assert policy(sandbox) is None
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, {"state": "absent"})
    assert result["changed"] is False and result["changes"] == []
    assert mutating(sandbox) == []


def test_weak_policy_is_strengthened_field_by_field(weak_policy):
    sandbox = weak_policy
    result = run_module(sandbox, MODULE, STRONG, check=True, diff=True)
    assert result["changed"] is True
    assert result["changes"] == [
        "MinimumPasswordLength 6 -> 14",
        "RequireUppercaseCharacters false -> true",
        "RequireLowercaseCharacters false -> true",
        "RequireNumbers false -> true",
        "RequireSymbols false -> true",
        "MaxPasswordAge not set -> 90",
        "PasswordReusePrevention not set -> 24",
    ]
    assert result["diff"]["before"]["max_password_age"] is None
    assert mutating(sandbox) == []
    assert policy(sandbox)["MinimumPasswordLength"] == 6

    result = run_module(sandbox, MODULE, STRONG)
    assert result["changed"] is True
    assert mutating(sandbox) == [("iam", "UpdateAccountPasswordPolicy")]
    assert policy(sandbox)["MinimumPasswordLength"] == 14


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"minimum_length": 5}, "minimum_length 5 is out of range. Allowed: a number of characters from 6 to 128"),
        ({"minimum_length": 129}, "minimum_length 129 is out of range"),
        ({"state": "present"}, "minimum_length is required when state is present"),
        ({"minimum_length": 14, "max_age_days": 1096}, "max_age_days 1096 is out of range. Allowed: a number of days"),
        ({"minimum_length": 14, "max_age_days": -1}, "max_age_days -1 is out of range"),
        ({"minimum_length": 14, "reuse_prevention": 25}, "reuse_prevention 25 is out of range. Allowed: a number"),
        ({"minimum_length": "fourteen"}, "minimum_length"),
    ],
)
def test_bad_input_fails_before_any_call(weak_policy, args, named):
    sandbox = weak_policy
    result = run_module(sandbox, MODULE, args)
    assert result["failed"] is True
    assert named in result["msg"], result["msg"]
    assert sandbox.requests(service="iam") == []
    assert policy(sandbox)["MinimumPasswordLength"] == 6


def test_zero_and_null_mean_not_set(weak_policy):
    sandbox = weak_policy
    base = {"minimum_length": 6, "allow_users_to_change": True}
    for unset in ({"max_age_days": 0, "reuse_prevention": 0}, {"max_age_days": None, "reuse_prevention": None}, {}):
        result = run_module(sandbox, MODULE, {**base, **unset})
        assert result["changed"] is False, (unset, result)
        assert result["password_policy"]["max_password_age"] is None
        assert result["password_policy"]["expire_passwords"] is False
    assert mutating(sandbox) == []
