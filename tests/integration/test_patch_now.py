"""playbooks/remediate/patch_now.yml against the sandbox: a running instance without an instance profile gets
the fleet's role and profile (the role made with amazon.aws.iam_role, the profile with
amazon.aws.iam_instance_profile), Systems Manager then manages it and the patch window patches it."""

import json

import pytest
from playbook import run_playbook

PROFILE = "medcircle-fleet-instance"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _instance(sandbox, tags=None, **extra):
    ec2 = sandbox.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tag_list = [{"Key": k, "Value": v} for k, v in {"Environment": "prod", **(tags or {})}.items()]
    tags = [{"ResourceType": "instance", "Tags": tag_list}]
    reply = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=tags, **extra
    )
    return reply["Instances"][0]["InstanceId"]


def _profile_of(sandbox, instance_id):
    reservation = sandbox.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]
    return reservation["Instances"][0].get("IamInstanceProfile", {}).get("Arn", "")


def _vars(tmp_path, run_id):
    return {"patch_window_reports_dir": str(tmp_path), "patch_window_run_id": run_id, "patch_window_wave_timeout": 120}


def test_an_instance_without_a_profile_gets_the_fleet_role_and_profile_then_is_patched(clean_sandbox, tmp_path):
    sandbox = clean_sandbox
    iam = sandbox.client("iam")
    # one instance already has a profile of its own: it keeps it
    iam.create_role(RoleName="own-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="own-role", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName="own-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="own-profile", RoleName="own-role")
    bare = _instance(sandbox)
    own = _instance(sandbox, IamInstanceProfile={"Name": "own-profile"})

    plan = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=_vars(tmp_path, "plan"), check=True)
    assert plan.returncode == 0, plan.stdout[-3000:]
    assert plan.task("Say which instances get the instance profile")["msg"] == (
        f"2 running instance(s); 1 without an instance profile would get {PROFILE}: {bare} (-)."
        " Instances that have a profile keep it. Check mode attaches nothing, so the patch window plan below"
        " counts these as not patchable; the real run attaches the profile first and waits for their SSM agents."
    )
    assert PROFILE not in {p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]}
    assert _profile_of(sandbox, bare) == ""

    sandbox.clear_requests()
    run = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=_vars(tmp_path, "now"))
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.task("Say which instances get the instance profile")["msg"] == (
        f"2 running instance(s); 1 without an instance profile get {PROFILE}: {bare} (-)."
        " Instances that have a profile keep it."
    )
    assert run.task("Say which instances Systems Manager still does not manage").get("skipped") is True
    associations = [r for r in sandbox.requests(mutating=True) if r["operation"] == "AssociateIamInstanceProfile"]
    assert len(associations) == 1, associations
    profile = iam.get_instance_profile(InstanceProfileName=PROFILE)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [PROFILE]
    attached = iam.list_attached_role_policies(RoleName=PROFILE)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]
    assert _profile_of(sandbox, bare) == profile["Arn"]
    assert _profile_of(sandbox, own).endswith("/own-profile")
    report = json.loads((tmp_path / "now-patch" / "patch-report.json").read_text())
    outcome = {i["instance_id"]: i["outcome"] for i in report["instances"]}
    assert outcome == {bare: "patched", own: "patched"}
    # the profile is made by its own task, not by amazon.aws.iam_role's deprecated create_instance_profile
    assert run.task("Create the instance profile holding that role")["changed"] is True
    assert "'create_instance_profile' option will be removed" not in run.stderr

    again = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=_vars(tmp_path, "again"))
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.task("Say which instances get the instance profile")["msg"] == (
        "2 running instance(s); every one has an instance profile, none is changed."
    )
    assert "Create the instance profile holding that role" in again.stdout
    assert again.task("Create the instance profile holding that role").get("skipped") is True


def test_an_instance_whose_agent_never_registers_is_named_and_the_others_are_patched(clean_sandbox, tmp_path):
    sandbox = clean_sandbox
    # an image without the SSM agent (the sandbox's tag): the profile lets it register, nothing does
    silent = _instance(sandbox, tags={"Name": "db-1", "sandbox:ssm-agent": "none"})
    working = _instance(sandbox)
    extra = dict(_vars(tmp_path, "silent"), patch_now_register_retries=0)
    run = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=extra)
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"{silent} (db-1)" in run.task("Say which instances get the instance profile")["msg"]
    assert run.task("Say which instances Systems Manager still does not manage")["msg"].startswith(
        f"{silent} (ping status NotRegistered): not online in Systems Manager after a wait of 0 s with the"
        " instance profile. The patch window below patches the others and lists these as not patchable."
    )
    report = json.loads((tmp_path / "silent-patch" / "patch-report.json").read_text())
    outcome = {i["instance_id"]: i["outcome"] for i in report["instances"]}
    assert outcome == {silent: "not_patchable", working: "patched"}


def test_a_failed_systems_manager_read_stops_before_patching(clean_sandbox, tmp_path):
    sandbox = clean_sandbox
    _instance(sandbox)
    sandbox.set_faults(
        [
            {
                "service": "ssm",
                "operation": "DescribeInstanceInformation",
                "error_rate": 1,
                "error_code": "AccessDeniedException",
                "error_message": "not allowed: ssm:DescribeInstanceInformation",
            }
        ]
    )
    run = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=_vars(tmp_path, "denied"))
    assert run.returncode != 0
    said = run.task("Stop when Systems Manager could not be read")["msg"]
    assert said.startswith("Systems Manager could not be read (") and "not allowed" in said, said
    assert said.endswith(
        "The instance profile is attached; nothing was patched. Fix the access and run this playbook again."
    ), said
    assert not any(r["operation"] == "SendCommand" for r in sandbox.requests(mutating=True))


@pytest.mark.parametrize("bad", ["-1", "soon"])
def test_a_bad_wait_is_refused_before_any_change(clean_sandbox, tmp_path, bad):
    _instance(clean_sandbox)
    clean_sandbox.clear_requests()
    extra = dict(_vars(tmp_path, "bad"), patch_now_register_retries=bad)
    run = run_playbook(clean_sandbox, "playbooks/remediate/patch_now.yml", extra_vars=extra)
    assert run.returncode != 0
    said = run.task("Check the settings before any change")["msg"]
    assert said.startswith(
        f'patch_now_register_retries must be a whole number of 10-second waits, 0 or more (got "{bad}")'
    )
    assert said.endswith("Nothing was changed."), said
    assert clean_sandbox.requests(mutating=True) == []
