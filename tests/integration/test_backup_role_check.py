"""playbooks/backups.yml on the as-assessed estate (its keys made as role kms_keys makes them):

- a check run on the fresh estate shows the plan (vaults, lock, backup plan, restore testing plan) and sends no
  mutating call;
- after the real run, a check run reports changed=0 (amazon.aws.backup_plan alone would report its unchanged tags);
- the restore testing plan the role made, run as AWS runs it on its schedule, really restores the database, and
  the backup report shows that restore test and its result as the database's last restore."""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

P, DR = "us-east-1", "us-west-2"
PLAYBOOK = "playbooks/backups.yml"


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(seed="as-assessed")
    try:
        for region in (P, DR):
            kms = sandbox.client("kms", region=region)
            for alias in ("alias/medcircle-backup", "alias/medcircle-ebs"):
                kms.create_alias(AliasName=alias, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        sandbox.clear_requests()
        yield sandbox
    finally:
        sandbox.stop()


def _changed(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


def test_check_run_shows_the_plan_then_reports_nothing_once_converged(estate, tmp_path):
    planned = run_playbook(estate, PLAYBOOK, check=True)
    assert planned.returncode == 0, planned.stdout[-4000:] + planned.stderr[-2000:]
    changed = _changed(planned)
    for task in (
        "Create the KMS-encrypted vaults in both regions",
        "Lock the vaults and deny deleting their recovery points",
        "Create the backup plan",
        "Let AWS restore-test the newest backups on a schedule",
    ):
        assert any(task in name for name in changed), (task, changed)
    assert estate.requests(mutating=True) == []

    converged = run_playbook(estate, PLAYBOOK)
    assert converged.returncode == 0, converged.stdout[-4000:] + converged.stderr[-2000:]

    estate.clear_requests()
    checked = run_playbook(estate, PLAYBOOK, check=True)
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert _changed(checked) == []
    assert checked.stats["localhost"]["changed"] == 0
    assert estate.requests(mutating=True) == []

    # the first night: the backup plan runs, then AWS runs the restore testing plan
    estate.call("POST", "backup/run-plan", {"region": P, "plan_name": "medcircle-backup-plan", "rules": ["daily"]})
    tests = estate.call("POST", "backup/run-restore-test", {"region": P, "plan_name": "medcircle_restore_test"})
    (db_test,) = [j for j in tests["restore_jobs"] if j["SourceResourceArn"].endswith(":db:medcircledb")]
    assert db_test["Status"] == "COMPLETED"
    restored = db_test["CreatedResourceArn"].rsplit(":", 1)[1]
    assert estate.client("rds").describe_db_instances(DBInstanceIdentifier=restored)["DBInstances"]
    estate.client("backup").put_restore_validation_result(
        RestoreJobId=db_test["RestoreJobId"], ValidationStatus="SUCCESSFUL"
    )

    report = run_playbook(estate, PLAYBOOK, "--tags", "report", extra_vars={"backup_report_dir": str(tmp_path)})
    assert report.returncode == 0, report.stdout[-3000:]
    resources = json.loads((tmp_path / "backup-report.json").read_text())["resources"]
    (db,) = [r for r in resources if r["resource_arn"].endswith(":db:medcircledb")]
    assert db["last_restore"]["restore_job_id"] == db_test["RestoreJobId"]
    assert db["last_restore"]["restore_testing_plan_arn"].endswith(
        estate.client("backup")
        .get_restore_testing_plan(RestoreTestingPlanName="medcircle_restore_test")["RestoreTestingPlan"][
            "RestoreTestingPlanArn"
        ]
        .rsplit(":", 1)[1]
    )
    assert db["last_restore"]["validation_status"] == "SUCCESSFUL"
    assert "restore test COMPLETED" in (tmp_path / "backup-report.md").read_text()
