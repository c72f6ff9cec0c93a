"""backup_vault_lock through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import datetime
import json

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import backup_vault_lock
from module_run import run_module

VAULT = "medcircle-backup"
VAULT_ARN = f"arn:aws:backup:us-east-1:123456789012:backup-vault:{VAULT}"
DENY = {
    "Sid": "CloudopsDenyRecoveryPointDeletion",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": [
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:PutBackupVaultAccessPolicy",
    ],
    "Resource": VAULT_ARN,
}
OTHER = {
    "Sid": "AllowAudit",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "backup:Describe*",
    "Resource": "*",
}


@pytest.fixture
def stub(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule, "client", lambda self, service, retry_decorator=None, **kw: aws.client(service, "us-east-1")
    )
    return aws.stub("backup", "us-east-1")


def run(args, capsys):
    return run_module(backup_vault_lock.main, args, capsys, vault_name=VAULT)


def described(stub, **lock):
    stub.add_response(
        "describe_backup_vault",
        {"BackupVaultName": VAULT, "BackupVaultArn": VAULT_ARN, **lock},
        {"BackupVaultName": VAULT},
    )


def policy(stub, statements):
    if statements is None:
        stub.add_client_error(
            "get_backup_vault_access_policy",
            service_error_code="ResourceNotFoundException",
            http_status_code=404,
            expected_params={"BackupVaultName": VAULT},
        )
    else:
        stub.add_response(
            "get_backup_vault_access_policy",
            {"BackupVaultName": VAULT, "Policy": json.dumps({"Version": "2012-10-17", "Statement": statements})},
            {"BackupVaultName": VAULT},
        )


LOCK = {"min_retention_days": 35, "max_retention_days": 3650, "changeable_for_days": 3}
LOCKED = {
    "Locked": True,
    "MinRetentionDays": 35,
    "MaxRetentionDays": 3650,
    "LockDate": datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3),
}


def test_lock_and_deny_policy_keep_other_statements(stub, capsys):
    described(stub)
    policy(stub, [OTHER])
    stub.add_response(
        "put_backup_vault_lock_configuration",
        {},
        {"BackupVaultName": VAULT, "MinRetentionDays": 35, "MaxRetentionDays": 3650, "ChangeableForDays": 3},
    )
    stub.add_response(
        "put_backup_vault_access_policy",
        {},
        {"BackupVaultName": VAULT, "Policy": json.dumps({"Version": "2012-10-17", "Statement": [OTHER, DENY]})},
    )
    described(stub, **LOCKED)
    rc, result = run({**LOCK, "_ansible_diff": True}, capsys)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["vault_lock"]["min_retention_days"] == 35
    assert result["access_policy"]["Statement"] == [OTHER, DENY]
    assert result["diff"]["before"]["vault_lock"]["locked"] is False


def test_in_place_is_unchanged(stub, capsys):
    described(stub, **LOCKED)
    policy(stub, [OTHER, DENY])
    rc, result = run(LOCK, capsys)
    assert (rc, result["changed"]) == (0, False)


def test_a_policy_our_statement_locks_is_deleted_before_the_new_one_is_put(stub, capsys):
    # deny_delete off with another statement kept: Put alone would be refused by our own statement in force
    described(stub, **LOCKED)
    policy(stub, [OTHER, DENY])
    stub.add_response("delete_backup_vault_access_policy", {}, {"BackupVaultName": VAULT})
    stub.add_response(
        "put_backup_vault_access_policy",
        {},
        {"BackupVaultName": VAULT, "Policy": json.dumps({"Version": "2012-10-17", "Statement": [OTHER]})},
    )
    rc, result = run({**LOCK, "deny_delete": False}, capsys)
    assert (rc, result["changed"]) == (0, True), result
    assert result["access_policy"]["Statement"] == [OTHER]
    stub.assert_no_pending_responses()


def test_check_mode_reads_only(stub, capsys):
    described(stub)
    policy(stub, None)
    rc, result = run({**LOCK, "_ansible_check_mode": True}, capsys)
    assert (rc, result["changed"]) == (0, True)
    assert result["access_policy"]["Statement"] == [DENY]


def test_permanent_lock_cannot_change(stub, capsys):
    described(stub, **{**LOCKED, "LockDate": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)})
    rc, result = run({**LOCK, "min_retention_days": 90}, capsys)
    assert rc == 1
    assert "locked in compliance mode" in result["msg"]
    assert "min_retention_days 90" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_retention_days": 0}, "min_retention_days 0 is out of range"),
        ({"min_retention_days": 35, "max_retention_days": 7}, "max_retention_days 7 is below min_retention_days (35)"),
        ({"min_retention_days": 35, "changeable_for_days": 1}, "changeable_for_days 1 is out of range"),
        ({}, "min_retention_days and max_retention_days are both unset"),
    ],
)
def test_bad_options_fail_before_any_call(stub, capsys, args, message):
    rc, result = run(args, capsys)  # nothing stubbed: any call would fail the test
    assert rc == 1
    assert message in result["msg"]


def test_unknown_vault_is_named(stub, capsys):
    stub.add_client_error("describe_backup_vault", service_error_code="AccessDeniedException", http_status_code=403)
    rc, result = run(LOCK, capsys)
    assert rc == 1
    assert f"vault_name {VAULT} is not a backup vault" in result["msg"]


def test_check_run_before_the_vault_exists_plans_the_lock(stub, capsys):
    # a check run of a playbook that creates the vault first: the lock is planned, nothing is sent
    stub.add_client_error("describe_backup_vault", service_error_code="AccessDeniedException", http_status_code=403)
    rc, result = run({**LOCK, "_ansible_check_mode": True}, capsys)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["vault_lock"]["min_retention_days"] == 35 and result["vault_lock"]["locked"] is True
    assert result["access_policy"]["Statement"][0]["Sid"] == "CloudopsDenyRecoveryPointDeletion"
    stub.assert_no_pending_responses()
