"""rds_instance_master_secret through main(), with botocore's Stubber behind the RDS and KMS clients.

A call that is not stubbed fails the test, so "check mode sends no ModifyDBInstance" is proved by not
stubbing it.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import rds_instance_master_secret

P = "us-east-1"
ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:{P}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:{P}:{ACCOUNT}:secret:rds!db-1234-AbCdEf"


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra_params):
        requested.append(service)
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(args, capsys, check=False, diff=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "wJalrXUtnFEMI", "region": P, "_ansible_check_mode": check}
    base["_ansible_diff"] = diff
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        rds_instance_master_secret.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def db(name, secret=None, source=None):
    out = {"DBInstanceIdentifier": name, "DBInstanceArn": f"arn:aws:rds:{P}:{ACCOUNT}:db:{name}"}
    if secret:
        out["MasterUserSecret"] = {"SecretArn": secret, "SecretStatus": "active", "KmsKeyId": KEY_ARN}
    if source:
        out["ReadReplicaSourceDBInstanceIdentifier"] = source
    return out


def describe(aws, *dbs):
    aws.stub("rds", P).add_response("describe_db_instances", {"DBInstances": list(dbs)}, {})


def test_hands_the_password_over_with_the_key(aws, clients, capsys):
    aws.describe_key(P, "alias/medcircle-rds", KEY_ARN)
    describe(aws, db("medcircledb"), db("medcircledb-dr", source="medcircledb"), db("other"))
    aws.stub("rds", P).add_response(
        "modify_db_instance",
        {"DBInstance": db("medcircledb", secret=SECRET)},
        {
            "DBInstanceIdentifier": "medcircledb",
            "ApplyImmediately": True,
            "ManageMasterUserPassword": True,
            "MasterUserSecretKmsKeyId": KEY_ARN,
        },
    )
    rc, result = run(
        {"db_instance_identifiers": ["medcircledb", "medcircledb-dr"], "kms_key_id": "alias/medcircle-rds"},
        capsys,
        diff=True,
    )
    assert rc == 0 and result["changed"] is True
    by_id = {e["db_instance_identifier"]: e for e in result["db_instances"]}
    assert by_id["medcircledb"] == {
        "db_instance_identifier": "medcircledb",
        "managed": True,
        "secret_arn": SECRET,
        "changed": True,
        "skipped": None,
    }
    assert by_id["medcircledb-dr"]["skipped"] == "read replica" and not by_id["medcircledb-dr"]["changed"]
    assert result["diff"]["before"]["medcircledb"] == {"managed": False}
    assert result["diff"]["after"]["medcircledb"] == {"managed": True}
    aws.stub("rds", P).assert_no_pending_responses()


def test_check_mode_reads_only(aws, clients, capsys):
    describe(aws, db("medcircledb"))
    rc, result = run({"db_instance_identifiers": ["medcircledb"]}, capsys, check=True)
    assert rc == 0 and result["changed"] is True
    assert result["db_instances"][0]["managed"] is True and result["db_instances"][0]["secret_arn"] is None
    assert "diff" not in result


def test_already_managed_is_unchanged_and_rotate_rotates(aws, clients, capsys):
    describe(aws, db("medcircledb", secret=SECRET))
    rc, result = run({"db_instance_identifiers": ["medcircledb"]}, capsys)
    assert rc == 0 and result["changed"] is False
    assert result["db_instances"][0]["secret_arn"] == SECRET

    describe(aws, db("medcircledb", secret=SECRET))
    aws.stub("rds", P).add_response(
        "modify_db_instance",
        {"DBInstance": db("medcircledb", secret=SECRET)},
        {"DBInstanceIdentifier": "medcircledb", "ApplyImmediately": True, "RotateMasterUserPassword": True},
    )
    rc, result = run({"db_instance_identifiers": ["medcircledb"], "rotate": True}, capsys)
    assert rc == 0 and result["changed"] is True


def test_missing_instance_and_bad_identifier_fail_before_any_change(aws, clients, capsys):
    describe(aws, db("medcircledb"))
    rc, result = run({"db_instance_identifiers": ["medcircledb", "nosuchdb"]}, capsys)
    assert rc == 1
    assert result["msg"].startswith("db_instance_identifiers nosuchdb not found in us-east-1")

    rc, result = run({"db_instance_identifiers": ["medcircle_db"]}, capsys)
    assert rc == 1
    assert "db_instance_identifiers medcircle_db is not a valid RDS DB instance identifier" in result["msg"]


def test_unknown_key_fails_before_any_change(aws, clients, capsys):
    aws.key_not_found(P, "alias/nope")
    rc, result = run({"db_instance_identifiers": ["medcircledb"], "kms_key_id": "alias/nope"}, capsys)
    assert rc == 1
    assert "alias/nope was not found in us-east-1" in result["msg"]
