"""backup_report through main(), with botocore's Stubber: newest point per region, age against the RPO, last restore."""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import backup_report

DB = "arn:aws:rds:us-east-1:123456789012:db:appdb"
VOL = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def clients(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule,
        "client",
        lambda self, service, retry_decorator=None, **kw: aws.client(service, kw.get("region") or self.region),
    )


def point(resource, arn, hours_ago, status="COMPLETED"):
    return {
        "RecoveryPointArn": arn,
        "ResourceArn": resource,
        "ResourceType": "RDS" if ":db:" in resource else "EBS",
        "Status": status,
        "CreationDate": NOW - datetime.timedelta(hours=hours_ago),
    }


def region(aws, name, vault, points, restores):
    stub = aws.stub("backup", name)
    stub.add_response("list_backup_vaults", {"BackupVaultList": [{"BackupVaultName": vault}]}, {})
    stub.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": points}, {"BackupVaultName": vault})
    stub.add_response("list_restore_jobs", {"RestoreJobs": restores}, {})


def test_report_per_resource_and_region(aws, clients, capsys, tmp_path):
    region(
        aws,
        "us-east-1",
        "main",
        [
            point(DB, "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:old", 30),
            point(DB, "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:new", 2),
            point(VOL, "arn:aws:ec2:us-east-1::snapshot/snap-1", 50),
        ],
        [
            {
                "RestoreJobId": "r1",
                "RecoveryPointArn": "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:new",
                "Status": "COMPLETED",
                "CreationDate": NOW,
            }
        ],
    )
    region(aws, "us-west-2", "dr", [point(DB, "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:copy", 1)], [])
    args = {
        "access_key": "AKIDEXAMPLE",
        "secret_key": "not-a-real-secret",
        "region": "us-east-1",
        "regions": ["us-east-1", "us-west-2"],
        "dest": str(tmp_path),
    }
    with patch_module_args(args), pytest.raises(SystemExit):
        backup_report.main()
    result = json.loads(capsys.readouterr().out)
    vol, db = result["resources"]  # sorted by ARN
    assert db["resource_arn"] == DB and db["status"] == "pass"
    assert db["newest"]["us-east-1"]["recovery_point_arn"].endswith(":new")
    assert db["last_restore"]["status"] == "COMPLETED"
    assert vol["status"] == "fail"  # 50 h old and no copy in us-west-2
    assert vol["missing_regions"] == ["us-west-2"] and vol["last_restore"] is None
    assert "never tested" in (tmp_path / "backup-report.md").read_text()
    assert json.loads((tmp_path / "backup-report.json").read_text())["rpo_hours"] == 24


def test_the_last_restore_test_of_a_plan_and_its_validation(aws, clients, capsys, tmp_path):
    plan = "arn:aws:backup:us-east-1:123456789012:restore-testing-plan:medcircle_restore_test-1a2b"
    region(
        aws,
        "us-east-1",
        "main",
        [point(DB, "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:new", 2)],
        [
            {
                "RestoreJobId": "manual",
                "RecoveryPointArn": "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:new",
                "Status": "COMPLETED",
                "CreationDate": NOW - datetime.timedelta(hours=1),
            },
            {
                "RestoreJobId": "scheduled",
                "RecoveryPointArn": "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:new",
                "Status": "COMPLETED",
                "CreationDate": NOW,
                "CreatedBy": {"RestoreTestingPlanArn": plan},
                "ValidationStatus": "SUCCESSFUL",
            },
        ],
    )
    args = {
        "access_key": "AKIDEXAMPLE",
        "secret_key": "not-a-real-secret",
        "region": "us-east-1",
        "regions": ["us-east-1"],
        "dest": str(tmp_path),
    }
    with patch_module_args(args), pytest.raises(SystemExit):
        backup_report.main()
    (db,) = json.loads(capsys.readouterr().out)["resources"]
    assert db["last_restore"]["restore_job_id"] == "scheduled"
    assert db["last_restore"]["restore_testing_plan_arn"] == plan
    assert db["last_restore"]["validation_status"] == "SUCCESSFUL"
    assert "restore test COMPLETED" in (tmp_path / "backup-report.md").read_text()
    assert "validation SUCCESSFUL" in (tmp_path / "backup-report.md").read_text()
