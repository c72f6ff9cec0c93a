"""The kms_key_policy_add_user filter: one more user in a key policy, every other statement kept."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.kms_key_access import EBS_LAUNCH_ACTIONS, kms_key_access
from ansible_collections.medcircle.cloudops.plugins.filter.kms_key_policy_add_user import (
    FilterModule,
    kms_key_policy_add_user,
)

ACCOUNT = "111122223333"
BACKUP = f"arn:aws:iam::{ACCOUNT}:role/medcircle-backup-role"
DLM = f"arn:aws:iam::{ACCOUNT}:role/service-role/medcircle-dlm-role"
SLR = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = {
    "Sid": "KeyAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
    "Action": ["kms:Create*", "kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*"],
    "Resource": "*",
}
LOGS = {
    "Sid": "ServiceUse",
    "Effect": "Allow",
    "Principal": {"Service": ["logs.us-east-1.amazonaws.com"]},
    "Action": ["kms:Encrypt", "kms:Decrypt"],
    "Resource": "*",
}


def key(*statements):
    return {
        "key_arn": KEY_ARN,
        "key_policies": [{"Version": "2012-10-17", "Statement": list(statements)}],
        "grants": [],
    }


def by_sid(policy):
    return {s.get("Sid"): s for s in policy["Statement"]}


def test_a_policy_without_users_gets_both_statements_and_keeps_the_others():
    before = key(ADMIN, LOGS)
    policy = kms_key_policy_add_user(before, BACKUP)
    sids = by_sid(policy)
    assert list(sids) == ["KeyAdministration", "ServiceUse", "KeyUse", "KeyGrantsForAwsServices"]
    assert sids["KeyAdministration"] == ADMIN and sids["ServiceUse"] == LOGS
    assert sids["KeyUse"]["Principal"] == {"AWS": [BACKUP]}
    assert sids["KeyGrantsForAwsServices"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    # the input is not modified
    assert len(before["key_policies"][0]["Statement"]) == 2
    # and the result lets the role do what a backup or a snapshot copy needs
    after = dict(before, key_policies=[policy])
    assert kms_key_access(before, BACKUP)["ok"] is False
    access = kms_key_access(after, BACKUP)
    assert access["ok"] is True and access["missing"] == [] and access["unsure"] == {}
    assert set(access["allowed"]) == set(EBS_LAUNCH_ACTIONS)


def test_existing_users_are_kept_and_the_new_one_is_appended():
    first = kms_key_policy_add_user(key(ADMIN), SLR)
    policy = kms_key_policy_add_user(dict(key(), key_policies=[first]), DLM)
    sids = by_sid(policy)
    assert sids["KeyUse"]["Principal"]["AWS"] == [SLR, DLM]
    assert sids["KeyGrantsForAwsServices"]["Principal"]["AWS"] == [SLR, DLM]
    assert kms_key_access(dict(key(), key_policies=[policy]), SLR)["ok"] is True


def test_a_principal_already_listed_gives_the_same_policy():
    once = kms_key_policy_add_user(key(ADMIN, LOGS), BACKUP)
    twice = kms_key_policy_add_user(json.dumps(once), BACKUP)
    assert twice == once


def test_a_single_principal_string_and_a_single_statement_object_are_read():
    statement = {
        "Sid": "KeyUse",
        "Effect": "Allow",
        "Principal": {"AWS": SLR},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
    }
    policy = kms_key_policy_add_user({"Version": "2012-10-17", "Statement": statement}, BACKUP)
    sids = by_sid(policy)
    assert sids["KeyUse"]["Principal"]["AWS"] == [SLR, BACKUP]
    assert sids["KeyGrantsForAwsServices"]["Principal"]["AWS"] == [BACKUP]


@pytest.mark.parametrize(
    "statement",
    [
        {"Sid": "KeyUse", "Effect": "Deny", "Principal": {"AWS": [SLR]}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "KeyUse", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {
            "Sid": "KeyGrantsForAwsServices",
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
        },
    ],
    ids=["deny", "everyone", "service"],
)
def test_a_statement_of_that_name_that_is_not_for_iam_principals_is_not_changed(statement):
    with pytest.raises(AnsibleFilterError, match=r"is not an Allow for IAM principals; add .* by hand"):
        kms_key_policy_add_user(key(ADMIN, statement), BACKUP)


@pytest.mark.parametrize(
    "principal",
    ["", "*", "backup.amazonaws.com", f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:sts::{ACCOUNT}:assumed-role/x/y"],
)
def test_a_principal_that_is_not_an_iam_role_or_user_is_refused(principal):
    with pytest.raises(AnsibleFilterError, match="principal must be the ARN of an IAM role or user"):
        kms_key_policy_add_user(key(ADMIN), principal)


def test_a_key_without_a_policy_or_a_policy_that_is_not_json_is_refused():
    with pytest.raises(AnsibleFilterError, match="the key has no policy"):
        kms_key_policy_add_user({"key_arn": KEY_ARN, "key_policies": []}, BACKUP)
    with pytest.raises(AnsibleFilterError, match="is not JSON"):
        kms_key_policy_add_user("{not json", BACKUP)
    with pytest.raises(AnsibleFilterError, match=r"expected a key of amazon\.aws\.kms_key_info or a key policy"):
        kms_key_policy_add_user(["Statement"], BACKUP)


def test_the_filter_is_registered():
    assert FilterModule().filters()["kms_key_policy_add_user"] is kms_key_policy_add_user
