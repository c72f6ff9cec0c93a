"""backup_restore_job through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import datetime

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils import backup as backup_utils
from ansible_collections.medcircle.cloudops.plugins.modules import backup_restore_job
from module_run import run_module

ROLE = "arn:aws:iam::123456789012:role/medcircle-backup"
SNAP = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"
AMI = "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"
RDS_POINT = "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1234"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **kw):
        requested.append(service)
        return aws.client(service, "us-east-1")

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    monkeypatch.setattr(backup_utils.time, "sleep", lambda seconds: None)
    return requested


def run(args, capsys):
    return run_module(
        backup_restore_job.main, args, capsys, backup_vault_name="medcircle-backup", iam_role_arn=ROLE, delay=1
    )


def no_restores(stub):
    stub.add_response("list_restore_jobs", {"RestoreJobs": []}, {})


def metadata(stub, arn, answer):
    stub.add_response(
        "get_recovery_point_restore_metadata",
        {"RestoreMetadata": answer, "RecoveryPointArn": arn},
        {"BackupVaultName": "medcircle-backup", "RecoveryPointArn": arn},
    )


def test_ebs_restore_waits_and_returns_the_volume(aws, clients, capsys):
    stub = aws.stub("backup", "us-east-1")
    no_restores(stub)
    metadata(stub, SNAP, {"volumeId": "vol-1", "volumeSize": "8", "availabilityZone": "us-east-1a"})
    stub.add_response(
        "start_restore_job",
        {"RestoreJobId": "job-1"},
        {
            "RecoveryPointArn": SNAP,
            "Metadata": {"volumeId": "vol-1", "volumeSize": "8", "availabilityZone": "us-east-1b", "encrypted": "true"},
            "IamRoleArn": ROLE,
            "ResourceType": "EBS",
            "CopySourceTagsToRestoredResource": True,
        },
    )
    stub.add_response("describe_restore_job", {"RestoreJobId": "job-1", "Status": "RUNNING"}, {"RestoreJobId": "job-1"})
    stub.add_response(
        "describe_restore_job",
        {
            "RestoreJobId": "job-1",
            "Status": "COMPLETED",
            "CreatedResourceArn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-2",
            "CreationDate": NOW,
        },
        {"RestoreJobId": "job-1"},
    )
    rc, result = run(
        {"recovery_point_arn": SNAP, "metadata": {"availabilityZone": "us-east-1b", "encrypted": True}}, capsys
    )
    assert rc == 0, result
    assert (result["changed"], result["resource_type"], result["resource_id"]) == (True, "EBS", "vol-2")
    assert result["restore_job"]["status"] == "COMPLETED"
    assert clients == ["backup"]


def test_ec2_restore_of_a_point_already_restored_is_not_repeated(aws, clients, capsys):
    stub = aws.stub("backup", "us-east-1")
    stub.add_response(
        "list_restore_jobs",
        {
            "RestoreJobs": [
                {"RestoreJobId": "old", "RecoveryPointArn": AMI, "Status": "FAILED", "CreationDate": NOW},
                {
                    "RestoreJobId": "done",
                    "RecoveryPointArn": AMI,
                    "Status": "COMPLETED",
                    "CreatedResourceArn": "arn:aws:ec2:us-east-1:123456789012:instance/i-2",
                    "CreationDate": NOW,
                },
            ]
        },
        {},
    )
    rc, result = run({"recovery_point_arn": AMI}, capsys)
    assert rc == 0, result
    assert (result["changed"], result["resource_id"]) == (False, "i-2")


def test_rds_restore_is_done_when_the_instance_exists(aws, clients, capsys):
    aws.stub("rds", "us-east-1").add_response(
        "describe_db_instances",
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "appdb-restore",
                    "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:appdb-restore",
                }
            ]
        },
        {"DBInstanceIdentifier": "appdb-restore"},
    )
    rc, result = run({"recovery_point_arn": RDS_POINT, "metadata": {"DBInstanceIdentifier": "appdb-restore"}}, capsys)
    assert (rc, result["changed"], result["resource_id"]) == (0, False, "appdb-restore")


def test_check_mode_sends_no_restore(aws, clients, capsys):
    aws.stub("rds", "us-east-1").add_client_error(
        "describe_db_instances", service_error_code="DBInstanceNotFound", http_status_code=404
    )
    metadata(aws.stub("backup", "us-east-1"), RDS_POINT, {"DBInstanceIdentifier": "appdb", "Engine": "mysql"})
    rc, result = run(
        {
            "recovery_point_arn": RDS_POINT,
            "metadata": {"DBInstanceIdentifier": "appdb-restore"},
            "_ansible_check_mode": True,
        },
        capsys,
    )
    assert (rc, result["changed"]) == (0, True)
    assert result["metadata"] == {"DBInstanceIdentifier": "appdb-restore", "Engine": "mysql"}


def test_failed_restore_fails_the_task(aws, clients, capsys):
    stub = aws.stub("backup", "us-east-1")
    no_restores(stub)
    metadata(stub, SNAP, {"volumeId": "vol-1"})
    stub.add_response("start_restore_job", {"RestoreJobId": "job-1"})
    stub.add_response(
        "describe_restore_job",
        {"RestoreJobId": "job-1", "Status": "FAILED", "StatusMessage": "snapshot is gone"},
        {"RestoreJobId": "job-1"},
    )
    rc, result = run({"recovery_point_arn": SNAP}, capsys)
    assert rc == 1
    assert "ended FAILED: snapshot is gone" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"recovery_point_arn": RDS_POINT}, "metadata.DBInstanceIdentifier is required"),
        (
            {"recovery_point_arn": SNAP, "metadata": {"SubnetId": "s"}},
            "metadata SubnetId is not a restore setting for EBS",
        ),
        ({"recovery_point_arn": SNAP, "resource_type": "RDS"}, "resource_type RDS does not match the recovery point"),
        ({"recovery_point_arn": "arn:aws:s3:::bucket"}, "is not an EBS snapshot, AMI or RDS snapshot recovery point"),
        ({"recovery_point_arn": SNAP, "iam_role_arn": "backup"}, "iam_role_arn backup is not an IAM role ARN"),
    ],
)
def test_bad_options_fail_before_any_call(aws, clients, capsys, args, message):
    rc, result = run(args, capsys)
    assert rc == 1
    assert message in result["msg"]
    assert clients == []


def test_resource_arn_restores_its_newest_completed_point(aws, clients, capsys):
    volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
    older = "arn:aws:ec2:us-east-1::snapshot/snap-00000000000000001"
    stub = aws.stub("backup", "us-east-1")
    stub.add_response(
        "list_recovery_points_by_backup_vault",
        {
            "RecoveryPoints": [
                {"RecoveryPointArn": older, "ResourceArn": volume, "Status": "COMPLETED", "CreationDate": NOW},
                {
                    "RecoveryPointArn": SNAP,
                    "ResourceArn": volume,
                    "Status": "COMPLETED",
                    "CreationDate": NOW + datetime.timedelta(days=1),
                },
                {
                    "RecoveryPointArn": "arn:aws:ec2:us-east-1::snapshot/snap-00000000000000009",
                    "ResourceArn": volume,
                    "Status": "PARTIAL",
                    "CreationDate": NOW + datetime.timedelta(days=2),
                },
            ]
        },
        {"BackupVaultName": "medcircle-backup", "ByResourceArn": volume},
    )
    stub.add_response(
        "list_restore_jobs",
        {
            "RestoreJobs": [
                {
                    "RestoreJobId": "done",
                    "RecoveryPointArn": SNAP,
                    "Status": "COMPLETED",
                    "CreatedResourceArn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-9",
                    "CreationDate": NOW,
                }
            ]
        },
        {},
    )
    rc, result = run({"resource_arn": volume}, capsys)
    assert rc == 0, result
    assert (result["recovery_point_arn"], result["resource_id"], result["changed"]) == (SNAP, "vol-9", False)


def test_resource_arn_must_be_a_protected_resource(aws, clients, capsys):
    rc, result = run({"resource_arn": "arn:aws:s3:::bucket"}, capsys)
    assert rc == 1
    assert "resource_arn arn:aws:s3:::bucket is not an EBS volume, EC2 instance or RDS DB instance ARN" in result["msg"]
