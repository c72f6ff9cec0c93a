"""The roles AWS Backup, DLM and S3 replication work with, named in the keys they use, through the playbooks.

The collection's key policies let no IAM policy decide: a role that backs up, copies or replicates data
encrypted with a key must be named in that key's policy, or its jobs fail on AWS when they run. The backup,
dlm_snapshots and s3_protection roles add their role to the keys it needs right after creating it
(kms_keys tasks_from key_users.yml), and the kms_keys role keeps naming them (kms_keys_user_roles). These
tests read the policies the playbooks wrote and check that a refusal comes before any change; the sandbox
also judges the key policies when AWS Backup and DLM copy with their roles, as AWS does, so the last test
shows the copies failing without the roles in the keys and succeeding with them.
"""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

P, DR = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"
SANDBOX_CALLER = f"arn:aws:iam::{ACCOUNT}:user/moto"
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/medcircle-backup-role"
DLM_ROLE = f"arn:aws:iam::{ACCOUNT}:role/medcircle-dlm-role"
REPLICATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/medcircle-s3-replication"
BACKUPS = "playbooks/remediate/backups.yml"
STORAGE = "playbooks/remediate/storage.yml"
ADD_BACKUP = "1.4 | PATCH | KMS keys | Let the role use the keys it needs, AWS Backup's role medcircle-backup-role"
ADD_DLM = "1.4 | PATCH | KMS keys | Let the role use the keys it needs, DLM's role medcircle-dlm-role"
CHECK_BACKUP = (
    "1.4 | AUDIT | KMS keys | Check that the keys let the role use them, AWS Backup's role medcircle-backup-role"
)
DENY_BACKUP = (
    "1.4 | AUDIT | KMS keys | Check that no key denies the role what it needs, AWS Backup's role medcircle-backup-role"
)


@pytest.fixture(scope="module")
def estate():
    instance = SandboxClient.start(seed="as-assessed")
    try:
        yield instance
    finally:
        instance.stop()


def key_id(sandbox, region, alias):
    return sandbox.client("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]


def key_policy(sandbox, region, alias):
    kms = sandbox.client("kms", region)
    return json.loads(kms.get_key_policy(KeyId=key_id(sandbox, region, alias), PolicyName="default")["Policy"])


def principals(policy, sid):
    found = [s for s in policy["Statement"] if s.get("Sid") == sid]
    if not found:
        return []
    listed = found[0]["Principal"]["AWS"]
    return listed if isinstance(listed, list) else [listed]


def users(sandbox, region, alias):
    """The principals of the KeyUse statement, after checking the grants statement lists the same ones."""
    policy = key_policy(sandbox, region, alias)
    assert sorted(principals(policy, "KeyUse")) == sorted(principals(policy, "KeyGrantsForAwsServices")), policy
    return principals(policy, "KeyUse")


def mutating(sandbox, *operations):
    return [r["operation"] for r in sandbox.requests(mutating=True) if r["operation"] in operations]


def failure(run, task):
    result = run.task(task)
    assert result.get("failed"), result
    return result.get("msg", "")


def test_bad_modes_and_role_names_are_refused_before_any_call(estate):
    estate.reset("as-assessed")
    for extra, message in (
        ({"backup_key_access": "yes"}, 'backup_key_access "yes" must be add, check or off. Nothing was changed.'),
        ({"dlm_snapshots_key_access": True}, "dlm_snapshots_key_access is true; allowed: add, check, off."),
        (
            {"backup_data_kms_keys": {"ebs": "medcircle-ebs"}},
            'backup_data_kms_keys for ebs ("medcircle-ebs") is not a key alias (alias/...) or key ARN.',
        ),
        ({"kms_keys_user_roles": {"ebs": [BACKUP_ROLE]}}, "(not ARNs: put ARNs in kms_keys_user_principals)"),
        ({"kms_keys_user_roles": {"ebs": "medcircle-backup-role"}}, "list of IAM role names"),
    ):
        estate.clear_requests()
        run = run_playbook(estate, BACKUPS, extra_vars=extra)
        assert run.returncode != 0, extra
        said = " ".join(
            str(item.get("msg", ""))
            for _, outcome in run.tasks()
            if outcome.get("failed")
            for item in [outcome, *outcome.get("results", [])]
        )
        assert message in said, (extra, said or run.stdout[-3000:])
        assert estate.requests(mutating=True) == [], extra


def test_check_mode_shows_the_keys_an_existing_role_would_be_added_to_and_changes_nothing(estate):
    estate.reset("as-assessed")
    keys = run_playbook(estate, BACKUPS, "--tags", "kms_keys")
    assert keys.returncode == 0, keys.stdout[-4000:]
    # AWS Backup's role exists already (made by hand); DLM's does not
    estate.client("iam").create_role(
        RoleName="medcircle-backup-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    estate.clear_requests()
    run = run_playbook(estate, BACKUPS, check=True)
    assert run.returncode == 0, run.stdout[-4000:]
    assert estate.requests(mutating=True) == []
    planned = {
        r["item"]["region"] + " " + r["item"]["purpose"] for r in run.task(ADD_BACKUP)["results"] if r["changed"]
    }
    assert planned == {f"{P} backup", f"{DR} backup", f"{P} ebs", f"{DR} ebs"}
    shown = run.task("KMS keys | Show that the role is checked once it exists, DLM's role medcircle-dlm-role")
    assert "does not exist yet (check mode)" in shown["msg"]
    # the DLM include plans nothing of its own, and nothing of the backup role's plan either
    assert run.task(ADD_DLM).get("results", []) == []
    assert BACKUP_ROLE not in users(estate, P, "alias/medcircle-backup")


def test_backups_name_the_backup_and_dlm_roles_in_the_keys_they_use_and_a_rerun_changes_nothing(estate):
    estate.reset("as-assessed")
    run = run_playbook(estate, BACKUPS)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    added = {r["item"]["region"] + " " + r["item"]["purpose"] for r in run.task(ADD_BACKUP)["results"] if r["changed"]}
    # remediate/backups.yml makes the backup and EBS keys; the as-assessed estate has no RDS key yet
    assert added == {f"{P} backup", f"{DR} backup", f"{P} ebs", f"{DR} ebs"}
    not_found = [o for n, o in run.tasks() if "KMS keys | Show the keys that were not found" in n]
    assert "rds key alias/medcircle-rds does not exist in us-east-1" in json.dumps(not_found)
    for region in (P, DR):
        ebs = users(estate, region, "alias/medcircle-ebs")
        assert BACKUP_ROLE in ebs and DLM_ROLE in ebs
        # the service-linked role the kms_keys role names stays
        assert any("AWSServiceRoleForAutoScaling" in p for p in ebs), ebs
        vault_key = users(estate, region, "alias/medcircle-backup")
        # the backup role, besides the principal the playbooks run as (kms_keys_user_principals.backup of the
        # sandbox inventory: a DR drill restores the vault's copies)
        assert sorted(vault_key) == sorted([BACKUP_ROLE, SANDBOX_CALLER])
        # the administrators' statement is left as it was
        admin = principals(key_policy(estate, region, "alias/medcircle-backup"), "KeyAdministration")
        assert admin == [f"arn:aws:iam::{ACCOUNT}:root"]

    # A second run: the kms_keys role (first play) names both roles itself, so nothing changes.
    estate.clear_requests()
    again = run_playbook(estate, BACKUPS)
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.stats["localhost"]["changed"] == 0, [n for n, r in again.tasks() if r.get("changed")]
    assert mutating(estate, "PutKeyPolicy") == []
    assert again.task(ADD_DLM)["results"] == [] or not any(r.get("changed") for r in again.task(ADD_DLM)["results"])


def test_the_rds_key_names_the_backup_role_when_kms_keys_creates_it_later(estate):
    # continues from the previous test's estate: the backup role exists, the RDS key does not
    estate.clear_requests()
    run = run_playbook(estate, "playbooks/remediate/rds.yml", "--tags", "kms_keys")
    assert run.returncode == 0, run.stdout[-4000:]
    for region in (P, DR):
        # the backup role, besides the principal the playbooks run as (the sandbox inventory's
        # kms_keys_user_principals.rds, which makes the encrypted copy and the replica)
        assert sorted(users(estate, region, "alias/medcircle-rds")) == sorted([BACKUP_ROLE, SANDBOX_CALLER])
        assert DLM_ROLE not in users(estate, region, "alias/medcircle-backup")


def test_check_only_stops_before_any_vault_or_plan_when_a_key_lacks_the_role(estate):
    estate.reset("as-assessed")
    # the keys are made before the role exists, so they cannot name it
    run = run_playbook(estate, BACKUPS, "--tags", "kms_keys")
    assert run.returncode == 0, run.stdout[-4000:]
    estate.clear_requests()
    run = run_playbook(estate, BACKUPS, extra_vars={"backup_key_access": "check"})
    assert run.returncode != 0
    message = failure(run, CHECK_BACKUP)
    assert "The backup key alias/medcircle-backup in us-east-1 does not let AWS Backup's role" in message
    assert "missing: kms:Encrypt, kms:Decrypt" in message
    assert "Set backup_key_access: add" in message and BACKUP_ROLE in message
    assert "Nothing was changed." in message
    assert mutating(estate, "PutKeyPolicy", "CreateBackupVault", "CreateBackupPlan", "CreateLifecyclePolicy") == []
    assert BACKUP_ROLE not in users(estate, P, "alias/medcircle-backup")


def test_an_explicit_deny_is_not_overridden(estate):
    # continues: the keys exist and the backup role exists, not named in any key
    kms = estate.client("kms", DR)
    vault_key = key_id(estate, DR, "alias/medcircle-backup")
    policy = key_policy(estate, DR, "alias/medcircle-backup")
    policy["Statement"].append(
        {
            "Sid": "NoDecryptOutsideTheVault",
            "Effect": "Deny",
            "Principal": {"AWS": BACKUP_ROLE},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    kms.put_key_policy(KeyId=vault_key, PolicyName="default", Policy=json.dumps(policy))
    estate.clear_requests()
    run = run_playbook(estate, BACKUPS, "--skip-tags", "kms_keys")
    assert run.returncode != 0
    message = failure(run, DENY_BACKUP)
    assert "The backup key alias/medcircle-backup in us-west-2 denies AWS Backup's role" in message
    assert "kms:Decrypt (statement NoDecryptOutsideTheVault)" in message
    assert "Nothing was changed." in message
    assert mutating(estate, "PutKeyPolicy", "CreateBackupVault", "CreateBackupPlan") == []


def test_storage_names_the_replication_role_in_both_s3_keys(estate):
    estate.reset("as-assessed")
    run = run_playbook(estate, STORAGE)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for region in (P, DR):
        assert users(estate, region, "alias/medcircle-s3") == [REPLICATION_ROLE]
    estate.clear_requests()
    again = run_playbook(estate, STORAGE)
    assert again.returncode == 0, again.stdout[-4000:]
    assert mutating(estate, "PutKeyPolicy") == []


def test_aws_backup_and_dlm_copies_fail_on_keys_without_their_roles_and_run_once_they_are_named(estate):
    estate.reset("as-assessed")
    # the keys are made before the roles exist, so they cannot name them; the roles are then made without
    # adding themselves to the keys
    assert run_playbook(estate, BACKUPS, "--tags", "kms_keys").returncode == 0
    off = {"backup_key_access": "off", "dlm_snapshots_key_access": "off"}
    run = run_playbook(estate, BACKUPS, extra_vars=off)
    assert run.returncode == 0, run.stdout[-4000:]
    assert BACKUP_ROLE not in users(estate, DR, "alias/medcircle-backup")
    plan = next(
        p
        for p in estate.client("backup").list_backup_plans()["BackupPlansList"]
        if p["BackupPlanName"] == "medcircle-backup-plan"
    )["BackupPlanId"]
    policy = estate.client("dlm").get_lifecycle_policies()["Policies"][0]["PolicyId"]

    # what AWS does on the schedule: the backups are made, their copies into the DR region fail on the keys
    ran = estate.call("POST", "backup/run-plan", {"plan_id": plan, "rules": ["daily"]})
    assert ran["backup_jobs"] and {j["State"] for j in ran["backup_jobs"]} == {"COMPLETED"}
    assert ran["copy_jobs"] and {j["State"] for j in ran["copy_jobs"]} == {"FAILED"}
    assert all("medcircle-backup-role" in j["StatusMessage"] for j in ran["copy_jobs"])
    assert all("is not authorized to perform: kms:" in j["StatusMessage"] for j in ran["copy_jobs"])
    dlm = estate.call("POST", "dlm/run", {"policy_id": policy})
    assert dlm["created"] and dlm["copies"] == []
    assert len(dlm["errors"]) == len(dlm["created"]) and "medcircle-dlm-role" in dlm["errors"][0]["error"]

    # the default (add): the roles are named in the keys they use, and the same jobs go through
    run = run_playbook(estate, BACKUPS)
    assert run.returncode == 0, run.stdout[-4000:]
    ran = estate.call("POST", "backup/run-plan", {"plan_id": plan, "rules": ["daily"]})
    assert ran["copy_jobs"] and {j["State"] for j in ran["copy_jobs"]} == {"COMPLETED"}
    dlm = estate.call("POST", "dlm/run", {"policy_id": policy})
    assert "errors" not in dlm and len(dlm["copies"]) == len(dlm["created"])
