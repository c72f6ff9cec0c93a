"""playbooks/remediate/patch_now.yml against the sandbox: a running instance without an instance profile gets
the fleet's role and profile (the role made with amazon.aws.iam_role, the profile with
amazon.aws.iam_instance_profile), Systems Manager then manages it and the patch window patches it."""

import json

from playbook import run_playbook

PROFILE = "medcircle-fleet-instance"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _instance(sandbox, **extra):
    ec2 = sandbox.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "Environment", "Value": "prod"}]}]
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
    assert PROFILE not in {p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]}
    assert _profile_of(sandbox, bare) == ""

    run = run_playbook(sandbox, "playbooks/remediate/patch_now.yml", extra_vars=_vars(tmp_path, "now"))
    assert run.returncode == 0, run.stdout[-3000:]
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
    assert "Create the instance profile holding that role" in again.stdout
    assert again.task("Create the instance profile holding that role").get("skipped") is True
