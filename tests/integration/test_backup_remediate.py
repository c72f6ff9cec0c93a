"""playbooks/remediate/backups.yml on the as-assessed estate, checked with the risk audit: 2.10 and the database's
data copy (2.3) close; the AWS Backup half of 2.2 and 5.1 closes (the plan selects the database with retention
above the floor), and with the database's own automated backups on (remediate/rds.yml's part) 2.2 and 5.1 pass.
Recovery points and snapshots really exist in both regions, a restore really restores, a second run changes
nothing, and a bad variable is refused before any call."""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

P, DR = "us-east-1", "us-west-2"
DB = "medcircledb"


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(seed="as-assessed")
    try:
        yield sandbox
    finally:
        sandbox.stop()


def _audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["2.2", "2.3", "2.10", "5.1"]},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    audit = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {finding["id"]: finding for finding in audit["findings"]}


def _db(finding):
    (resource,) = [
        r for r in finding["resources"] if str(r.get("resource_arn", "")).endswith(f":db:{DB}") or r.get("name") == DB
    ]
    return resource


def test_refused_before_any_call(estate):
    estate.clear_requests()
    run = run_playbook(
        estate,
        "playbooks/backups.yml",
        extra_vars={"backup_rules": [{"name": "daily", "schedule": "cron(0 5 * * ? *)", "delete_after_days": 7}]},
    )
    assert run.returncode != 0
    assert "backup_rules: rule daily is refused" in run.stdout
    run = run_playbook(estate, "playbooks/backups.yml", extra_vars={"backup_dr_region": P})
    assert run.returncode != 0
    assert "backup_dr_region" in run.stdout
    assert estate.requests() == []


def test_backups_without_their_keys_stop_before_any_change_and_say_which_playbook_makes_them(estate):
    """playbooks/backups.yml (the scheduled run) on an estate whose keys were never made: the first change of each
    role (AWS Backup's IAM role, DLM's IAM role) comes after its key check."""
    estate.clear_requests()
    run = run_playbook(estate, "playbooks/backups.yml")
    assert run.returncode != 0
    assert run.task("Check that the vault key exists in both regions")["msg"] == (
        f"backup_kms_key_alias alias/medcircle-backup does not exist in {P}, {DR}. The backups were not changed."
        " Create it first: ansible-playbook playbooks/remediate/backups.yml makes the keys before the backups (or"
        " name existing keys in backup_kms_key_arns)."
    )
    assert estate.requests(mutating=True) == []
    # the snapshot policies alone: DLM's IAM role too is made only after its copy key was found
    run = run_playbook(estate, "playbooks/backups.yml", extra_vars={"backup_enabled": False})
    assert run.returncode != 0
    assert run.task("Check that the copy key exists in")["msg"] == (
        f"dlm_snapshots_kms_key_alias alias/medcircle-ebs does not exist in {DR}. The snapshot policies were not"
        " changed. Create it first: ansible-playbook playbooks/remediate/backups.yml makes the keys before the"
        " snapshot policies (or name an existing key in dlm_snapshots_copy_kms_key_arn)."
    )
    assert estate.requests(mutating=True) == []


def test_remediation_closes_the_backup_findings(estate, tmp_path):
    before = _audit(estate, tmp_path / "before")
    assert before["2.10"]["status"] == "fail"
    assert _db(before["2.2"])["status"] == "fail"

    run = run_playbook(estate, "playbooks/remediate/backups.yml")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    again = run_playbook(estate, "playbooks/remediate/backups.yml")
    assert again.returncode == 0
    assert json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0

    # what AWS does on its schedule: the plan's daily rule and the DLM policy run
    backup = estate.client("backup")
    plan = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == "medcircle-backup-plan"]
    ran = estate.call("POST", "backup/run-plan", {"plan_id": plan[0]["BackupPlanId"], "rules": ["daily"]})
    assert {j["State"] for j in ran["backup_jobs"]} == {"COMPLETED"}
    policies = estate.client("dlm").get_lifecycle_policies()["Policies"]
    dlm = estate.call("POST", "dlm/run", {"policy_id": policies[0]["PolicyId"]})
    assert dlm["created"] and len(dlm["copies"]) == len(dlm["created"])
    dr_points = estate.client("backup", region=DR).list_recovery_points_by_backup_vault(
        BackupVaultName="medcircle-backup-vault-dr"
    )["RecoveryPoints"]
    assert any(p["ResourceArn"].endswith(f":db:{DB}") for p in dr_points)
    copies = estate.client("ec2", region=DR).describe_snapshots(SnapshotIds=[c["id"] for c in dlm["copies"]])
    assert all(s["Encrypted"] for s in copies["Snapshots"])

    # the restore test now has something to restore, and really restores it
    run = run_playbook(
        estate,
        "playbooks/backups.yml",
        "--tags",
        "restore_test",
        extra_vars={
            "backup_restore_test_resources": [
                {"resource_arn": f"arn:aws:rds:{P}:123456789012:db:{DB}", "restore_name": "medcircledb-restore-test"}
            ]
        },
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert estate.client("rds").describe_db_instances(DBInstanceIdentifier="medcircledb-restore-test")["DBInstances"]

    # the backup report: the database has a fresh recovery point in both regions and a completed restore test
    run = run_playbook(
        estate, "playbooks/backups.yml", "--tags", "report", extra_vars={"backup_report_dir": str(tmp_path / "bk")}
    )
    assert run.returncode == 0, run.stdout[-3000:]
    report = json.loads((tmp_path / "bk" / "backup-report.json").read_text())
    (db,) = [r for r in report["resources"] if r["resource_arn"].endswith(f":db:{DB}")]
    assert db["status"] == "pass" and set(db["newest"]) == {P, DR}
    assert db["last_restore"]["status"] == "COMPLETED"
    assert DB in (tmp_path / "bk" / "backup-report.md").read_text()
    assert "<table>" in (tmp_path / "bk" / "backup-report.html").read_text()

    after = _audit(estate, tmp_path / "after")
    assert after["2.10"]["status"] == "pass", after["2.10"]
    assert "backup copy to arn:aws:backup:us-west-2" in _db(after["2.3"])["observed"]
    assert _db(after["2.3"])["status"] == "pass"
    assert "plan medcircle-backup-plan" in _db(after["2.2"])["observed"]
    assert "keeps 35 days" in _db(after["5.1"])["observed"]

    # the database's own automated backups are remediate/rds.yml's part; with them on, 2.2 and 5.1 pass
    estate.client("rds").modify_db_instance(DBInstanceIdentifier=DB, BackupRetentionPeriod=35, ApplyImmediately=True)
    closed = _audit(estate, tmp_path / "closed")
    assert _db(closed["2.2"])["status"] == "pass"
    assert _db(closed["5.1"])["status"] == "pass"
