"""With throttling injected on AWS Backup and DLM, remediate/backups.yml still converges: a second run without
faults changes nothing, and the vaults, lock, plan and DLM policy are all there.

Our modules retry ThrottlingException themselves (AWSRetry with the JSON APIs' throttling code); amazon.aws's
backup modules rely on botocore's own retries, so the run uses the retry settings docs/backups.md recommends
under throttling (AWS_RETRY_MODE=standard, AWS_MAX_ATTEMPTS=10)."""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(seed="as-assessed")
    try:
        yield sandbox
    finally:
        sandbox.stop()


def test_roles_converge_under_throttling(estate):
    estate.set_faults(
        [
            {"service": "backup", "throttle_rate": 0.3, "seed": 1},
            {"service": "dlm", "throttle_rate": 0.3, "seed": 2},
        ]
    )
    retries = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "10"}
    run = run_playbook(estate, "playbooks/remediate/backups.yml", env=retries)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert estate.requests(fault=True), "nothing was throttled: the test proves nothing"
    estate.clear_faults()
    again = run_playbook(estate, "playbooks/remediate/backups.yml")
    assert again.returncode == 0
    assert json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0
    for region, name in (("us-east-1", "medcircle-backup-vault"), ("us-west-2", "medcircle-backup-vault-dr")):
        vault = estate.client("backup", region=region).describe_backup_vault(BackupVaultName=name)
        assert vault["MinRetentionDays"] == 35
    assert len(estate.client("dlm").get_lifecycle_policies()["Policies"]) == 1
