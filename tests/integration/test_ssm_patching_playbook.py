"""playbooks/remediate/patching.yml (role ssm_patching) against the sandbox, as IT support runs it.

--check changes nothing, the real run creates the baselines, patch groups and windows, a second run changes
nothing; a bad variable stops the play before any AWS call; and a window the role created, triggered in the
sandbox, really sends AWS-RunPatchBaseline to the managed instances of its patch group.
"""

import json

from playbook import run_playbook

PLAYBOOK = "playbooks/remediate/patching.yml"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _baselines(sandbox):
    found = sandbox.client("ssm").describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["Self"]}])
    return sorted(b["BaselineName"] for b in found["BaselineIdentities"])


def _windows(sandbox):
    return sorted(w["Name"] for w in sandbox.client("ssm").describe_maintenance_windows()["WindowIdentities"])


# Two operating systems keep the runs short; the molecule scenario converges all five.
SYSTEMS = {"ssm_patching_operating_systems": ["AMAZON_LINUX_2023", "DEBIAN"]}


def test_check_then_apply_then_nothing_to_do(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.clear_requests()
    run = run_playbook(sandbox, PLAYBOOK, check=True, extra_vars=SYSTEMS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    baselines = run.task("Create or update the patch baseline")["results"]
    windows = run.task("Create or update the maintenance window")["results"]
    assert [(r["baseline"]["name"], r["changed"]) for r in baselines] == [
        (f"medcircle-{os}-baseline", True) for os in ("al2023", "debian")
    ]
    assert [(r["window"]["name"], r["changed"]) for r in windows] == [
        (f"medcircle-patch-{group}", True) for group in ("dev", "staging", "prod")
    ]
    assert sandbox.requests(mutating=True) == []
    assert _baselines(sandbox) == []

    run = run_playbook(sandbox, PLAYBOOK, extra_vars=SYSTEMS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert _baselines(sandbox) == ["medcircle-al2023-baseline", "medcircle-debian-baseline"]
    assert _windows(sandbox) == ["medcircle-patch-dev", "medcircle-patch-prod", "medcircle-patch-staging"]
    ssm = sandbox.client("ssm")
    groups = {
        (m["PatchGroup"], m["BaselineIdentity"]["OperatingSystem"]) for m in ssm.describe_patch_groups()["Mappings"]
    }
    assert groups == {(g, os) for g in ("dev", "staging", "prod") for os in ("AMAZON_LINUX_2023", "DEBIAN")}
    summary = run.task("Show each patch window")
    lines = [r["msg"] for r in summary["results"]]
    assert any(line.startswith("medcircle-patch-prod in us-east-1: cron(0 3 ? * SUN *) UTC") for line in lines), lines

    sandbox.clear_requests()
    run = run_playbook(sandbox, PLAYBOOK, extra_vars=SYSTEMS)
    assert run.returncode == 0
    assert run.stats["localhost"]["changed"] == 0
    assert sandbox.requests(mutating=True) == []


def test_bad_variable_stops_before_any_call(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.clear_requests()
    windows = [
        {
            "patch_group": "prod",
            "schedule": "cron(0 3 ? * SUN *)",
            "duration": 2,
            "cutoff": 2,
            "max_concurrency": "10%",
            "max_errors": "1",
        }
    ]
    run = run_playbook(sandbox, PLAYBOOK, extra_vars={"ssm_patching_windows": windows})
    assert run.returncode == 2
    failed = run.task("Check each window's schedule")
    (item,) = failed["results"]
    assert item["msg"] == (
        "ssm_patching_windows entry for prod is not valid: cutoff 2 must be 0 to duration - 1 hours (the window stops"
        " starting tasks that long before it ends). Nothing was changed."
    )
    assert sandbox.requests(service="ssm") == []


def test_a_window_the_role_created_patches_its_group(clean_sandbox):
    """Triggered on demand in the sandbox (Run Command's control route), the prod window sends
    AWS-RunPatchBaseline Install to the managed instance tagged PatchGroup=prod and to no other."""
    sandbox = clean_sandbox
    iam, ec2 = sandbox.client("iam"), sandbox.client("ec2")
    iam.create_role(RoleName="fleet", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="fleet", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName="fleet")
    iam.add_role_to_instance_profile(InstanceProfileName="fleet", RoleName="fleet")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launched = {}
    for group in ("prod", "dev"):
        reply = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            IamInstanceProfile={"Name": "fleet"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "PatchGroup", "Value": group}]}],
        )
        launched[group] = reply["Instances"][0]["InstanceId"]
    run = run_playbook(sandbox, PLAYBOOK, extra_vars={"ssm_patching_operating_systems": ["AMAZON_LINUX_2023"]})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    ssm = sandbox.client("ssm")
    [prod] = ssm.describe_maintenance_windows(Filters=[{"Key": "Name", "Values": ["medcircle-patch-prod"]}])[
        "WindowIdentities"
    ]
    execution = sandbox.call("POST", "ssm/maintenance-windows/run", {"WindowId": prod["WindowId"], "wait": True})
    assert execution["Status"] == "SUCCESS", execution
    [task] = execution["Tasks"]
    invocations = ssm.list_command_invocations(CommandId=task["CommandId"])["CommandInvocations"]
    assert [(i["InstanceId"], i["Status"]) for i in invocations] == [(launched["prod"], "Success")]
    [command] = ssm.list_commands(CommandId=task["CommandId"])["Commands"]
    assert command["DocumentName"] == "AWS-RunPatchBaseline"
    assert command["Parameters"]["Operation"] == ["Install"]
    assert (command["MaxConcurrency"], command["MaxErrors"]) == ("10%", "1")


def test_instances_join_the_patch_group_of_their_environment(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.reset("as-assessed")
    ec2 = sandbox.client("ec2")
    app = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["medcircle-app"]}])["Reservations"]
    app_id = app[0]["Instances"][0]["InstanceId"]
    image = app[0]["Instances"][0]["ImageId"]
    stray = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]

    run = run_playbook(sandbox, PLAYBOOK, extra_vars=SYSTEMS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tags = {
        i["InstanceId"]: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    assert tags[app_id]["PatchGroup"] == "prod"  # Environment=prod
    assert "PatchGroup" not in tags[stray]  # no Environment tag: named for a person to place, not guessed
    assert stray in run.task("Name the instances no patch window will patch")["msg"]

    sandbox.clear_requests()
    run = run_playbook(sandbox, PLAYBOOK, extra_vars=SYSTEMS)
    assert run.returncode == 0
    assert run.stats["localhost"]["changed"] == 0
