"""Security monitoring (finding 2.11): playbooks/remediate/monitoring.yml on the as-assessed estate.

The as-assessed account has no trail, no GuardDuty and no alarms: the audit fails 2.11. Check mode sends no
mutating call. The real run creates the logs key, an encrypted versioned TLS-only bucket whose existing policy
statement is kept, a log group with retention, a multi-region logging trail with log file validation and KMS,
GuardDuty in both regions and the three alarms, whose SNS topic is encrypted with the logs key (whose policy lets
CloudWatch alarms use it); the audit then passes 2.11 and a second run changes nothing. A topic whose encryption
was taken off is shown by --check (no mutating call) and encrypted again by the next run.
"""

import json

import pytest
from playbook import run_playbook

P, DR = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
BUCKET = f"medcircle-cloudtrail-{ACCOUNT}"
PLAYBOOK = "playbooks/remediate/monitoring.yml"
TOPIC = f"arn:aws:sns:{P}:{ACCOUNT}:medcircle-security-alerts"
ENCRYPT_TASK = "2.11 | PATCH | Encrypt the security alert topic"
REACH_TASK = "2.11 | AUDIT | Show who the security alarms reach"
ALARMS = ["medcircle-root-account-usage", "medcircle-unauthorized-api-calls", "medcircle-console-signin-without-mfa"]
ONCALL = "oncall@medcircle.example"
EXISTING = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["2.11"]},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}["2.11"]


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    # A bucket of that name with a policy someone else wrote: the play must keep the statement.
    s3 = assessed_sandbox.client("s3", P)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [EXISTING]}))
    return assessed_sandbox


def detector_lines(run):
    return [item["msg"] for item in run.task("2.11 | AUDIT | Show the GuardDuty detectors")["results"]]


def test_bad_input_fails_before_any_change(estate):
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, extra_vars={"monitoring_trail_log_retention_days": 10})
    assert run.returncode != 0
    assert "monitoring_trail_log_retention_days 10" in json.dumps(run.task("Check the trail settings"))
    assert estate.requests(mutating=True) == []


def test_audit_fails_and_check_mode_changes_nothing(estate, tmp_path):
    finding = audit(estate, tmp_path)
    assert finding["status"] == "fail"
    assert [r["status"] for r in finding["resources"]] == ["fail", "fail", "fail", "fail"], finding
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert estate.requests(mutating=True) == []
    guardduty = run.task("2.11 | PATCH | Turn on GuardDuty")
    assert [(d["region"], d["action"]) for d in guardduty["detectors"]] == [(P, "create"), (DR, "create")]
    assert detector_lines(run) == [
        f"{region}: GuardDuty ENABLED, findings published every fifteen minutes (would be created)."
        for region in (P, DR)
    ]
    assert run.task("Say what the trail would use")["changed"] is True
    plan = run.task("2.11 | AUDIT | Plan for the alert topic")
    assert (
        plan["changed"] is True and "would be created" in plan["msg"] and "encrypted with the logs key" in plan["msg"]
    )
    assert run.task(ENCRYPT_TASK).get("skipped") is True
    assert estate.client("cloudtrail", P).describe_trails()["trailList"] == []
    assert run.task(REACH_TASK)["msg"] == (
        f"3 alarm(s) ({', '.join(ALARMS)}) would notify the topic medcircle-security-alerts in {P}; nobody is"
        " subscribed to it, so the alarms reach no one: put the on-call addresses in monitoring_alarm_emails (or"
        " subscribe the on-call system to the topic) and run this again."
    )
    planned = run_playbook(estate, PLAYBOOK, check=True, extra_vars={"monitoring_alarm_emails": [ONCALL]})
    assert planned.task(REACH_TASK)["msg"].endswith(f"; it reaches {ONCALL} (email, would be subscribed).")


def test_remediation_closes_the_finding_and_is_idempotent(estate, tmp_path):
    run = run_playbook(estate, PLAYBOOK)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    trail = estate.client("cloudtrail", P).describe_trails()["trailList"][0]
    assert trail["Name"] == "medcircle-trail" and trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert ":key/" in trail["KmsKeyId"] and trail["S3BucketName"] == BUCKET
    assert trail["CloudWatchLogsLogGroupArn"].endswith(":log-group:/medcircle/cloudtrail:*")
    assert estate.client("cloudtrail", P).get_trail_status(Name="medcircle-trail")["IsLogging"]

    s3 = estate.client("s3", P)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    statements = {s.get("Sid"): s for s in json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]}
    assert statements["AuditorsRead"]["Action"] == "s3:GetObject"
    assert statements["CloudOpsDenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"CloudOpsCloudTrailAclCheck", "CloudOpsCloudTrailWrite"} <= set(statements)

    group = estate.client("logs", P).describe_log_groups(logGroupNamePrefix="/medcircle/cloudtrail")["logGroups"][0]
    assert group["retentionInDays"] == 365
    assert detector_lines(run) == [
        f"{region}: GuardDuty ENABLED, findings published every fifteen minutes (created)." for region in (P, DR)
    ]
    for region in (P, DR):
        gd = estate.client("guardduty", region)
        ids = gd.list_detectors()["DetectorIds"]
        assert len(ids) == 1 and gd.get_detector(DetectorId=ids[0])["Status"] == "ENABLED"
    alarms = estate.client("cloudwatch", P).describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} >= {
        "medcircle-root-account-usage",
        "medcircle-unauthorized-api-calls",
        "medcircle-console-signin-without-mfa",
    }
    assert all(a["AlarmActions"][0].endswith(":medcircle-security-alerts") for a in alarms)

    # The alert topic is encrypted with the customer-managed logs key, and that key lets CloudWatch alarms publish.
    kms = estate.client("kms", P)
    logs_key = kms.describe_key(KeyId="alias/medcircle-logs")["KeyMetadata"]["Arn"]
    sns = estate.client("sns", P)
    assert sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["KmsMasterKeyId"] == logs_key
    assert run.task(ENCRYPT_TASK)["changed"] is True
    policy = json.loads(kms.get_key_policy(KeyId=logs_key, PolicyName="default")["Policy"])
    alarms_statement = {s.get("Sid"): s for s in policy["Statement"]}["CloudWatchAlarmsPublishToEncryptedTopics"]
    assert alarms_statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms_statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert alarms_statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}

    finding = audit(estate, tmp_path)
    assert finding["status"] == "pass", finding

    estate.clear_requests()
    again = run_playbook(estate, PLAYBOOK)
    assert again.returncode == 0
    assert again.stats["localhost"]["changed"] == 0, [n for n, o in again.tasks() if o.get("changed")]
    assert again.task(ENCRYPT_TASK)["changed"] is False
    assert detector_lines(again) == [
        f"{region}: GuardDuty ENABLED, findings published every fifteen minutes (already as wanted)."
        for region in (P, DR)
    ]
    assert not estate.requests(service="sns", operation="SetTopicAttributes")

    # Someone takes the encryption off: --check shows it would be put back (and changes nothing), a run puts it back.
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue="")
    estate.clear_requests()
    checked = run_playbook(estate, PLAYBOOK, check=True)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    encrypt = checked.task(ENCRYPT_TASK)
    assert encrypt["changed"] is True and encrypt["diff"]["after"]["kms_key_arn"] == logs_key, encrypt
    assert encrypt["diff"]["before"]["kms_key_arn"] is None
    assert estate.requests(mutating=True) == []
    assert not sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"].get("KmsMasterKeyId")
    fixed = run_playbook(estate, PLAYBOOK)
    assert fixed.returncode == 0
    changed = [n for n, o in fixed.tasks() if o.get("changed")]
    assert len(changed) == 1 and ENCRYPT_TASK in changed[0], changed
    assert sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["KmsMasterKeyId"] == logs_key


def test_the_alarms_reach_the_on_call_addresses_once_they_are_named(estate):
    run = run_playbook(estate, PLAYBOOK, extra_vars={"monitoring_alarm_emails": [ONCALL]})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    subscriptions = estate.client("sns", P).list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", ONCALL)]
    pending = subscriptions[0]["SubscriptionArn"] == "PendingConfirmation"
    note = ", waiting for the owner to follow the link in the confirmation e-mail" if pending else ""
    assert run.task(REACH_TASK)["msg"] == (
        f"3 alarm(s) ({', '.join(ALARMS)}) notify the topic medcircle-security-alerts in {P}; it reaches"
        f" {ONCALL} (email{note})."
    )
