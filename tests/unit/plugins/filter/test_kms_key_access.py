"""The kms_key_access filter: which actions a key policy and its grants let one principal use."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.kms_key_access import (
    EBS_LAUNCH_ACTIONS,
    FilterModule,
    kms_key_access,
)

ACCOUNT = "111122223333"
SLR = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = {
    "Sid": "KeyAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
    "Action": ["kms:Create*", "kms:Describe*", "kms:Get*", "kms:List*"],
    "Resource": "*",
}


def key(*statements, grants=None):
    return {
        "key_arn": KEY_ARN,
        "key_policies": [{"Version": "2012-10-17", "Statement": list(statements)}],
        "grants": grants or [],
    }


def users(principals):
    """The two statements the kms_keys role writes for the users of a key."""
    return [
        {
            "Sid": "KeyUse",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "KeyGrantsForAwsServices",
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def test_the_kms_keys_policy_with_the_service_linked_role_allows_every_launch_action():
    result = kms_key_access(key(ADMIN, *users([SLR])), SLR)
    assert result["ok"] is True
    assert result["missing"] == [] and result["unsure"] == {}
    assert set(result["allowed"]) == set(EBS_LAUNCH_ACTIONS)
    assert result["allowed"]["kms:CreateGrant"] == "key policy statement KeyGrantsForAwsServices"
    assert result["allowed"]["kms:GenerateDataKeyWithoutPlaintext"] == "key policy statement KeyUse"


def test_root_only_policy_leaves_the_service_linked_role_without_any_use():
    """The account root delegates to IAM policies; a service-linked role's IAM policy has no KMS action."""
    result = kms_key_access(key(ADMIN), SLR)
    assert result["ok"] is False
    assert result["missing"] == list(EBS_LAUNCH_ACTIONS)
    # A principal whose IAM policies do grant KMS use is judged with the root statement counted.
    assert kms_key_access(key(ADMIN), SLR, actions=["kms:DescribeKey"], account_root_counts=True)["ok"] is True


def test_users_of_another_principal_do_not_count():
    other = f"arn:aws:iam::{ACCOUNT}:role/medcircle-app"
    result = kms_key_access(key(ADMIN, *users([other])), SLR)
    assert result["missing"] == list(EBS_LAUNCH_ACTIONS)


def test_aws_managed_ebs_key_policy_allows_through_ec2_of_the_same_account_only():
    managed = {
        "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:CreateGrant",
            "kms:DescribeKey",
        ],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": "ec2.us-east-1.amazonaws.com"}},
    }
    assert kms_key_access(key(managed), SLR)["ok"] is True
    stranger = "arn:aws:iam::999988887777:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    assert kms_key_access(key(managed), stranger)["missing"] == list(EBS_LAUNCH_ACTIONS)
    # The key of another region is used through that region's EC2 endpoint.
    assert kms_key_access(key(managed), SLR, via_service="ec2.eu-west-1.amazonaws.com")["ok"] is False


def test_create_grant_needs_the_grant_to_be_for_an_aws_resource_only_where_the_statement_says_so():
    strict = users([SLR])[1]
    result = kms_key_access(key(strict), SLR, actions=["kms:CreateGrant", "kms:ListGrants"])
    # CreateGrant by Auto Scaling is for an EC2 volume (true); ListGrants carries no such key (absent).
    assert result["allowed"] == {"kms:CreateGrant": "key policy statement KeyGrantsForAwsServices"}
    assert result["missing"] == ["kms:ListGrants"]
    exists = dict(strict, Condition={"BoolIfExists": {"kms:GrantIsForAWSResource": "true"}})
    assert kms_key_access(key(exists), SLR, actions=["kms:ListGrants"])["ok"] is True


def test_a_grant_to_the_role_counts_per_operation():
    grants = [
        {"grant_id": "g-other", "grantee_principal": f"arn:aws:iam::{ACCOUNT}:role/x", "operations": ["Decrypt"]},
        {"grant_id": "g-asg", "grantee_principal": SLR, "operations": ["Decrypt", "Encrypt", "CreateGrant"]},
    ]
    result = kms_key_access(key(ADMIN, grants=grants), SLR)
    assert result["allowed"] == {
        "kms:Encrypt": "grant g-asg",
        "kms:Decrypt": "grant g-asg",
        "kms:CreateGrant": "grant g-asg",
    }
    assert result["missing"] == [
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:DescribeKey",
    ]


def test_an_explicit_deny_wins_over_an_allow():
    deny = {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    result = kms_key_access(key(*users([SLR]), deny), SLR)
    assert result["denied"] == {"kms:Decrypt": "NoDecrypt"}
    assert result["missing"] == ["kms:Decrypt"]
    assert result["ok"] is False


def test_a_deny_whose_condition_does_not_hold_does_not_apply():
    deny = {
        "Sid": "OnlyThroughEc2",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"kms:ViaService": ["ec2.us-east-1.amazonaws.com"]}},
    }
    assert kms_key_access(key(*users([SLR]), deny), SLR)["ok"] is True
    assert kms_key_access(key(*users([SLR]), deny), SLR, via_service="rds.us-east-1.amazonaws.com")["ok"] is False


def test_not_action_and_wildcards_are_matched_case_insensitively():
    broad = {
        "Sid": "AllButDelete",
        "Effect": "Allow",
        "Principal": {"AWS": SLR},
        "NotAction": "kms:ScheduleKey*",
        "Resource": "*",
    }
    assert kms_key_access(key(broad), SLR)["ok"] is True
    lower = {"Sid": "Lower", "Effect": "Allow", "Principal": {"AWS": [SLR]}, "Action": "KMS:*", "Resource": "*"}
    assert kms_key_access(key(lower), SLR)["ok"] is True


def test_conditions_this_check_cannot_evaluate_are_reported_not_guessed():
    tagged = {
        "Sid": "ByTag",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ops"}},
    }
    result = kms_key_access(key(tagged), SLR)
    assert result["ok"] is True  # nothing is known to be missing
    assert set(result["unsure"]) == set(EBS_LAUNCH_ACTIONS)
    assert "ByTag" in result["unsure"]["kms:Decrypt"]
    odd_deny = dict(tagged, Sid="MaybeDeny", Effect="Deny")
    unsure = kms_key_access(key(*users([SLR]), odd_deny), SLR)["unsure"]
    assert "MaybeDeny" in unsure["kms:Encrypt"] and "may deny" in unsure["kms:Encrypt"]


def test_a_policy_given_as_json_text_and_a_single_statement_are_read():
    import json

    text = {"key_arn": KEY_ARN, "key_policies": [json.dumps({"Statement": users([SLR])[0]})], "grants": []}
    result = kms_key_access(text, SLR, actions=["kms:Encrypt"])
    assert result["allowed"] == {"kms:Encrypt": "key policy statement KeyUse"}


@pytest.mark.parametrize("principal", ["", "AWSServiceRoleForAutoScaling", None])
def test_a_principal_that_is_not_an_arn_is_refused(principal):
    with pytest.raises(AnsibleFilterError, match="principal must be an IAM ARN"):
        kms_key_access(key(ADMIN), principal)


def test_a_key_that_is_not_a_dict_is_refused():
    with pytest.raises(AnsibleFilterError, match="expected one key"):
        kms_key_access([key(ADMIN)], SLR)


def test_filter_is_registered():
    assert FilterModule().filters()["kms_key_access"] is kms_key_access
