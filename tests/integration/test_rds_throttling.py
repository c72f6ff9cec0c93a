"""With throttling injected on RDS and KMS, playbooks/remediate/rds.yml still converges to the same state as
without it (tests/integration/test_rds_protection.py checks that state after an undisturbed run): the database
encrypted under its own identifier, Multi-AZ, deletion protection, 35 days of backups, the managed password,
enhanced monitoring, TLS required, the encrypted DR replica; the unencrypted original kept (renamed, deletion
protection on, never deleted); and a second run without faults changes nothing.

Our modules retry throttling themselves (AWSRetry); amazon.aws's RDS modules rely on botocore's retries too, so
the run uses the retry settings docs/rds.md recommends under throttling (AWS_RETRY_MODE=standard,
AWS_MAX_ATTEMPTS=10)."""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

P, DR = "us-east-1", "us-west-2"
DB = "medcircledb"
PLAYBOOK = "playbooks/remediate/rds.yml"


@pytest.fixture(scope="module")
def estate():
    sandbox = SandboxClient.start(seed="as-assessed")
    try:
        yield sandbox
    finally:
        sandbox.stop()


def instances(sandbox, region=P):
    rds = sandbox.client("rds", region)
    return {db["DBInstanceIdentifier"]: db for db in rds.describe_db_instances()["DBInstances"]}


def test_rds_protection_converges_under_throttling(estate):
    estate.set_faults(
        [
            {"service": "rds", "throttle_rate": 0.25, "seed": 3},
            {"service": "kms", "throttle_rate": 0.25, "seed": 4},
        ]
    )
    retries = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "10"}
    run = run_playbook(estate, PLAYBOOK, env=retries)
    throttled = estate.requests(fault=True)
    estate.clear_faults()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert {r["service"] for r in throttled} == {"rds", "kms"}, "nothing was throttled: the test proves nothing"
    assert any(r["mutating"] for r in throttled), "no change was throttled"
    deletes = [r["operation"] for r in estate.requests(mutating=True) if r["operation"].startswith("Delete")]
    assert deletes == []

    again = run_playbook(estate, PLAYBOOK)
    assert again.returncode == 0, again.stdout[-3000:]
    assert json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0

    dbs = instances(estate)
    db = dbs[DB]
    assert db["StorageEncrypted"] and ":key/" in db["KmsKeyId"]
    assert db["MultiAZ"] and db["DeletionProtection"] and db["BackupRetentionPeriod"] == 35
    assert db["MasterUserSecret"]["SecretArn"]
    assert db["MonitoringInterval"] == 60
    kept = [name for name in dbs if name.startswith(f"{DB}-unencrypted-")]
    assert len(kept) == 1
    assert not dbs[kept[0]]["StorageEncrypted"] and dbs[kept[0]]["DeletionProtection"]
    assert f"{DB}-enc" not in dbs
    replica = instances(estate, DR)[f"{DB}-dr"]
    assert replica["StorageEncrypted"] and replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{DB}")
    params = estate.client("rds", P).describe_db_parameters(DBParameterGroupName="medcircle-mysql80")
    assert {"require_secure_transport": "1"}.items() <= {
        p["ParameterName"]: p.get("ParameterValue") for p in params["Parameters"]
    }.items()
