"""Fault injection: each service's real throttling answer, server errors, and rule matching."""

import json
import time

import botocore.retries.standard
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sandbox_client import SandboxError


@pytest.fixture
def no_backoff(monkeypatch):
    """Standard-mode retries without the exponential sleep, to keep the suite fast."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def standard(attempts):
    """botocore's standard retry mode with ``attempts`` requests in all (the first one included)."""
    return Config(retries={"mode": "standard", "total_max_attempts": attempts})


# (service, region, call, throttling code, HTTP status, does moto implement the call)
THROTTLED_CALLS = [
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", 503, True),
    ("iam", lambda c: c.list_users(), "Throttling", 400, True),
    ("rds", lambda c: c.describe_db_instances(), "Throttling", 400, True),
    ("cloudformation", lambda c: c.describe_stacks(), "Throttling", 400, True),
    ("autoscaling", lambda c: c.describe_auto_scaling_groups(), "Throttling", 400, True),
    ("sts", lambda c: c.get_caller_identity(), "Throttling", 400, True),
    ("kms", lambda c: c.list_keys(), "ThrottlingException", 400, True),
    ("ssm", lambda c: c.describe_parameters(), "ThrottlingException", 400, True),
    ("logs", lambda c: c.describe_log_groups(), "ThrottlingException", 400, True),
    ("dynamodb", lambda c: c.list_tables(), "ThrottlingException", 400, True),
    ("s3", lambda c: c.list_buckets(), "SlowDown", 503, True),
    ("backup", lambda c: c.list_backup_vaults(), "ThrottlingException", 400, True),
    ("dlm", lambda c: c.get_lifecycle_policies(), "LimitExceededException", 429, False),
    ("route53", lambda c: c.list_hosted_zones(), "Throttling", 400, True),
]
IDS = [row[0] for row in THROTTLED_CALLS]


@pytest.mark.parametrize(("service", "call", "code", "status", "implemented"), THROTTLED_CALLS, ids=IDS)
def test_throttling_exhausts_retries_with_the_service_code(
    quiet_sandbox, no_backoff, service, call, code, status, implemented
):
    quiet_sandbox.set_faults([{"service": service, "throttle_rate": 1.0}])
    client = quiet_sandbox.client(service, config=standard(3))
    with pytest.raises(ClientError) as raised:
        call(client)
    error = raised.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["RetryAttempts"] == 2, "botocore's standard mode must retry the throttling"
    entries = quiet_sandbox.requests(service=service)
    assert [entry["fault"] for entry in entries] == [code] * 3
    assert [entry["status"] for entry in entries] == [status] * 3


@pytest.mark.parametrize(
    ("service", "call", "code", "status", "implemented"),
    [row for row in THROTTLED_CALLS if row[4]],
    ids=[*IDS[:-2], "route53"],
)
def test_throttling_is_retried_until_success(quiet_sandbox, no_backoff, service, call, code, status, implemented):
    quiet_sandbox.set_faults([{"service": service, "throttle_rate": 1.0, "count": 2}])
    response = call(quiet_sandbox.client(service, config=standard(3)))
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    entries = quiet_sandbox.requests(service=service)
    assert [(entry["fault"], entry["status"]) for entry in entries] == [(code, status), (code, status), (None, 200)]
    assert len({entry["operation"] for entry in entries}) == 1


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("ec2", lambda c: c.describe_vpcs()),
        ("iam", lambda c: c.list_users()),
        ("kms", lambda c: c.list_keys()),
        ("s3", lambda c: c.list_buckets()),
        ("backup", lambda c: c.list_backup_vaults()),
    ],
)
@pytest.mark.parametrize(("error_status", "code"), [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_server_errors(quiet_sandbox, no_backoff, service, call, error_status, code):
    quiet_sandbox.set_faults([{"service": service, "error_rate": 1.0, "error_status": error_status, "count": 3}])
    with pytest.raises(ClientError) as raised:
        call(quiet_sandbox.client(service, config=standard(2)))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == error_status
    assert raised.value.response["Error"]["Code"] == code
    # one injection left: the standard retry gets past it
    response = call(quiet_sandbox.client(service, config=standard(3)))
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [entry["fault"] for entry in quiet_sandbox.requests(service=service)] == [code, code, code, None]


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("ec2", lambda c: c.describe_vpcs(), "UnauthorizedOperation", 403),
        ("iam", lambda c: c.get_role(RoleName="any"), "AccessDenied", 403),
        ("kms", lambda c: c.get_key_policy(KeyId="alias/any", PolicyName="default"), "AccessDeniedException", 400),
        ("s3", lambda c: c.list_buckets(), "AccessDenied", 403),
        ("rds", lambda c: c.describe_db_instances(), "AccessDenied", 400),
    ],
)
def test_named_errors_are_answered_once_and_not_retried(quiet_sandbox, no_backoff, service, call, code, status):
    quiet_sandbox.set_faults(
        [{"service": service, "error_rate": 1.0, "error_code": code, "error_status": status, "count": 1}]
    )
    with pytest.raises(ClientError) as raised:
        call(quiet_sandbox.client(service, config=standard(3)))
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["Error"]["Message"] == f"{code} from the sandbox's fault rule 0"
    assert error["ResponseMetadata"]["RetryAttempts"] == 0  # a refusal: botocore does not ask again
    assert [entry["fault"] for entry in quiet_sandbox.requests(service=service)] == [code]


def test_a_named_error_says_the_rules_message_and_defaults_to_400(quiet_sandbox):
    rules = quiet_sandbox.set_faults(
        [
            {
                "service": "kms",
                "operation": "DescribeKey",
                "error_rate": 1.0,
                "error_code": "AccessDeniedException",
                "error_message": "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: "
                "kms:DescribeKey",
            }
        ]
    )
    assert rules[0]["error_code"] == "AccessDeniedException"
    kms = quiet_sandbox.client("kms", config=standard(1))
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="alias/any")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Message"].endswith("is not authorized to perform: kms:DescribeKey")
    kms.list_keys()  # other operations answer


def test_rule_matches_one_operation(quiet_sandbox):
    quiet_sandbox.set_faults([{"service": "ec2", "operation": "DescribeVpcs", "throttle_rate": 1.0}])
    ec2 = quiet_sandbox.client("ec2", config=standard(1))
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        ec2.describe_vpcs()
    ec2.describe_subnets()
    ec2.describe_security_groups()


def test_whole_region_fails_while_another_works(quiet_sandbox):
    quiet_sandbox.set_faults([{"region": "eu-west-1", "error_rate": 1.0, "error_status": 503}])
    for service, call in (("ec2", "describe_vpcs"), ("kms", "list_keys"), ("rds", "describe_db_instances")):
        with pytest.raises(ClientError) as raised:
            getattr(quiet_sandbox.client(service, region="eu-west-1", config=standard(1)), call)()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        getattr(quiet_sandbox.client(service, region="us-east-1", config=standard(1)), call)()
    assert {entry["region"] for entry in quiet_sandbox.requests() if entry["fault"]} == {"eu-west-1"}
    assert {entry["region"] for entry in quiet_sandbox.requests() if not entry["fault"]} == {"us-east-1"}


def test_count_spends_the_rule(quiet_sandbox):
    rules = quiet_sandbox.set_faults([{"service": "iam", "throttle_rate": 1.0, "count": 2}])
    assert rules[0]["remaining"] == 2
    iam = quiet_sandbox.client("iam", config=standard(1))
    for _ in range(2):
        with pytest.raises(ClientError, match="Throttling"):
            iam.list_users()
    iam.list_users()
    iam.list_users()
    (rule,) = quiet_sandbox.faults()
    assert (rule["injected"], rule["remaining"], rule["spent"]) == (2, 0, True)


def test_seeded_rates_repeat(quiet_sandbox):
    def pattern():
        quiet_sandbox.set_faults([{"service": "sts", "throttle_rate": 0.5, "seed": 42}])
        sts = quiet_sandbox.client("sts", config=standard(1))
        outcome = []
        for _ in range(16):
            try:
                sts.get_caller_identity()
                outcome.append("ok")
            except ClientError as error:
                outcome.append(error.response["Error"]["Code"])
        return outcome

    first = pattern()
    assert pattern() == first
    assert {"ok", "Throttling"} == set(first)


def test_rate_limit_is_a_token_bucket_per_operation_and_region(quiet_sandbox):
    """EC2's request-rate limits: a bucket of ``burst`` tokens per API and region, refilled at rate_limit/s."""
    quiet_sandbox.set_faults([{"service": "ec2", "rate_limit": 2, "burst": 5}])
    ec2 = quiet_sandbox.client("ec2", config=standard(1))

    def outcomes(call, n):
        result = []
        for _ in range(n):
            try:
                call()
                result.append("ok")
            except ClientError as error:
                result.append(error.response["Error"]["Code"])
        return result

    # The burst goes through, then the empty bucket throttles (no time for more than a token to come back).
    first = outcomes(ec2.describe_vpcs, 8)
    assert first[:5] == ["ok"] * 5
    assert first[5:].count("RequestLimitExceeded") >= 2
    # Another operation and the same operation in another region have their own buckets.
    assert outcomes(ec2.describe_subnets, 5) == ["ok"] * 5
    west = quiet_sandbox.client("ec2", region="eu-west-1", config=standard(1))
    assert outcomes(west.describe_vpcs, 5) == ["ok"] * 5
    # Tokens come back at rate_limit per second.
    time.sleep(1.6)
    assert outcomes(ec2.describe_vpcs, 3)[:2] == ["ok", "ok"]
    (rule,) = quiet_sandbox.faults()
    assert rule["injected"] >= 3
    throttled = quiet_sandbox.requests(fault=True)
    assert {entry["operation"] for entry in throttled} == {"DescribeVpcs"}


def test_rate_limited_calls_succeed_when_paced(quiet_sandbox):
    """A client that keeps under the rate is never throttled (the bucket is not a random draw)."""
    quiet_sandbox.set_faults([{"service": "sts", "rate_limit": 20}])
    sts = quiet_sandbox.client("sts", config=standard(1))
    for _ in range(30):
        sts.get_caller_identity()
        time.sleep(0.06)
    assert quiet_sandbox.requests(fault=True) == []


def test_faults_are_listed_and_cleared(quiet_sandbox):
    quiet_sandbox.set_faults({"rules": [{"service": "s3", "throttle_rate": 0.25}]})
    assert quiet_sandbox.faults()[0]["service"] == "s3"
    quiet_sandbox.clear_faults()
    assert quiet_sandbox.faults() == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"throttle_rate": 2}], "throttle_rate must be a number from 0 to 1"),
        ([{"error_rate": -0.1}], "error_rate must be a number from 0 to 1"),
        ([{"throttle_rate": "often"}], "throttle_rate must be a number"),
        ([{"throttle_rate": 0.7, "error_rate": 0.6}], "must not exceed 1"),
        ([{"service": "ec2"}], "injects nothing"),
        ([{"service": "ec3", "throttle_rate": 1}], "unknown service 'ec3'"),
        ([{"service": "ec2", "operation": "DescribeInstance", "throttle_rate": 1}], "did you mean DescribeInstances"),
        ([{"throttle_rate": 1, "colour": "red"}], "unknown field(s) colour"),
        ([{"throttle_rate": 1, "count": 0}], "count must be a whole number"),
        ([{"error_rate": 1, "error_status": 502}], "error_status must be 500 or 503"),
        ([{"error_rate": 1, "error_status": 403}], "(set error_code for a 4xx refusal)"),
        ([{"error_rate": 1, "error_code": "AccessDenied", "error_status": 500}], "must be 400 or 403"),
        ([{"error_rate": 1, "error_code": "Access Denied"}], "error_code must be an AWS error code"),
        ([{"throttle_rate": 1, "error_code": "AccessDenied"}], "set error_rate above 0"),
        ([{"error_rate": 1, "error_message": "no"}], "error_message is the message of error_code's answer"),
        ([{"rate_limit": 0}], "rate_limit must be a number from 0.01"),
        ([{"burst": 10, "throttle_rate": 1}], "set rate_limit too"),
        ([{"rate_limit": 5, "throttle_rate": 0.5}], "cannot be combined"),
        (["ec2"], "must be a JSON object"),
        ("ec2", "must be a JSON list"),
    ],
)
def test_invalid_rules_are_refused(quiet_sandbox, rules, message):
    with pytest.raises(SandboxError) as raised:
        quiet_sandbox.set_faults(rules)
    assert "answered 400" in str(raised.value)
    assert message in json.loads(str(raised.value).split(": ", 1)[1])["error"]
    assert quiet_sandbox.faults() == []
