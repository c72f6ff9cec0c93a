"""The estate collector on botocore's Stubber: read once, lazily, errors kept per source, calls counted."""

import contextlib
import datetime

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot, SourceError

P, DR = "us-east-1", "us-west-2"


def _snap(aws):
    return AwsSnapshot(aws.client, [P, DR], retry=AWSRetry.jittered_backoff(retries=1, delay=0), aws_retry=True)


def _instance(iid, tokens):
    return {"InstanceId": iid, "State": {"Name": "running"}, "MetadataOptions": {"HttpTokens": tokens}}


def test_instances_read_once_per_region_and_counted(aws):
    flt = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped", "shutting-down"]}]
    for region, iid, tokens in ((P, "i-1", "optional"), (DR, "i-2", "required")):
        aws.stub("ec2", region).add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [_instance(iid, tokens)]}]},
            {"Filters": flt, "MaxResults": 100},
        )
        aws.stub("ec2", region).add_response(
            "get_instance_metadata_defaults", {"AccountLevel": {"HttpTokens": "required"}}, {}
        )
    snap = _snap(aws)
    results, _summary = checks.run_audit(snap, checks.AuditContext(), ["1.7"])
    assert results[0]["status"] == "fail"
    assert {r["resource_id"]: r["status"] for r in results[0]["resources"]} == {
        "i-1": "fail",
        "i-2": "pass",
        f"instance-metadata-defaults/{P}": "pass",
        f"instance-metadata-defaults/{DR}": "pass",
    }
    # a second check on the same data makes no further call (the stubs hold no more answers)
    checks.run_check("1.7", snap, checks.AuditContext())
    assert snap.api_calls == {"ec2:DescribeInstances": 2, "ec2:GetInstanceMetadataDefaults": 2}


def test_credential_report_parsed(aws):
    iam = aws.stub("iam", P)
    iam.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    content = (
        "user,arn,user_creation_time,password_enabled,mfa_active\n"
        "<root_account>,arn:aws:iam::123456789012:root,2026-01-01T00:00:00+00:00,not_supported,true\n"
        "admin,arn:aws:iam::123456789012:user/admin,2026-01-01T00:00:00+00:00,true,false\n"
    )
    iam.add_response(
        "get_credential_report",
        {"Content": content.encode(), "ReportFormat": "text/csv", "GeneratedTime": datetime.datetime(2026, 11, 28)},
        {},
    )
    result = checks.run_check("1.1", _snap(aws), checks.AuditContext())
    assert result["status"] == "fail"
    assert [r["resource_id"] for r in result["resources"] if r["status"] == "fail"] == ["admin"]


def test_source_error_names_the_call_and_only_fails_its_finding(aws):
    aws.stub("cloudformation", P).add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="not allowed", http_status_code=403
    )
    snap = _snap(aws)
    result = checks.run_check("5.2", snap, checks.AuditContext())
    assert result["status"] == "error"
    assert "cloudformation_stacks in us-east-1: AccessDenied: not allowed (HTTP 403)" in result["message"]
    with pytest.raises(SourceError):
        snap.get("cloudformation_stacks", P)  # remembered, not asked again
    assert snap.api_calls == {"cloudformation:DescribeStacks": 1}


def test_missing_bucket_configuration_is_none(aws):
    s3 = aws.stub("s3", P)
    s3.add_response("list_buckets", {"Buckets": [{"Name": "records", "BucketRegion": P}]}, {"MaxBuckets": 10000})
    s3.add_client_error(
        "get_bucket_policy",
        service_error_code="NoSuchBucketPolicy",
        http_status_code=404,
        expected_params={"Bucket": "records"},
    )
    result = checks.run_check("2.8", _snap(aws), checks.AuditContext())
    assert result["status"] == "fail"
    assert result["resources"][0]["observed"] == "no bucket policy"


def test_replication_and_object_lock_are_asked_only_of_buckets_ever_versioned(aws):
    s3 = aws.stub("s3", P)
    names = ["never", "enabled", "suspended", "unreadable"]
    s3.add_response("list_buckets", {"Buckets": [{"Name": n, "BucketRegion": P} for n in names]}, {"MaxBuckets": 10000})
    snap = _snap(aws)
    # versioning first, in this order (the Stubber answers in order and refuses any other call)
    s3.add_response("get_bucket_versioning", {}, {"Bucket": "never"})
    s3.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": "enabled"})
    s3.add_response("get_bucket_versioning", {"Status": "Suspended"}, {"Bucket": "suspended"})
    s3.add_client_error(
        "get_bucket_versioning",
        service_error_code="AccessDenied",
        http_status_code=403,
        expected_params={"Bucket": "unreadable"},
    )
    for name in names:
        with pytest.raises(SourceError) if name == "unreadable" else contextlib.nullcontext():
            snap.get("s3_bucket", key=("versioning", name))
    # never versioned: neither setting can exist, so neither is asked
    assert snap.get("s3_bucket", key=("replication", "never")) is None
    assert snap.get("s3_bucket", key=("object_lock", "never")) is None
    # ever versioned, or not known: asked
    rule = {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::copy"}, "Priority": 1}
    replication = {"Role": "arn:aws:iam::123456789012:role/r", "Rules": [rule]}
    s3.add_response("get_bucket_replication", {"ReplicationConfiguration": replication}, {"Bucket": "enabled"})
    s3.add_client_error(
        "get_bucket_replication",
        service_error_code="ReplicationConfigurationNotFoundError",
        http_status_code=404,
        expected_params={"Bucket": "suspended"},
    )
    s3.add_response(
        "get_object_lock_configuration",
        {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}},
        {"Bucket": "unreadable"},
    )
    assert snap.get("s3_bucket", key=("replication", "enabled"))["ReplicationConfiguration"]["Rules"] == [rule]
    assert snap.get("s3_bucket", key=("replication", "suspended")) is None
    lock = snap.get("s3_bucket", key=("object_lock", "unreadable"))
    assert lock["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    s3.assert_no_pending_responses()
    assert snap.s3_answered_by_versioning == {("replication", "never"), ("object_lock", "never")}
    assert snap.api_calls["s3:GetBucketReplication"] == 2
    assert snap.api_calls["s3:GetObjectLockConfiguration"] == 1
