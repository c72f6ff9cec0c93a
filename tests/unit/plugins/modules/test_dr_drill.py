"""dr_drill and dr_failover driven through main() with stubbed AWS clients (botocore Stubber).

Bad plan data must be refused before any AWS call (the Stubber fails on any call without a stubbed answer),
naming the entry; check mode only reads.
"""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import dr_drill, dr_failover

PRIMARY = "us-east-1"
DR = "us-west-2"
DB_ARN = "arn:aws:rds:us-east-1:123456789012:db:medcircledb"


@pytest.fixture
def clients(aws, monkeypatch):
    def client(self, service, retry_decorator=None, **extra_params):
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)


def run(module, args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": PRIMARY, "_ansible_check_mode": check}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def systems():
    return [
        {"name": "app", "kind": "ec2", "resource": "medcircle-app", "tier": 1, "rto_minutes": 60, "rpo_minutes": 1440},
        {
            "name": "db",
            "kind": "rds",
            "resource": "medcircledb",
            "replica": "medcircledb-dr",
            "tier": 1,
            "rto_minutes": 60,
            "rpo_minutes": 1440,
        },
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s[1].pop("rto_minutes"), "systems[1] (db).rto_minutes is missing or not a positive number"),
        (lambda s: s[0].update(rpo_minutes=0), "systems[0] (app).rpo_minutes"),
        (lambda s: s[0].update(kind="tape"), "systems[0] (app).kind tape is not a known kind"),
        (lambda s: s[1].pop("resource"), "systems[1] (db).resource is missing"),
        (lambda s: s.append(dict(s[0])), "systems[2] (app).name app is listed twice"),
    ],
)
def test_bad_plan_data_refused_before_any_call(aws, clients, capsys, change, message):
    plan = systems()
    change(plan)
    rc, result = run(dr_drill, {"systems": plan, "primary_region": PRIMARY, "dr_region": DR}, capsys)
    assert rc == 1
    assert message in result["msg"]


def test_dr_region_equal_to_primary_refused(aws, clients, capsys):
    rc, result = run(dr_drill, {"systems": systems(), "primary_region": PRIMARY, "dr_region": PRIMARY}, capsys)
    assert rc == 1
    assert "dr_region us-east-1 is the primary region" in result["msg"]


def test_unknown_resource_refused_naming_the_entry(aws, clients, capsys):
    aws.stub("ec2", PRIMARY).add_response("describe_instances", {"Reservations": []})
    rc, result = run(
        dr_drill,
        {"systems": systems(), "only": ["app"], "primary_region": PRIMARY, "dr_region": DR},
        capsys,
        check=True,
    )
    assert rc == 1
    assert "systems[0] (app).resource" in result["msg"] and "no instance named medcircle-app" in result["msg"]


def test_check_mode_finds_the_newest_db_snapshot_and_changes_nothing(aws, clients, capsys):
    aws.stub("rds", PRIMARY).add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": "medcircledb", "DBInstanceArn": DB_ARN}]},
        {"DBInstanceIdentifier": "medcircledb"},
    )
    old = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    new = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    snapshot = {"Status": "available", "DBInstanceIdentifier": "medcircledb"}
    aws.stub("rds", DR).add_response(
        "describe_db_snapshots",
        {
            "DBSnapshots": [
                dict(snapshot, DBSnapshotIdentifier="old", SnapshotCreateTime=old),
                dict(snapshot, DBSnapshotIdentifier="new", SnapshotCreateTime=new),
                dict(
                    snapshot,
                    DBSnapshotIdentifier="drill-x-db-snap",
                    SnapshotCreateTime=new + datetime.timedelta(hours=1),
                    TagList=[{"Key": "cloudops:drill-id", "Value": "drill-x"}],
                ),
            ]
        },
        {},
    )
    rc, result = run(
        dr_drill,
        {"systems": systems(), "only": ["db"], "primary_region": PRIMARY, "dr_region": DR, "drill_id": "drill-t"},
        capsys,
        check=True,
    )
    assert rc == 0, result
    drill = result["drill"]
    assert drill["result"] == "planned" and drill["ready"] is True
    assert drill["systems"][0]["source"]["id"] == "new"  # newest, and never a drill's own snapshot


def test_failover_check_mode_reports_the_promotion_without_calling_it(aws, clients, capsys):
    aws.stub("rds", DR).add_response(
        "describe_db_instances",
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "medcircledb-dr",
                    "ReadReplicaSourceDBInstanceIdentifier": DB_ARN,
                    "DBInstanceStatus": "available",
                }
            ]
        },
        {"DBInstanceIdentifier": "medcircledb-dr"},
    )
    rc, result = run(
        dr_failover,
        {"state": "failover", "systems": systems(), "only": ["db"], "primary_region": PRIMARY, "dr_region": DR},
        capsys,
        check=True,
    )
    assert rc == 0, result
    assert result["changed"] is True
    assert result["failover"]["steps"][0]["detail"] == "would promote medcircledb-dr"
    assert result["failover"]["result"] == "planned"


def test_failover_refuses_a_database_without_replica(aws, clients, capsys):
    plan = systems()
    plan[1].pop("replica")
    rc, result = run(
        dr_failover, {"state": "failover", "systems": plan, "primary_region": PRIMARY, "dr_region": DR}, capsys
    )
    assert rc == 1
    assert "systems[1] (db).replica is missing" in result["msg"]
