"""EBS encryption (findings 1.4 and 3.4): playbooks/remediate/encryption.yml on the as-assessed estate.

The audit (playbooks/audit.yml, limited to the two findings) reads the estate before and after. The EBS key
and its alias are a fixture here (the kms_keys role makes them). Check mode sends no mutating call; the real
run encrypts by default in both regions and swaps the app server's root and data volumes, keeping the
originals (1.4 closes; 3.4 still lists the kept originals); the cleanup run deletes the originals whose
retention has passed (3.4 closes); a further run changes nothing. A missing key alias fails before any
mutating call and names the variable.
"""

import json

import pytest
from kms_keys import key_of_another_team
from playbook import run_playbook

FINDINGS = ["1.4", "3.4"]
PLAY = "playbooks/remediate/encryption.yml"
REGIONS = ("us-east-1", "us-west-2")
KEY_ALIAS = "alias/medcircle-ebs"


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": FINDINGS},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}


def failing(finding):
    return sorted(r["resource_id"] for r in finding["resources"] if r["status"] == "fail")


def changed_tasks(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


def mutating(sandbox):
    return [(r["service"], r["operation"]) for r in sandbox.requests(mutating=True)]


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    keys = {}
    for region in REGIONS:
        kms = assessed_sandbox.client("kms", region)
        key = kms.create_key(Description="MedCircle EBS volumes (test fixture)")["KeyMetadata"]
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])
        keys[region] = key["Arn"]
    ec2 = assessed_sandbox.client("ec2", REGIONS[0])
    app = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["medcircle-app"]}])["Reservations"][0][
        "Instances"
    ][0]
    return {"keys": keys, "app": app}


@pytest.fixture(scope="module")
def before(estate, assessed_sandbox, tmp_path_factory):
    return audit(assessed_sandbox, tmp_path_factory.mktemp("before"))


def test_as_assessed_fails_both_findings(before, estate):
    assert before["1.4"]["status"] == "fail"
    assert before["3.4"]["status"] == "fail"
    app_volumes = sorted(m["Ebs"]["VolumeId"] for m in estate["app"]["BlockDeviceMappings"])
    assert set(app_volumes) <= set(failing(before["3.4"]))
    assert "ebs-encryption-by-default/us-east-1" in failing(before["3.4"])


def test_missing_key_alias_fails_before_any_change(assessed_sandbox, before):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_kms_key_alias": "alias/not-there"})
    assert run.returncode != 0
    failed = run.task("Check that the EBS key exists")
    assert "ebs_encryption_kms_key_alias is alias/not-there" in failed["msg"]
    assert "does not exist in us-east-1, us-west-2" in failed["msg"]
    assert mutating(assessed_sandbox) == []


def test_ids_that_do_not_exist_are_named_in_the_order_given_before_any_change(assessed_sandbox, before, estate):
    assessed_sandbox.clear_requests()
    unknown = ["i-0000000000000000b", "i-0000000000000000a"]
    run = run_playbook(
        assessed_sandbox,
        PLAY,
        extra_vars={
            "ebs_encryption_kms_key_alias": KEY_ALIAS,
            "ebs_encryption_instance_ids": [unknown[0], estate["app"]["InstanceId"], unknown[1]],
            "ebs_encryption_volume_ids": ["vol-00000000000000000"],
        },
    )
    assert run.returncode != 0
    assert run.task("Check that every instance and volume named exists")["msg"] == (
        "ebs_encryption_instance_ids names i-0000000000000000b, i-0000000000000000a and ebs_encryption_volume_ids"
        " names vol-00000000000000000, which do not exist (or are terminated) in us-east-1, us-west-2. Allowed: ids"
        " of existing instances and volumes of those regions. Nothing was changed."
    )
    assert mutating(assessed_sandbox) == []


def test_a_key_the_play_may_not_use_fails_before_any_change(assessed_sandbox, before):
    """A key whose policy names neither the principal running the play nor the account: the snapshot copies
    would fail after the instances were stopped, so the run stops before any change and says what to add."""
    locked = "alias/medcircle-ebs-locked"
    key_of_another_team(assessed_sandbox, locked, REGIONS, "EBS key of another team")
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_kms_key_alias": locked})
    assert run.returncode != 0
    failed = run.task("Check that this play may use the EBS key in every region")
    message = failed["msg"]
    assert "arn:aws:iam::123456789012:user/moto, may not use the EBS key alias/medcircle-ebs-locked" in message
    assert "in us-east-1 the key policy does not allow it kms:CreateGrant" in message and "in us-west-2" in message
    assert "Nothing was changed. Add arn:aws:iam::123456789012:user/moto to kms_keys_user_principals.ebs" in message
    assert mutating(assessed_sandbox) == []
    # run as a role's session (as automation does): the key policy names the role by its ARN, path included
    iam = assessed_sandbox.client("iam")
    trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName="medcircle-automation",
        Path="/ops/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]["Arn"]
    session = assessed_sandbox.client("sts").assume_role(RoleArn=role, RoleSessionName="patch-window")
    assessed_sandbox.clear_requests()
    run = run_playbook(
        assessed_sandbox,
        PLAY,
        extra_vars={
            "ebs_encryption_kms_key_alias": locked,
            "cloudops_aws_access_key": session["Credentials"]["AccessKeyId"],
            "cloudops_aws_secret_key": session["Credentials"]["SecretAccessKey"],
        },
    )
    assert run.returncode != 0
    message = run.task("Check that this play may use the EBS key in every region")["msg"]
    assert "arn:aws:iam::123456789012:role/ops/medcircle-automation, may not use the EBS key" in message
    assert mutating(assessed_sandbox) == []
    # the session's role cannot be read (here: deleted since): the check is not made, and the run says so
    iam.delete_role(RoleName="medcircle-automation")
    assessed_sandbox.clear_requests()
    run = run_playbook(
        assessed_sandbox,
        PLAY,
        check=True,
        extra_vars={
            "ebs_encryption_kms_key_alias": locked,
            "cloudops_aws_access_key": session["Credentials"]["AccessKeyId"],
            "cloudops_aws_secret_key": session["Credentials"]["SecretAccessKey"],
        },
    )
    # the key check is imported by the plan and by encryption by default; it runs once, with the plan
    (said,) = [o["msg"] for n, o in run.tasks() if "Say what the EBS key check could not tell" in n and "msg" in o]
    assert "assumed-role/medcircle-automation/patch-window) could not be read with iam:GetRole" in said
    assert "whether it may use the EBS key was not checked" in said
    assert mutating(assessed_sandbox) == []


def test_running_instance_without_allow_stop_fails_before_any_change(assessed_sandbox, before, estate):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_allow_stop": False})
    assert run.returncode != 0
    failed = run.task("Plan the encryption of the selected volumes")
    message = json.dumps(failed)
    assert "allow_stop is false" in message and "ebs_encryption_allow_stop: true" in message
    assert estate["app"]["InstanceId"] in message
    # The volumes are planned before any change of the role: not even encryption by default was turned on.
    assert mutating(assessed_sandbox) == []


def test_check_mode_plans_and_sends_no_mutating_call(assessed_sandbox, before, estate):
    assessed_sandbox.clear_requests()
    run = run_playbook(assessed_sandbox, PLAY, check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert mutating(assessed_sandbox) == []
    plan = run.task("Show the plan for each volume")["msg"]
    root = estate["app"]["RootDeviceName"]
    assert any(f"{root} of {estate['app']['InstanceId']}): record, stop, snapshot" in line for line in plan), plan
    assert len([line for line in plan if "[planned]" in line]) == 2, plan


def test_remediation_closes_the_findings_keeps_originals_until_cleanup(assessed_sandbox, before, estate, tmp_path):
    # Originals may go as soon as their replacement is verified (retention 0), but only on cleanup.
    run = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_original_retention_days": 0})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert not [op for op in mutating(assessed_sandbox) if op[1] in ("DeleteVolume", "DeleteSnapshot")]
    after = audit(assessed_sandbox, tmp_path / "after")
    assert after["1.4"]["status"] == "pass", after["1.4"]
    originals = sorted(m["Ebs"]["VolumeId"] for m in estate["app"]["BlockDeviceMappings"])
    # What is left of 3.4 is exactly the two kept originals, detached and tagged with their replacement.
    assert failing(after["3.4"]) == originals, after["3.4"]
    ec2 = assessed_sandbox.client("ec2", REGIONS[0])
    for volume in ec2.describe_volumes(VolumeIds=originals)["Volumes"]:
        tags = {t["Key"]: t["Value"] for t in volume["Tags"]}
        assert volume["State"] == "available" and tags["cloudops:encrypt-status"] == "verified"
    app = ec2.describe_instances(InstanceIds=[estate["app"]["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert app["State"]["Name"] == "running"
    new = ec2.describe_volumes(VolumeIds=[m["Ebs"]["VolumeId"] for m in app["BlockDeviceMappings"]])["Volumes"]
    assert {v["KmsKeyId"] for v in new} == {estate["keys"]["us-east-1"]}
    for region in REGIONS:
        default = assessed_sandbox.client("ec2", region).get_ebs_default_kms_key_id()["KmsKeyId"]
        assert default == estate["keys"][region]

    assessed_sandbox.clear_requests()
    cleanup = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_cleanup_originals": True})
    assert cleanup.returncode == 0, cleanup.stdout[-3000:] + cleanup.stderr[-3000:]
    deleted = [op for op in mutating(assessed_sandbox) if op[1] == "DeleteVolume"]
    assert len(deleted) == 2
    assert [name.split(" : ")[-1] for name in changed_tasks(cleanup)] == [
        "1.4 3.4 | PATCH | Delete the replaced originals whose retention has passed, region by region"
    ]
    final = audit(assessed_sandbox, tmp_path / "final")
    assert final["1.4"]["status"] == "pass" and final["3.4"]["status"] == "pass", final["3.4"]

    again = run_playbook(assessed_sandbox, PLAY, extra_vars={"ebs_encryption_cleanup_originals": True})
    assert again.returncode == 0
    assert changed_tasks(again) == []
