"""The audit reads in parallel (risk_audit's ``workers``) and finds exactly what it finds one request at a time.

On both seeds: the findings, their evidence, the summary, the read errors and the API calls by operation of
a run with 16 workers equal those of a run with 1 worker; the 16-worker run really had several requests
in flight (and never more than 16), the 1-worker run never more than one.
"""

import datetime
import json
import sys
import threading
from pathlib import Path

import pytest
from sandbox_client import SandboxClient

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot  # noqa: E402
from botocore.config import Config  # noqa: E402

REGIONS = ["us-east-1", "us-west-2"]
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


class InFlight:
    """The most requests a snapshot's clients had in flight at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def hook(self, client):
        client.meta.events.register("before-send", self.sent)
        client.meta.events.register("after-call", self.answered)
        client.meta.events.register("after-call-error", self.answered)
        return client

    def sent(self, **_kwargs):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def answered(self, **_kwargs):
        with self.lock:
            self.now -= 1


def _audit(sandbox, workers):
    flight = InFlight()
    config = Config(max_pool_connections=max(10, workers))
    snap = AwsSnapshot(
        lambda service, region: flight.hook(sandbox.client(service, region, config=config)),
        REGIONS,
        max_workers=workers,
    )
    snap.get("account")
    results, summary = checks.run_audit(snap, checks.AuditContext(now=NOW))
    return {
        "findings": json.dumps(results, sort_keys=True, default=str),
        "summary": summary,
        "errors": snap.errors(),
        "api_calls": dict(snap.api_calls),
    }, flight.peak


def _credential_report_ready(sandbox):
    """The first GenerateCredentialReport of an account answers STARTED, later ones COMPLETE: generate it
    before both runs so that they make the same calls."""
    iam = sandbox.client("iam", "us-east-1")
    for _attempt in range(10):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            return
    pytest.fail("the sandbox never completed the credential report")


@pytest.fixture(scope="module")
def hardened_sandbox():
    instance = SandboxClient.start(seed="hardened")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.mark.parametrize("seed", ["as-assessed", "hardened"])
def test_parallel_reads_find_the_same_as_sequential(seed, assessed_sandbox, hardened_sandbox):
    sandbox = assessed_sandbox if seed == "as-assessed" else hardened_sandbox
    _credential_report_ready(sandbox)
    sandbox.clear_requests()
    parallel, parallel_peak = _audit(sandbox, 16)
    sequential, sequential_peak = _audit(sandbox, 1)
    assert sandbox.requests(mutating=True) == []
    assert parallel["findings"] == sequential["findings"]
    assert parallel["summary"] == sequential["summary"]
    assert parallel["errors"] == sequential["errors"]
    assert parallel["api_calls"] == sequential["api_calls"]
    assert sequential_peak == 1
    assert 1 < parallel_peak <= 16
    statuses = sequential["summary"]["by_status"]
    if seed == "as-assessed":
        assert statuses["fail"] >= 40, statuses
    else:
        assert statuses["pass"] >= 38, statuses
