"""Who owns a bucket's KMS key when monitoring and S3 protection both run: playbooks/remediate.yml --tags
monitoring,storage on the as-assessed estate, twice.

The monitoring role puts the CloudTrail bucket on the logs key; the S3 sweep (s3_protection_buckets ["*"]) puts
buckets on the S3 key. The sweep leaves a bucket that already has a customer-managed key of its own (the trail
bucket, a team's bucket on its own key) as it is, and the audit passes both findings 1.6 and 2.5 for them. A
bucket on the AWS managed aws/s3 key gets the S3 key (the audit fails aws/s3 on 2.5), and a patient-data bucket
that replicates gets the S3 key even from another customer-managed key (the replication role may use only the
S3 keys). The keys are made first (--tags kms_keys). The second run changes nothing and leaves the trail bucket
on the logs key; a check run after it sends no mutating call.
"""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

P = "us-east-1"
ACCOUNT = "123456789012"
TRAIL_BUCKET = f"medcircle-cloudtrail-{ACCOUNT}"
PHI_BUCKET = f"medcircle-patient-records-{ACCOUNT}"
TEAM_BUCKET = f"medcircle-analytics-exports-{ACCOUNT}"
AWS_MANAGED_BUCKET = f"medcircle-web-assets-{ACCOUNT}"
PLAYBOOK = "playbooks/remediate.yml"
FINDINGS = ["1.6", "2.5", "2.11"]
SWEEP = "Turn on versioning, SSE-KMS, TLS only"


@pytest.fixture(scope="module")
def estate():
    instance = SandboxClient.start(seed="as-assessed")
    try:
        kms = instance.client("kms", P)
        team_key = kms.create_key(Description="analytics team exports")["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName="alias/medcircle-analytics", TargetKeyId=team_key)
        s3 = instance.client("s3", P)
        for bucket in (TEAM_BUCKET, AWS_MANAGED_BUCKET):
            s3.create_bucket(Bucket=bucket)
        encrypt(s3, TEAM_BUCKET, team_key, bucket_key=False)
        encrypt(s3, AWS_MANAGED_BUCKET, "alias/aws/s3")
        # the patient data on the team's key: it replicates, so it must end on the S3 key
        encrypt(s3, PHI_BUCKET, team_key)
        instance.team_key = team_key
        yield instance
    finally:
        instance.stop()


def encrypt(s3, bucket, key, bucket_key=True):
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                    "BucketKeyEnabled": bucket_key,
                }
            ]
        },
    )


def default_encryption(estate, bucket):
    rule = estate.client("s3", P).get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    return rule["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"), rule.get("BucketKeyEnabled", False)


def key_arn(estate, alias):
    return estate.client("kms", P).describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def remediate(estate, reports, check=False):
    run = run_playbook(
        estate,
        PLAYBOOK,
        "--tags",
        "monitoring,storage",
        extra_vars={"cloudops_reports_dir": str(reports), "risk_audit_findings": FINDINGS},
        check=check,
        timeout=1800,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def audit_after(reports):
    report = json.loads((reports / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}


def bucket_status(finding):
    return {r["resource_id"]: r["status"] for r in finding["resources"] if r.get("resource_type") == "AwsS3Bucket"}


def changed(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


@pytest.fixture(scope="module")
def first(estate, tmp_path_factory):
    # the keys first, as the playbook's header says for a run of some areas only (the other areas' checks that
    # their key exists run with every tag)
    keys = run_playbook(estate, PLAYBOOK, "--tags", "kms_keys", timeout=1800)
    assert keys.returncode == 0, keys.stdout[-4000:]
    reports = tmp_path_factory.mktemp("first")
    return remediate(estate, reports), reports


@pytest.fixture(scope="module")
def second(estate, first, tmp_path_factory):
    estate.clear_requests()
    run = remediate(estate, tmp_path_factory.mktemp("second"))
    return run, estate.requests(mutating=True)


def test_each_bucket_ends_on_the_key_its_owner_gave_it(estate, first):
    run, _reports = first
    logs_key, s3_key = key_arn(estate, "alias/medcircle-logs"), key_arn(estate, "alias/medcircle-s3")
    assert default_encryption(estate, TRAIL_BUCKET) == (logs_key, True)
    # a team's own customer-managed key is kept, with its bucket key setting
    assert default_encryption(estate, TEAM_BUCKET) == (estate.team_key, False)
    # the AWS managed key fails 2.5: replaced; the replicating patient data: the S3 key
    assert default_encryption(estate, AWS_MANAGED_BUCKET) == (s3_key, True)
    assert default_encryption(estate, PHI_BUCKET) == (s3_key, True)

    sweep = {bucket["name"]: bucket for bucket in run.task(SWEEP)["buckets"]}
    for bucket, key in ((TRAIL_BUCKET, logs_key), (TEAM_BUCKET, estate.team_key)):
        note = f"keeps its own customer-managed key {key} (not alias/medcircle-s3): its default encryption is left"
        assert sweep[bucket]["notes"] == [note + " as it is"], sweep[bucket]
        assert not any("encrypt new objects" in change for change in sweep[bucket]["changes"]), sweep[bucket]
    assert any(s3_key in change for change in sweep[AWS_MANAGED_BUCKET]["changes"]), sweep[AWS_MANAGED_BUCKET]
    source_keys = run.task("Encrypt new objects of the patient-data buckets that replicate")
    assert source_keys["changed"] is True and source_keys["buckets"][0]["name"] == PHI_BUCKET
    shown = run.task("Show what was protected")["msg"]
    # one line for the count, then one per bucket changed and one per bucket with a note
    already = [bucket["name"] for bucket in sweep.values() if not bucket["changed"]]
    kept = ("; already protected: " + ", ".join(already)) if already else ""
    assert shown[0] == (
        f"{len(sweep)} bucket(s) selected (the access log buckets are not: they stay on SSE-S3),"
        f" {len(sweep) - len(already)} changed{kept}."
    ), shown
    assert (
        f"{TRAIL_BUCKET} ({P}) keeps its own customer-managed key {logs_key} (not alias/medcircle-s3): its default"
        " encryption is left as it is." in shown
    ), shown
    assert any(line.startswith(f"{AWS_MANAGED_BUCKET} ({P}): ") for line in shown), shown
    assert all(line == line.strip() and "  " not in line for line in shown), shown


def test_the_audit_passes_what_the_sweep_leaves(first):
    _run, reports = first
    findings = audit_after(reports)
    for fid in ("1.6", "2.5"):
        statuses = bucket_status(findings[fid])
        for bucket in (TRAIL_BUCKET, TEAM_BUCKET, AWS_MANAGED_BUCKET, PHI_BUCKET):
            assert statuses[bucket] == "pass", (fid, bucket, findings[fid])
    assert findings["2.11"]["status"] == "pass", findings["2.11"]


def test_a_second_run_changes_nothing_and_the_trail_bucket_stays_on_the_logs_key(estate, second):
    run, mutating = second
    ours = [name for name in changed(run) if "monitoring" in name or "s3_protection" in name]
    assert ours == [], ours
    assert [r for r in mutating if r["service"] == "s3"] == [], mutating
    assert default_encryption(estate, TRAIL_BUCKET) == (key_arn(estate, "alias/medcircle-logs"), True)
    assert default_encryption(estate, TEAM_BUCKET) == (estate.team_key, False)


def test_a_check_run_after_it_plans_no_change(estate, second, tmp_path):
    estate.clear_requests()
    run = remediate(estate, tmp_path, check=True)
    assert estate.requests(mutating=True) == []
    sweep = run.task(SWEEP)
    assert sweep["changed"] is False, sweep["buckets"]
