"""plugins/module_utils/ebs_encryption.py, kms.py and common.py against botocore's Stubber.

A call that is not stubbed fails the test, so each test that expects no change
simply stubs no mutating call.
"""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.medcircle.cloudops.plugins.module_utils import ebs_encryption
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import parse_kms_key_id

ACCOUNT = "123456789012"
KEY_A = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_B = "0987dcba-09fe-87dc-65ba-ab0987654321"
MANAGED = "11111111-2222-3333-4444-555555555555"


def key_arn(region, key_id):
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


def alias_arn(region, name):
    return f"arn:aws:kms:{region}:{ACCOUNT}:alias/{name}"


def ensure(aws, regions, enabled=True, kms_key_id=None, check_mode=False):
    return ebs_encryption.ensure_ebs_encryption(
        aws.clients("ec2", regions),
        aws.clients("kms", regions) if kms_key_id else {},
        regions,
        enabled=enabled,
        kms_key_id=kms_key_id,
        check_mode=check_mode,
    )


# --- enable, change, idempotency ---------------------------------------------------------


def test_enable_with_alias_in_two_regions(aws):
    regions = ["us-east-1", "us-west-2"]
    for region in regions:
        aws.ebs_state(region, False, alias_arn(region, "aws/ebs"))
        aws.describe_key(region, "alias/medcircle-ebs", key_arn(region, KEY_A))
        aws.describe_key(region, alias_arn(region, "aws/ebs"), key_arn(region, MANAGED), KeyManager="AWS")
    # Mutating calls only after every region was read and validated; key first, then encryption.
    for region in regions:
        ec2 = aws.stub("ec2", region)
        ec2.add_response(
            "modify_ebs_default_kms_key_id", {"KmsKeyId": key_arn(region, KEY_A)}, {"KmsKeyId": "alias/medcircle-ebs"}
        )
        ec2.add_response("enable_ebs_encryption_by_default", {"EbsEncryptionByDefault": True}, {})

    result = ensure(aws, regions, kms_key_id="alias/medcircle-ebs")

    assert result["changed"] is True
    assert result["regions"] == [
        {"region": r, "ebs_encryption_by_default": True, "kms_key_id": key_arn(r, KEY_A), "changed": True}
        for r in regions
    ]
    assert result["diff"]["before"]["us-west-2"] == {
        "ebs_encryption_by_default": False,
        "kms_key_id": alias_arn("us-west-2", "aws/ebs"),
    }
    assert result["diff"]["after"]["us-west-2"] == {
        "ebs_encryption_by_default": True,
        "kms_key_id": key_arn("us-west-2", KEY_A),
    }


def test_change_key_only(aws):
    aws.ebs_state("us-east-1", True, key_arn("us-east-1", KEY_B))
    aws.describe_key("us-east-1", "alias/medcircle-ebs", key_arn("us-east-1", KEY_A))
    aws.describe_key("us-east-1", key_arn("us-east-1", KEY_B), key_arn("us-east-1", KEY_B))
    aws.stub("ec2", "us-east-1").add_response(
        "modify_ebs_default_kms_key_id", {"KmsKeyId": key_arn("us-east-1", KEY_A)}, {"KmsKeyId": "alias/medcircle-ebs"}
    )

    result = ensure(aws, ["us-east-1"], kms_key_id="alias/medcircle-ebs")

    assert result["changed"] is True
    assert result["regions"][0]["kms_key_id"] == key_arn("us-east-1", KEY_A)
    assert result["regions"][0]["ebs_encryption_by_default"] is True


def test_already_compliant_key_arn_makes_no_change(aws):
    aws.ebs_state("us-east-1", True, key_arn("us-east-1", KEY_A))
    aws.describe_key("us-east-1", "alias/medcircle-ebs", key_arn("us-east-1", KEY_A))

    result = ensure(aws, ["us-east-1"], kms_key_id="alias/medcircle-ebs")

    assert result["changed"] is False
    assert result["regions"] == [
        {
            "region": "us-east-1",
            "ebs_encryption_by_default": True,
            "kms_key_id": key_arn("us-east-1", KEY_A),
            "changed": False,
        }
    ]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_alias_arn_reported_and_key_arn_asked_are_the_same_key(aws):
    """AWS may report the alias ARN; the key behind it is what counts."""
    current = alias_arn("us-east-1", "medcircle-ebs")
    wanted = key_arn("us-east-1", KEY_A)
    aws.ebs_state("us-east-1", True, current)
    aws.describe_key("us-east-1", wanted, wanted)
    aws.describe_key("us-east-1", current, wanted)

    result = ensure(aws, ["us-east-1"], kms_key_id=wanted)

    assert result["changed"] is False
    assert result["regions"][0]["kms_key_id"] == current


def test_enable_without_key_leaves_key_alone(aws):
    aws.ebs_state("eu-west-1", False, alias_arn("eu-west-1", "aws/ebs"))
    aws.stub("ec2", "eu-west-1").add_response("enable_ebs_encryption_by_default", {"EbsEncryptionByDefault": True}, {})

    result = ensure(aws, ["eu-west-1"])

    assert result["changed"] is True
    assert result["regions"][0]["kms_key_id"] == alias_arn("eu-west-1", "aws/ebs")


def test_check_mode_makes_no_mutating_call(aws):
    regions = ["us-east-1", "us-west-2"]
    for region in regions:
        aws.ebs_state(region, False, alias_arn(region, "aws/ebs"))
        aws.describe_key(region, "alias/medcircle-ebs", key_arn(region, KEY_A))
        aws.describe_key(region, alias_arn(region, "aws/ebs"), key_arn(region, MANAGED), KeyManager="AWS")

    result = ensure(aws, regions, kms_key_id="alias/medcircle-ebs", check_mode=True)

    assert result["changed"] is True
    assert [r["changed"] for r in result["regions"]] == [True, True]
    assert result["regions"][1] == {
        "region": "us-west-2",
        "ebs_encryption_by_default": True,
        "kms_key_id": key_arn("us-west-2", KEY_A),
        "changed": True,
    }


def test_disable(aws):
    aws.ebs_state("us-east-1", True, key_arn("us-east-1", KEY_A))
    aws.stub("ec2", "us-east-1").add_response(
        "disable_ebs_encryption_by_default", {"EbsEncryptionByDefault": False}, {}
    )

    result = ensure(aws, ["us-east-1"], enabled=False)

    assert result["changed"] is True
    assert result["regions"][0]["ebs_encryption_by_default"] is False
    assert result["regions"][0]["kms_key_id"] == key_arn("us-east-1", KEY_A)


def test_disable_when_disabled_is_no_change(aws):
    aws.ebs_state("us-east-1", False, key_arn("us-east-1", KEY_A))

    assert ensure(aws, ["us-east-1"], enabled=False)["changed"] is False


@pytest.mark.parametrize("name", ["aws/ebs", "alias/aws/ebs"])
def test_reset_to_aws_managed_key(aws, name):
    managed_alias = alias_arn("us-east-1", "aws/ebs")
    aws.ebs_state("us-east-1", True, key_arn("us-east-1", KEY_A))
    aws.describe_key("us-east-1", "alias/aws/ebs", key_arn("us-east-1", MANAGED), KeyManager="AWS")
    aws.describe_key("us-east-1", key_arn("us-east-1", KEY_A), key_arn("us-east-1", KEY_A))
    aws.stub("ec2", "us-east-1").add_response("reset_ebs_default_kms_key_id", {"KmsKeyId": managed_alias}, {})

    result = ensure(aws, ["us-east-1"], kms_key_id=name)

    assert result["changed"] is True
    assert result["regions"][0]["kms_key_id"] == managed_alias


def test_reset_when_already_aws_managed_is_no_change(aws):
    aws.ebs_state("us-east-1", True, alias_arn("us-east-1", "aws/ebs"))

    result = ensure(aws, ["us-east-1"], kms_key_id="aws/ebs")

    assert result["changed"] is False


# --- validation: bad input fails before any mutating call ------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("us-east-9", "is not an AWS region known for ec2"),
        ("US-EAST-1", "is not a well-formed AWS region name"),
        ("useast1", "is not a well-formed AWS region name"),
    ],
)
def test_bad_region(value, problem):
    with pytest.raises(ParameterError) as exc:
        validate_regions(["us-east-1", value])
    message = str(exc.value)
    assert message.startswith(f"regions {value} {problem}")
    assert "Allowed:" in message
    assert "us-west-2" in message


def test_regions_are_deduplicated_in_order():
    assert validate_regions(["us-west-2", "us-east-1", "us-west-2"]) == ["us-west-2", "us-east-1"]


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:kms:us-east-1:123456789012:key/not-a-key",
        "arn:aws:kms:us-east-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:s3:::my-bucket",
        "alias/",
        "alias/has space",
        "medcircle-ebs",
        "",
    ],
)
def test_malformed_kms_key_id_fails_without_any_call(aws, value):
    # Not even the read calls are made: the form is checked first.
    with pytest.raises(ParameterError) as exc:
        ensure(aws, ["us-east-1"], kms_key_id=value)
    assert str(exc.value).startswith("kms_key_id ")
    assert "is not a well-formed KMS key reference" in str(exc.value)
    assert "alias name (alias/my-key)" in str(exc.value)


def test_cross_region_arn_fails_without_any_call(aws):
    value = key_arn("eu-west-1", KEY_A)
    with pytest.raises(ParameterError) as exc:
        ensure(aws, ["us-east-1", "us-west-2"], kms_key_id=value)
    assert str(exc.value).startswith(f"kms_key_id {value} is a KMS ARN in eu-west-1 and cannot be used in us-east-1")


def test_arn_with_several_regions_fails(aws):
    value = alias_arn("us-east-1", "medcircle-ebs")
    with pytest.raises(ParameterError, match="cannot be used in us-west-2"):
        ensure(aws, ["us-east-1", "us-west-2"], kms_key_id=value)


def test_unknown_alias_in_second_region_fails_before_any_change(aws):
    """us-east-1 needs a change, us-west-2 has no such alias: neither region is changed."""
    aws.ebs_state("us-east-1", False, alias_arn("us-east-1", "aws/ebs"))
    aws.describe_key("us-east-1", "alias/medcircle-ebs", key_arn("us-east-1", KEY_A))
    aws.describe_key("us-east-1", alias_arn("us-east-1", "aws/ebs"), key_arn("us-east-1", MANAGED))
    aws.ebs_state("us-west-2", False, alias_arn("us-west-2", "aws/ebs"))
    aws.key_not_found("us-west-2", "alias/medcircle-ebs")

    with pytest.raises(ParameterError) as exc:
        ensure(aws, ["us-east-1", "us-west-2"], kms_key_id="alias/medcircle-ebs")
    assert str(exc.value).startswith("kms_key_id alias/medcircle-ebs was not found in us-west-2")


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion"])
def test_unusable_key_fails(aws, state):
    aws.ebs_state("us-east-1", False, alias_arn("us-east-1", "aws/ebs"))
    aws.describe_key("us-east-1", KEY_A, key_arn("us-east-1", KEY_A), state=state)

    with pytest.raises(ParameterError) as exc:
        ensure(aws, ["us-east-1"], kms_key_id=KEY_A)
    assert f"which is {state} in us-east-1" in str(exc.value)
    assert str(exc.value).startswith(f"kms_key_id {KEY_A} resolves to")


def test_asymmetric_key_fails(aws):
    aws.ebs_state("us-east-1", False, alias_arn("us-east-1", "aws/ebs"))
    aws.describe_key(
        "us-east-1", "alias/signing", key_arn("us-east-1", KEY_A), KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"
    )

    with pytest.raises(ParameterError, match="not a symmetric encryption key"):
        ensure(aws, ["us-east-1"], kms_key_id="alias/signing")


@pytest.mark.parametrize(
    ("value", "kind", "region"),
    [
        (KEY_A, "key_id", None),
        ("mrk-1234abcd12ab34cd56ef1234567890ab", "key_id", None),
        ("alias/medcircle-ebs", "alias_name", None),
        (key_arn("us-west-2", KEY_A), "key_arn", "us-west-2"),
        (
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            "key_arn",
            "us-gov-west-1",
        ),
        (alias_arn("eu-west-1", "medcircle-ebs"), "alias_arn", "eu-west-1"),
    ],
)
def test_parse_kms_key_id_forms(value, kind, region):
    ref = parse_kms_key_id(value)
    assert (ref.value, ref.kind, ref.region) == (value, kind, region)


# --- AWS errors ------------------------------------------------------------------------------


def test_aws_error_is_wrapped_with_what_failed(aws):
    aws.stub("ec2", "us-east-1").add_client_error(
        "get_ebs_encryption_by_default", service_error_code="UnauthorizedOperation", http_status_code=403
    )

    with pytest.raises(AnsibleEC2Error) as exc:
        ebs_encryption.describe_ebs_encryption(aws.client("ec2", "us-east-1"), "us-east-1")
    assert exc.value.message == "Failed to get EBS encryption by default"
    assert exc.value.exception.response["Error"]["Code"] == "UnauthorizedOperation"


def test_throttling_is_retried(aws):
    ec2 = aws.stub("ec2", "us-east-1")
    ec2.add_client_error("get_ebs_encryption_by_default", service_error_code="RequestLimitExceeded")
    ec2.add_response("get_ebs_encryption_by_default", {"EbsEncryptionByDefault": True}, {})

    assert ebs_encryption.get_ebs_encryption_by_default(aws.client("ec2", "us-east-1")) is True
