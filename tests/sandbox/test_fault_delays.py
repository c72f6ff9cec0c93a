"""Fault rules with delay_seconds: slow answers per call, matched by resource name, concurrently served."""

import threading
import time

import pytest
from sandbox_client import SandboxError

from sandbox import faults


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"delay_seconds": 601}, "delay_seconds must be a number from 0 to 600"),
        ({"delay_seconds": -1}, "delay_seconds must be a number from 0 to 600"),
        ({"delay_seconds": "2"}, "delay_seconds must be a number from 0 to 600"),
        ({"delay_seconds": 0}, "injects nothing"),
        ({"delay_seconds": 1, "match": ""}, "match must be a non-empty string"),
        ({"delay_seconds": 1, "match": 5}, "match must be a non-empty string"),
    ],
)
def test_bad_delay_rules_are_refused_naming_the_field(rule, message):
    with pytest.raises(faults.RuleError, match=message):
        faults.validate_rules([rule])


def test_delay_rule_counts_and_matches_text():
    rules = faults.Faults()
    rules.set([{"service": "rds", "delay_seconds": 2.5, "match": "drill-db-a", "count": 1}])
    assert rules.delay("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2", "Id=drill-db-b") == 0
    assert rules.delay("ec2", "RunInstances", "us-west-2", "drill-db-a") == 0
    assert rules.delay("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2", None) == 0
    assert rules.delay("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2", "Id=drill-db-a") == 2.5
    assert rules.delay("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2", "Id=drill-db-a") == 0  # spent
    assert rules.list()[0]["spent"] is True
    # a delay-only rule never throttles or errors
    assert rules.pick("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2", "Id=drill-db-a") is None


def test_delay_with_error_delays_then_errors():
    rules = faults.Faults()
    rules.set([{"service": "ec2", "delay_seconds": 1, "error_rate": 1.0}])
    assert rules.delay("ec2", "DescribeVpcs", "us-east-1") == 1
    kind, _ = rules.pick("ec2", "DescribeVpcs", "us-east-1")
    assert kind == "error"


def test_delay_is_applied_per_matching_request_and_concurrently(quiet_sandbox):
    sandbox = quiet_sandbox
    delay = 3.0
    sandbox.set_faults([{"service": "ec2", "operation": "DescribeVpcs", "delay_seconds": delay, "match": "slow-vpc"}])
    ec2 = sandbox.client("ec2", "us-west-2")

    # a call that does not match is not delayed: the rule counts every delay it applies
    ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["fast-vpc"]}])
    assert sandbox.faults()[0]["injected"] == 0

    durations = []

    def slow_call():
        begin = time.monotonic()
        sandbox.client("ec2", "us-west-2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["slow-vpc"]}])
        durations.append(time.monotonic() - begin)

    threads = [threading.Thread(target=slow_call) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    assert len(durations) == 4
    assert min(durations) >= delay
    assert sandbox.faults()[0]["injected"] == 4
    # four delayed calls at once take about one delay, not four in a row: the server is threaded
    assert wall < 3 * delay


def test_delay_rule_refused_over_http(quiet_sandbox):
    with pytest.raises(SandboxError, match="delay_seconds"):
        quiet_sandbox.set_faults([{"delay_seconds": 1000}])
