"""medcircle.cloudops.rds_instance_encrypt resumes where it stopped.

The swap is interrupted at each of its steps in turn, on the same database: each run makes one step's AWS call
fail (sandbox fault injection, one try per call, so the fault stops the run at once). After every interrupted run
nothing was deleted and the unencrypted original still exists (under its own identifier or, once renamed, as
<id>-unencrypted-<date>); the next run continues from there. A clean run then finishes the swap and ends in the
same state as an uninterrupted run: the database encrypted under its own identifier, the original kept with
deletion protection, and a further run changes nothing.

The module's main() runs in this process (the same code ansible runs, with real boto3 clients on the sandbox;
nothing is mocked) because it needs many runs.
"""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from sandbox_client import ANSIBLE_ACCESS_KEY, ANSIBLE_SECRET_KEY

DB = "medcircledb"
REGION = "us-east-1"
DELETES = ("DeleteDBInstance", "DeleteDBSnapshot")
# The steps' calls, in the order the swap makes them; each is made to fail in one run.
INTERRUPTIONS = [
    ("tag", {"operation": "AddTagsToResource"}),
    ("snapshot", {"operation": "CreateDBSnapshot"}),
    ("copy", {"operation": "CopyDBSnapshot"}),
    ("restore", {"operation": "RestoreDBInstanceFromDBSnapshot"}),
    ("rename_original", {"operation": "ModifyDBInstance", "match": f"DBInstanceIdentifier={DB}&"}),
    ("rename_new", {"operation": "ModifyDBInstance", "match": f"DBInstanceIdentifier={DB}-enc"}),
]


def run_inline(sandbox, args, capsys):
    from ansible_collections.medcircle.cloudops.plugins.modules import rds_instance_encrypt

    base = {
        "endpoint_url": sandbox.endpoint,
        # the inventory's words, which no output contains (a secret of "testing" would be masked in results)
        "access_key": ANSIBLE_ACCESS_KEY,
        "secret_key": ANSIBLE_SECRET_KEY,
        "region": REGION,
        "db_instance_identifier": DB,
        "kms_key_id": "alias/medcircle-rds",
        "confirm": True,
        "wait_timeout": 120,
        # one try per call: the injected fault stops the run at once
        "max_attempts": 1,
        "aws_config": {"retries": {"total_max_attempts": 1, "mode": "standard"}},
    }
    base.update(args)
    capsys.readouterr()
    with patch_module_args(base), pytest.raises(SystemExit):
        rds_instance_encrypt.main()
    out = capsys.readouterr().out
    assert "********" not in out, out  # nothing in the result was masked as if it were the secret
    return json.loads(out)


def instances(sandbox):
    rds = sandbox.client("rds", REGION)
    return {db["DBInstanceIdentifier"]: db for db in rds.describe_db_instances()["DBInstances"]}


def today():
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")


def encrypt_date(db):
    """The date the swap tagged the original with (it names everything by it), or None before the tag step."""
    return {t["Key"]: t["Value"] for t in db.get("TagList") or []}.get("cloudops:encrypt-date")


def the_original(sandbox, dates):
    """The one unencrypted instance: the original, under its own identifier or renamed (the sandbox gives a
    restored instance the same DbiResourceId, so the original is found by what it is). Renamed, it carries the
    date the swap tagged it with, one of ``dates`` (the days the test ran on: a run may cross midnight)."""
    (found,) = [db for db in instances(sandbox).values() if not db["StorageEncrypted"]]
    date = encrypt_date(found)
    assert date is None or date in dates, (date, dates)
    assert found["DBInstanceIdentifier"] in (DB, f"{DB}-unencrypted-{date}"), found["DBInstanceIdentifier"]
    return found


@pytest.fixture
def database(clean_sandbox):
    sb = clean_sandbox
    kms = sb.client("kms", REGION)
    kms.create_alias(AliasName="alias/medcircle-rds", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    db = sb.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier=DB,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="medcircle",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
        Tags=[{"Key": "Project", "Value": "medcircle"}],
    )["DBInstance"]
    sb.clear_requests()
    return db


def test_interrupted_at_each_step_resumes_without_deleting_the_original(clean_sandbox, database, capsys):
    sb = clean_sandbox
    succeeded = []  # the mutating calls that went through, over all runs
    dates = {today()}
    for step, rule in INTERRUPTIONS:
        sb.clear_requests()
        sb.set_faults([{"service": "rds", "error_rate": 1.0, **rule}])
        result = run_inline(sb, {}, capsys)
        injected = sb.requests(fault=True)
        sb.clear_faults()
        assert result.get("failed") is True, f"{step}: the fault did not interrupt the run: {result}"
        assert {r["operation"] for r in injected} == {rule["operation"]}, step
        sent = [r["operation"] for r in sb.requests(service="rds", mutating=True)]
        assert not set(sent) & set(DELETES), f"{step}: {sent}"
        dates.add(today())
        original = the_original(sb, dates)
        assert original["AllocatedStorage"] == 20
        succeeded.extend(r["operation"] for r in sb.requests(service="rds", mutating=True) if not r["fault"])

    sb.clear_requests()
    result = run_inline(sb, {}, capsys)
    dates.add(today())
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert [s["step"] for s in result["plan"]] == ["rename_new"]
    sent = [r["operation"] for r in sb.requests(service="rds", mutating=True)]
    assert not set(sent) & set(DELETES)
    succeeded.extend(sent)
    # every step was done once, whatever run it was done in: no run started over
    for operation in ("CreateDBSnapshot", "CopyDBSnapshot", "RestoreDBInstanceFromDBSnapshot"):
        assert succeeded.count(operation) == 1, (operation, succeeded)

    dbs = instances(sb)
    assert dbs[DB]["StorageEncrypted"] is True
    kept = the_original(sb, dates)
    # the date of the first run that tagged the original names everything, whichever day the swap ended on
    date = encrypt_date(kept)
    assert kept["DBInstanceIdentifier"] == f"{DB}-unencrypted-{date}"
    assert kept["StorageEncrypted"] is False and kept["DeletionProtection"] is True
    assert f"{DB}-enc" not in dbs
    snapshots = {s["DBSnapshotIdentifier"] for s in sb.client("rds", REGION).describe_db_snapshots()["DBSnapshots"]}
    assert {f"{DB}-pre-encrypt-{date}", f"{DB}-encrypted-{date}"} <= snapshots
    assert len([s for s in snapshots if s.startswith(f"{DB}-pre-encrypt-")]) == 1, snapshots

    again = run_inline(sb, {}, capsys)
    assert again["changed"] is False, again
    assert again["plan"] == []


@pytest.mark.parametrize(
    "size, performance",
    [(20, None), (500, {"Iops": 15000, "StorageThroughput": 750})],
    ids=["gp3 below the threshold: fixed baseline", "gp3 from 400 GiB: its own IOPS and throughput"],
)
def test_a_gp3_database_is_encrypted_with_its_storage_performance(clean_sandbox, capsys, size, performance):
    """RDS answers Iops and StorageThroughput for every gp3 database but refuses them in a restore below the
    engine's threshold (the sandbox refuses as AWS does); from the threshold the restore keeps them."""
    sb = clean_sandbox
    kms = sb.client("kms", REGION)
    kms.create_alias(AliasName="alias/medcircle-rds", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    sb.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier=DB,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="medcircle",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=size,
        StorageType="gp3",
        **(performance or {}),
    )
    result = run_inline(sb, {}, capsys)
    assert result.get("failed") is not True, result
    encrypted = instances(sb)[DB]
    assert encrypted["StorageEncrypted"] is True and encrypted["StorageType"] == "gp3"
    expected = performance or {"Iops": 3000, "StorageThroughput": 125}
    assert {name: encrypted[name] for name in expected} == expected
    restores = [
        r for r in sb.requests(service="rds", mutating=True) if r["operation"] == "RestoreDBInstanceFromDBSnapshot"
    ]
    assert [r["status"] for r in restores] == [200], restores
