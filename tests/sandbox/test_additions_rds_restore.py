"""RestoreDBInstanceFromDBSnapshot applies settings sent as false, as AWS does (sandbox/additions/rds.py)."""

import boto3


def test_restore_from_a_protected_database_snapshot_gives_what_was_asked(clean_sandbox):
    rds = boto3.client(
        "rds",
        region_name="us-east-1",
        endpoint_url=clean_sandbox.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="src",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="example-password-1",
        AllocatedStorage=20,
        DeletionProtection=True,
        MultiAZ=True,
    )
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="src-snap")
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="copy", DBSnapshotIdentifier="src-snap", DeletionProtection=False, MultiAZ=False
    )
    copy = rds.describe_db_instances(DBInstanceIdentifier="copy")["DBInstances"][0]
    assert copy["DeletionProtection"] is False
    assert copy["MultiAZ"] is False
    rds.delete_db_instance(DBInstanceIdentifier="copy", SkipFinalSnapshot=True)
    # what is not sent keeps the snapshot's database's setting in moto; the source stays protected
    source = rds.describe_db_instances(DBInstanceIdentifier="src")["DBInstances"][0]
    assert source["DeletionProtection"] is True
