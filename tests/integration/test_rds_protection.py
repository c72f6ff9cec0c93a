"""RDS protection (findings 1.5, 2.14, 5.1, 5.3, 2.13, 5.4, 3.2, 2.12 and the database part of 4.2):
playbooks/remediate/rds.yml on the as-assessed estate, read back by the audit.

Bad input fails before any mutating call; check mode sends no mutating call and shows the plan; the real run
encrypts the database under its own identifier (the unencrypted original kept, renamed, deletion-protected),
requires TLS, sets backups, Multi-AZ, deletion protection, the managed password, monitoring, alarms and the DR
replica, and closes the database and the kept original to the internet; only the operator's explicit
delete_original run removes the original, keeping a final snapshot. Then the audit passes every RDS finding.
"""

import json

import pytest
from kms_keys import key_of_another_team
from playbook import run_playbook

P, DR = "us-east-1", "us-west-2"
DB = "medcircledb"
FINDINGS = ["1.5", "2.14", "5.1", "5.3", "2.13", "5.4", "3.2", "2.12"]
PLAYBOOK = "playbooks/remediate/rds.yml"


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": [*FINDINGS, "4.2"]},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}


def instances(sandbox, region=P):
    rds = sandbox.client("rds", region)
    return {db["DBInstanceIdentifier"]: db for db in rds.describe_db_instances()["DBInstances"]}


def db_exposure(finding):
    """4.2's verdict per database (the finding also judges the estate's instances, which this role leaves alone)."""
    return {
        r["resource_id"]: (r["status"], r["observed"])
        for r in finding["resources"]
        if r["resource_type"] == "AwsRdsDbInstance"
    }


def changed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


def failed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("failed")]


@pytest.fixture(scope="module")
def sandbox_rds(assessed_sandbox):
    return assessed_sandbox


@pytest.mark.parametrize(
    "extra, task, message",
    [
        (
            {"rds_protection_backup_retention_days": 7},
            "Check the backup retention",
            "rds_protection_backup_retention_days 7 is not allowed",
        ),
        (
            {"rds_protection_db_instance_identifier": "medcircle_db"},
            "Check the database identifier",
            "rds_protection_db_instance_identifier 'medcircle_db' is not usable",
        ),
        (
            {"rds_protection_dr_region": P},
            "Check the DR region",
            "rds_protection_dr_region 'us-east-1' is not usable",
        ),
    ],
)
def test_bad_input_fails_before_any_change(sandbox_rds, extra, task, message):
    sandbox_rds.clear_requests()
    run = run_playbook(sandbox_rds, PLAYBOOK, "--tags", "rds_protection", extra_vars=extra)
    assert run.returncode != 0
    failed = failed_tasks(run)
    assert len(failed) == 1 and task in failed[0], failed
    assert message in json.dumps(run.task(task)), run.task(task)
    assert sandbox_rds.requests(mutating=True) == []


def test_tls_reboot_not_a_bool_fails_before_any_change(sandbox_rds):
    sandbox_rds.clear_requests()
    run = run_playbook(
        sandbox_rds, PLAYBOOK, "--tags", "rds_protection", extra_vars={"rds_protection_tls_reboot": "sometimes"}
    )
    assert run.returncode != 0
    failed = failed_tasks(run)
    # The role's argument spec (type bool) or its own check refuses it, naming the variable.
    assert len(failed) == 1 and ("arg spec" in failed[0] or "Check rds_protection_tls_reboot" in failed[0]), failed
    assert "rds_protection_tls_reboot" in json.dumps(run.task(failed[0])), run.task(failed[0])
    assert sandbox_rds.requests(mutating=True) == []


def test_as_assessed_fails_and_check_mode_changes_nothing(sandbox_rds, tmp_path):
    before = audit(sandbox_rds, tmp_path / "before")
    for fid in FINDINGS:
        assert before[fid]["status"] == "fail", before[fid]
    assert db_exposure(before["4.2"])[DB][0] == "fail", before["4.2"]
    sandbox_rds.clear_requests()
    run = run_playbook(sandbox_rds, PLAYBOOK, check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sandbox_rds.requests(mutating=True) == []
    # The RDS key does not exist yet on this estate (kms_keys would create it first), so the plan is told in words.
    encrypt = run.task("1.5 | AUDIT | Say what the encryption would do")
    assert encrypt["changed"] is True and "a confirmed run would then snapshot it" in encrypt["msg"]
    changed = changed_tasks(run)
    # (amazon.aws.rds_instance_param_group reports no change for parameters under --check, so 2.14 is not here)
    for expected in (
        "5.1 | PATCH",
        "5.3 | 2.13 | PATCH",
        "5.4 | PATCH",
        f"4.2 | PATCH | Turn off public access, leaving it reachable from inside its VPC only: {DB}",
        "3.2 |",
        "2.12 | PATCH | Create CloudWatch alarms",
    ):
        assert any(expected in name for name in changed), (expected, changed)
    db = instances(sandbox_rds)[DB]
    assert not db["StorageEncrypted"] and not db["MultiAZ"] and not db["DeletionProtection"]
    assert db["PubliclyAccessible"]
    # the sandbox inventory names no alarm address: the plan says the alarms would reach no one
    reach = run.task("2.12 | AUDIT | Show who the database alarms reach")["msg"]
    assert reach.startswith(
        f"3 alarm(s) ({DB}-cpu-high, {DB}-free-storage-low, {DB}-connections-high) would notify the topic"
    ) and reach.endswith(
        "nobody is subscribed to it, so the alarms reach no one: put the on-call addresses in"
        " rds_protection_alarm_email (or subscribe the on-call system to the topic) and run this again."
    ), reach


def test_a_key_the_play_may_not_use_fails_before_any_change(sandbox_rds):
    """An RDS key whose policy names neither the principal running the play nor the account: the confirmed
    encryption would stop at the encrypted copy, after the applications were stopped for it, and the DR replica
    could not be made. The run stops before any change, naming the principal, the regions and what to add."""
    locked = "alias/medcircle-rds-locked"
    key_of_another_team(sandbox_rds, locked, (P, DR), "RDS key of another team")
    sandbox_rds.clear_requests()
    run = run_playbook(
        sandbox_rds, PLAYBOOK, "--tags", "rds_protection", extra_vars={"rds_protection_kms_key_id": locked}
    )
    assert run.returncode != 0
    message = run.task("1.5 2.3 | AUDIT | Check that this play may use the RDS key where this run uses it")["msg"]
    assert "arn:aws:iam::123456789012:user/moto, may not use the RDS key alias/medcircle-rds-locked" in message
    assert f"in {P} the key policy does not allow it kms:CreateGrant" in message and f"in {DR}" in message
    assert f"copy the snapshot of {DB} encrypted" in message and f"make the encrypted DR replica {DB}-dr" in message
    assert "Nothing was changed. Add arn:aws:iam::123456789012:user/moto to kms_keys_user_principals.rds" in message
    assert sandbox_rds.requests(mutating=True) == []
    assert not instances(sandbox_rds)[DB]["StorageEncrypted"]
    # a key that lets the account's IAM policies decide (AWS's default key policy) passes the check
    for region in (P, DR):
        kms = sandbox_rds.client("kms", region)
        kms.update_alias(
            AliasName=locked, TargetKeyId=kms.create_key(Description="RDS key, IAM decides")["KeyMetadata"]["KeyId"]
        )
    sandbox_rds.clear_requests()
    checked = run_playbook(
        sandbox_rds, PLAYBOOK, "--tags", "rds_protection", check=True, extra_vars={"rds_protection_kms_key_id": locked}
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert (
        checked.task("1.5 2.3 | AUDIT | Check that this play may use the RDS key where this run uses it").get("skipped")
        is not True
    )
    assert sandbox_rds.requests(mutating=True) == []


def test_the_key_check_leaves_out_what_tags_leave_out(sandbox_rds):
    """A primary-region key the play may not use matters only to the encrypted copy: a run whose tags leave the
    encryption out (the DR replica only) is not stopped by it; the same run with the encryption is."""
    alias = "alias/medcircle-rds-locked-primary"
    key_of_another_team(sandbox_rds, alias, (P,), "RDS key of another team, primary region only")
    kms = sandbox_rds.client("kms", DR)
    kms.create_alias(
        AliasName=alias, TargetKeyId=kms.create_key(Description="RDS key, IAM decides")["KeyMetadata"]["KeyId"]
    )
    check = "1.5 2.3 | AUDIT | Check that this play may use the RDS key where this run uses it"
    for args, refused in (
        (("--tags", "rds_protection", "--skip-tags", "rds_encryption"), False),
        (("--tags", "rds_replica"), False),
        (("--tags", "rds_protection", "--skip-tags", "rds_encryption,rds_monitoring"), False),
        (("--tags", "rds_protection"), True),
    ):
        sandbox_rds.clear_requests()
        run = run_playbook(sandbox_rds, PLAYBOOK, *args, check=True, extra_vars={"rds_protection_kms_key_id": alias})
        if refused:
            assert run.returncode != 0 and f"in {P} the key policy does not allow it" in run.task(check)["msg"], args
            assert f"in {DR}" not in run.task(check)["msg"]
        else:
            assert run.returncode == 0, (args, run.stdout[-3000:])
            assert not run.task(check).get("failed"), args
        assert sandbox_rds.requests(mutating=True) == []


def test_a_session_role_that_cannot_be_read_leaves_the_key_check_out_and_says_so(sandbox_rds):
    """Run as an assumed role (key policies name the role, not the session) without iam:GetRole: the run is not
    stopped on a check it could not make; it says which role could not be read, AWS's reason and what to make
    sure of."""
    iam, sts = sandbox_rds.client("iam"), sandbox_rds.client("sts")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="medcircle-rds-operator", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="it-support")["Credentials"]
    sandbox_rds.set_faults(
        [
            {
                "service": "iam",
                "operation": "GetRole",
                "match": "RoleName=medcircle-rds-operator",  # the play's other roles are read as before
                "error_rate": 1.0,
                "error_code": "AccessDenied",
                "error_status": 403,
            }
        ]
    )
    try:
        sandbox_rds.clear_requests()
        run = run_playbook(
            sandbox_rds,
            PLAYBOOK,
            "--tags",
            "rds_protection",
            check=True,
            extra_vars={
                "cloudops_aws_access_key": session["AccessKeyId"],
                "cloudops_aws_secret_key": session["SecretAccessKey"],
            },
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        said = run.task("1.5 2.3 | AUDIT | Say what the RDS key check could not tell")["msg"]
        assert (
            "The IAM role of this play's session "
            "(arn:aws:sts::123456789012:assumed-role/medcircle-rds-operator/it-support) could not be read with "
            "iam:GetRole (" in said
        )
        assert "AccessDenied" in said
        assert "whether it may use the RDS key was not checked" in said and "kms_keys_user_principals.rds" in said
        assert run.task("1.5 2.3 | AUDIT | Check that this play may use the RDS key where this run uses it").get(
            "skipped"
        )
        assert [r["operation"] for r in sandbox_rds.requests(service="iam") if r["fault"]] == ["GetRole"]
        assert sandbox_rds.requests(mutating=True) == []
    finally:
        sandbox_rds.clear_faults()
        iam.delete_role(RoleName="medcircle-rds-operator")


def test_remediation_protects_keeps_the_original_and_closes_findings(sandbox_rds, tmp_path):
    # What earlier versions of the role left: the monitoring role with an EC2 instance profile of its name. Another
    # team's instance profile is there too.
    iam = sandbox_rds.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="medcircle-rds-monitoring-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="medcircle-rds-monitoring-role")
    iam.add_role_to_instance_profile(
        InstanceProfileName="medcircle-rds-monitoring-role", RoleName="medcircle-rds-monitoring-role"
    )
    iam.create_instance_profile(InstanceProfileName="reporting-app")
    run = run_playbook(sandbox_rds, PLAYBOOK, extra_vars={"rds_protection_alarm_email": "dba@medcircle.example"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # who the alarms reach, in both regions: the DBA's address, waiting for confirmation on real AWS
    for task, alarms in (
        ("Show who the database alarms reach", f"({DB}-cpu-high, {DB}-free-storage-low, {DB}-connections-high)"),
        ("Show who the replica lag alarm reaches", "(medcircledb-dr-replica-lag-high)"),
    ):
        reach = run.task(task)["msg"]
        assert alarms in reach and " notify the topic medcircle-rds-alarms in " in reach, reach
        assert "; it reaches dba@medcircle.example (email" in reach, reach
    # After attaching the TLS group the run reads whether it waits for a reboot. The database's own custom group
    # (medcircle-mysql80) is changed in place and applies at once here, so there is no reboot and no warning.
    assert (
        run.task("2.14 | AUDIT | Read whether the database applies the TLS parameter group yet").get("skipped")
        is not True
    )
    assert run.task("2.14 | PATCH | Reboot the database so that the TLS parameter group applies").get("skipped") is True
    assert run.task("2.14 | AUDIT | Say that TLS is required only after a reboot").get("skipped") is True
    dbs = instances(sandbox_rds)
    db = dbs[DB]
    said = run.task("1.5 | AUDIT | Say what the encryption did or is waiting for")["msg"]
    assert said.startswith(f"{DB} is encrypted. The unencrypted original is kept as {DB}-unencrypted-"), said
    assert said.endswith(
        "Until then the audit lists the original under the database findings it fails (1.5, 2.14 and others), with"
        " this step as their next step."
    ), said
    assert db["StorageEncrypted"] and ":key/" in db["KmsKeyId"]
    assert db["MultiAZ"] and db["DeletionProtection"] and db["BackupRetentionPeriod"] == 35
    assert db["MasterUserSecret"]["SecretArn"]
    assert db["MonitoringInterval"] == 60
    # The monitoring role is RDS's: no EC2 instance profile is made for it, and the one an earlier version made is
    # gone; the other team's profile is left alone.
    assert db["MonitoringRoleArn"] == iam.get_role(RoleName="medcircle-rds-monitoring-role")["Role"]["Arn"]
    assert iam.list_instance_profiles_for_role(RoleName="medcircle-rds-monitoring-role")["InstanceProfiles"] == []
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == ["reporting-app"]
    assert run.task("2.12 | PATCH | Remove that instance profile")["changed"] is True
    kept = [name for name in dbs if name.startswith(f"{DB}-unencrypted-")]
    assert len(kept) == 1
    original = dbs[kept[0]]
    assert not original["StorageEncrypted"] and original["DeletionProtection"]
    # Neither the encrypted database nor the kept copy of its data answers from the internet any more.
    assert not db["PubliclyAccessible"] and not original["PubliclyAccessible"]
    replica = instances(sandbox_rds, DR)[f"{DB}-dr"]
    assert replica["StorageEncrypted"] and replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{DB}")
    params = sandbox_rds.client("rds", P).describe_db_parameters(DBParameterGroupName="medcircle-mysql80")
    assert {"require_secure_transport": "1"}.items() <= {
        p["ParameterName"]: p.get("ParameterValue") for p in params["Parameters"]
    }.items()

    # The kept original still fails the findings: the audit says so until the operator deletes it.
    findings = audit(sandbox_rds, tmp_path / "kept")
    assert findings["1.5"]["status"] == "fail"
    assert {r["resource_id"] for r in findings["1.5"]["resources"] if r["status"] == "fail"} == {kept[0]}
    # ... and its next step is to delete the original once the application is verified, not to encrypt it again
    assert findings["1.5"]["next_step"].startswith(f"{kept[0]}: the unencrypted original kept"), findings["1.5"]
    assert "rds_protection_encrypt_delete_original=true" in findings["1.5"]["next_step"]
    exposure = db_exposure(findings["4.2"])
    assert exposure.keys() >= {DB, kept[0]} and {status for status, _ in exposure.values()} == {"pass"}, exposure

    sandbox_rds.clear_requests()
    deleted = run_playbook(sandbox_rds, PLAYBOOK, extra_vars={"rds_protection_encrypt_delete_original": True})
    assert deleted.returncode == 0, deleted.stdout[-3000:] + deleted.stderr[-3000:]
    changed = changed_tasks(deleted)
    assert len(changed) == 1 and "1.5 | PATCH | Encrypt" in changed[0], changed
    assert kept[0] not in instances(sandbox_rds)
    snapshots = sandbox_rds.client("rds", P).describe_db_snapshots()["DBSnapshots"]
    assert f"{kept[0]}-final" in {s["DBSnapshotIdentifier"] for s in snapshots}
    deletes = [r["operation"] for r in sandbox_rds.requests(mutating=True) if r["operation"].startswith("Delete")]
    assert deletes == ["DeleteDBInstance"]

    after = audit(sandbox_rds, tmp_path / "after")
    for fid in FINDINGS:
        assert after[fid]["status"] == "pass", after[fid]
    status, observed = db_exposure(after["4.2"])[DB]
    assert status == "pass" and observed.startswith("PubliclyAccessible: false;"), observed


def test_a_managed_password_without_its_replica_stops_before_any_change(sandbox_rds):
    """Continues from the remediation: the password is managed and the DR replica exists. Without the replica
    (deleted since), AWS could not make a new one: the run says so and what to do, before any change."""
    dr = sandbox_rds.client("rds", DR)
    dr.promote_read_replica(DBInstanceIdentifier=f"{DB}-dr")  # the sandbox deletes only standalone databases
    dr.modify_db_instance(DBInstanceIdentifier=f"{DB}-dr", DeletionProtection=False, ApplyImmediately=True)
    dr.delete_db_instance(DBInstanceIdentifier=f"{DB}-dr", SkipFinalSnapshot=True)
    sandbox_rds.clear_requests()
    run = run_playbook(sandbox_rds, PLAYBOOK, "--tags", "rds_protection")
    assert run.returncode != 0
    message = run.task(
        f"2.3 | AUDIT | Stop when AWS cannot make the DR replica of a database with a managed password: {DB}"
    )["msg"]
    assert "AWS makes no read replica of a database whose password Secrets Manager manages" in message
    assert "rds_protection_replica_enabled: false" in message and "Nothing was changed." in message
    assert sandbox_rds.requests(mutating=True) == []
