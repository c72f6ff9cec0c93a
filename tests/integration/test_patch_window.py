"""playbooks/patch_window.yml against the sandbox: waves, the error budget, rollback, unmanaged instances,
check mode and throttling. The fleet has no root filesystems (simulated package states), so it runs fast;
the real Debian root is covered by the molecule scenario and tests/integration/test_ssm_command.py."""

import json
from pathlib import Path

import pytest
from playbook import run_playbook

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _fleet(sandbox, managed=6, unmanaged=1):
    iam, ec2 = sandbox.client("iam"), sandbox.client("ec2")
    iam.create_role(RoleName="ssm-core", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="ssm-core", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName="ssm-core")
    iam.add_role_to_instance_profile(InstanceProfileName="ssm-core", RoleName="ssm-core")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "PatchGroup", "Value": "prod"}]}]
    ids, bare = [], []
    for n in range(managed + unmanaged):
        extra = {"IamInstanceProfile": {"Name": "ssm-core"}} if n < managed else {}
        reply = ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", TagSpecifications=tags, **extra
        )
        (ids if n < managed else bare).append(reply["Instances"][0]["InstanceId"])
    return sorted(ids), bare


def _sends(sandbox):
    return [
        r
        for r in sandbox.requests(mutating=True)
        if r["service"] == "ssm" and r["operation"] == "SendCommand" and not r.get("fault")
    ]


def _report(reports: Path, run_id: str) -> dict:
    return json.loads((reports / f"{run_id}-patch" / "patch-report.json").read_text())


@pytest.fixture
def fleet(clean_sandbox):
    ids, bare = _fleet(clean_sandbox)
    clean_sandbox.clear_requests()
    return ids, bare


def _vars(tmp_path, run_id, **more):
    return {
        "patch_window_target_tags": {"PatchGroup": "prod"},
        "patch_window_reports_dir": str(tmp_path),
        "patch_window_run_id": run_id,
        "patch_window_wave_timeout": 120,
        **more,
    }


def test_failure_in_a_wave_rolls_back_and_the_error_budget_stops_the_run(clean_sandbox, fleet, tmp_path):
    sandbox = clean_sandbox
    ids, bare = fleet
    # canary ids[0]; wave 2 = ids[1:4] one at a time; wave 3 = ids[4:6]. ids[2] fails to install.
    sandbox.call(
        "POST", "ssm/instance-failures", {ids[2]: {"exit_code": 1, "operation": "Install", "output": "dpkg error"}}
    )
    run = run_playbook(
        sandbox,
        "playbooks/patch_window.yml",
        extra_vars=_vars(tmp_path, "budget", patch_window_rollback=True, patch_window_max_concurrency="1"),
    )
    assert run.returncode != 0, run.stdout[-3000:]
    assert "did not finish cleanly" in run.task("Fail the run when instances failed")["msg"]
    assert run.task("Say how the instances are split into waves")["msg"] == (
        "3 wave(s) of 1, 3, 2 instance(s); the run stops at the first instance that fails"
        " (patch_window_error_budget 0)."
    )
    # each wave says what happened in it, one line per fact, no blank lines
    canary = run.task("Say how the wave went, wave 1")["msg"]
    assert canary[1:] == ["No instance failed."] and canary[0].startswith("AWS-RunPatchBaseline on 1 instance(s)")
    said = run.task("Say how the wave went, wave 2")["msg"]
    assert len(said) == 4 and said[1:3] == [f"Failed: {ids[2]}", f"Rolled back: {ids[2]}"], said
    assert said[3].startswith("RUN STOPPED: ") and "error budget" in said[3], said
    report = _report(tmp_path, "budget")
    outcome = {i["instance_id"]: i["outcome"] for i in report["instances"]}
    assert outcome[ids[0]] == "patched" and outcome[ids[1]] == "patched"
    assert outcome[ids[2]] == "rolled_back"
    assert [outcome[i] for i in ids[3:]] == ["not_started"] * 3
    assert outcome[bare[0]] == "not_patchable"
    assert report["stopped"] is True and "error budget" in report["stop_reason"]
    assert [w["wave"] for w in report["waves"]] == [1, 2]

    # The failed instance runs on volumes restored from its pre-patch snapshots; the old ones are kept.
    ec2 = sandbox.client("ec2")
    volumes = ec2.describe_volumes(Filters=[{"Name": "tag:cloudops:rolled-back-by", "Values": ["budget"]}])["Volumes"]
    assert len(volumes) == 1 and volumes[0]["State"] == "available"
    attached = ec2.describe_instances(InstanceIds=[ids[2]])["Reservations"][0]["Instances"][0]
    root = attached["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    tags = {t["Key"]: t["Value"] for t in ec2.describe_volumes(VolumeIds=[root])["Volumes"][0].get("Tags", [])}
    assert tags["cloudops:restored-from"].startswith("snap-")
    snapshots = ec2.describe_snapshots(Filters=[{"Name": "tag:cloudops:patch-run", "Values": ["budget"]}])["Snapshots"]
    assert {t["Value"] for s in snapshots for t in s["Tags"] if t["Key"] == "cloudops:instance-id"} == set(ids)
    assert all(any(t["Key"] == "cloudops:expires" for t in s["Tags"]) for s in snapshots)

    # Instances of the wave that never started are untouched: their missing patches are still missing.
    states = {
        s["InstanceId"]: s
        for s in sandbox.client("ssm").describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]
    }
    assert all(states[i]["Operation"] == "Scan" and states[i]["MissingCount"] > 0 for i in ids[3:])
    assert states[ids[0]]["MissingCount"] == 0 and states[ids[0]]["Operation"] == "Install"
    assert (tmp_path / "budget-patch" / "patch-report.html").read_text().count("rolled_back") >= 1


def test_check_mode_sends_nothing_then_a_run_under_throttling_patches_everything(clean_sandbox, fleet, tmp_path):
    sandbox = clean_sandbox
    del fleet  # six managed instances, one not managed
    plan = run_playbook(sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "plan"), check=True)
    assert plan.returncode == 0, plan.stdout[-3000:]
    assert _sends(sandbox) == []
    pre_patch = [{"Name": "tag-key", "Values": ["cloudops:patch-run"]}]
    assert sandbox.client("ec2").describe_snapshots(Filters=pre_patch)["Snapshots"] == []

    sandbox.set_faults([{"service": "ssm", "throttle_rate": 0.3, "seed": 7}])
    run = run_playbook(
        sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "throttled", patch_window_error_budget="10%")
    )
    injected = sandbox.requests(fault=True)
    sandbox.clear_faults()
    assert injected, "no fault was injected, so nothing was proven"
    assert run.returncode == 0, run.stdout[-3000:]
    summary = _report(tmp_path, "throttled")["summary"]
    assert (summary["patched"], summary["not_patchable"], summary["compliant_after"]) == (6, 1, 6)
    # scan + canary + two waves: the fleet's commands go out in a handful of calls, not one per instance
    assert len(_sends(sandbox)) == 4

    assert len(sandbox.client("ec2").describe_snapshots(Filters=pre_patch)["Snapshots"]) == 6


def test_a_failed_scan_says_why_and_the_instance_is_left_alone(clean_sandbox, fleet, tmp_path):
    sandbox = clean_sandbox
    ids, _bare = fleet
    said = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)"
    sandbox.call("POST", "ssm/instance-failures", {ids[1]: {"exit_code": 100, "operation": "Scan", "output": said}})
    run = run_playbook(sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "scanfail"))
    assert run.returncode != 0, run.stdout[-3000:]
    plan = run.task("Say what this patch window will do")["msg"]
    expected = "Scan failed on 1 instance(s), not patched in this window (the report has what each said): "
    assert f"{expected}{ids[1]}: {said}" in plan
    report = _report(tmp_path, "scanfail")
    by_id = {i["instance_id"]: i for i in report["instances"]}
    assert by_id[ids[1]]["outcome"] == "scan_failed" and said in by_id[ids[1]]["output"]
    assert [by_id[i]["outcome"] for i in ids if i != ids[1]] == ["patched"] * 5
    assert report["scan_failed"] == [ids[1]] and report["summary"]["scan_failed"] == 1
    # The instance whose scan failed got no install and no pre-patch snapshot.
    commands = sandbox.client("ssm").list_commands()["Commands"]
    installs = [c for c in commands if c["Parameters"].get("Operation") == ["Install"]]
    assert installs and all(ids[1] not in c["InstanceIds"] for c in installs)
    assert any(ids[1] in c["InstanceIds"] for c in commands if c["Parameters"].get("Operation") == ["Scan"])
    pre_patch = [{"Name": "tag:cloudops:patch-run", "Values": ["scanfail"]}]
    snapshots = sandbox.client("ec2").describe_snapshots(Filters=pre_patch)["Snapshots"]
    assert ids[1] not in {t["Value"] for s in snapshots for t in s["Tags"] if t["Key"] == "cloudops:instance-id"}
    markdown = (tmp_path / "scanfail-patch" / "patch-report.md").read_text()
    assert "## Scan failed" in markdown and said in markdown.split("## Scan failed", 1)[1]
    assert "did not finish cleanly" in run.task("Fail the run when instances failed")["msg"]


def test_unmanaged_stop_patches_nothing(clean_sandbox, fleet, tmp_path):
    run = run_playbook(
        clean_sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "stop", patch_window_unmanaged="stop")
    )
    assert run.returncode != 0
    said = run.task("Stop when a target is not managed")["msg"]
    assert fleet[1][0] in said and "playbooks/remediate/patch_now.yml" in said, said
    listed = run.task("List the targets that Systems Manager cannot patch")["msg"]
    assert "patch_now.yml" in listed[0] and listed[1:] == [f"{fleet[1][0]} - ping status NotRegistered"], listed
    assert _sends(clean_sandbox) == []


# (extra vars, what the run says). The role's argument specification refuses types and choices first, in
# ansible-core's words; the role's own check then names every value that is wrong, and only those.
BAD_INPUT = {
    "waves that do not end at 100": (
        {"patch_window_wave_percentages": [50, 80]},
        "The patch window's input is not valid: patch_window_wave_percentages [50, 80] must be rising percentages"
        " above 0 ending at 100, for example [10, 50, 100]. Nothing was changed.",
    ),
    "falling waves and a wave timeout in minutes": (
        {"patch_window_wave_percentages": [50, 20, 100], "patch_window_wave_timeout": 30},
        "The patch window's input is not valid: patch_window_wave_percentages [50, 20, 100] must be rising"
        " percentages above 0 ending at 100, for example [10, 50, 100]; patch_window_wave_timeout 30 must be 60"
        " seconds or more. Nothing was changed.",
    ),
    "an error budget that is no number": (
        {"patch_window_error_budget": "5 instances"},
        'The patch window\'s input is not valid: patch_window_error_budget "5 instances" must be a number or a'
        " percentage 0%-100%. Nothing was changed.",
    ),
    "both tags and instance ids": (
        {"patch_window_instance_ids": ["i-0123456789abcdef0"]},
        'The patch window\'s input is not valid: set exactly one of patch_window_target_tags (now {"PatchGroup":'
        ' "prod"}) or patch_window_instance_ids (now ["i-0123456789abcdef0"]). Nothing was changed.',
    ),
    "a reboot option AWS does not know": (
        {"patch_window_reboot_option": "Reboot"},
        "value of patch_window_reboot_option must be one of: RebootIfNeeded, NoReboot, got: Reboot",
    ),
    "a wave that is not a number": (
        {"patch_window_wave_percentages": ["half", 100]},
        "Elements value for option 'patch_window_wave_percentages' is of type str",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_names_the_variable(clean_sandbox, tmp_path, case):
    extra, message = BAD_INPUT[case]
    run = run_playbook(clean_sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "bad", **extra))
    assert run.returncode != 0
    said = " ".join(str(outcome.get("msg", "")) for _name, outcome in run.tasks() if outcome.get("failed"))
    assert message in said, said
    assert clean_sandbox.requests() == []


def test_switches_given_as_text_on_the_command_line_are_obeyed(clean_sandbox, fleet, tmp_path):
    """`-e patch_window_snapshots=false` (as a scheduler's command line gives it) is the text "false": the window
    takes no snapshot, so it has nothing to roll back to, and with patch_window_fail_on_errors=false the run ends
    without failing, its report saying what failed."""
    sandbox = clean_sandbox
    ids, _bare = fleet
    sandbox.call("POST", "ssm/instance-failures", {ids[0]: {"exit_code": 1, "operation": "Install", "output": "dpkg"}})
    run = run_playbook(
        sandbox,
        "playbooks/patch_window.yml",
        extra_vars=_vars(
            tmp_path,
            "text",
            patch_window_snapshots="false",
            patch_window_rollback="true",
            patch_window_fail_on_errors="false",
        ),
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.task("Snapshot every volume of the instances to patch").get("skipped") is True
    assert run.task("Roll the failed instances back to their pre-patch snapshots").get("skipped") is True
    assert run.task("Fail the run when instances failed").get("skipped") is True
    report = _report(tmp_path, "text")
    assert report["settings"]["snapshots"] is False and report["settings"]["rollback"] is True
    assert {i["instance_id"]: i["outcome"] for i in report["instances"]}[ids[0]] == "failed"
    snapshots = sandbox.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert [s for s in snapshots if any(t["Key"] == "cloudops:patch-run" for t in s.get("Tags", []))] == []


def test_the_health_page_is_checked_after_each_wave(clean_sandbox, fleet, tmp_path):
    """patch_window_health_url must answer 200 after every wave: the sandbox's own health page does, so every
    wave runs, and the report records each check."""
    sandbox = clean_sandbox
    page = f"{sandbox.endpoint}/_sandbox/health"
    run = run_playbook(
        sandbox,
        "playbooks/patch_window.yml",
        extra_vars=_vars(tmp_path, "healthy", patch_window_health_url=page, patch_window_error_budget="2"),
    )
    assert run.returncode == 0, run.stdout[-3000:]
    names = [name for name, _ in run.tasks() if "health page" in name]
    assert names[0].endswith(f"3.8 | AUDIT | Check the application health page after wave 1: {page}"), names
    assert run.task("Say how the instances are split into waves")["msg"] == (
        "3 wave(s) of 1, 3, 2 instance(s); the run stops when more than 2 instance(s) fail"
        " (patch_window_error_budget 2)."
    )
    checks = _report(tmp_path, "healthy")["health_checks"]
    assert [(h["wave"], h["status"], h["ok"]) for h in checks] == [(1, 200, True), (2, 200, True), (3, 200, True)]


def test_a_failing_health_page_stops_the_run_after_the_wave(clean_sandbox, fleet, tmp_path):
    """No instance fails, but the page answers 404 after the canary: the run stops there, the other waves patch
    nothing, and the run fails saying why."""
    sandbox = clean_sandbox
    ids, _bare = fleet
    page = f"{sandbox.endpoint}/_sandbox/no-such-page"
    run = run_playbook(
        sandbox, "playbooks/patch_window.yml", extra_vars=_vars(tmp_path, "sick", patch_window_health_url=page)
    )
    assert run.returncode != 0, run.stdout[-3000:]
    said = run.task("Say how the wave went, wave 1")["msg"]
    assert said[-1].startswith("RUN STOPPED: ") and f"the health check of {page} failed after wave 1" in said[-1], said
    report = _report(tmp_path, "sick")
    assert report["stopped"] is True and f"{page} failed after wave 1" in report["stop_reason"]
    assert [w["wave"] for w in report["waves"]] == [1]
    outcome = {i["instance_id"]: i["outcome"] for i in report["instances"]}
    assert [outcome[i] for i in ids].count("not_started") == 5, outcome
