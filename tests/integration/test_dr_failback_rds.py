"""Failback of an encrypted, protected database (the estate after rds_protection), on a sandbox of its own.

The hardened seed holds what rds_protection makes: the primary encrypted with the primary region's RDS key, the
DR read replica encrypted with the DR region's key, deletion protection on both, each in its region's database
subnet group and security group. The failback must make each new cross-region read replica with the RDS key of
its own region, in the subnet group and security groups of the database it replaces, with deletion protection;
set the promoted (protected) DR database aside before making the replica, and delete it only afterwards; keep at
least 35 days of automated backups on a promoted database; and change nothing on a rerun.

The sandbox does not refuse what AWS refuses here (an encrypted cross-region replica without a key of its region,
a replica outside the replaced database's network), so the test reads what the new databases were made with.
"""

import datetime

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

PORT = 5163
PRIMARY = "us-east-1"
DR = "us-west-2"
DB_ID = "medcircledb"
REPLICA_ID = "medcircledb-dr"
# a subnet group of the DR replica's own, so that a new replica given its source's subnet group is told apart
# (the sandbox looks a replica's subnet group name up in the source region: the group exists in both)
STANDBY_SUBNET_GROUP = "medcircle-db-standby-subnets"
SYSTEMS = [
    {
        "name": "medcircledb",
        "kind": "rds",
        "resource": DB_ID,
        "replica": REPLICA_ID,
        "tier": 1,
        "rto_minutes": 60,
        "rpo_minutes": 15,
    }
]


def _today():
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")


def db(sandbox, region, identifier):
    found = sandbox.client("rds", region).describe_db_instances()["DBInstances"]
    return next((d for d in found if d["DBInstanceIdentifier"] == identifier), None)


def network(database):
    return database["DBSubnetGroup"]["DBSubnetGroupName"], sorted(
        g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]
    )


def rds_key(sandbox, region):
    return sandbox.client("kms", region).describe_key(KeyId="alias/medcircle-rds")["KeyMetadata"]["Arn"]


def run(sandbox, playbook, tmp_path, check=False, **extra):
    extra_vars = {
        "cloudops_reports_dir": str(tmp_path),
        "dr_failover_systems": SYSTEMS,
        "dr_failover_poll_delay": 1,
        "dr_failover_max_attempts": 20,
        **extra,
    }
    return run_playbook(sandbox, playbook, extra_vars=extra_vars, check=check)


def steps(result):
    return {s["step"]: s for s in result.task("Run every step")["failover"]["steps"]}


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(port=PORT, seed="hardened")
    try:
        # the DR replica in a subnet group of its own (rds_protection_replica_subnet_group_name)
        subnets = {}
        for region in (PRIMARY, DR):
            rds = sandbox.client("rds", region)
            group = rds.describe_db_subnet_groups(DBSubnetGroupName="medcircle-db-subnets")["DBSubnetGroups"][0]
            subnets[region] = [s["SubnetIdentifier"] for s in group["Subnets"]]
            rds.create_db_subnet_group(
                DBSubnetGroupName=STANDBY_SUBNET_GROUP,
                DBSubnetGroupDescription="MedCircle DR replica subnets",
                SubnetIds=subnets[region],
            )
        sandbox.client("rds", DR).modify_db_instance(
            DBInstanceIdentifier=REPLICA_ID, DBSubnetGroupName=STANDBY_SUBNET_GROUP, ApplyImmediately=True
        )
        yield sandbox
    finally:
        sandbox.stop()


def test_failback_refuses_a_key_arn_before_any_change(estate, tmp_path):
    sandbox = estate
    sandbox.clear_requests()
    result = run(
        sandbox,
        "playbooks/dr_failback.yml",
        tmp_path,
        dr_failover_confirm="yes",
        dr_failover_rds_kms_key=rds_key(sandbox, PRIMARY),
    )
    assert result.returncode != 0
    failed = [o.get("msg", "") for _, o in result.tasks() if o.get("failed")]
    assert any("dr_failover_rds_kms_key" in m and "not a key ARN" in m for m in failed), failed
    assert sandbox.requests(mutating=True) == []


def test_failback_of_an_encrypted_protected_database(estate, tmp_path):
    sandbox = estate
    keys = {region: rds_key(sandbox, region) for region in (PRIMARY, DR)}
    before_primary = db(sandbox, PRIMARY, DB_ID)
    before_replica = db(sandbox, DR, REPLICA_ID)
    # as rds_protection leaves them: encrypted with each region's key, protected, each in its own network
    assert before_primary["StorageEncrypted"] and before_primary["KmsKeyId"] == keys[PRIMARY]
    assert before_replica["StorageEncrypted"] and before_replica["KmsKeyId"] == keys[DR]
    assert before_replica["DeletionProtection"] and before_primary["DeletionProtection"]
    assert network(before_replica)[0] == STANDBY_SUBNET_GROUP
    assert network(before_replica) != network(before_primary)

    # 1. failover: the DR replica is promoted and keeps 35 days of automated backups
    over = run(sandbox, "playbooks/dr_failover.yml", tmp_path, dr_failover_confirm="yes")
    assert over.returncode == 0, over.stdout[-3000:]
    promoted = db(sandbox, DR, REPLICA_ID)
    assert promoted.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert promoted["BackupRetentionPeriod"] >= 35
    assert promoted["DeletionProtection"]  # promotion keeps it: the failback must turn it off to delete

    # 2. failback in check mode: says what it would do, with the destination region's key, and changes nothing
    sandbox.clear_requests()
    planned = run(sandbox, "playbooks/dr_failback.yml", tmp_path, check=True)
    assert planned.returncode == 0, planned.stdout[-3000:]
    assert sandbox.requests(mutating=True) == []
    plan = steps(planned)
    assert plan["replicate towards the primary"]["status"] == "changed"
    assert keys[PRIMARY] in plan["replicate towards the primary"]["detail"]
    assert plan["set the promoted DR database aside"]["status"] == "changed"
    assert keys[DR] in plan["return the DR database to standby"]["detail"]
    assert plan["delete the set-aside DR database"]["detail"].startswith("would delete")

    # 3. failback, interrupted: the DR replica cannot be made; the promoted DR database is kept (set aside)
    sandbox.clear_requests()
    sandbox.set_faults(
        [{"service": "rds", "operation": "CreateDBInstanceReadReplica", "region": DR, "error_rate": 1.0}]
    )
    try:
        cut = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    finally:
        sandbox.clear_faults()
    assert cut.returncode != 0
    cut_steps = steps(cut)
    assert cut_steps["promote in the primary region"]["status"] == "changed"
    assert cut_steps["set the promoted DR database aside"]["status"] == "changed"
    assert cut_steps["return the DR database to standby"]["status"] == "failed"
    assert "delete the set-aside DR database" not in cut_steps
    kept = db(sandbox, DR, REPLICA_ID + "-pre-failback-" + _today())
    assert kept is not None and not kept["DeletionProtection"]
    assert db(sandbox, DR, REPLICA_ID) is None
    # the set-aside (protection off) came before the create, and nothing was deleted
    calls = [r["operation"] for r in sandbox.requests(service="rds", region=DR, mutating=True)]
    assert calls[0] == "ModifyDBInstance" and "DeleteDBInstance" not in calls, calls

    # 4. the rerun continues where it stopped
    sandbox.clear_requests()
    back = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    assert back.returncode == 0, back.stdout[-3000:]
    done = steps(back)
    assert all(s["status"] != "failed" for s in done.values()), done
    for step in ("set the stale primary aside", "replicate towards the primary", "promote in the primary region"):
        assert done[step]["status"] == "ok", done[step]
    assert done["return the DR database to standby"]["status"] == "changed"
    assert done["delete the set-aside DR database"]["status"] == "changed"
    assert [r["region"] for r in sandbox.requests(operation="CreateDBInstanceReadReplica")] == [DR]
    # the new replica was made before the set-aside copy was deleted
    calls = [r["operation"] for r in sandbox.requests(service="rds", region=DR, mutating=True)]
    assert calls.index("CreateDBInstanceReadReplica") < calls.index("DeleteDBInstance"), calls
    assert sandbox.requests(service="rds", region=PRIMARY, mutating=True) == []

    primary = db(sandbox, PRIMARY, DB_ID)
    stale = db(sandbox, PRIMARY, DB_ID + "-pre-failback-" + _today())
    assert stale is not None  # kept
    assert primary.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert primary["StorageEncrypted"] and primary["KmsKeyId"] == keys[PRIMARY]
    assert network(primary) == network(before_primary) == network(stale)
    assert primary["DeletionProtection"]
    assert primary["BackupRetentionPeriod"] >= 35

    replica = db(sandbox, DR, REPLICA_ID)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
    assert replica["StorageEncrypted"] and replica["KmsKeyId"] == keys[DR]
    assert network(replica) == network(before_replica)
    assert replica["DeletionProtection"]
    assert db(sandbox, DR, REPLICA_ID + "-pre-failback-" + _today()) is None  # the set-aside copy is gone
    final = sandbox.client("rds", DR).describe_db_snapshots(
        DBSnapshotIdentifier=REPLICA_ID + "-pre-failback-" + _today() + "-final"
    )["DBSnapshots"]
    assert len(final) == 1

    # 5. a rerun changes nothing
    sandbox.clear_requests()
    again = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.task("Run every step")["changed"] is False
    assert sandbox.requests(service="rds", mutating=True) == []
