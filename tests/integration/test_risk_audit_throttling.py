"""The audit on an account whose API limits it reaches: EC2's request-rate limit, as AWS applies it.

EC2 gives each API a bucket of 100 tokens per account and region, refilled at 20 a second (its
documented default for non-mutating actions). Termination protection can only be read one instance at a
time (DescribeInstanceAttribute), so an audit of more than 100 instances outside Auto Scaling groups
runs into that limit on AWS. The sandbox applies the same bucket here: the audit must still read every
instance and give finding 5.5 its full evidence, and it must slow down to the rate allowed rather than
keep sending requests that are refused (those count against the account's other tools too).
"""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

INSTANCES = 250
PROTECTED = 3
BURST, RATE = 100, 20


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(seed="empty")
    try:
        ec2 = sandbox.client("ec2", "us-east-1")
        ids = []
        for start in range(0, INSTANCES, 100):
            count = min(100, INSTANCES - start)
            reservation = ec2.run_instances(
                ImageId="ami-12c6146b", MinCount=count, MaxCount=count, InstanceType="t3.micro"
            )
            ids += [instance["InstanceId"] for instance in reservation["Instances"]]
        for instance_id in ids[:PROTECTED]:
            ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
        yield sandbox, ids
    finally:
        sandbox.stop()


def test_every_instance_is_read_at_the_rate_ec2_allows(estate, tmp_path):
    sandbox, ids = estate
    sandbox.clear_requests()
    sandbox.set_faults(
        [{"service": "ec2", "operation": "DescribeInstanceAttribute", "rate_limit": RATE, "burst": BURST}]
    )
    try:
        run = run_playbook(
            sandbox,
            "playbooks/audit.yml",
            extra_vars={"risk_audit_reports_dir": str(tmp_path / "reports"), "risk_audit_findings": ["5.5"]},
        )
    finally:
        sandbox.clear_faults()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    audit = json.loads((tmp_path / "reports" / "latest" / "audit.json").read_text())
    (finding,) = [f for f in audit["findings"] if f["id"] == "5.5"]

    # Full evidence: every instance, its own verdict, nothing lost to throttling.
    assert finding["status"] == "fail", finding.get("message")
    by_id = {r["resource_id"]: r for r in finding["resources"]}
    assert set(by_id) == set(ids)
    assert {i for i, r in by_id.items() if r["status"] == "pass"} == set(ids[:PROTECTED])
    assert all("DisableApiTermination: false" in by_id[i]["observed"] for i in ids[PROTECTED:])

    reads = sandbox.requests(operation="DescribeInstanceAttribute")
    throttled = [entry for entry in reads if entry["fault"]]
    assert len(reads) - len(throttled) == INSTANCES
    # The limit was reached (the test means something) ...
    assert throttled, "the rate limit never fired"
    # ... and the audit paced itself: retrying in bursts gets about one refusal per read beyond the
    # burst (measured: 205 for 200), pacing a tenth of that (21).
    assert len(throttled) < (INSTANCES - BURST) / 2, len(throttled)
