"""s3_bucket_protection through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import s3_bucket_protection

B = "medcircle-patient-records-123456789012"
LOG = "medcircle-s3-access-logs-123456789012"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = {
    "Sid": "ReadForAnalytics",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/analytics"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{B}/*",
}
TLS = {
    "Sid": "CloudopsDenyInsecureTransport",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
ARGS = {
    "buckets": [B],
    "versioning": True,
    "encryption": "aws:kms",
    "kms_key_id": "alias/medcircle-s3",
    "tls_only": True,
    "log_target_buckets": {"us-east-1": LOG},
}


@pytest.fixture
def aws_module(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule,
        "client",
        lambda self, service, region=None, retry_decorator=None, **kw: aws.client(service, region or "us-east-1"),
    )
    return aws


def run(args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1"}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        s3_bucket_protection.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def listed(aws, *names):
    aws.stub("s3", "us-east-1").add_response(
        "list_buckets", {"Buckets": [{"Name": n, "BucketRegion": "us-east-1"} for n in names]}, {}
    )


def state(aws, versioning=None, sse="AES256", key=None, statements=None, logging=None):
    s3 = aws.stub("s3", "us-east-1")
    s3.add_response("get_bucket_versioning", {"Status": versioning} if versioning else {}, {"Bucket": B})
    default = {"SSEAlgorithm": sse}
    if key:
        default["KMSMasterKeyID"] = key
    s3.add_response(
        "get_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bool(key)}]
            }
        },
        {"Bucket": B},
    )
    if statements is None:
        s3.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", http_status_code=404)
    else:
        policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
        s3.add_response("get_bucket_policy", {"Policy": policy}, {"Bucket": B})
    s3.add_response("get_bucket_logging", {"LoggingEnabled": logging} if logging else {}, {"Bucket": B})


def log_bucket_exists(aws):
    aws.stub("s3", "us-east-1").add_response("get_bucket_location", {}, {"Bucket": LOG})


def test_check_mode_returns_the_plan_and_calls_nothing_that_changes(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, statements=[OTHER])
    code, out = run(dict(ARGS, _ansible_diff=True), capsys, check=True)  # no Put* stubbed: a change would fail
    assert code == 0, out
    assert out["changed"] is True
    changes = out["buckets"][0]["changes"]
    assert changes[0] == "turn on versioning (was never enabled)"
    assert any(KEY_ARN in c and "bucket key" in c for c in changes)
    assert any("add statement CloudopsDenyInsecureTransport" in c and "1 other statement" in c for c in changes)
    assert any(f"s3://{LOG}/{B}/" in c for c in changes)
    assert out["diff"]["before"][B]["versioning"] == "Disabled"
    assert out["diff"]["after"][B]["versioning"] == "Enabled"


def test_apply_merges_the_policy_and_keeps_other_statements(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, versioning="Enabled", sse="aws:kms", key=KEY_ARN, statements=[OTHER])
    merged = json.dumps({"Version": "2012-10-17", "Statement": [OTHER, TLS]}, sort_keys=True)
    s3 = aws_module.stub("s3", "us-east-1")
    s3.add_response("put_bucket_policy", {}, {"Bucket": B, "Policy": merged})
    s3.add_response(
        "put_bucket_logging",
        {},
        {"Bucket": B, "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": LOG, "TargetPrefix": f"{B}/"}}},
    )
    code, out = run(ARGS, capsys)
    assert code == 0, out
    assert out["summary"] == {"matched": 1, "changed": 1}


def test_nothing_to_do_is_not_a_change(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(
        aws_module,
        versioning="Enabled",
        sse="aws:kms",
        key=KEY_ARN,
        statements=[TLS, OTHER],
        logging={"TargetBucket": LOG, "TargetPrefix": f"{B}/"},
    )
    code, out = run(ARGS, capsys)
    assert code == 0, out
    assert out["changed"] is False and out["buckets"][0]["changes"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        ({"encryption": "aws:kms", "kms_key_id": None}, "kms_key_id is required when encryption is aws:kms"),
        (
            {"encryption": "aws:kms", "accept_access_logs": True},
            "S3 delivers them only to buckets encrypted with SSE-S3",
        ),
        ({"object_lock": True, "versioning": False}, "versioning False cannot be false with object_lock"),
        ({"object_lock": True, "object_lock_retention": {"mode": "GOVERNANCE"}}, "exactly one of days and years"),
        ({"buckets": ["Not_A_Bucket"]}, "buckets Not_A_Bucket is not a valid S3 bucket name"),
    ],
)
def test_bad_input_fails_before_any_call(aws_module, capsys, args, message):
    code, out = run(dict(ARGS, **args), capsys)  # nothing stubbed: any AWS call would fail differently
    assert code == 1
    assert message in out["msg"], out["msg"]


def test_a_key_of_another_region_is_refused(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    args = dict(ARGS, kms_key_id="arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    code, out = run(args, capsys)
    assert code == 1
    assert "is a KMS ARN in us-west-2 and cannot be used in us-east-1" in out["msg"]


TEAM_KEY = "arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"
SETTLED = {"versioning": "Enabled", "statements": [TLS], "logging": {"TargetBucket": LOG, "TargetPrefix": f"{B}/"}}


def test_a_customer_managed_key_of_its_own_is_kept(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=TEAM_KEY, **SETTLED)
    aws_module.describe_key("us-east-1", TEAM_KEY, TEAM_KEY)
    code, out = run(dict(ARGS, keep_customer_managed_key=True, _ansible_diff=True), capsys)  # no Put* stubbed
    assert code == 0, out
    assert out["changed"] is False
    bucket = out["buckets"][0]
    assert bucket["changes"] == []
    note = f"keeps its own customer-managed key {TEAM_KEY} (not alias/medcircle-s3): its default encryption is left"
    assert bucket["notes"] == [note + " as it is"]
    assert out["diff"]["after"][B]["encryption"]["kms_key_id"] == TEAM_KEY
    assert "warnings" not in out


def test_without_keep_the_key_asked_for_replaces_it(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=TEAM_KEY, **SETTLED)
    code, out = run(ARGS, capsys, check=True)  # no DescribeKey of the bucket's own key stubbed
    assert code == 0, out
    assert out["changed"] is True and out["buckets"][0]["notes"] == []
    assert any(f"was aws:kms key {TEAM_KEY}" in c for c in out["buckets"][0]["changes"])


@pytest.mark.parametrize(
    "key, manager",
    [("alias/aws/s3", None), ("arn:aws:kms:us-east-1:123456789012:key/11112222-3333-4444-5555-666677778888", "AWS")],
)
def test_an_aws_managed_key_is_replaced_even_with_keep(aws_module, capsys, key, manager):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=key, **SETTLED)
    if manager:  # alias/aws/... names an AWS managed key by itself: no call
        aws_module.describe_key("us-east-1", key, key, KeyManager=manager)
    code, out = run(dict(ARGS, keep_customer_managed_key=True), capsys, check=True)
    assert code == 0, out
    assert out["changed"] is True and out["buckets"][0]["notes"] == []
    assert any(KEY_ARN in c for c in out["buckets"][0]["changes"])


def test_the_key_asked_for_named_another_way_is_not_kept_as_another_key(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=KEY_ARN.rsplit("/", 1)[1], **SETTLED)
    aws_module.describe_key("us-east-1", KEY_ARN.rsplit("/", 1)[1], KEY_ARN)
    code, out = run(dict(ARGS, keep_customer_managed_key=True), capsys, check=True)
    assert code == 0, out
    assert out["buckets"][0]["notes"] == []
    assert any(f"with SSE-KMS key {KEY_ARN}" in c for c in out["buckets"][0]["changes"])


def test_a_key_kms_does_not_describe_is_kept_with_a_warning(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=TEAM_KEY, **SETTLED)
    aws_module.stub("kms", "us-east-1").add_client_error("describe_key", "NotFoundException", http_status_code=400)
    code, out = run(dict(ARGS, keep_customer_managed_key=True), capsys)
    assert code == 0, out
    assert out["changed"] is False and out["buckets"][0]["notes"]
    assert "which KMS does not describe (NotFoundException)" in json.dumps(out["warnings"]), out


def test_a_disabled_key_is_kept_with_a_warning(aws_module, capsys):
    listed(aws_module, B, LOG)
    log_bucket_exists(aws_module)
    aws_module.describe_key("us-east-1", "alias/medcircle-s3", KEY_ARN)
    state(aws_module, sse="aws:kms", key=TEAM_KEY, **SETTLED)
    aws_module.describe_key("us-east-1", TEAM_KEY, TEAM_KEY, state="PendingDeletion")
    code, out = run(dict(ARGS, keep_customer_managed_key=True), capsys)
    assert code == 0, out
    assert out["changed"] is False
    assert "which is PendingDeletion: new uploads to the bucket fail" in json.dumps(out["warnings"]), out
