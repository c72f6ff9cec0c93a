"""DR plan and drill playbooks (issue 7) on a sandbox of their own, seeded as assessed.

The cross-region copies the drill recovers from are made by tests/integration/dr_estate.py with boto3 (the backup
capability makes them in a real estate). The sandbox's request log proves that a drill changes nothing in the
primary region and nothing in the DR region that does not carry its drill id.
"""

import json
import os
import socket
import time

import dr_estate
import kms_keys
import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import tcp_probe_script
from playbook import run_module, run_playbook
from sandbox_client import SandboxClient

PORT = 5160
NETWORK = {}  # the drill network made by the estate fixture (dr_site is tested in test_dr_site.py)
DRILL_SYSTEMS = ["medcircle-app", "medcircledb", "patient-records", "app-dns"]
# Mutating calls a drill may make in the DR region: creating, tagging and deleting its own resources, and the history.
DRILL_WRITES = {
    ("ec2", "RunInstances"),
    ("ec2", "CreateTags"),
    ("ec2", "CreateVolume"),
    ("ec2", "TerminateInstances"),
    ("ec2", "DeleteVolume"),
    ("rds", "RestoreDBInstanceFromDBSnapshot"),
    ("rds", "CreateDBSnapshot"),
    ("rds", "DeleteDBInstance"),
    ("rds", "DeleteDBSnapshot"),
    ("rds", "AddTagsToResource"),
    ("ssm", "PutParameter"),
    ("ssm", "AddTagsToResource"),
    ("ssm", "SendCommand"),  # an RDS tcp check, run on an instance of the drill
}
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap, chroot and unshare need root")


@pytest.fixture(scope="module")
def estate():
    """As assessed, plus the DR site, the copies in the DR region and the DNS failover records."""
    sandbox = SandboxClient.start(port=PORT, seed="as-assessed")
    try:
        copies = {
            "ami": dr_estate.copy_ami(sandbox, system="medcircle-app"),
            "db_snapshot": dr_estate.copy_db_snapshot(sandbox),
            "replica": dr_estate.replica(sandbox),
            "bucket": dr_estate.dr_bucket(sandbox),
        }
        dr_estate.failover_records(sandbox)
        dr_estate.ssm_profile(sandbox)
        dr_estate.dr_ebs_key(sandbox)  # the DR site's launch template needs it (role kms_keys makes it)
        NETWORK.update(dr_estate.drill_network(sandbox))
        yield sandbox, copies
    finally:
        sandbox.stop()


def drill(sandbox, tmp_path, **extra):
    extra_vars = {"cloudops_reports_dir": str(tmp_path), "dr_drill_poll_delay": 1, "dr_drill_network": NETWORK, **extra}
    return run_playbook(sandbox, "playbooks/dr_drill.yml", extra_vars=extra_vars)


def plan_systems():
    import yaml

    with open(dr_estate.REPO_ROOT / "inventories/sandbox/group_vars/all/dr.yml") as handle:
        return yaml.safe_load(handle)["cloudops_dr_systems"]


def messages(run):
    return "\n".join(str(outcome.get("msg", "")) for _, outcome in run.tasks() if outcome.get("failed"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s[0].update(resource="medcircle-nonexistent"), "systems[0] (medcircle-app).resource"),
        (lambda s: s[1].pop("rto_minutes"), "systems[1] (medcircledb).rto_minutes"),
        (lambda s: s[2].update(kind="tape"), "systems[2] (patient-records).kind"),
        (
            lambda s: s[2].update(dr_resource="medcircle-patient-records-dr-CHANGE-ME-account-id"),
            "cloudops_dr_systems[2] (patient-records).dr_resource = medcircle-patient-records-dr-CHANGE-ME",
        ),
    ],
    ids=["unknown-resource", "rto-missing", "unknown-kind", "placeholder"],
)
def test_bad_plan_data_is_refused_before_any_change(estate, tmp_path, change, expected):
    sandbox, _ = estate
    systems = plan_systems()
    change(systems)
    sandbox.clear_requests()
    run = drill(sandbox, tmp_path, cloudops_dr_systems=systems)
    assert run.returncode != 0
    assert expected in messages(run)
    assert sandbox.requests(mutating=True) == []
    assert not (tmp_path / "dr" / "drill-history.json").exists()


def test_dr_region_equal_to_primary_is_refused_before_any_change(estate, tmp_path):
    sandbox, _ = estate
    sandbox.clear_requests()
    run = drill(sandbox, tmp_path, cloudops_dr_region="us-east-1")
    assert run.returncode != 0
    assert (
        'dr_drill_dr_region and dr_drill_primary_region are both "us-east-1": the drill recovers in another region'
        " than the one it protects (cloudops_dr_region in the inventory). Nothing was changed." in messages(run)
    )
    assert sandbox.requests(mutating=True) == []


def test_drill_recovers_every_system_measures_and_cleans_up(estate, tmp_path):
    sandbox, copies = estate
    rds_dr = sandbox.client("rds", dr_estate.DR)
    replica_before = rds_dr.describe_db_instances(DBInstanceIdentifier=copies["replica"])["DBInstances"][0]
    sandbox.clear_requests()

    run = drill(sandbox, tmp_path, dr_drill_id="drill-it-1")
    assert run.returncode == 0, messages(run) or run.stdout[-3000:]

    report = json.loads((tmp_path / "dr" / "drill-it-1" / "drill-report.json").read_text())
    assert report["result"] == "pass"
    assert sorted(s["name"] for s in report["systems"]) == sorted(DRILL_SYSTEMS)
    by_name = {s["name"]: s for s in report["systems"]}
    assert by_name["medcircle-app"]["source"]["id"] == copies["ami"]
    assert by_name["medcircledb"]["source"]["id"] == copies["db_snapshot"]
    assert by_name["patient-records"]["source"]["detail"].endswith("; every object of the source is replicated)")
    for system in report["systems"]:
        assert system["status"] == "recovered", system
        assert system["rto_seconds"] is not None and 0 <= system["rto_seconds"] <= system["rto_target_seconds"]
        assert system["rpo_seconds"] is not None and system["rpo_met"]
        assert all(step["status"] == "ok" for step in system["steps"])
    assert {r["type"] for r in by_name["medcircle-app"]["restored"]} == {"instance"}
    assert {r["type"] for r in by_name["medcircledb"]["restored"]} == {"db_instance"}
    assert report["cleanup"]["left"] == [] and report["cleanup"]["clean"] is True
    assert {d["type"] for d in report["cleanup"]["deleted"]} >= {"instance", "db_instance"}

    # an independent tag scan: nothing carries the drill id any more
    ec2_dr = sandbox.client("ec2", dr_estate.DR)
    alive = ec2_dr.describe_instances(
        Filters=[
            {"Name": "tag:cloudops:drill-id", "Values": ["drill-it-1"]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )["Reservations"]
    assert alive == []
    assert (
        ec2_dr.describe_volumes(Filters=[{"Name": "tag:cloudops:drill-id", "Values": ["drill-it-1"]}])["Volumes"] == []
    )
    assert [
        d for d in rds_dr.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"].startswith("drill-")
    ] == []

    # production and the replication untouched: no write in the primary region, only drill writes in the DR region
    writes = sandbox.requests(mutating=True)
    assert [w for w in writes if w["region"] == dr_estate.PRIMARY] == []
    assert {(w["service"], w["operation"]) for w in writes} <= DRILL_WRITES
    replica_after = rds_dr.describe_db_instances(DBInstanceIdentifier=copies["replica"])["DBInstances"][0]
    assert (
        replica_after["ReadReplicaSourceDBInstanceIdentifier"]
        == replica_before["ReadReplicaSourceDBInstanceIdentifier"]
    )
    assert replica_after["DBInstanceStatus"] == "available"

    # the report files, the history (file and SSM parameter) and the plan document with the drill on record
    html = (tmp_path / "dr" / "drill-it-1" / "drill-report.html").read_text()
    assert "<svg" in html and "medcircledb: restore database" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "| medcircle-app | ec2 |" in (tmp_path / "dr" / "drill-it-1" / "drill-report.md").read_text()
    history = json.loads((tmp_path / "dr" / "drill-history.json").read_text())
    assert history["drills"][-1]["drill_id"] == "drill-it-1" and history["drills"][-1]["success"] is True
    ssm = sandbox.client("ssm", dr_estate.DR)
    parameter = json.loads(ssm.get_parameter(Name="/medcircle/dr/drill-history")["Parameter"]["Value"])
    assert parameter[-1]["drill_id"] == "drill-it-1"
    plan = (tmp_path / "dr" / "dr-plan.md").read_text()
    assert "drill-it-1" in plan and "| medcircledb | DB snapshot {}".format(copies["db_snapshot"]) in plan


def test_drill_that_fails_half_way_still_cleans_up(estate, tmp_path):
    sandbox, _ = estate
    # the instance launches, then SSM never answers in the DR region: the app's verify step fails
    sandbox.set_faults(
        [{"service": "ssm", "operation": "DescribeInstanceInformation", "region": "us-west-2", "error_rate": 1.0}]
    )
    try:
        run = drill(sandbox, tmp_path, dr_drill_id="drill-it-fail", dr_drill_max_attempts=3)
    finally:
        sandbox.clear_faults()
    assert run.returncode != 0
    assert "did not pass" in messages(run) and "medcircle-app" in messages(run)
    report = json.loads((tmp_path / "dr" / "drill-it-fail" / "drill-report.json").read_text())
    missed = [s["name"] for s in report["systems"] if not s["rto_met"] or not s["rpo_met"]]
    assert "(failed systems: medcircle-app; missed targets: %s; left: 0)." % (", ".join(missed) or "none") in messages(
        run
    )
    app = next(s for s in report["systems"] if s["name"] == "medcircle-app")
    assert app["status"] == "failed" and app["restored"], app
    assert [s["step"] for s in app["steps"] if s["status"] == "failed"] == ["verify ssm"]
    assert report["result"] == "fail"
    assert report["cleanup"]["left"] == []
    assert any(d["type"] == "instance" for d in report["cleanup"]["deleted"])
    ec2_dr = sandbox.client("ec2", dr_estate.DR)
    alive = ec2_dr.describe_instances(
        Filters=[
            {"Name": "tag:cloudops:drill-id", "Values": ["drill-it-fail"]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )["Reservations"]
    assert alive == []
    history = json.loads((tmp_path / "dr" / "drill-history.json").read_text())
    assert history["drills"][-1]["success"] is False


def test_drill_check_mode_plans_without_changing(estate, tmp_path):
    sandbox, copies = estate
    sandbox.clear_requests()
    run = run_playbook(
        sandbox, "playbooks/dr_drill.yml", extra_vars={"cloudops_reports_dir": str(tmp_path)}, check=True
    )
    assert run.returncode == 0, messages(run) or run.stdout[-3000:]
    planned = run.task("Check the plan and find")["drill"]
    assert planned["ready"] is True
    assert {s["name"]: s["source"]["id"] for s in planned["systems"]}["medcircle-app"] == copies["ami"]
    assert list(sandbox.requests(mutating=True)) == []
    assert not (tmp_path / "dr").exists()


def test_s3_rpo_is_the_replicas_lag_behind_the_newest_write(estate, tmp_path):
    """A write to the patient-records bucket that is not replicated yet shows as RPO (check mode reads only)."""
    sandbox, copies = estate
    s3 = sandbox.client("s3", dr_estate.PRIMARY)
    source = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("medcircle-patient-records"))
    s3.put_object(Bucket=source, Key="records/not-replicated-yet.json", Body=b"{}")
    try:
        run = run_playbook(
            sandbox, "playbooks/dr_drill.yml", extra_vars={"cloudops_reports_dir": str(tmp_path)}, check=True
        )
    finally:
        s3.delete_object(Bucket=source, Key="records/not-replicated-yet.json")
    assert run.returncode == 0, messages(run) or run.stdout[-3000:]
    planned = {s["name"]: s["source"] for s in run.task("Check the plan and find")["drill"]["systems"]}
    records = planned["patient-records"]
    assert records["id"] == copies["bucket"]
    assert records["missing"] == 1 and records["rpo_seconds"] > 0
    assert "(1 not replicated)" in records["rpo_basis"]
    assert records["detail"].endswith("; 1 of the source's not replicated yet)"), records["detail"]


def tcp_plan(**health):
    """The sandbox plan with the database checked by a TCP connection to its endpoint."""
    systems = plan_systems()
    next(s for s in systems if s["name"] == "medcircledb")["health_check"] = {"type": "tcp", **health}
    return systems


def test_database_answers_are_tested_from_an_instance_of_the_drill(estate, tmp_path):
    sandbox, _ = estate
    sandbox.clear_requests()
    run = drill(
        sandbox,
        tmp_path,
        dr_drill_id="drill-it-tcp",
        cloudops_dr_systems=tcp_plan(),
        dr_drill_only=["medcircle-app", "medcircledb"],
    )
    assert run.returncode == 0, messages(run) or run.stdout[-3000:]
    report = json.loads((tmp_path / "dr" / "drill-it-tcp" / "drill-report.json").read_text())
    by_name = {s["name"]: s for s in report["systems"]}
    instance_id = next(r["id"] for r in by_name["medcircle-app"]["restored"] if r["type"] == "instance")
    (check,) = [s for s in by_name["medcircledb"]["steps"] if s["step"] == "verify answers"]
    assert check["status"] == "ok"
    assert f"inside the drill network (instance {instance_id} of medcircle-app" in check["detail"]
    # the check is a Run Command on the drill's own instance, for the restored database's endpoint; here the
    # instance has no operating system (synthetic success): the next test runs the check in a Debian root
    sends = [r for r in sandbox.requests(mutating=True) if r["operation"] == "SendCommand"]
    assert [r["region"] for r in sends] == [dr_estate.DR]
    commands = sandbox.client("ssm", dr_estate.DR).list_commands()["Commands"]
    (command,) = [c for c in commands if "drill-it-tcp:" in c.get("Comment", "")]
    assert command["InstanceIds"] == [instance_id] and command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"]["commands"][0].startswith("host='drill-it-tcp-medcircledb.")
    assert report["result"] == "pass" and report["cleanup"]["left"] == []


# `make integration` builds the base root first (python -m sandbox.rootfs base).
@needs_root
def test_database_check_runs_in_the_drill_instances_debian_root(estate, tmp_path):
    sandbox, copies = estate
    ec2 = sandbox.client("ec2", dr_estate.DR)
    # the AMI copy carries Debian: the instance the drill launches from it runs the check in a real root, where
    # the sandbox's database endpoint does not answer (it is no real database)
    ec2.create_tags(Resources=[copies["ami"]], Tags=[{"Key": "sandbox:rootfs", "Value": "bookworm"}])
    try:
        run = drill(
            sandbox,
            tmp_path,
            dr_drill_id="drill-it-tcp-root",
            cloudops_dr_systems=tcp_plan(timeout=3),
            dr_drill_only=["medcircle-app", "medcircledb"],
        )
    finally:
        ec2.delete_tags(Resources=[copies["ami"]], Tags=[{"Key": "sandbox:rootfs"}])
    assert run.returncode != 0
    assert "did not pass" in messages(run) and "medcircledb" in messages(run)
    report = json.loads((tmp_path / "dr" / "drill-it-tcp-root" / "drill-report.json").read_text())
    by_name = {s["name"]: s for s in report["systems"]}
    assert by_name["medcircle-app"]["status"] == "recovered"
    database = by_name["medcircledb"]
    assert database["status"] == "failed"
    (check,) = [s for s in database["steps"] if s["status"] == "failed"]
    assert check["step"] == "verify answers"
    # the reason is the instance's (here the name does not resolve; on a network that swallows it: no answer)
    assert "drill-it-tcp-root-medcircledb." in check["detail"] and "ended Failed: " in check["detail"]
    assert "does not answer from " in check["detail"]
    assert report["result"] == "fail" and report["cleanup"]["left"] == []


def test_tcp_check_without_an_instance_to_test_from_is_refused_before_any_change(estate, tmp_path):
    sandbox, _ = estate
    sandbox.clear_requests()
    run = drill(sandbox, tmp_path, cloudops_dr_systems=tcp_plan(), dr_drill_only=["medcircledb"])
    assert run.returncode != 0
    assert "systems[1] (medcircledb).health_check.from" in messages(run)
    assert "from: control_node" in messages(run)
    assert sandbox.requests(mutating=True) == []


@needs_root
def test_probe_script_answers_in_a_debian_root_when_the_port_listens_and_only_then():
    from sandbox import rootfs

    root = rootfs.clone("dr-tcp-probe")
    try:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            rc, out, err = rootfs.run(root, "\n".join(tcp_probe_script("127.0.0.1", port, 5)), timeout=60)
            assert (rc, err) == (0, "") and f"127.0.0.1:{port} answers from " in out
        rc, out, err = rootfs.run(root, "\n".join(tcp_probe_script("127.0.0.1", port, 5)), timeout=60)
        assert rc == 1 and f"127.0.0.1:{port} does not answer from " in err
        assert err.endswith(": Connection refused\n")
    finally:
        rootfs.remove("dr-tcp-probe")


def database_drill(sandbox, drill_id, check=False, **args):
    """The dr_drill module run on its own for the plan's database."""
    args.update(systems=plan_systems(), only=["medcircledb"], primary_region=dr_estate.PRIMARY, dr_region=dr_estate.DR)
    return run_module(sandbox, "medcircle.cloudops.dr_drill", dict(args, drill_id=drill_id), check=check)


def _copy_with_key(sandbox, copies, key, name):
    """A newer copy of the database in the DR region, encrypted with ``key``: the drill would restore it."""
    sandbox.client("rds", dr_estate.DR).copy_db_snapshot(
        SourceDBSnapshotIdentifier=copies["db_snapshot"],
        TargetDBSnapshotIdentifier=name,
        KmsKeyId=key,
        Tags=[{"Key": "cloudops:source-db", "Value": dr_estate.DB_ID}],
    )


def test_copy_encrypted_with_a_key_the_drill_may_not_use_stops_it_before_any_change(estate, tmp_path):
    sandbox, copies = estate
    kms_keys.key_of_another_team(sandbox, "alias/drill-other-team", [dr_estate.DR], "another team's database key")
    rds = sandbox.client("rds", dr_estate.DR)
    _copy_with_key(sandbox, copies, "alias/drill-other-team", "medcircledb-dr-other-key")
    try:
        sandbox.clear_requests()
        run = drill(sandbox, tmp_path, dr_drill_id="drill-it-key", dr_drill_only=["medcircledb"])
        assert run.returncode != 0
        said = messages(run)
        assert "The drill cannot start in us-west-2; nothing was changed" in said
        assert "medcircledb: medcircledb-dr-other-key is encrypted with arn:aws:kms:us-west-2:" in said
        assert "(alias/drill-other-team), whose key policy does not let arn:aws:iam::123456789012:user/moto" in said
        assert "use it (kms:CreateGrant, kms:DescribeKey)" in said
        assert "add it to kms_keys_user_principals under the key's purpose" in said
        assert sandbox.requests(mutating=True) == []
        assert not (tmp_path / "dr" / "drill-history.json").exists()

        # the module refuses on its own too (a key changed between the plan and the drill)
        result = database_drill(sandbox, "drill-it-key", network=NETWORK)
        assert result["failed"] and result["msg"].startswith("The drill cannot restore medcircledb: ")
        assert "Nothing was changed" in result["msg"] and "under the key's purpose (rds; " in result["msg"]
        assert sandbox.requests(mutating=True) == []
    finally:
        rds.delete_db_snapshot(DBSnapshotIdentifier="medcircledb-dr-other-key")


def test_copy_encrypted_with_a_key_that_leaves_it_to_iam_is_drilled(estate, tmp_path):
    sandbox, copies = estate
    kms = sandbox.client("kms", dr_estate.DR)
    key = kms.create_key(Description="database key with the default key policy")["KeyMetadata"]  # IAM decides
    rds = sandbox.client("rds", dr_estate.DR)
    _copy_with_key(sandbox, copies, key["Arn"], "medcircledb-dr-default-key")
    try:
        plan = database_drill(sandbox, "drill-it-key-ok", check=True)
        assert not plan["failed"], plan.get("msg")
        (system,) = plan["drill"]["systems"]
        assert system["source"]["id"] == "medcircledb-dr-default-key"
        assert system["problem"] is None and plan["drill"]["ready"] is True and plan["drill"]["key_notes"] == {}
    finally:
        rds.delete_db_snapshot(DBSnapshotIdentifier="medcircledb-dr-default-key")


def test_copy_whose_key_policy_cannot_be_read_is_drilled_with_a_note(estate, tmp_path):
    sandbox, copies = estate
    key = sandbox.client("kms", dr_estate.DR).create_key(Description="a key whose policy the drill may not read")
    arn = key["KeyMetadata"]["Arn"]
    _copy_with_key(sandbox, copies, arn, "medcircledb-dr-unreadable-key")
    refusal = {
        "service": "kms",
        "operation": "GetKeyPolicy",
        "region": dr_estate.DR,
        "error_rate": 1.0,
        "error_code": "AccessDeniedException",
        "error_message": "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: kms:GetKeyPolicy",
    }
    try:
        sandbox.set_faults([refusal])
        plan = database_drill(sandbox, "drill-it-key-note", check=True)
        assert not plan["failed"], plan.get("msg")
        (system,) = plan["drill"]["systems"]
        assert system["source"]["id"] == "medcircledb-dr-unreadable-key"
        assert system["problem"] is None and plan["drill"]["ready"] is True
        note = plan["drill"]["key_notes"]["medcircledb"]
        assert note.startswith(f"the key {arn} could not be read (An error occurred (AccessDeniedException)")
        assert note.endswith("is not authorized to perform: kms:GetKeyPolicy): not checked")

        # the playbook says so, and goes on to the drill (check mode: nothing is changed)
        sandbox.clear_requests()
        run = run_playbook(
            sandbox,
            "playbooks/dr_drill.yml",
            check=True,
            extra_vars={
                "cloudops_reports_dir": str(tmp_path),
                "dr_drill_network": NETWORK,
                "dr_drill_id": "drill-it-key-note",
                "dr_drill_only": ["medcircledb"],
            },
        )
        assert run.returncode == 0, run.stdout[-3000:]
        said = run.task("5.6 | AUDIT | Say which copies' keys could not be checked")
        assert f"medcircledb: the key {arn} could not be read" in json.dumps(said)
        assert sandbox.requests(mutating=True) == []
        assert [r["fault"] for r in sandbox.requests(service="kms") if r["fault"]]  # the refusal was met
    finally:
        sandbox.clear_faults()
        sandbox.client("rds", dr_estate.DR).delete_db_snapshot(DBSnapshotIdentifier="medcircledb-dr-unreadable-key")


def test_key_policy_that_refuses_with_grants_unlisted_is_a_note_not_a_refusal(estate, tmp_path):
    """A grant may still let the principal use the key: when the grants cannot be listed, the drill is not stopped
    on the key policy alone."""
    sandbox, copies = estate
    kms_keys.key_of_another_team(sandbox, "alias/drill-grants-unlisted", [dr_estate.DR], "another team's key")
    _copy_with_key(sandbox, copies, "alias/drill-grants-unlisted", "medcircledb-dr-grants-unlisted")
    try:
        sandbox.set_faults(
            [
                {
                    "service": "kms",
                    "operation": "ListGrants",
                    "region": dr_estate.DR,
                    "error_rate": 1.0,
                    "error_code": "AccessDeniedException",
                }
            ]
        )
        plan = database_drill(sandbox, "drill-it-grants", check=True)
        assert not plan["failed"], plan.get("msg")
        assert plan["drill"]["ready"] is True
        note = plan["drill"]["key_notes"]["medcircledb"]
        assert "does not let arn:aws:iam::123456789012:user/moto use it (kms:CreateGrant, kms:DescribeKey)" in note
        assert note.endswith("and its grants could not be listed")

        sandbox.clear_faults()  # with the grants listed (none for the principal), the same key is a refusal
        result = database_drill(sandbox, "drill-it-grants", check=True)
        (system,) = result["drill"]["systems"]
        assert result["drill"]["ready"] is False and result["drill"]["key_notes"] == {}
        assert "(alias/drill-grants-unlisted), whose key policy does not let" in system["problem"]
    finally:
        sandbox.clear_faults()
        sandbox.client("rds", dr_estate.DR).delete_db_snapshot(DBSnapshotIdentifier="medcircledb-dr-grants-unlisted")


def test_ami_whose_snapshot_key_the_drill_may_not_use_stops_it_before_any_change(estate, tmp_path):
    sandbox, _ = estate
    kms_keys.key_of_another_team(sandbox, "alias/drill-other-team-ebs", [dr_estate.DR], "another team's EBS key")
    ec2 = sandbox.client("ec2", dr_estate.DR)
    # an image of the application in the DR region, newer than the copy, made from an instance whose root volume
    # is encrypted with that key (the image's snapshot is encrypted with it)
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=base,
        MinCount=1,
        MaxCount=1,
        BlockDeviceMappings=[
            {
                "DeviceName": "/dev/sda1",
                "Ebs": {"VolumeSize": 8, "Encrypted": True, "KmsKeyId": "alias/drill-other-team-ebs"},
            }
        ],
    )["Instances"][0]["InstanceId"]
    time.sleep(1.1)  # image creation times count whole seconds: this one is the newest
    image = ec2.create_image(InstanceId=instance, Name="medcircle-app-other-key")["ImageId"]
    ec2.create_tags(Resources=[image], Tags=[{"Key": "cloudops:system", "Value": "medcircle-app"}])
    try:
        sandbox.clear_requests()
        run = drill(sandbox, tmp_path, dr_drill_id="drill-it-ebs-key", dr_drill_only=["medcircle-app"])
        assert run.returncode != 0
        said = messages(run)
        assert f"medcircle-app: {image} is encrypted with arn:aws:kms:us-west-2:" in said
        assert "kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlaintext" in said
        assert "(alias/drill-other-team-ebs)" in said
        assert sandbox.requests(mutating=True) == []
    finally:
        ec2.deregister_image(ImageId=image)
        ec2.terminate_instances(InstanceIds=[instance])
