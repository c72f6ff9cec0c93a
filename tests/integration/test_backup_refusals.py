"""The backup roles refuse, before any call, naming the variable: a retention below the vault lock's minimum, a
schedule AWS would refuse (backup plan rule, restore testing plan), a copy to the source region, and a key from
the wrong region, for the AWS Backup and the DLM snapshot settings (playbooks/backups.yml checks both roles'
variables first; the sandbox's request log proves nothing was sent)."""

import pytest
from playbook import run_playbook

KEY = "arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CASES = {
    "retention below the lock minimum": (
        {
            "backup_vault_lock_min_retention_days": 60,
            "backup_rules": [{"name": "daily", "schedule": "cron(0 5 * * ? *)", "delete_after_days": 40}],
        },
        ["backup_rules: rule daily is refused", "backup_vault_lock_min/max_retention_days"],
    ),
    "backup rule schedule AWS refuses": (
        {"backup_rules": [{"name": "daily", "schedule": "cron(0 5 * * * *)", "delete_after_days": 35}]},
        [
            'backup_rules: rule daily is refused: schedule "cron(0 5 * * * *)" must be cron(minutes hours day-of-month'
            " month day-of-week year) with ? in exactly one of the two day fields, such as cron(0 5 ? * * *)."
            " Nothing was changed."
        ],
    ),
    "restore testing schedule AWS refuses": (
        {"backup_restore_testing_enabled": True, "backup_restore_testing_schedule": "cron(0 6 1 * SUN *)"},
        [
            'backup_restore_testing_schedule "cron(0 6 1 * SUN *)" must be cron(minutes hours day-of-month month'
            " day-of-week year) with ? in exactly one of the two day fields, such as cron(0 6 ? * SUN *). Nothing was"
            " changed."
        ],
    ),
    "backup copy to the source region": (
        {"backup_dr_region": "us-east-1"},
        [
            "backup_dr_region and backup_primary_region are both us-east-1: the copies need another region (a copy to"
            " the source region protects nothing). Nothing was changed."
        ],
    ),
    "backup DR region that is no region name": (
        {"backup_dr_region": "us-west2"},
        ['backup_dr_region "us-west2" is not an AWS region name such as us-west-2. Nothing was changed.'],
    ),
    "backup vault name AWS refuses and a key that is no ARN": (
        {"backup_vault_name": "medcircle vault", "backup_kms_key_arns": {"us-east-1": "alias/medcircle-backup"}},
        [
            'backup_vault_name "medcircle vault" must be 2-50 letters, digits, - or _; backup_kms_key_arns for '
            "us-east-1 is not a KMS key ARN (arn:aws:kms:<region>:...). Nothing was changed."
        ],
    ),
    "backup key from the wrong region": (
        {
            "backup_kms_key_arns": {
                "us-east-1": KEY.format(region="us-west-2"),
                "us-west-2": KEY.format(region="us-west-2"),
            }
        },
        [
            "backup_kms_key_arns for us-east-1 names a key of another region (each entry is the key of the region"
            " it is listed under). Nothing was changed."
        ],
    ),
    "DLM copy to the source region": (
        {"dlm_snapshots_dr_region": "us-east-1"},
        [
            "dlm_snapshots_dr_region and dlm_snapshots_region are both us-east-1: the copies need another region (two"
            " different region names). Nothing was changed."
        ],
    ),
    "DLM copy key from the wrong region": (
        {"dlm_snapshots_copy_kms_key_arn": KEY.format(region="us-east-1")},
        [f'dlm_snapshots_copy_kms_key_arn "{KEY.format(region="us-east-1")}" must be a key ARN in us-west-2. Nothing'],
    ),
    "DLM retention of the copies": (
        {"dlm_snapshots_copy_retain_days": 0},
        ["dlm_snapshots_copy_retain_days 0 must be 1 or more. Nothing was changed."],
    ),
    "DLM schedule AWS refuses": (
        {
            "dlm_snapshots_policies": [
                {
                    "name": "medcircle-volumes",
                    "target_tags": {"Project": "medcircle"},
                    "schedules": [{"name": "nightly", "cron_expression": "cron(0 3 * * MON *)", "retain_count": 7}],
                }
            ]
        },
        [
            "dlm_snapshots_policies: policy medcircle-volumes schedule nightly is not a schedule DLM accepts:"
            ' cron_expression "cron(0 3 * * MON *)" must be cron(minutes hours day-of-month month day-of-week year)'
            " with ? in exactly one of the two day fields, such as cron(0 3 ? * * *). Nothing was changed."
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_before_any_call_naming_the_variable(quiet_sandbox, case):
    extra, messages = CASES[case]
    run = run_playbook(quiet_sandbox, "playbooks/backups.yml", extra_vars=extra)
    assert run.returncode != 0, run.stdout[-2000:]
    failed = [outcome for _name, outcome in run.tasks() if outcome.get("failed")]
    said = " ".join(
        str(result.get("msg", "")) for outcome in failed for result in [outcome, *outcome.get("results", [])]
    )
    for message in messages:
        assert message in said, (message, said)
    assert quiet_sandbox.requests() == []
