"""The iam_service_last_accessed_info module: the proposal it derives from IAM's answer, its input checks,
and its job handling (every job started before any is read; in-progress jobs polled; pages followed),
driven through main() with a stubbed IAM client."""

import datetime
from types import SimpleNamespace

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import iam_service_last_accessed_info as module
from module_run import run_module

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)
ROLE = "arn:aws:iam::123456789012:role/app-server"
GROUP = "arn:aws:iam::123456789012:group/developers"
JOB_ROLE = "4fae3ce1-5c2b-4e4f-9f0a-1f3c6a3c2f15"
JOB_GROUP = "0b6c2a77-1d8e-4c0f-8d8e-6a0f3e9b1c42"
CREATED = datetime.datetime(2026, 12, 2, 11, 59, tzinfo=datetime.UTC)


def days_ago(n):
    return NOW - datetime.timedelta(days=n)


SERVICES = [
    {
        "ServiceName": "Amazon S3",
        "ServiceNamespace": "s3",
        "LastAuthenticated": days_ago(2),
        "LastAuthenticatedRegion": "us-east-1",
        "LastAuthenticatedEntity": ROLE,
        "TotalAuthenticatedEntities": 1,
        "TrackedActionsLastAccessed": [
            {"ActionName": "PutObject", "LastAccessedTime": days_ago(200), "LastAccessedRegion": "us-east-1"},
            {"ActionName": "GetObject", "LastAccessedTime": days_ago(2), "LastAccessedRegion": "us-east-1"},
        ],
    },
    {
        "ServiceName": "AWS Systems Manager",
        "ServiceNamespace": "ssm",
        "LastAuthenticated": days_ago(10),
        "LastAuthenticatedRegion": "us-west-2",
        "LastAuthenticatedEntity": ROLE,
        "TotalAuthenticatedEntities": 1,
    },
    {"ServiceName": "AWS Key Management Service", "ServiceNamespace": "kms"},
    {
        "ServiceName": "Amazon DynamoDB",
        "ServiceNamespace": "dynamodb",
        "LastAuthenticated": days_ago(120),
        "LastAuthenticatedRegion": "us-east-1",
        "LastAuthenticatedEntity": ROLE,
        "TotalAuthenticatedEntities": 1,
    },
]


def test_summary_proposes_only_what_was_used_in_the_period():
    out = module.summarise(ROLE, "job-1", SERVICES, 90, NOW)
    assert (out["kind"], out["name"], out["job_id"]) == ("role", "app-server", "job-1")
    assert [s["namespace"] for s in out["services"]] == ["dynamodb", "kms", "s3", "ssm"]
    assert out["used_services"] == ["s3", "ssm"]
    assert out["unused_services"] == ["dynamodb", "kms"]
    # S3's actions are tracked: only the action used within 90 days; SSM's are not: the service
    assert out["proposed_actions"] == ["s3:GetObject", "ssm:*"]
    assert out["proposed_policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "UsedActions", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
            {"Sid": "UsedServices", "Effect": "Allow", "Action": ["ssm:*"], "Resource": "*"},
        ],
    }
    s3 = out["services"][2]
    assert s3["last_used"] == days_ago(2).isoformat() and s3["region"] == "us-east-1" and s3["used_by"] == ROLE
    assert [(a["action"], a["used_recently"]) for a in s3["actions"]] == [("GetObject", True), ("PutObject", False)]
    kms = out["services"][1]
    assert (kms["last_used"], kms["used_recently"], kms["used_by_count"], kms["actions"]) == (None, False, 0, [])


def test_a_longer_period_keeps_more():
    out = module.summarise(ROLE, "job-1", SERVICES, 365, NOW)
    assert out["used_services"] == ["dynamodb", "s3", "ssm"]
    assert out["proposed_actions"] == ["s3:GetObject", "s3:PutObject", "dynamodb:*", "ssm:*"]


def test_nothing_used_proposes_nothing():
    out = module.summarise(GROUP, "job-2", [{"ServiceName": "Amazon EC2", "ServiceNamespace": "ec2"}], 90, NOW)
    assert out["kind"] == "group" and out["used_services"] == [] and out["unused_services"] == ["ec2"]
    assert out["proposed_policy"] is None and out["proposed_actions"] == []


@pytest.mark.parametrize(
    ("arn", "kind", "name"),
    [
        ("arn:aws:iam::123456789012:user/ops/alice", "user", "alice"),
        (
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            "policy",
            "AWSBackupServiceRolePolicyForBackup",
        ),
        ("arn:aws-us-gov:iam::123456789012:policy/MedCircleDevelopers", "policy", "MedCircleDevelopers"),
    ],
)
def test_arns_of_every_kind(arn, kind, name):
    out = module.summarise(arn, "j", [], 90, NOW)
    assert (out["kind"], out["name"]) == (kind, name)


@pytest.fixture
def iam(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule, "client", lambda self, service, retry_decorator=None, **kw: aws.client(service, "us-east-1")
    )
    monkeypatch.setattr(module, "POLL_SECONDS", 0)
    return aws.stub("iam", "us-east-1")


def run(args, capsys):
    return run_module(module.main, args, capsys)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"arns": ["app-server"]}, "arns must be ARNs of IAM users, groups, roles or managed policies"),
        ({"arns": ["arn:aws:s3:::bucket"]}, "not: 'arn:aws:s3:::bucket'"),
        ({"arns": [ROLE], "days": 0}, "days must be from 1 to 400"),
        ({"arns": [ROLE], "days": 401}, "days must be from 1 to 400"),
        ({"arns": [ROLE], "wait_timeout": 0}, "wait_timeout must be at least 1 second"),
    ],
)
def test_bad_input_is_refused_before_any_call(iam, capsys, args, message):
    rc, out = run(args, capsys)  # no response stubbed: any call would fail the test differently
    assert rc == 1 and message in out["msg"] and "Nothing was read" in out["msg"]


def test_starts_every_job_then_polls_and_follows_pages(iam, capsys):
    iam.add_response(
        "generate_service_last_accessed_details", {"JobId": JOB_ROLE}, {"Arn": ROLE, "Granularity": "ACTION_LEVEL"}
    )
    iam.add_response(
        "generate_service_last_accessed_details", {"JobId": JOB_GROUP}, {"Arn": GROUP, "Granularity": "ACTION_LEVEL"}
    )
    common = {"JobCreationDate": CREATED, "JobCompletionDate": CREATED, "JobType": "ACTION_LEVEL"}
    iam.add_response(
        "get_service_last_accessed_details",
        dict(common, JobStatus="COMPLETED", ServicesLastAccessed=SERVICES[:2], IsTruncated=True, Marker="m1"),
        {"JobId": JOB_ROLE, "MaxItems": 1000},
    )
    iam.add_response(
        "get_service_last_accessed_details",
        dict(common, JobStatus="COMPLETED", ServicesLastAccessed=SERVICES[2:], IsTruncated=False),
        {"JobId": JOB_ROLE, "MaxItems": 1000, "Marker": "m1"},
    )
    iam.add_response(
        "get_service_last_accessed_details",
        dict(common, JobStatus="IN_PROGRESS", ServicesLastAccessed=[]),
        {"JobId": JOB_GROUP, "MaxItems": 1000},
    )
    iam.add_response(
        "get_service_last_accessed_details",
        dict(common, JobStatus="COMPLETED", ServicesLastAccessed=[SERVICES[2]], IsTruncated=False),
        {"JobId": JOB_GROUP, "MaxItems": 1000},
    )
    rc, out = run({"arns": [ROLE, GROUP, ROLE]}, capsys)
    assert rc == 0 and out["changed"] is False and out["days"] == 90
    role, group = out["identities"]
    assert role["arn"] == ROLE and len(role["services"]) == 4
    assert group["arn"] == GROUP and [s["namespace"] for s in group["services"]] == ["kms"]


def test_a_failed_job_names_the_identity(iam, capsys):
    iam.add_response(
        "generate_service_last_accessed_details", {"JobId": JOB_ROLE}, {"Arn": ROLE, "Granularity": "SERVICE_LEVEL"}
    )
    iam.add_response(
        "get_service_last_accessed_details",
        {
            "JobStatus": "FAILED",
            "JobCreationDate": CREATED,
            "JobCompletionDate": CREATED,
            "ServicesLastAccessed": [],
            "Error": {"Message": "internal error", "Code": "x"},
        },
        {"JobId": JOB_ROLE, "MaxItems": 1000},
    )
    rc, out = run({"arns": [ROLE], "granularity": "service"}, capsys)
    assert rc == 1 and ROLE in out["msg"] and "internal error" in out["msg"]


def test_unknown_identity_says_what_to_do(iam, capsys):
    iam.add_client_error("generate_service_last_accessed_details", "NoSuchEntity", "not found", 404)
    rc, out = run({"arns": [ROLE]}, capsys)
    assert rc == 1 and f"IAM has no {ROLE}" in out["msg"] and "list the identities again" in out["msg"]


def _used(namespace, actions=None):
    svc = {
        "ServiceName": namespace,
        "ServiceNamespace": namespace,
        "LastAuthenticated": days_ago(1),
        "LastAuthenticatedRegion": "us-east-1",
        "LastAuthenticatedEntity": ROLE,
        "TotalAuthenticatedEntities": 1,
    }
    if actions is not None:
        svc["TrackedActionsLastAccessed"] = [
            {"ActionName": a, "LastAccessedTime": days_ago(1), "LastAccessedRegion": "us-east-1"} for a in actions
        ]
    return svc


def test_dangerous_whole_services_are_left_for_the_owner_to_name():
    services = [_used("sts"), _used("kms"), _used("iam", []), _used("ssm"), _used("secretsmanager")]
    out = module.summarise(ROLE, "job-1", services, 90, NOW)
    assert out["proposed_actions"] == ["ssm:*"]
    assert [h["namespace"] for h in out["name_actions_by_hand"]] == ["iam", "kms", "secretsmanager", "sts"]
    sts = out["name_actions_by_hand"][-1]["reason"]
    assert "sts:AssumeRole" in sts and "GetCallerIdentity needs no permission" in sts
    # used, so not "unused": the owner decides what of them to keep
    assert set(out["used_services"]) == {"iam", "kms", "secretsmanager", "ssm", "sts"}


def test_iam_actions_reported_by_iam_go_into_the_proposal():
    out = module.summarise(ROLE, "job-1", [_used("iam", ["GetUser", "ListRoles"])], 90, NOW)
    assert out["proposed_actions"] == ["iam:GetUser", "iam:ListRoles"]
    assert out["name_actions_by_hand"] == []


def test_only_dangerous_services_used_proposes_no_policy_but_says_what_to_name():
    out = module.summarise(ROLE, "job-1", [_used("sts")], 90, NOW)
    assert out["proposed_policy"] is None and out["proposed_actions"] == []
    assert [h["namespace"] for h in out["name_actions_by_hand"]] == ["sts"]


def test_waits_on_the_oldest_job_and_names_those_not_done_by_the_timeout(iam, capsys, monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(
        module,
        "time",
        SimpleNamespace(monotonic=lambda: clock["now"], sleep=lambda s: clock.__setitem__("now", clock["now"] + 2)),
    )
    for arn, job in ((ROLE, JOB_ROLE), (GROUP, JOB_GROUP)):
        iam.add_response(
            "generate_service_last_accessed_details", {"JobId": job}, {"Arn": arn, "Granularity": "ACTION_LEVEL"}
        )
    # JobCompletionDate: the output shape requires it even while a job runs
    running = {"JobStatus": "IN_PROGRESS", "JobCreationDate": CREATED, "JobCompletionDate": CREATED}
    running["ServicesLastAccessed"] = []
    done = dict(running, JobStatus="COMPLETED", ServicesLastAccessed=SERVICES, IsTruncated=False)
    # the role's job is asked for until it is done (one wait), then the group's: asked twice, still running
    for answer, job in ((running, JOB_ROLE), (done, JOB_ROLE), (running, JOB_GROUP), (running, JOB_GROUP)):
        iam.add_response("get_service_last_accessed_details", answer, {"JobId": job, "MaxItems": 1000})
    rc, out = run({"arns": [ROLE, GROUP], "wait_timeout": 3}, capsys)
    assert rc == 1
    assert out["msg"].startswith(f"IAM had not finished the last accessed reports of {GROUP} after wait_timeout=3s")
