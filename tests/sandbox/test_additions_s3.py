"""S3 additions: Object Lock on an existing bucket, replication that really replicates, TLS-only policies."""

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sandbox-replication"


def _bucket(s3, name, region, versioned=True):
    kwargs = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _rule(dest, **extra):
    rule = {
        "ID": "to-dr",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": "records/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{dest}"},
    }
    rule.update(extra)
    return rule


def test_object_lock_on_an_existing_bucket_with_objects(clean_sandbox):
    s3 = clean_sandbox.client("s3")
    _bucket(s3, "lock-me", "us-east-1", versioned=False)
    s3.put_object(Bucket="lock-me", Key="a.txt", Body=b"a")
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}
    with pytest.raises(ClientError) as raised:
        s3.put_object_lock_configuration(Bucket="lock-me", ObjectLockConfiguration=conf)
    assert raised.value.response["Error"]["Code"] == "InvalidBucketState"

    s3.put_bucket_versioning(Bucket="lock-me", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket="lock-me", ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket="lock-me")["ObjectLockConfiguration"] == conf
    # new objects get the default retention; a copy needs no checksum header
    s3.put_object(Bucket="lock-me", Key="b.txt", Body=b"b")
    assert s3.head_object(Bucket="lock-me", Key="b.txt")["ObjectLockMode"] == "GOVERNANCE"
    s3.copy_object(Bucket="lock-me", Key="c.txt", CopySource={"Bucket": "lock-me", "Key": "a.txt"})
    assert s3.head_object(Bucket="lock-me", Key="c.txt")["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as raised:
        s3.put_object_lock_configuration(Bucket="lock-me", ObjectLockConfiguration={"ObjectLockEnabled": "Disabled"})
    assert raised.value.response["Error"]["Code"] in ("InvalidRequest", "MalformedXML")


def test_replication_configuration_is_kept_and_checked(clean_sandbox):
    s3 = clean_sandbox.client("s3")
    west = clean_sandbox.client("s3", "us-west-2")
    _bucket(s3, "src", "us-east-1")
    _bucket(west, "dst-unversioned", "us-west-2", versioned=False)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_replication(
            Bucket="src", ReplicationConfiguration={"Role": ROLE, "Rules": [_rule("dst-unversioned")]}
        )
    assert "versioning" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_replication(Bucket="src", ReplicationConfiguration={"Role": ROLE, "Rules": [_rule("nowhere")]})
    assert "must exist" in raised.value.response["Error"]["Message"]
    _bucket(west, "dst", "us-west-2")
    rule = _rule("dst", SourceSelectionCriteria={"SseKmsEncryptedObjects": {"Status": "Enabled"}})
    with pytest.raises(ClientError):  # SSE-KMS objects selected, no replica key
        s3.put_bucket_replication(Bucket="src", ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": "arn:aws:kms:us-west-2:123456789012:key/k"}
    conf = {"Role": ROLE, "Rules": [rule]}
    s3.put_bucket_replication(Bucket="src", ReplicationConfiguration=conf)
    assert s3.get_bucket_replication(Bucket="src")["ReplicationConfiguration"] == conf
    s3.delete_bucket_replication(Bucket="src")
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_replication(Bucket="src")
    assert raised.value.response["Error"]["Code"] == "ReplicationConfigurationNotFoundError"


def test_new_objects_replicate(clean_sandbox):
    s3 = clean_sandbox.client("s3")
    west = clean_sandbox.client("s3", "us-west-2")
    _bucket(s3, "src", "us-east-1")
    _bucket(west, "dst", "us-west-2")
    s3.put_object(Bucket="src", Key="records/before.json", Body=b"old")
    s3.put_bucket_replication(Bucket="src", ReplicationConfiguration={"Role": ROLE, "Rules": [_rule("dst")]})

    put = s3.put_object(Bucket="src", Key="records/p1.json", Body=b"{}", Metadata={"owner": "dpo"}, Tagging="a=b")
    source = s3.head_object(Bucket="src", Key="records/p1.json")
    replica = west.head_object(Bucket="dst", Key="records/p1.json")
    assert source["ReplicationStatus"] == "COMPLETED"
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["VersionId"] == put["VersionId"]
    assert replica["Metadata"] == {"owner": "dpo"}
    assert west.get_object_tagging(Bucket="dst", Key="records/p1.json")["TagSet"] == [{"Key": "a", "Value": "b"}]
    assert west.get_object(Bucket="dst", Key="records/p1.json")["Body"].read() == b"{}"

    s3.copy_object(Bucket="src", Key="records/p2.json", CopySource={"Bucket": "src", "Key": "records/p1.json"})
    assert west.head_object(Bucket="dst", Key="records/p2.json")["ReplicationStatus"] == "REPLICA"

    # outside the rule's prefix, and objects written before the rule: not replicated
    s3.put_object(Bucket="src", Key="other/x.json", Body=b"x")
    assert "ReplicationStatus" not in s3.head_object(Bucket="src", Key="other/x.json")
    keys = sorted(o["Key"] for o in west.list_objects_v2(Bucket="dst").get("Contents", []))
    assert keys == ["records/p1.json", "records/p2.json"]

    # a delete marker replicates
    s3.delete_object(Bucket="src", Key="records/p2.json")
    markers = west.list_object_versions(Bucket="dst").get("DeleteMarkers", [])
    assert [m["Key"] for m in markers] == ["records/p2.json"]


def test_sse_kms_objects_need_the_rule_to_select_them(clean_sandbox):
    s3 = clean_sandbox.client("s3")
    west = clean_sandbox.client("s3", "us-west-2")
    _bucket(s3, "src", "us-east-1")
    _bucket(west, "dst", "us-west-2")
    s3.put_bucket_replication(Bucket="src", ReplicationConfiguration={"Role": ROLE, "Rules": [_rule("dst")]})
    s3.put_object(Bucket="src", Key="records/k.json", Body=b"k", ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")
    assert "ReplicationStatus" not in s3.head_object(Bucket="src", Key="records/k.json")
    assert west.list_objects_v2(Bucket="dst").get("KeyCount") == 0


def test_tls_only_policy_denies_cleartext_requests_only(clean_sandbox):
    s3 = clean_sandbox.client("s3")
    _bucket(s3, "tls", "us-east-1")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::tls", "arn:aws:s3:::tls/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket="tls", Policy=json.dumps(policy))
    s3.put_object(Bucket="tls", Key="a", Body=b"a")  # the SDK's request stands for one over TLS
    assert s3.get_object(Bucket="tls", Key="a")["Body"].read() == b"a"

    def cleartext(request, **kwargs):
        request.headers["X-Forwarded-Proto"] = "http"

    s3.meta.events.register("before-sign.s3.*", cleartext)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="tls", Key="a")
    assert raised.value.response["Error"]["Code"] in ("403", "AccessDenied")
    with pytest.raises(ClientError):
        s3.put_object(Bucket="tls", Key="b", Body=b"b")
