"""The ec2_ebs_encryption_default and _info modules, driven through main().

Module arguments go in with ansible's patch_module_args, the result comes back
as the JSON the module prints. AnsibleAWSModule.client is pointed at stubbed
boto3 clients (one per service and region), so the test sees which region
every client was built for and every AWS call is checked by botocore's Stubber.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import (
    ec2_ebs_encryption_default,
    ec2_ebs_encryption_default_info,
)

ACCOUNT = "123456789012"
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
MANAGED = "11111111-2222-3333-4444-555555555555"


def key_arn(region, key_id=KEY):
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


def alias_arn(region, name="aws/ebs"):
    return f"arn:aws:kms:{region}:{ACCOUNT}:alias/{name}"


@pytest.fixture
def clients(aws, monkeypatch):
    """Route AnsibleAWSModule.client to the stubbed clients; record what was asked for."""
    requested = []

    def client(self, service, retry_decorator=None, **extra_params):
        requested.append((service, extra_params.get("region"), retry_decorator is not None))
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(module, args, capsys):
    """Run a module's main() and return (rc, result)."""
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1"}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_enable_in_two_regions_with_diff(aws, clients, capsys):
    regions = ["us-east-1", "us-west-2"]
    for region in regions:
        aws.ebs_state(region, False, alias_arn(region))
        aws.describe_key(region, "alias/medcircle-ebs", key_arn(region))
        aws.describe_key(region, alias_arn(region), key_arn(region, MANAGED), KeyManager="AWS")
    for region in regions:
        ec2 = aws.stub("ec2", region)
        ec2.add_response(
            "modify_ebs_default_kms_key_id", {"KmsKeyId": key_arn(region)}, {"KmsKeyId": "alias/medcircle-ebs"}
        )
        ec2.add_response("enable_ebs_encryption_by_default", {"EbsEncryptionByDefault": True}, {})

    rc, result = run(
        ec2_ebs_encryption_default,
        {"regions": regions, "kms_key_id": "alias/medcircle-ebs", "_ansible_diff": True},
        capsys,
    )

    assert rc == 0
    assert result["changed"] is True
    assert [(r["region"], r["ebs_encryption_by_default"], r["kms_key_id"]) for r in result["regions"]] == [
        ("us-east-1", True, key_arn("us-east-1")),
        ("us-west-2", True, key_arn("us-west-2")),
    ]
    assert result["diff"]["before"]["us-east-1"]["ebs_encryption_by_default"] is False
    assert result["diff"]["after"]["us-west-2"]["kms_key_id"] == key_arn("us-west-2")
    # One retrying client per service and region.
    assert sorted(clients) == [
        ("ec2", "us-east-1", True),
        ("ec2", "us-west-2", True),
        ("kms", "us-east-1", True),
        ("kms", "us-west-2", True),
    ]


def test_defaults_to_module_region_and_no_diff_without_diff_mode(aws, clients, capsys):
    aws.ebs_state("eu-west-1", True, alias_arn("eu-west-1"))

    rc, result = run(ec2_ebs_encryption_default, {"region": "eu-west-1"}, capsys)

    assert rc == 0
    assert result["changed"] is False
    assert result["regions"] == [
        {
            "region": "eu-west-1",
            "ebs_encryption_by_default": True,
            "kms_key_id": alias_arn("eu-west-1"),
            "changed": False,
        }
    ]
    assert "diff" not in result
    assert clients == [("ec2", "eu-west-1", True)]  # no KMS client without kms_key_id


def test_check_mode_reports_change_without_mutating(aws, clients, capsys):
    aws.ebs_state("us-east-1", True, key_arn("us-east-1"))

    rc, result = run(ec2_ebs_encryption_default, {"state": "disabled", "_ansible_check_mode": True}, capsys)

    assert rc == 0
    assert result["changed"] is True
    assert result["regions"][0]["ebs_encryption_by_default"] is False


def test_bad_region_fails_before_any_client(aws, clients, capsys):
    rc, result = run(ec2_ebs_encryption_default, {"regions": ["us-east-1", "mars-north-1"]}, capsys)

    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith("regions mars-north-1 is not an AWS region known for ec2. Allowed: ")
    assert clients == []


def test_cross_region_arn_fails_naming_kms_key_id(aws, clients, capsys):
    value = key_arn("eu-west-1")
    rc, result = run(ec2_ebs_encryption_default, {"kms_key_id": value}, capsys)

    assert rc == 1
    assert result["msg"].startswith(f"kms_key_id {value} is a KMS ARN in eu-west-1 and cannot be used in us-east-1")


def test_unknown_alias_fails_naming_region(aws, clients, capsys):
    aws.ebs_state("us-west-2", False, alias_arn("us-west-2"))
    aws.key_not_found("us-west-2", "alias/x")

    rc, result = run(ec2_ebs_encryption_default, {"regions": ["us-west-2"], "kms_key_id": "alias/x"}, capsys)

    assert rc == 1
    assert result["msg"].startswith("kms_key_id alias/x was not found in us-west-2")


def test_aws_error_fails_with_error_code(aws, clients, capsys):
    aws.stub("ec2", "us-east-1").add_client_error(
        "get_ebs_encryption_by_default",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        http_status_code=403,
    )

    rc, result = run(ec2_ebs_encryption_default, {}, capsys)

    assert rc == 1
    assert result["msg"] == (
        "Failed to get EBS encryption by default: An error occurred (UnauthorizedOperation) when calling "
        "the GetEbsEncryptionByDefault operation: You are not authorized to perform this operation."
    )
    assert result["error"]["code"] == "UnauthorizedOperation"
    assert "boto3_version" in result


def test_info_reports_each_region(aws, clients, capsys):
    aws.ebs_state("us-east-1", True, key_arn("us-east-1"))
    aws.ebs_state("us-west-2", False, alias_arn("us-west-2"))

    rc, result = run(ec2_ebs_encryption_default_info, {"regions": ["us-east-1", "us-west-2"]}, capsys)

    assert rc == 0
    assert result["changed"] is False
    assert result["regions"] == [
        {"region": "us-east-1", "ebs_encryption_by_default": True, "kms_key_id": key_arn("us-east-1")},
        {"region": "us-west-2", "ebs_encryption_by_default": False, "kms_key_id": alias_arn("us-west-2")},
    ]
