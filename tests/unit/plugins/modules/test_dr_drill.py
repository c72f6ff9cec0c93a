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
        (
            lambda s: s[1].update(replica="CHANGE-ME-replica"),
            "systems[1] (db).replica CHANGE-ME-replica is a placeholder to fill in",
        ),
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


def _app_stubs(aws, template_versions):
    ec2 = aws.stub("ec2", DR)
    ec2.add_response("describe_instances", {"Reservations": []})
    ec2.add_response(
        "describe_images",
        {"Images": [{"ImageId": "ami-0copy", "CreationDate": "2026-01-02T00:00:00.000Z", "State": "available"}]},
    )
    ec2.add_response("describe_images", {"Images": []})
    if template_versions is None:
        ec2.add_client_error(
            "describe_launch_template_versions",
            service_error_code="InvalidLaunchTemplateName.NotFoundException",
            service_message="The specified launch template, with template name medcircle-app-lt, does not exist.",
        )
    else:
        ec2.add_response(
            "describe_launch_template_versions",
            {"LaunchTemplateVersions": template_versions},
            {"LaunchTemplateName": "medcircle-app-lt", "Versions": ["$Latest"]},
        )


def test_failover_check_mode_plans_the_launch_through_the_dr_launch_template(aws, clients, capsys):
    plan = systems()
    plan[0]["launch_template"] = "medcircle-app-lt"
    standby = {"VersionNumber": 1, "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}
    _app_stubs(aws, [standby])
    rc, result = run(
        dr_failover,
        {"state": "failover", "systems": plan, "only": ["app"], "primary_region": PRIMARY, "dr_region": DR},
        capsys,
        check=True,
    )
    assert rc == 0, result
    step = result["failover"]["steps"][0]
    assert step["status"] == "changed"
    assert step["detail"] == (
        "would launch medcircle-app from ami-0copy through the launch template medcircle-app-lt (a new version with it)"
    )


def test_failover_without_the_dr_launch_template_names_it(aws, clients, capsys):
    _app_stubs(aws, None)
    rc, result = run(
        dr_failover,
        {"state": "failover", "systems": systems(), "only": ["app"], "primary_region": PRIMARY, "dr_region": DR},
        capsys,
        check=True,
    )
    assert rc == 1
    step = result["failover"]["steps"][0]
    assert step["status"] == "failed"
    assert "no launch template medcircle-app-lt in us-west-2" in step["detail"]
    assert "role dr_site" in step["detail"]


def _s3_plan():
    return [
        {
            "name": "records",
            "kind": "s3",
            "resource": "records-src",
            "dr_resource": "records-dr",
            "tier": 1,
            "rto_minutes": 30,
            "rpo_minutes": 60,
        }
    ]


def _at(hour):
    return datetime.datetime(2026, 1, 5, hour, tzinfo=datetime.UTC)


def _s3_drill_plan(capsys):
    rc, result = run(
        dr_drill,
        {"systems": _s3_plan(), "primary_region": PRIMARY, "dr_region": DR, "drill_id": "drill-s3"},
        capsys,
        check=True,
    )
    assert rc == 0, result
    return result["drill"]["systems"][0]["source"]


def test_s3_rpo_is_the_replicas_lag_behind_the_sources_newest_write(aws, clients, capsys):
    aws.stub("s3", DR).add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "a", "Size": 3, "ETag": '"x"', "LastModified": _at(9)}], "IsTruncated": False},
        {"Bucket": "records-dr"},
    )
    aws.stub("s3", PRIMARY).add_response(
        "list_objects_v2",
        {
            "Contents": [
                {"Key": "a", "Size": 3, "ETag": '"x"', "LastModified": _at(8)},
                {"Key": "b", "Size": 5, "ETag": '"y"', "LastModified": _at(11)},
            ],
            "IsTruncated": False,
        },
        {"Bucket": "records-src"},
    )
    source = _s3_drill_plan(capsys)
    # a (written 08:00) is replicated, b (11:00) is not: the DR copy is 3 hours behind the source
    assert source["rpo_seconds"] == 3 * 3600.0
    assert source["created"] == "2026-01-05T08:00:00Z" and source["source_newest_write"] == "2026-01-05T11:00:00Z"
    assert source["missing"] == 1


def test_s3_rpo_is_zero_when_the_newest_write_is_replicated(aws, clients, capsys):
    aws.stub("s3", DR).add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "b", "Size": 5, "ETag": '"other"', "LastModified": _at(12)}], "IsTruncated": False},
        {"Bucket": "records-dr"},
    )
    aws.stub("s3", PRIMARY).add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "b", "Size": 5, "ETag": '"y"', "LastModified": _at(11)}], "IsTruncated": False},
        {"Bucket": "records-src"},
    )
    source = _s3_drill_plan(capsys)
    assert source["rpo_seconds"] == 0.0 and source["missing"] == 0


def test_s3_rpo_falls_back_to_the_replicas_age_when_the_source_does_not_answer(aws, clients, capsys):
    aws.stub("s3", DR).add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "a", "Size": 3, "LastModified": _at(9)}], "IsTruncated": False},
        {"Bucket": "records-dr"},
    )
    aws.stub("s3", PRIMARY).add_client_error(
        "list_objects_v2", service_error_code="ServiceUnavailable", http_status_code=503
    )
    source = _s3_drill_plan(capsys)
    assert "rpo_seconds" not in source
    assert source["created"] == "2026-01-05T09:00:00Z"
    assert "not readable (ServiceUnavailable)" in source["rpo_basis"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "rds_kms_key '' is empty"),
        (
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "is a key ARN, which names the key of one region only",
        ),
    ],
)
def test_failback_refuses_an_rds_key_that_is_not_an_alias_before_any_call(aws, clients, capsys, key, message):
    rc, result = run(
        dr_failover,
        {"state": "failback", "systems": systems(), "primary_region": PRIMARY, "dr_region": DR, "rds_kms_key": key},
        capsys,
    )
    assert rc == 1
    assert message in result["msg"] and "alias/medcircle-rds" in result["msg"]
