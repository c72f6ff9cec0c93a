"""The request log: service, operation, region and mutating for each protocol; filters; clearing."""

import contextlib
import urllib.request

import pytest
from sandbox_client import SandboxError


def _pick(entries, service, operation):
    found = [entry for entry in entries if entry["service"] == service and entry["operation"] == operation]
    assert found, f"{service}:{operation} not in the log: {[(e['service'], e['operation']) for e in entries]}"
    return found[-1]


def test_log_classifies_every_protocol(clean_sandbox):
    sb = clean_sandbox
    sb.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")  # ec2 query
    sb.client("ec2", region="eu-west-1").describe_vpcs()
    iam = sb.client("iam")  # query
    iam.create_user(UserName="alice")
    iam.list_users()
    kms = sb.client("kms", region="eu-central-1")  # json
    kms.create_key()
    kms.list_keys()
    s3 = sb.client("s3")  # rest-xml, with query-string subresources
    s3.create_bucket(Bucket="log-test-bucket")
    s3.put_bucket_versioning(Bucket="log-test-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.get_bucket_versioning(Bucket="log-test-bucket")
    s3.put_object(Bucket="log-test-bucket", Key="dir/file.txt", Body=b"x")
    s3.list_objects_v2(Bucket="log-test-bucket")
    backup = sb.client("backup", region="us-west-2")  # rest-json
    backup.create_backup_vault(BackupVaultName="vault")
    backup.list_backup_vaults()

    entries = sb.requests()
    expected = [
        ("ec2", "CreateVpc", "us-east-1", True),
        ("ec2", "DescribeVpcs", "eu-west-1", False),
        ("iam", "CreateUser", "us-east-1", True),
        ("iam", "ListUsers", "us-east-1", False),
        ("kms", "CreateKey", "eu-central-1", True),
        ("kms", "ListKeys", "eu-central-1", False),
        ("s3", "CreateBucket", "us-east-1", True),
        ("s3", "PutBucketVersioning", "us-east-1", True),
        ("s3", "GetBucketVersioning", "us-east-1", False),
        ("s3", "PutObject", "us-east-1", True),
        ("s3", "ListObjectsV2", "us-east-1", False),
        ("backup", "CreateBackupVault", "us-west-2", True),
        ("backup", "ListBackupVaults", "us-west-2", False),
    ]
    assert [(e["service"], e["operation"], e["region"], e["mutating"]) for e in entries] == expected
    assert all(entry["status"] == 200 and entry["fault"] is None for entry in entries)
    seqs = [entry["seq"] for entry in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert entries[0]["time"].endswith("+00:00")


def test_filters(quiet_sandbox):
    sb = quiet_sandbox
    sb.client("iam").list_users()
    first = sb.requests()[-1]["seq"]
    sb.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")
    sb.client("ec2", region="eu-west-1").describe_vpcs()
    sb.client("kms").list_keys()

    assert [e["operation"] for e in sb.requests(service="ec2")] == ["CreateVpc", "DescribeVpcs"]
    assert [e["operation"] for e in sb.requests(service="ec2", mutating=True)] == ["CreateVpc"]
    assert [e["operation"] for e in sb.requests(mutating=False, since=first)] == ["DescribeVpcs", "ListKeys"]
    assert [e["operation"] for e in sb.requests(region="eu-west-1")] == ["DescribeVpcs"]
    assert [e["service"] for e in sb.requests(since=first)] == ["ec2", "ec2", "kms"]
    assert sb.requests(operation="ListKeys")[0]["service"] == "kms"
    with pytest.raises(SandboxError, match="unknown filter"):
        sb.requests(colour="blue")
    with pytest.raises(SandboxError, match="mutating must be true or false"):
        sb.requests(mutating="maybe")


def test_clear_keeps_counting(quiet_sandbox):
    sb = quiet_sandbox
    sb.client("sts").get_caller_identity()
    last = sb.requests()[-1]["seq"]
    sb.clear_requests()
    assert sb.requests() == []
    sb.client("sts").get_caller_identity()
    entries = sb.requests()
    assert len(entries) == 1 and entries[0]["seq"] > last
    assert (entries[0]["service"], entries[0]["operation"]) == ("sts", "GetCallerIdentity")


def test_unknown_requests_are_logged(quiet_sandbox):
    request = urllib.request.Request(f"{quiet_sandbox.endpoint}/no/such/thing", method="DELETE")  # noqa: S310
    with contextlib.suppress(OSError):  # whatever moto answers, the request must be in the log
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback
    entry = quiet_sandbox.requests()[-1]
    assert (entry["service"], entry["operation"], entry["mutating"]) == ("unknown", "unknown", True)


def test_control_endpoints_are_not_logged(quiet_sandbox):
    quiet_sandbox.health()
    quiet_sandbox.faults()
    assert quiet_sandbox.requests() == []
