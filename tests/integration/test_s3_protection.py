"""S3 protection and cross-region replication (findings 1.6, 2.3 S3 half, 2.4-2.9): playbooks/remediate/storage.yml
on the as-assessed estate, read back by the audit.

Bad input fails before any mutating call; check mode sends no mutating call and shows the plan; the real run
closes every S3 finding (the audit says so), a second run changes nothing, the object that was in the
patient-records bucket before and an object written after are both in the DR replica, and a DR drill of the
patient-records system reads the replica back within its RPO.
"""

import json

import dr_estate
import pytest
from playbook import run_playbook

P, DR = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
SOURCE = f"medcircle-patient-records-{ACCOUNT}"
REPLICA = f"medcircle-patient-records-dr-{ACCOUNT}"
LOGS = {P: f"medcircle-s3-access-logs-{ACCOUNT}", DR: f"medcircle-s3-access-logs-dr-{ACCOUNT}"}
FINDINGS = ["1.6", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9"]
PLAYBOOK = "playbooks/remediate/storage.yml"


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": FINDINGS},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}


def s3_resources(finding):
    return {r["resource_id"]: r for r in finding["resources"] if r.get("resource_type") == "AwsS3Bucket"}


def failed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("failed")]


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    return assessed_sandbox


@pytest.mark.parametrize(
    "extra, task, message",
    [
        (
            {"s3_protection_dr_region": P},
            "Check the regions",
            's3_protection_dr_region and s3_protection_region are both "us-east-1": a replica in the primary'
            " region does not survive the loss of the region. Nothing was changed.",
        ),
    ],
)
def test_bad_input_fails_before_any_change(estate, extra, task, message):
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, "--tags", "s3_protection", extra_vars=extra)
    assert run.returncode != 0
    failed = failed_tasks(run)
    assert len(failed) == 1 and task in failed[0], failed
    assert run.task(task)["msg"] == message
    assert estate.requests(mutating=True) == []


def test_remediation_closes_the_s3_findings_and_replicates(estate, tmp_path):
    s3 = estate.client("s3", P)
    s3_dr = estate.client("s3", DR)
    before_keys = [o["Key"] for o in s3.list_objects_v2(Bucket=SOURCE)["Contents"]]
    assert before_keys == ["records/patient-0001.json"]

    before = audit(estate, tmp_path / "before")
    for fid in FINDINGS:
        assert s3_resources(before[fid])[SOURCE]["status"] == "fail", (fid, before[fid])

    # check mode: the plan, and not one mutating call
    estate.clear_requests()
    plan = run_playbook(estate, PLAYBOOK, check=True)
    assert plan.returncode == 0, plan.stdout[-3000:]
    assert estate.requests(mutating=True) == []
    sweep = plan.task("Turn on versioning, SSE-KMS, TLS only")
    changes = {b["name"]: b["changes"] for b in sweep["buckets"]}
    assert any("turn on versioning" in c for c in changes[SOURCE]), changes
    assert any("CloudopsDenyInsecureTransport" in c for c in changes[SOURCE]), changes
    assert any(c.endswith("in the bucket policy, which has no other statement") for c in changes[SOURCE]), changes

    # someone else's statement in the bucket policy must survive the merge
    other = {
        "Sid": "ReadForAnalytics",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/analytics"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{SOURCE}/*",
    }
    s3.put_bucket_policy(Bucket=SOURCE, Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))

    run = run_playbook(estate, PLAYBOOK)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    repl = run.task("Replicate each patient-data bucket")["results"][0]
    assert repl["configuration_changed"] is True
    done = {b["name"]: b["changes"] for b in run.task("Turn on versioning, SSE-KMS, TLS only")["buckets"]}
    assert any(c.endswith("in the bucket policy, keeping its 1 other statement(s)") for c in done[SOURCE]), done
    assert repl["existing"]["copied"] == 1 and repl["existing"]["failed"] == 0

    statements = json.loads(s3.get_bucket_policy(Bucket=SOURCE)["Policy"])["Statement"]
    assert {s["Sid"] for s in statements} == {"ReadForAnalytics", "CloudopsDenyInsecureTransport"}
    lock = s3.get_object_lock_configuration(Bucket=SOURCE)["ObjectLockConfiguration"]
    assert lock == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}}
    assert s3_dr.get_bucket_location(Bucket=REPLICA)["LocationConstraint"] == DR
    replica_sse = s3_dr.get_bucket_encryption(Bucket=REPLICA)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert ":us-west-2:" in replica_sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    log_sse = s3.get_bucket_encryption(Bucket=LOGS[P])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert log_sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=LOGS[P])["Rules"]
    assert [r["Expiration"]["Days"] for r in rules if r["ID"] == "cloudops-retention"] == [365]

    after = audit(estate, tmp_path / "after")
    for fid in FINDINGS:
        buckets = s3_resources(after[fid])
        assert buckets, fid
        bad = {name: r for name, r in buckets.items() if r["status"] not in ("pass", "not_applicable")}
        assert bad == {}, (fid, bad)
    assert s3_resources(after["2.3"])[SOURCE]["status"] == "pass"

    # a second run changes nothing
    again = run_playbook(estate, PLAYBOOK)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.stats["localhost"]["changed"] == 0, [n for n, o in again.tasks() if o.get("changed")]

    # the object that was there before, and one written now, are both in the replica
    s3.put_object(Bucket=SOURCE, Key="records/patient-0002.json", Body=b'{"id": 2}')
    assert s3.head_object(Bucket=SOURCE, Key="records/patient-0002.json")["ReplicationStatus"] == "COMPLETED"
    replica_keys = sorted(o["Key"] for o in s3_dr.list_objects_v2(Bucket=REPLICA)["Contents"])
    assert replica_keys == ["records/patient-0001.json", "records/patient-0002.json"]
    head = s3_dr.head_object(Bucket=REPLICA, Key="records/patient-0002.json")
    assert head["ReplicationStatus"] == "REPLICA" and head["ServerSideEncryption"] == "aws:kms"

    # a cleartext request is refused by the TLS-only statement
    def cleartext(request, **kwargs):
        request.headers["X-Forwarded-Proto"] = "http"

    plain = estate.client("s3", P)
    plain.meta.events.register("before-sign.s3.*", cleartext)
    with pytest.raises(Exception) as raised:
        plain.get_object(Bucket=SOURCE, Key="records/patient-0001.json")
    assert "403" in str(raised.value) or "AccessDenied" in str(raised.value)


def test_dr_drill_reads_the_replica(estate, tmp_path):
    """After the remediation (previous test): the drill of patient-records succeeds within its RPO."""
    network = dr_estate.drill_network(estate)
    run = run_playbook(
        estate,
        "playbooks/dr_drill.yml",
        extra_vars={
            "cloudops_reports_dir": str(tmp_path),
            "dr_drill_only": ["patient-records"],
            "dr_drill_poll_delay": 1,
            "dr_drill_network": network,
        },
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    reports = list((tmp_path / "dr").glob("*/drill-report.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    systems = {s["name"]: s for s in report["systems"]}
    assert list(systems) == ["patient-records"]
    record = systems["patient-records"]
    assert record["status"] == "recovered", record
    assert record["rpo_seconds"] is not None and record["rpo_seconds"] <= 60 * 60
