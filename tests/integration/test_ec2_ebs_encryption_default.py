"""medcircle.cloudops.ec2_ebs_encryption_default (and _info) through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m <module> -a <json>` from the repository root with
ANSIBLE_CONFIG=ansible.cfg and the sandbox's environment (AWS_ENDPOINT_URL and dummy
credentials): the module gets no endpoint option, so these tests also prove that it
honours AWS_ENDPOINT_URL. Results come back through the ansible.posix.json callback.
The sandbox's request log shows which AWS calls a run made.
"""

import sys
from pathlib import Path

import pytest
from playbook import run_module

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
MODULE = "medcircle.cloudops.ec2_ebs_encryption_default"
INFO_MODULE = "medcircle.cloudops.ec2_ebs_encryption_default_info"
REGIONS = ["us-east-1", "us-west-2"]


def mutating(sandbox):
    return [(r["service"], r["operation"], r["region"]) for r in sandbox.requests(mutating=True)]


def current(sandbox, region):
    ec2 = sandbox.client("ec2", region)
    return (
        ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
        ec2.get_ebs_default_kms_key_id()["KmsKeyId"],
    )


@pytest.fixture
def keys(clean_sandbox):
    """Two symmetric keys in each region, behind alias/medcircle-ebs and alias/medcircle-ebs-next."""
    arns = {}
    for region in REGIONS:
        kms = clean_sandbox.client("kms", region)
        for alias in ("alias/medcircle-ebs", "alias/medcircle-ebs-next"):
            key = kms.create_key(Description=f"{alias} test key")["KeyMetadata"]
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            arns[(region, alias)] = key["Arn"]
    clean_sandbox.clear_requests()
    return arns


def test_enable_idempotency_change_key_disable_reset(clean_sandbox, keys):
    sandbox = clean_sandbox
    enable = {"regions": REGIONS, "kms_key_id": "alias/medcircle-ebs"}

    # Check mode: reports the change, shows the diff, calls nothing that changes AWS.
    result = run_module(sandbox, MODULE, enable, check=True, diff=True)
    assert result["changed"] is True
    assert [
        (r["region"], r["ebs_encryption_by_default"], r["kms_key_id"], r["changed"]) for r in result["regions"]
    ] == [(region, True, keys[(region, "alias/medcircle-ebs")], True) for region in REGIONS]
    for region in REGIONS:
        assert result["diff"]["before"][region]["ebs_encryption_by_default"] is False
        assert result["diff"]["after"][region] == {
            "ebs_encryption_by_default": True,
            "kms_key_id": keys[(region, "alias/medcircle-ebs")],
        }
    assert sandbox.requests(service="ec2"), "the module did not reach the sandbox through AWS_ENDPOINT_URL"
    assert mutating(sandbox) == []
    assert current(sandbox, "us-east-1")[0] is False

    # For real: the default key first, then encryption, in each region.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, enable)
    assert result["changed"] is True
    assert "diff" not in result
    assert mutating(sandbox) == [
        ("ec2", "ModifyEbsDefaultKmsKeyId", "us-east-1"),
        ("ec2", "EnableEbsEncryptionByDefault", "us-east-1"),
        ("ec2", "ModifyEbsDefaultKmsKeyId", "us-west-2"),
        ("ec2", "EnableEbsEncryptionByDefault", "us-west-2"),
    ]
    for entry, region in zip(result["regions"], REGIONS, strict=True):
        assert entry["ebs_encryption_by_default"] is True
        assert current(sandbox, region) == (True, entry["kms_key_id"])

    # Again: nothing to do, no mutating call.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, enable, diff=True)
    assert result["changed"] is False
    assert [r["changed"] for r in result["regions"]] == [False, False]
    assert result["diff"]["before"] == result["diff"]["after"]
    assert mutating(sandbox) == []

    # The same key named by its ARN is the same setting.
    key_arn = keys[("us-west-2", "alias/medcircle-ebs")]
    result = run_module(sandbox, MODULE, {"regions": ["us-west-2"], "kms_key_id": key_arn})
    assert result["changed"] is False
    assert mutating(sandbox) == []

    # Change the key: check mode first, then for real, then idempotent.
    change = {"regions": REGIONS, "kms_key_id": "alias/medcircle-ebs-next"}
    result = run_module(sandbox, MODULE, change, check=True)
    assert result["changed"] is True
    assert mutating(sandbox) == []
    result = run_module(sandbox, MODULE, change)
    assert result["changed"] is True
    assert mutating(sandbox) == [
        ("ec2", "ModifyEbsDefaultKmsKeyId", "us-east-1"),
        ("ec2", "ModifyEbsDefaultKmsKeyId", "us-west-2"),
    ]
    assert current(sandbox, "us-west-2") == (True, keys[("us-west-2", "alias/medcircle-ebs-next")])
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, change)["changed"] is False
    assert mutating(sandbox) == []

    # Disable in one region: check mode, for real, idempotent. The key stays.
    disable = {"regions": ["us-west-2"], "state": "disabled"}
    assert run_module(sandbox, MODULE, disable, check=True)["changed"] is True
    assert mutating(sandbox) == []
    result = run_module(sandbox, MODULE, disable)
    assert result["changed"] is True
    assert mutating(sandbox) == [("ec2", "DisableEbsEncryptionByDefault", "us-west-2")]
    assert current(sandbox, "us-west-2") == (False, keys[("us-west-2", "alias/medcircle-ebs-next")])
    assert current(sandbox, "us-east-1")[0] is True
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, disable)["changed"] is False
    assert mutating(sandbox) == []

    # Back to the AWS managed key: check mode, for real, idempotent.
    reset = {"regions": ["us-east-1"], "kms_key_id": "aws/ebs"}
    assert run_module(sandbox, MODULE, reset, check=True)["changed"] is True
    assert mutating(sandbox) == []
    result = run_module(sandbox, MODULE, reset)
    assert result["changed"] is True
    assert current(sandbox, "us-east-1") == (True, result["regions"][0]["kms_key_id"])
    assert result["regions"][0]["kms_key_id"] != keys[("us-east-1", "alias/medcircle-ebs-next")]
    assert mutating(sandbox) == [("ec2", "ResetEbsDefaultKmsKeyId", "us-east-1")]
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, reset)["changed"] is False
    assert mutating(sandbox) == []

    # The _info module reports the same, read-only.
    result = run_module(sandbox, INFO_MODULE, {"regions": REGIONS})
    assert result["changed"] is False
    assert [(r["region"], r["ebs_encryption_by_default"]) for r in result["regions"]] == [
        ("us-east-1", True),
        ("us-west-2", False),
    ]
    assert result["regions"][1]["kms_key_id"] == keys[("us-west-2", "alias/medcircle-ebs-next")]
    assert mutating(sandbox) == []


@pytest.fixture
def disabled_key(clean_sandbox):
    kms = clean_sandbox.client("kms", "us-east-1")
    key = kms.create_key(Description="disabled test key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/medcircle-disabled", TargetKeyId=key["KeyId"])
    kms.disable_key(KeyId=key["KeyId"])
    return key["Arn"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"regions": ["us-east-1", "us-moon-1"]},
            "regions us-moon-1 is not an AWS region known for ec2. Allowed: af-south-1, ",
            id="unknown-region",
        ),
        pytest.param(
            {"regions": ["us-east-1"], "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/medcircle"},
            "kms_key_id arn:aws:kms:us-east-1:123456789012:key/medcircle is not a well-formed KMS key reference",
            id="malformed-arn",
        ),
        pytest.param(
            {"regions": REGIONS, "kms_key_id": "arn:aws:kms:us-east-1:123456789012:alias/medcircle-ebs"},
            "kms_key_id arn:aws:kms:us-east-1:123456789012:alias/medcircle-ebs is a KMS ARN in us-east-1 "
            "and cannot be used in us-west-2",
            id="cross-region-arn",
        ),
        pytest.param(
            {"regions": REGIONS, "kms_key_id": "alias/only-in-us-east-1"},
            "kms_key_id alias/only-in-us-east-1 was not found in us-west-2",
            id="alias-missing-in-second-region",
        ),
        pytest.param(
            {"regions": ["us-east-1"], "kms_key_id": "alias/medcircle-disabled"},
            "kms_key_id alias/medcircle-disabled resolves to arn:aws:kms:us-east-1:",
            id="disabled-key",
        ),
    ],
)
def test_bad_input_fails_before_any_change(clean_sandbox, disabled_key, args, message):
    sandbox = clean_sandbox
    kms = sandbox.client("kms", "us-east-1")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/only-in-us-east-1", TargetKeyId=key["KeyId"])
    sandbox.clear_requests()

    result = run_module(sandbox, MODULE, args)

    assert result["failed"] is True
    assert result["msg"].startswith(message), result["msg"]
    assert mutating(sandbox) == []
    assert current(sandbox, "us-east-1")[0] is False


def test_throttling_and_server_errors_are_retried(clean_sandbox, keys):
    """With a third of EC2 and KMS calls throttled and some answered 500, the module still converges."""
    sandbox = clean_sandbox
    sandbox.set_faults(
        [
            {"service": "ec2", "throttle_rate": 0.3, "error_rate": 0.05, "seed": 7},
            {"service": "kms", "throttle_rate": 0.3, "seed": 11},
        ]
    )
    result = run_module(sandbox, MODULE, {"regions": REGIONS, "kms_key_id": "alias/medcircle-ebs"})
    assert result["changed"] is True, result
    injected = sandbox.requests(fault=True)
    assert injected, "no fault was injected, so nothing was proven"
    assert {r["fault"] for r in injected} <= {"RequestLimitExceeded", "ThrottlingException", "InternalError"}
    sandbox.clear_faults()
    for region in REGIONS:
        assert current(sandbox, region) == (True, keys[(region, "alias/medcircle-ebs")])
