"""Operation detection without a server: SigV4 scope, X-Amz-Target, Action, REST routes."""

import io

import pytest

from sandbox import detect


def environ(method, path, query="", service="s3", region="us-east-1", headers=None, body=b""):
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "127.0.0.1:4566",
        "HTTP_AUTHORIZATION": (
            f"AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc"
        ),
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
    return env


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("GET", "/", "", {}, "ListBuckets"),
        ("PUT", "/bucket", "", {}, "CreateBucket"),
        ("HEAD", "/bucket", "", {}, "HeadBucket"),
        ("GET", "/bucket", "versioning", {}, "GetBucketVersioning"),
        ("PUT", "/bucket", "versioning", {}, "PutBucketVersioning"),
        ("GET", "/bucket", "policy", {}, "GetBucketPolicy"),
        ("DELETE", "/bucket", "policy", {}, "DeleteBucketPolicy"),
        ("GET", "/bucket", "encryption", {}, "GetBucketEncryption"),
        ("GET", "/bucket", "list-type=2&prefix=a", {}, "ListObjectsV2"),
        ("GET", "/bucket", "prefix=a", {}, "ListObjects"),
        ("GET", "/bucket/", "", {}, "ListObjects"),
        ("PUT", "/bucket/a/b/c.txt", "", {}, "PutObject"),
        ("PUT", "/bucket/a/b/c.txt", "", {"x-amz-copy-source": "bucket/x"}, "CopyObject"),
        ("PUT", "/bucket/key", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("GET", "/bucket/key", "", {}, "GetObject"),
        ("GET", "/bucket/key", "x-id=GetObject", {}, "GetObject"),
        ("HEAD", "/bucket/key", "", {}, "HeadObject"),
        ("POST", "/bucket", "delete", {}, "DeleteObjects"),
    ],
)
def test_s3_rest_xml(method, path, query, headers, operation):
    info = detect.detect(environ(method, path, query, headers=headers))
    assert (info.service, info.operation, info.region) == ("s3", operation, "us-east-1")


@pytest.mark.parametrize(
    ("service", "method", "path", "operation", "params"),
    [
        ("backup", "PUT", "/backup/plans/plan-1/selections/", "CreateBackupSelection", {"backupPlanId": "plan-1"}),
        ("backup", "GET", "/backup/plans/plan-1/selections/", "ListBackupSelections", {"backupPlanId": "plan-1"}),
        ("backup", "GET", "/backup-vaults/", "ListBackupVaults", {}),
        ("backup", "PUT", "/backup-vaults/vault-a", "CreateBackupVault", {"backupVaultName": "vault-a"}),
        ("dlm", "POST", "/policies", "CreateLifecyclePolicy", {}),
        ("dlm", "GET", "/policies/policy-1", "GetLifecyclePolicy", {"policyId": "policy-1"}),
        ("route53", "GET", "/2013-04-01/hostedzone", "ListHostedZones", {}),
        ("route53", "POST", "/2013-04-01/hostedzone/Z1/rrset/", "ChangeResourceRecordSets", {"Id": "Z1"}),
        ("lambda", "GET", "/2015-03-31/functions/", "ListFunctions", {}),
    ],
)
def test_rest_json_and_rest_xml_routes(service, method, path, operation, params):
    """uri_params are keyed by the requestUri labels, as moto's parsers expect."""
    info = detect.detect(environ(method, path, service=service, region="eu-west-1"))
    assert (info.service, info.operation, info.region) == (service, operation, "eu-west-1")
    assert info.uri_params == params


def test_json_target_and_query_action():
    env = environ("POST", "/", service="kms", headers={"X-Amz-Target": "TrentService.ListKeys"})
    info = detect.detect(env)
    assert (info.service, info.operation, info.protocol) == ("kms", "ListKeys", "json")

    body = b"Action=DescribeInstances&Version=2016-11-15"
    env = environ("POST", "/", service="ec2", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    info = detect.detect(env)
    assert (info.service, info.operation, info.protocol) == ("ec2", "DescribeInstances", "ec2")
    assert env["wsgi.input"].read() == body, "the body must still be there for moto"

    body = b"Action=DescribeLoadBalancers&Version=2012-06-01"
    env = environ(
        "POST",
        "/",
        service="elasticloadbalancing",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert detect.detect(env).service == "elb"
    env = environ(
        "POST", "/", service="monitoring", headers={"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}
    )
    assert (detect.detect(env).service, detect.detect(env).operation) == ("cloudwatch", "ListMetrics")


def test_host_header_fallback():
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "Action=ListUsers",
        "HTTP_HOST": "iam.amazonaws.com",
        "wsgi.input": io.BytesIO(b""),
    }
    info = detect.detect(env)
    assert (info.service, info.operation, info.region) == ("iam", "ListUsers", "us-east-1")
    env = {**env, "HTTP_HOST": "ec2.ap-southeast-2.amazonaws.com", "QUERY_STRING": "Action=DescribeVpcs"}
    info = detect.detect(env)
    assert (info.service, info.operation, info.region) == ("ec2", "DescribeVpcs", "ap-southeast-2")


@pytest.mark.parametrize(
    ("operation", "mutating"),
    [
        ("DescribeInstances", False),
        ("ListBuckets", False),
        ("GetBucketPolicy", False),
        ("HeadObject", False),
        ("GenerateCredentialReport", False),
        ("BatchGetItem", False),
        ("SimulatePrincipalPolicy", False),
        ("RunInstances", True),
        ("PutBucketPolicy", True),
        ("ModifyInstanceMetadataOptions", True),
        ("BatchWriteItem", True),
        ("UpdateTerminationProtection", True),
    ],
)
def test_mutating(operation, mutating):
    assert detect.is_mutating(operation) is mutating
