"""The failback's pure logic: its id and set-aside names, and what of a replaced database's protection a new primary
gets (at creation, then by ModifyDBInstance). The step that copies the protection runs on stubbed clients."""

import datetime

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils import dr_failover
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr_failover import (
    FAILBACK_TAG,
    SET_ASIDE_TAG,
    failback_id,
    protection_changes,
    protection_settings,
    set_aside_name,
)

PRIMARY = "us-east-1"
DR = "us-west-2"
FAILBACK = "pre-failback-20310504-235930"
ROLE = "arn:aws:iam::123456789012:role/medcircle-rds-monitoring-role"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"


def stale_primary(**changes):
    """The primary rds_protection leaves (as the hardened sandbox seed has it), set aside by a failback."""
    db = {
        "DBInstanceIdentifier": "medcircledb-" + FAILBACK,
        "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:medcircledb-" + FAILBACK,
        "DBInstanceClass": "db.t3.micro",
        "Engine": "mysql",
        "DBInstanceStatus": "available",
        "DBParameterGroups": [{"DBParameterGroupName": "medcircle-mysql80", "ParameterApplyStatus": "in-sync"}],
        "MultiAZ": True,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": ROLE,
        "EnabledCloudwatchLogsExports": ["error", "general", "slowquery"],
        "IAMDatabaseAuthenticationEnabled": True,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": True,
        "DeletionProtection": True,
        "PubliclyAccessible": False,
        "BackupRetentionPeriod": 35,
        "PreferredBackupWindow": "03:00-04:00",
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
        "MasterUserSecret": {"SecretArn": SECRET, "SecretStatus": "active"},
        "TagList": [
            {"Key": "Environment", "Value": "production"},
            {"Key": "Backup", "Value": "daily"},
            {"Key": "aws:cloudformation:stack-name", "Value": "medcircle"},
            {"Key": SET_ASIDE_TAG, "Value": "medcircledb"},
            {"Key": FAILBACK_TAG, "Value": FAILBACK},
        ],
    }
    db.update(changes)
    return db


def new_primary(**changes):
    """A cross-region read replica as RDS makes it when given nothing but the network and key, once promoted."""
    db = {
        "DBInstanceIdentifier": "medcircledb",
        "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:medcircledb",
        "DBInstanceClass": "db.t3.micro",
        "Engine": "mysql",
        "DBInstanceStatus": "available",
        "DBParameterGroups": [{"DBParameterGroupName": "default.mysql8.0", "ParameterApplyStatus": "in-sync"}],
        "MultiAZ": False,
        "MonitoringInterval": 0,
        "EnabledCloudwatchLogsExports": [],
        "IAMDatabaseAuthenticationEnabled": False,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": False,
        "DeletionProtection": True,
        "PubliclyAccessible": False,
        "BackupRetentionPeriod": 35,
        "PreferredBackupWindow": "03:00-04:00",
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
        "TagList": [{"Key": FAILBACK_TAG, "Value": FAILBACK}],
    }
    db.update(changes)
    return db


# --- ids and names ---------------------------------------------------------------------------------------


def test_failback_id_is_the_utc_start_to_the_second():
    start = datetime.datetime(2031, 5, 5, 1, 59, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert failback_id(start) == FAILBACK


def test_set_aside_name_is_the_identifier_and_the_failback_id():
    assert set_aside_name("MedCircleDB", FAILBACK) == "medcircledb-" + FAILBACK
    # a failback of an earlier version tagged its new primary with the date only: its set-aside name is found again
    assert set_aside_name("medcircledb", "pre-failback-20310504") == "medcircledb-pre-failback-20310504"


@pytest.mark.parametrize("identifier", ["a" * 40, "medcircle-patient-records-database-dr", "x" * 63, "db-" + "-" * 40])
def test_set_aside_name_fits_the_63_characters_of_a_db_identifier(identifier):
    name = set_aside_name(identifier, FAILBACK)
    assert len(name) <= 63
    assert name.endswith("-" + FAILBACK)
    assert "--" not in name and name[0].isalpha()
    assert set_aside_name(identifier, FAILBACK) == name  # a rerun computes the same name


def test_long_identifiers_with_one_start_get_different_set_aside_names():
    first = set_aside_name("medcircle-patient-records-database-dr", FAILBACK)
    second = set_aside_name("medcircle-patient-records-database-dr2", FAILBACK)
    assert first != second


# --- what a new replica is made with ---------------------------------------------------------------------


def test_a_new_primary_is_made_with_the_stale_primarys_protection():
    settings, notes = protection_settings(stale_primary(), "mysql", "db.t3.micro")
    tags = settings.pop("Tags")
    assert settings == {
        "DBParameterGroupName": "medcircle-mysql80",
        "MultiAZ": True,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": ROLE,
        "EnableCloudwatchLogsExports": ["error", "general", "slowquery"],
        "EnableIAMDatabaseAuthentication": True,
        "CopyTagsToSnapshot": True,
        "AutoMinorVersionUpgrade": True,
        "PubliclyAccessible": False,
    }
    # its own tags: not AWS's (they cannot be set) nor the failback's markers
    assert tags == [{"Key": "Environment", "Value": "production"}, {"Key": "Backup", "Value": "daily"}]
    assert len(notes) == 1 and "Secrets Manager" in notes[0] and "3.2" in notes[0]


def test_the_parameter_group_is_given_at_creation_only_where_rds_takes_it():
    # CreateDBInstanceReadReplica takes a parameter group for a cross-Region replica of MySQL, Oracle and Db2
    settings, _ = protection_settings(stale_primary(Engine="postgres"), "postgres", "db.m6g.large")
    assert "DBParameterGroupName" not in settings
    default = stale_primary(DBParameterGroups=[{"DBParameterGroupName": "default.mysql8.0"}])
    assert "DBParameterGroupName" not in protection_settings(default, "mysql", "db.t3.micro")[0]


def test_performance_insights_is_given_where_the_class_has_it_else_reported():
    stale = stale_primary(
        PerformanceInsightsEnabled=True,
        PerformanceInsightsKMSKeyId="arn:aws:kms:us-east-1:123456789012:key/pi",
        PerformanceInsightsRetentionPeriod=93,
    )
    settings, _ = protection_settings(stale, "mysql", "db.r6g.large")
    assert settings["EnablePerformanceInsights"] is True
    assert settings["PerformanceInsightsKMSKeyId"].endswith(":key/pi")
    assert settings["PerformanceInsightsRetentionPeriod"] == 93
    settings, notes = protection_settings(stale, "mysql", "db.t3.micro")
    assert "EnablePerformanceInsights" not in settings
    assert any("Performance Insights" in n and "db.t3.micro" in n for n in notes)


def test_nothing_is_given_when_nothing_is_replaced():
    assert protection_settings(None, "mysql", "db.t3.micro") == ({}, [])


# --- what ModifyDBInstance sets afterwards ---------------------------------------------------------------


def test_the_promoted_primary_gets_what_it_lacks():
    changes, tags, notes = protection_changes(stale_primary(), new_primary())
    assert changes == {
        "DBParameterGroupName": "medcircle-mysql80",
        "MultiAZ": True,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": ROLE,
        "CloudwatchLogsExportConfiguration": {"EnableLogTypes": ["error", "general", "slowquery"]},
        "CopyTagsToSnapshot": True,
        "EnableIAMDatabaseAuthentication": True,
    }
    assert tags == [{"Key": "Environment", "Value": "production"}, {"Key": "Backup", "Value": "daily"}]
    assert any("Secrets Manager" in n for n in notes)


def test_a_primary_with_the_stale_primarys_protection_gets_nothing():
    stale = stale_primary()
    same = dict(stale, DBInstanceIdentifier="medcircledb", TagList=[*stale["TagList"][:3]])
    assert protection_changes(stale, same) == ({}, [], [])


def test_nothing_of_the_new_primary_is_weakened():
    stale = stale_primary(MultiAZ=False, MonitoringInterval=60, CopyTagsToSnapshot=False, BackupRetentionPeriod=7)
    stronger = new_primary(
        DBParameterGroups=[{"DBParameterGroupName": "medcircle-mysql80"}],
        MultiAZ=True,
        MonitoringInterval=15,
        MonitoringRoleArn=ROLE,
        EnabledCloudwatchLogsExports=["error", "general", "slowquery", "audit"],
        IAMDatabaseAuthenticationEnabled=True,
        CopyTagsToSnapshot=True,
        BackupRetentionPeriod=40,
        TagList=[{"Key": "Environment", "Value": "production"}, {"Key": "Backup", "Value": "daily"}],
    )
    assert protection_changes(stale, stronger)[:2] == ({}, [])


def test_retention_windows_and_changed_tag_values_are_brought_in_line():
    db = new_primary(
        DBParameterGroups=[{"DBParameterGroupName": "medcircle-mysql80"}],
        MultiAZ=True,
        MonitoringInterval=60,
        MonitoringRoleArn=ROLE,
        EnabledCloudwatchLogsExports=["error", "general", "slowquery"],
        IAMDatabaseAuthenticationEnabled=True,
        CopyTagsToSnapshot=True,
        BackupRetentionPeriod=7,
        PreferredBackupWindow="13:14-13:44",
        TagList=[{"Key": "Environment", "Value": "staging"}, {"Key": "Backup", "Value": "daily"}],
        MasterUserSecret={"SecretArn": SECRET},
    )
    changes, tags, notes = protection_changes(stale_primary(), db)
    assert changes == {
        "BackupRetentionPeriod": 35,
        "PreferredBackupWindow": "03:00-04:00",
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
    }
    assert tags == [{"Key": "Environment", "Value": "production"}]
    assert notes == []  # it has a managed master password of its own


# --- the step, on stubbed clients: a parameter group that waits for a reboot is said -------------------------


def _describe(aws, region, db, identifier=None):
    aws.stub("rds", region).add_response(
        "describe_db_instances",
        {"DBInstances": [db]},
        {"DBInstanceIdentifier": identifier or db["DBInstanceIdentifier"]},
    )


def _describe_all(aws, region, *dbs):
    aws.stub("rds", region).add_response("describe_db_instances", {"DBInstances": list(dbs)}, {})


def test_the_copy_step_says_when_the_parameter_group_waits_for_a_reboot(aws):
    system = {"name": "medcircledb", "kind": "rds", "resource": "medcircledb", "replica": "medcircledb-dr"}
    dr_db = {
        "DBInstanceIdentifier": "medcircledb-dr",
        "DBInstanceArn": "arn:aws:rds:us-west-2:123456789012:db:medcircledb-dr",
        "DBInstanceStatus": "available",
        "TagList": [{"Key": FAILBACK_TAG, "Value": FAILBACK}],
    }
    stale, db = stale_primary(), new_primary(MasterUserSecret={"SecretArn": SECRET})
    pending = dict(
        db, DBParameterGroups=[{"DBParameterGroupName": "medcircle-mysql80", "ParameterApplyStatus": "pending-reboot"}]
    )
    _describe(aws, DR, dr_db)  # mark: the DR database carries the failback's id
    _describe(aws, DR, dr_db)  # set aside: the DR side is not back yet
    _describe_all(aws, PRIMARY, db, stale)  # ... the stale primary is found by its tags, set aside already
    _describe(aws, DR, dr_db)  # replicate: the DR database
    _describe(aws, PRIMARY, db)  # ... the new primary was made by this failback
    _describe_all(aws, PRIMARY, db, stale)
    _describe(aws, PRIMARY, db)  # promote: standalone already
    _describe(aws, PRIMARY, db)  # copy: the new primary
    _describe_all(aws, PRIMARY, db, stale)
    rds = aws.stub("rds", PRIMARY)
    rds.add_response(
        "add_tags_to_resource",
        {},
        {
            "ResourceName": db["DBInstanceArn"],
            "Tags": [{"Key": "Environment", "Value": "production"}, {"Key": "Backup", "Value": "daily"}],
        },
    )
    rds.add_response(
        "modify_db_instance",
        {"DBInstance": pending},
        {
            "DBInstanceIdentifier": "medcircledb",
            "ApplyImmediately": True,
            "DBParameterGroupName": "medcircle-mysql80",
            "MultiAZ": True,
            "MonitoringInterval": 60,
            "MonitoringRoleArn": ROLE,
            "CloudwatchLogsExportConfiguration": {"EnableLogTypes": ["error", "general", "slowquery"]},
            "CopyTagsToSnapshot": True,
            "EnableIAMDatabaseAuthentication": True,
        },
    )
    _describe(aws, PRIMARY, pending)  # the wait
    _describe(aws, PRIMARY, pending)  # the parameter group's status
    book = dr_failover.Runbook(aws.client, PRIMARY, DR, poll=1, attempts=2)
    book.resync_primary(system)
    steps = {s["step"]: s for s in book.steps}
    assert [s["status"] for s in book.steps] == ["ok", "ok", "ok", "ok", "changed"], book.steps
    detail = steps["copy the stale primary's protection"]["detail"]
    assert "parameter group medcircle-mysql80" in detail and "Multi-AZ" in detail
    assert "applies only at the next reboot" in detail and "playbooks/remediate/rds.yml" in detail
    assert "Secrets Manager" not in detail  # the new primary has a managed password of its own here
