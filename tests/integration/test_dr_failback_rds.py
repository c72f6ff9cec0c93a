"""Failback of an encrypted, protected database (the estate after rds_protection), on a sandbox of its own.

The hardened seed holds what rds_protection makes: the primary encrypted with the primary region's RDS key, the
DR read replica encrypted with the DR region's key, deletion protection on both, each in its region's database
subnet group and security group. The failback must make each new cross-region read replica with the RDS key of
its own region, in the subnet group and security groups of the database it replaces, with deletion protection;
set the promoted (protected) DR database aside before making the replica, and delete it only afterwards; keep at
least 35 days of automated backups on a promoted database; give the new primary the protection of the stale one
(the TLS parameter group, Multi-AZ, enhanced monitoring, log exports, IAM authentication, copy of tags to
snapshots, deletion protection, its tags); and change nothing on a rerun. A failback interrupted after its
set-aside steps continues when it is run again on a later UTC day (run in-process with the clock moved on), and a
second failover and failback after the first end in the same state, with only the stale primaries kept.

The sandbox does not refuse what AWS refuses here (an encrypted cross-region replica without a key of its region,
a replica outside the replaced database's network), so the test reads what the new databases were made with.
"""

import datetime

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils import dr_failover
from dr_estate import in_process_clients
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


FAILBACK_TAG = "cloudops:failback"
SET_ASIDE_TAG = "cloudops:set-aside-from"
# what rds_protection gives the primary (the hardened seed has it), and a cross-region replica does not inherit
PROTECTION = {
    "MultiAZ": True,
    "MonitoringInterval": 60,
    "IAMDatabaseAuthenticationEnabled": True,
    "CopyTagsToSnapshot": True,
    "AutoMinorVersionUpgrade": True,
    "DeletionProtection": True,
    "PubliclyAccessible": False,
}


def db(sandbox, region, identifier):
    found = sandbox.client("rds", region).describe_db_instances()["DBInstances"]
    return next((d for d in found if d["DBInstanceIdentifier"] == identifier), None)


def tags(database):
    return {t["Key"]: t["Value"] for t in database.get("TagList") or []}


def set_aside(sandbox, region, identifier):
    """The databases set aside from ``identifier`` in ``region``, by the failback's tags, oldest failback first."""
    found = sandbox.client("rds", region).describe_db_instances()["DBInstances"]
    return sorted((d for d in found if tags(d).get(SET_ASIDE_TAG) == identifier), key=lambda d: tags(d)[FAILBACK_TAG])


def protection(database):
    """What of a database's protection the failback copies, as the test compares it."""
    return {
        **{key: database.get(key) for key in PROTECTION},
        "parameter group": database["DBParameterGroups"][0]["DBParameterGroupName"],
        "monitoring role": database.get("MonitoringRoleArn"),
        "log exports": sorted(database.get("EnabledCloudwatchLogsExports") or []),
        "tags": {k: v for k, v in tags(database).items() if k not in (FAILBACK_TAG, SET_ASIDE_TAG)},
    }


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


def test_failback_of_an_encrypted_protected_database(estate, tmp_path, monkeypatch):
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

    # 2. failback in check mode: says what it would do, with the destination region's key and the stale primary's
    #    protection, and changes nothing
    sandbox.clear_requests()
    planned = run(sandbox, "playbooks/dr_failback.yml", tmp_path, check=True)
    assert planned.returncode == 0, planned.stdout[-3000:]
    assert sandbox.requests(mutating=True) == []
    plan = steps(planned)
    assert plan["mark the failback"]["status"] == "changed"
    assert plan["replicate towards the primary"]["status"] == "changed"
    replicate_plan = plan["replicate towards the primary"]["detail"]
    assert keys[PRIMARY] in replicate_plan
    assert "parameter group medcircle-mysql80" in replicate_plan and "Multi-AZ" in replicate_plan
    assert plan["copy the stale primary's protection"]["detail"].startswith(
        f"the new {DB_ID} is made with the protection of the stale {DB_ID} (step replicate towards the primary)"
    ), plan["copy the stale primary's protection"]
    assert plan["set the promoted DR database aside"]["status"] == "changed"
    assert keys[DR] in plan["return the DR database to standby"]["detail"]
    assert plan["delete the set-aside DR database"]["detail"].startswith("would delete")

    # 3. failback, interrupted after its set-aside steps: the DR replica cannot be made; the promoted DR database
    #    is kept (set aside), and the new primary exists with the stale primary's protection
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
    assert cut_steps["mark the failback"]["status"] == "changed"
    assert cut_steps["promote in the primary region"]["status"] == "changed"
    # made with the protection at creation: nothing left to copy, but the managed master password is reported
    copied = cut_steps["copy the stale primary's protection"]
    assert copied["status"] == "ok", copied
    assert "Secrets Manager" in copied["detail"] and "playbooks/remediate/rds.yml" in copied["detail"]
    assert cut_steps["set the promoted DR database aside"]["status"] == "changed"
    assert cut_steps["return the DR database to standby"]["status"] == "failed"
    assert "delete the set-aside DR database" not in cut_steps
    [kept] = set_aside(sandbox, DR, REPLICA_ID)
    failback = tags(kept)[FAILBACK_TAG]
    assert kept["DBInstanceIdentifier"] == f"{REPLICA_ID}-{failback}" and not kept["DeletionProtection"]
    assert db(sandbox, DR, REPLICA_ID) is None
    [stale] = set_aside(sandbox, PRIMARY, DB_ID)
    assert stale["DBInstanceIdentifier"] == f"{DB_ID}-{failback}" and tags(stale)[FAILBACK_TAG] == failback
    assert tags(db(sandbox, PRIMARY, DB_ID))[FAILBACK_TAG] == failback  # the new primary of this failback
    # the set-aside (protection off) came before the create, and nothing was deleted
    calls = [r["operation"] for r in sandbox.requests(service="rds", region=DR, mutating=True)]
    assert "DeleteDBInstance" not in calls, calls
    assert calls.index("ModifyDBInstance") < calls.index("CreateDBInstanceReadReplica"), calls

    # the new primary loses some of its protection before the rerun (as a primary made by an earlier version of
    # the runbook, which gave it none): the rerun gives it back, and --check says so first
    rds_primary = sandbox.client("rds", PRIMARY)
    rds_primary.modify_db_instance(
        DBInstanceIdentifier=DB_ID,
        MultiAZ=False,
        MonitoringInterval=0,
        CloudwatchLogsExportConfiguration={"DisableLogTypes": ["general"]},
        EnableIAMDatabaseAuthentication=False,
        ApplyImmediately=True,
    )
    rds_primary.remove_tags_from_resource(ResourceName=db(sandbox, PRIMARY, DB_ID)["DBInstanceArn"], TagKeys=["Backup"])
    sandbox.clear_requests()
    replan = run(sandbox, "playbooks/dr_failback.yml", tmp_path, check=True)
    assert replan.returncode == 0, replan.stdout[-3000:]
    assert sandbox.requests(mutating=True) == []
    redo = steps(replan)["copy the stale primary's protection"]
    assert redo["status"] == "changed" and redo["detail"].startswith("would set on medcircledb"), redo
    assert all(word in redo["detail"] for word in ("Multi-AZ", "enhanced monitoring", "general", "tags Backup"))

    # 4. the rerun, on a later UTC day (run in this process with the clock moved on by a day), continues where it
    #    stopped: it finds what the first run set aside by the failback's tags, whatever the date
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    monkeypatch.setattr(dr_failover, "_now", lambda: later)
    sandbox.clear_requests()
    back = dr_failover.failback(SYSTEMS, in_process_clients(sandbox), PRIMARY, DR, poll=1, attempts=20)
    assert back["success"], back
    done = {s["step"]: s for s in back["steps"]}
    assert all(s["status"] != "failed" for s in done.values()), done
    assert failback in done["mark the failback"]["detail"]
    for step in (
        "mark the failback",
        "set the stale primary aside",
        "replicate towards the primary",
        "promote in the primary region",
        "set the promoted DR database aside",
    ):
        assert done[step]["status"] == "ok", done[step]
    assert done["copy the stale primary's protection"]["status"] == "changed"
    assert done["return the DR database to standby"]["status"] == "changed"
    assert done["delete the set-aside DR database"]["status"] == "changed"
    assert [r["region"] for r in sandbox.requests(operation="CreateDBInstanceReadReplica")] == [DR]
    # the new replica was made before the set-aside copy was deleted
    calls = [r["operation"] for r in sandbox.requests(service="rds", region=DR, mutating=True)]
    assert calls.index("CreateDBInstanceReadReplica") < calls.index("DeleteDBInstance"), calls
    # in the primary region only the protection was given back: no rename, no new database
    calls = [r["operation"] for r in sandbox.requests(service="rds", region=PRIMARY, mutating=True)]
    assert sorted(calls) == ["AddTagsToResource", "ModifyDBInstance"], calls
    names = [
        d["DBInstanceIdentifier"]
        for r in (PRIMARY, DR)
        for d in sandbox.client("rds", r).describe_db_instances()["DBInstances"]
    ]
    assert not any(dr_failover.failback_id(later)[:21] in n for n in names), names  # nothing named after that day

    primary = db(sandbox, PRIMARY, DB_ID)
    [stale] = set_aside(sandbox, PRIMARY, DB_ID)  # kept
    assert stale["DBInstanceIdentifier"] == f"{DB_ID}-{failback}"
    assert primary.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert primary["StorageEncrypted"] and primary["KmsKeyId"] == keys[PRIMARY]
    assert network(primary) == network(before_primary) == network(stale)
    assert primary["BackupRetentionPeriod"] >= 35
    # as hardened as the primary it replaces: TLS parameter group (2.14), Multi-AZ, monitoring, logs, tags...
    assert protection(primary) == protection(stale) == protection(before_primary)
    assert protection(primary)["parameter group"] == "medcircle-mysql80"

    replica = db(sandbox, DR, REPLICA_ID)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
    assert replica["StorageEncrypted"] and replica["KmsKeyId"] == keys[DR]
    assert network(replica) == network(before_replica)
    assert replica["DeletionProtection"]
    assert replica["DBParameterGroups"][0]["DBParameterGroupName"] == "medcircle-mysql80"
    assert replica["MonitoringInterval"] == 60
    assert FAILBACK_TAG not in tags(replica) and SET_ASIDE_TAG not in tags(replica)
    assert set_aside(sandbox, DR, REPLICA_ID) == []  # the set-aside copy is gone
    final = sandbox.client("rds", DR).describe_db_snapshots(DBSnapshotIdentifier=f"{REPLICA_ID}-{failback}-final")
    assert len(final["DBSnapshots"]) == 1

    # 5. a rerun changes nothing
    sandbox.clear_requests()
    again = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.task("Run every step")["changed"] is False
    assert all(s["status"] == "ok" for s in steps(again).values())
    assert sandbox.requests(service="rds", mutating=True) == []


def test_a_second_failover_and_failback(estate, tmp_path):
    """The cycle again, from the state the first left: the first failback's new primary is now the stale one."""
    sandbox = estate
    first = db(sandbox, PRIMARY, DB_ID)
    assert FAILBACK_TAG in tags(first), "needs the first failback (test_failback_of_an_encrypted_protected_database)"
    [first_stale] = set_aside(sandbox, PRIMARY, DB_ID)

    over = run(sandbox, "playbooks/dr_failover.yml", tmp_path, dr_failover_confirm="yes")
    assert over.returncode == 0, over.stdout[-3000:]
    assert db(sandbox, DR, REPLICA_ID).get("ReadReplicaSourceDBInstanceIdentifier") is None

    back = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    assert back.returncode == 0, back.stdout[-3000:]
    done = steps(back)
    for step in (
        "mark the failback",
        "set the stale primary aside",
        "replicate towards the primary",
        "promote in the primary region",
        "set the promoted DR database aside",
        "return the DR database to standby",
        "delete the set-aside DR database",
    ):
        assert done[step]["status"] == "changed", done[step]

    # the primary standalone, the DR database its replica
    primary = db(sandbox, PRIMARY, DB_ID)
    replica = db(sandbox, DR, REPLICA_ID)
    assert primary.get("ReadReplicaSourceDBInstanceIdentifier") is None
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
    # kept: the stale primary of each failback (the first's new primary is the second's stale one), nothing else
    stale = set_aside(sandbox, PRIMARY, DB_ID)
    assert [d["DBInstanceIdentifier"] for d in stale[:1]] == [first_stale["DBInstanceIdentifier"]]
    assert len(stale) == 2 and tags(stale[1])[FAILBACK_TAG] != tags(stale[0])[FAILBACK_TAG]
    assert tags(primary)[FAILBACK_TAG] == tags(stale[1])[FAILBACK_TAG]
    rds_names = {
        r: sorted(d["DBInstanceIdentifier"] for d in sandbox.client("rds", r).describe_db_instances()["DBInstances"])
        for r in (PRIMARY, DR)
    }
    assert rds_names == {
        PRIMARY: sorted([DB_ID, *(d["DBInstanceIdentifier"] for d in stale)]),
        DR: [REPLICA_ID],
    }
    snapshots = sandbox.client("rds", DR).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert sorted(s["DBSnapshotIdentifier"] for s in snapshots if s["DBSnapshotIdentifier"].endswith("-final")) == [
        f"{REPLICA_ID}-{tags(d)[FAILBACK_TAG]}-final" for d in stale
    ]
    # still as hardened as the first primary
    assert protection(primary) == protection(stale[1]) == protection(stale[0])

    again = run(sandbox, "playbooks/dr_failback.yml", tmp_path, dr_failover_confirm="yes")
    assert again.returncode == 0, again.stdout[-3000:]
    assert all(s["status"] == "ok" for s in steps(again).values()), steps(again)
