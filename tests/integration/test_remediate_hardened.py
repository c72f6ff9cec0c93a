"""playbooks/remediate.yml on the hardened estate: an estate that other hands have already protected, with settings
of its own (a replication rule of its own on the patient-data bucket, a Route 53 failover pair of alias records to
the load balancers, a gp3 database, security group rules with other descriptions, a GuardDuty detector with other
tags, metric filters with other patterns, a DR launch template of its own). The whole remediation runs to its end,
opens no finding, keeps what it found and adds its own beside it; run again, it changes nothing in AWS."""

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

DATA_BUCKET = "medcircle-patient-records-123456789012"


@pytest.fixture(scope="module")
def hardened():
    instance = SandboxClient.start(seed="hardened")
    try:
        yield instance
    finally:
        instance.stop()


def test_the_remediation_of_a_protected_estate_runs_to_the_end_and_opens_nothing(hardened, tmp_path):
    route53 = hardened.client("route53")
    (zone,) = route53.list_hosted_zones()["HostedZones"]
    pair_before = [
        r for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"] if r.get("Failover")
    ]

    run = run_playbook(
        hardened, "playbooks/remediate.yml", extra_vars={"cloudops_reports_dir": str(tmp_path)}, timeout=2400
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    totals = [t for name, t in run.tasks() if name.endswith("Show where the reports are and the totals")]
    assert totals[-1]["msg"][1:] == [
        "Findings: 42; fail 1, error 0, manual 0, pass 41, not applicable 0",
        "Compared with the previous run: closed 0, still open 1, newly open 0",
    ]

    # the bucket's own replication rule is kept; the collection's rule follows it (S3 refuses one priority twice)
    rules = hardened.client("s3").get_bucket_replication(Bucket=DATA_BUCKET)["ReplicationConfiguration"]["Rules"]
    assert sorted((r["ID"], r["Priority"]) for r in rules) == [("cloudops-dr", 2), ("patient-records-to-dr", 1)]
    # the failover pair (alias records under the set identifiers the runbooks switch) is taken as it is
    assert [
        r for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"] if r.get("Failover")
    ] == pair_before
    # the gp3 database got the TLS parameter group
    (db,) = [
        d
        for d in hardened.client("rds").describe_db_instances()["DBInstances"]
        if d["DBInstanceIdentifier"] == "medcircledb"
    ]
    assert db["StorageType"] == "gp3"
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == ["medcircle-mysql80"]


def test_a_second_remediation_changes_nothing(hardened, tmp_path):
    """Run after the first: every role finds what it wrote. The only call that writes is the patch window's scan
    (AWS-RunPatchBaseline Scan, which installs nothing): a patch run always scans before it decides."""
    hardened.clear_requests()
    run = run_playbook(
        hardened, "playbooks/remediate.yml", extra_vars={"cloudops_reports_dir": str(tmp_path)}, timeout=2400
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    writes = [(r["service"], r["operation"]) for r in hardened.requests(mutating=True)]
    assert writes == [("ssm", "SendCommand")], writes
    changed = [name for name, outcome in run.tasks() if outcome.get("changed")]
    # the run's own report files are written again (a new reports folder); nothing else changes
    assert all(" | AUDIT | " in name or "report" in name.lower() or "DR plan" in name for name in changed), changed
