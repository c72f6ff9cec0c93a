"""dlm_policy and dlm_policy_info through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import dlm_policy, dlm_policy_info

ROLE = "arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ARN = "arn:aws:dlm:us-east-1:123456789012:policy/policy-0123456789abcdef0"
ARGS = {
    "name": "medcircle-volumes",
    "execution_role_arn": ROLE,
    "target_tags": {"Backup": "daily"},
    "schedules": [
        {
            "name": "daily",
            "interval": 24,
            "times": ["03:00"],
            "retain_count": 14,
            "cross_region_copy": [{"target_region": "us-west-2", "cmk_arn": DR_KEY, "retain_interval": 14}],
        }
    ],
}
DETAILS = {
    "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
    "ResourceTypes": ["VOLUME"],
    "TargetTags": [{"Key": "Backup", "Value": "daily"}],
    "Schedules": [
        {
            "Name": "daily",
            "CopyTags": True,
            "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
            "RetainRule": {"Count": 14},
            "CrossRegionCopyRules": [
                {
                    "TargetRegion": "us-west-2",
                    "Encrypted": True,
                    "CopyTags": True,
                    "CmkArn": DR_KEY,
                    "RetainRule": {"Interval": 14, "IntervalUnit": "DAYS"},
                }
            ],
        }
    ],
}
OWNED = {"cloudops:dlm-policy": "medcircle-volumes"}


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra):
        requested.append((service, retry_decorator is not None))
        return aws.client(service, extra.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(module, args, capsys):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1"}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def policy(details=None, state="ENABLED", tags=None, description="cloudops medcircle-volumes"):
    # what AWS answers: its own defaults added (PolicyLanguage, Location) must not count as a difference
    answered = json.loads(json.dumps(details or DETAILS))
    answered["PolicyLanguage"] = "STANDARD"
    answered["Schedules"][0]["CreateRule"]["Location"] = "CLOUD"
    return {
        "PolicyId": "policy-0123456789abcdef0",
        "PolicyArn": ARN,
        "Description": description,
        "State": state,
        "ExecutionRoleArn": ROLE,
        "PolicyDetails": answered,
        "Tags": dict(tags if tags is not None else OWNED),
    }


def listed(aws, *policies):
    summaries = [
        {
            "PolicyId": p["PolicyId"],
            "Description": p["Description"],
            "State": p["State"],
            "Tags": p["Tags"],
            "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
        }
        for p in policies
    ]
    aws.stub("dlm", "us-east-1").add_response("get_lifecycle_policies", {"Policies": summaries}, {})
    for p in policies:
        if p["Tags"].get("cloudops:dlm-policy") == "medcircle-volumes":
            aws.stub("dlm", "us-east-1").add_response(
                "get_lifecycle_policy", {"Policy": p}, {"PolicyId": p["PolicyId"]}
            )


def test_create_with_owner_tag_and_encrypted_copy(aws, clients, capsys):
    foreign = policy(tags={"team": "other"})
    foreign["PolicyId"] = "policy-0000000000000000f"
    listed(aws, foreign)
    dlm = aws.stub("dlm", "us-east-1")
    dlm.add_response(
        "create_lifecycle_policy",
        {"PolicyId": "policy-0123456789abcdef0"},
        {
            "ExecutionRoleArn": ROLE,
            "Description": "cloudops medcircle-volumes",
            "State": "ENABLED",
            "PolicyDetails": DETAILS,
            "Tags": OWNED,
        },
    )
    dlm.add_response("get_lifecycle_policy", {"Policy": policy()}, {"PolicyId": "policy-0123456789abcdef0"})

    rc, result = run(dlm_policy, {**ARGS, "_ansible_diff": True}, capsys)

    assert rc == 0, result
    assert result["changed"] is True
    assert result["policy"]["policy_id"] == "policy-0123456789abcdef0"
    assert result["diff"]["before"] == {}
    assert clients == [("dlm", True)]


def test_unchanged_policy_is_not_updated(aws, clients, capsys):
    listed(aws, policy())
    rc, result = run(dlm_policy, ARGS, capsys)
    assert rc == 0, result
    assert result["changed"] is False


def test_update_sends_only_what_differs_and_check_mode_sends_nothing(aws, clients, capsys):
    args = {**ARGS, "enabled": False, "tags": {"owner": "ops"}}
    listed(aws, policy())
    rc, result = run(dlm_policy, {**args, "_ansible_check_mode": True, "_ansible_diff": True}, capsys)
    assert (rc, result["changed"]) == (0, True)
    assert result["diff"]["before"]["state"] == "ENABLED"
    assert result["diff"]["after"]["state"] == "DISABLED"

    listed(aws, policy())
    dlm = aws.stub("dlm", "us-east-1")
    dlm.add_response("update_lifecycle_policy", {}, {"PolicyId": "policy-0123456789abcdef0", "State": "DISABLED"})
    dlm.add_response("tag_resource", {}, {"ResourceArn": ARN, "Tags": {"owner": "ops"}})
    dlm.add_response(
        "get_lifecycle_policy", {"Policy": policy(state="DISABLED")}, {"PolicyId": "policy-0123456789abcdef0"}
    )
    rc, result = run(dlm_policy, args, capsys)
    assert (rc, result["changed"]) == (0, True)


def test_changed_schedule_sends_the_new_details(aws, clients, capsys):
    args = json.loads(json.dumps(ARGS))
    args["schedules"][0]["retain_count"] = 30
    wanted = json.loads(json.dumps(DETAILS))
    wanted["Schedules"][0]["RetainRule"] = {"Count": 30}
    listed(aws, policy())
    dlm = aws.stub("dlm", "us-east-1")
    dlm.add_response("update_lifecycle_policy", {}, {"PolicyId": "policy-0123456789abcdef0", "PolicyDetails": wanted})
    dlm.add_response("get_lifecycle_policy", {"Policy": policy(wanted)}, {"PolicyId": "policy-0123456789abcdef0"})
    rc, result = run(dlm_policy, args, capsys)
    assert (rc, result["changed"]) == (0, True)


def test_absent_deletes_only_the_owned_policy(aws, clients, capsys):
    foreign = policy(tags={})
    foreign["PolicyId"] = "policy-0000000000000000f"
    listed(aws, foreign, policy())
    aws.stub("dlm", "us-east-1").add_response("delete_lifecycle_policy", {}, {"PolicyId": "policy-0123456789abcdef0"})
    rc, result = run(dlm_policy, {"name": "medcircle-volumes", "state": "absent"}, capsys)
    assert (rc, result["changed"]) == (0, True)

    listed(aws, foreign)
    rc, result = run(dlm_policy, {"name": "medcircle-volumes", "state": "absent"}, capsys)
    assert (rc, result["changed"]) == (0, False)


def _schedule(**changes):
    args = json.loads(json.dumps(ARGS))
    args["schedules"][0].update(changes)
    return args


def _copy(**changes):
    args = json.loads(json.dumps(ARGS))
    args["schedules"][0]["cross_region_copy"][0].update(changes)
    return args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (_schedule(interval=5), "schedules[0].interval 5 is not an interval DLM accepts"),
        (_schedule(times=["3am"]), "schedules[0].times"),
        (_schedule(cron_expression="cron(0 3 * *)", interval=None, times=None), "is not a DLM cron expression"),
        (_schedule(interval=None, times=None), "must set exactly one of interval and cron_expression"),
        (_schedule(retain_count=0), "schedules[0].retain_count 0 is out of range"),
        (_schedule(retain_count=None), "schedules[0] has no retention"),
        (_copy(target_region="us-east-1"), "is the policy's own region"),
        (
            _copy(cmk_arn="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            "is a key in us-east-1, not in the target region us-west-2",
        ),
        (_copy(encrypted=False), "schedules[0].cross_region_copy[0].encrypted"),
        ({**ARGS, "execution_role_arn": "my-role"}, "execution_role_arn my-role is not an IAM role ARN"),
        ({**ARGS, "target_tags": {"aws:x": "y"}}, "target_tags aws:x is a reserved tag key"),
    ],
)
def test_bad_options_fail_before_any_call(aws, clients, capsys, args, message):
    rc, result = run(dlm_policy, args, capsys)
    assert rc == 1
    assert message in result["msg"]


def test_two_owned_policies_are_reported(aws, clients, capsys):
    second = policy()
    second["PolicyId"] = "policy-0123456789abcdef1"
    listed(aws, policy(), second)
    rc, result = run(dlm_policy, ARGS, capsys)
    assert rc == 1
    assert "more than one DLM policy" in result["msg"]


def test_info_lists_the_owned_policy(aws, clients, capsys):
    listed(aws, policy())
    rc, result = run(dlm_policy_info, {"name": "medcircle-volumes"}, capsys)
    assert rc == 0
    (found,) = result["policies"]
    assert found["policy_details"]["Schedules"][0]["RetainRule"] == {"Count": 14}
    assert found["tags"] == OWNED


def test_throttled_read_is_retried(aws, clients, capsys):
    aws.stub("dlm", "us-east-1").add_client_error(
        "get_lifecycle_policies", service_error_code="Throttling", http_status_code=400
    )
    listed(aws, policy())
    rc, result = run(dlm_policy, ARGS, capsys)
    assert rc == 0, result
    assert result["changed"] is False
