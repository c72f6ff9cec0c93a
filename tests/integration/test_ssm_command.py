"""medcircle.cloudops.ssm_command and ssm_patch_compliance_info through real `ansible` runs on the sandbox.

The sandbox runs Run Command for real: instances without a root filesystem complete with a synthetic
result (a simulated package state for AWS-RunPatchBaseline), and an instance tagged sandbox:rootfs
runs the document in a real Debian root (chroot), so exit codes, output and upgrades are real.
"""

import json
import os
import sys
from pathlib import Path

import pytest
from playbook import run_module as _run_module

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")

COMMAND = "medcircle.cloudops.ssm_command"
COMPLIANCE = "medcircle.cloudops.ssm_patch_compliance_info"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def run_module(sandbox, module, args, check=False):
    """Run one module; Run Command on real roots can take minutes, hence the longer timeout."""
    return _run_module(sandbox, module, args, check=check, timeout=900)


def _profile(sandbox, name="ssm-core"):
    iam = sandbox.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _launch(sandbox, count, profile=None, **tags):
    ec2 = sandbox.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    if tags:
        extra["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k.replace("_", ":"), "Value": v} for k, v in tags.items()]}
        ]
    ids = []
    for _ in range(count):
        reply = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)
        ids.append(reply["Instances"][0]["InstanceId"])
    return sorted(ids)


def _sent(sandbox):
    """SendCommand calls the sandbox answered (a throttled call is answered with an error, not sent)."""
    return [r for r in sandbox.requests(mutating=True) if r["operation"] == "SendCommand" and not r.get("fault")]


@pytest.fixture
def fleet(clean_sandbox):
    profile = _profile(clean_sandbox)
    managed = _launch(clean_sandbox, 3, profile, PatchGroup="prod")
    (unmanaged,) = _launch(clean_sandbox, 1, None, PatchGroup="prod")
    clean_sandbox.clear_requests()
    return managed, unmanaged


def test_scan_and_install_by_tags_with_compliance_before_and_after(clean_sandbox, fleet):
    sandbox = clean_sandbox
    managed, unmanaged = fleet
    scan = {
        "document_name": "AWS-RunPatchBaseline",
        "parameters": {"Operation": "Scan"},
        "tags": {"PatchGroup": "prod"},
    }

    # An instance that is not managed stops the run before anything is sent, and is named.
    refused = run_module(sandbox, COMMAND, scan)
    assert refused["failed"] is True and refused["status"] == "NotSent"
    assert [i["instance_id"] for i in refused["not_managed"]] == [unmanaged]
    assert _sent(sandbox) == []

    # Check mode: the plan, nothing sent.
    plan = run_module(sandbox, COMMAND, dict(scan, on_unmanaged="skip"), check=True)
    assert plan["changed"] is True and plan["status"] == "WouldSend" and plan["target_ids"] == managed
    assert _sent(sandbox) == []

    before = run_module(sandbox, COMPLIANCE, {"tags": {"PatchGroup": "prod"}})
    assert before["summary"]["not_scanned"] == 3 and before["summary"]["not_managed"] == 1

    scanned = run_module(sandbox, COMMAND, dict(scan, on_unmanaged="skip", max_concurrency="2"))
    assert scanned["status"] == "Success" and scanned["summary"]["success"] == 3
    assert all("MissingCount:" in i["output"] for i in scanned["instances"])
    assert len(_sent(sandbox)) == 1

    after_scan = run_module(sandbox, COMPLIANCE, {"tags": {"PatchGroup": "prod"}})
    assert after_scan["summary"]["non_compliant"] == 3 and after_scan["summary"]["missing_count"] >= 6
    by_id = {i["instance_id"]: i for i in after_scan["instances"]}
    assert by_id[unmanaged]["compliance"] == "NOT_MANAGED"
    assert by_id[managed[0]]["last_operation"] == "Scan" and by_id[managed[0]]["patch_group"] == "prod"

    installed = run_module(
        sandbox,
        COMMAND,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Install", "RebootOption": "RebootIfNeeded"},
            "instance_ids": managed,
            "max_concurrency": "1",
        },
    )
    assert installed["status"] == "Success" and [i["instance_id"] for i in installed["instances"]] == managed
    final = run_module(sandbox, COMPLIANCE, {"instance_ids": managed})
    assert final["summary"]["compliant"] == 3 and final["summary"]["missing_count"] == 0
    assert final["instances"][0]["last_operation"] == "Install"


def test_max_errors_stops_the_rollout_and_leaves_the_rest_untouched(clean_sandbox, fleet):
    sandbox = clean_sandbox
    managed, _unmanaged = fleet
    sandbox.call("POST", "ssm/instance-failures", {managed[0]: {"exit_code": 7, "output": "apt is locked"}})
    result = run_module(
        sandbox,
        COMMAND,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Install"},
            "instance_ids": managed,
            "max_concurrency": "1",
            "max_errors": "0",
            "fail_on_error": False,
        },
    )
    by_id = {i["instance_id"]: i for i in result["instances"]}
    assert result["failed"] is False and result["status"] in ("Failed", "Stopped")
    assert (by_id[managed[0]]["status"], by_id[managed[0]]["response_code"]) == ("Failed", 7)
    assert "apt is locked" in by_id[managed[0]]["output"]
    assert {by_id[i]["status"] for i in managed[1:]} == {"Cancelled"}
    states = sandbox.client("ssm").describe_instance_patch_states(InstanceIds=managed)["InstancePatchStates"]
    assert states == []  # nothing was installed anywhere


def test_throttling_is_retried_with_the_same_result(clean_sandbox, fleet):
    sandbox = clean_sandbox
    managed, _unmanaged = fleet
    sandbox.set_faults([{"service": "ssm", "throttle_rate": 0.4, "seed": 7}])
    result = run_module(
        sandbox,
        COMMAND,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Scan"}, "instance_ids": managed},
    )
    injected = sandbox.requests(fault=True)
    sandbox.clear_faults()
    assert injected, "no fault was injected, so nothing was proven"
    assert result["status"] == "Success" and result["summary"]["success"] == 3
    assert len(_sent(sandbox)) == 1  # a throttled SendCommand is retried, never run twice


def test_bad_input_fails_before_any_call(clean_sandbox):
    result = run_module(
        clean_sandbox,
        COMMAND,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Scan"}, "instance_ids": ["web-1"]},
    )
    assert result["failed"] is True and "instance_ids" in result["msg"] and "web-1" in result["msg"]
    assert clean_sandbox.requests() == []


# `make integration` builds the base root first (python -m sandbox.rootfs base); building it needs root.
@pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root")
def test_debian_root_runs_scripts_and_patches_for_real(clean_sandbox):
    sandbox = clean_sandbox
    (debian,) = _launch(sandbox, 1, _profile(sandbox), sandbox_rootfs="bookworm")
    shell = run_module(
        sandbox,
        COMMAND,
        {
            "document_name": "AWS-RunShellScript",
            "parameters": {"commands": [". /etc/os-release", "echo $PRETTY_NAME", "exit 3"]},
            "instance_ids": [debian],
            "fail_on_error": False,
        },
    )
    (got,) = shell["instances"]
    assert (got["status"], got["response_code"]) == ("Failed", 3) and "Debian GNU/Linux 12" in got["output"]

    run_module(
        sandbox,
        COMMAND,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Scan"}, "instance_ids": [debian]},
    )
    (scanned,) = run_module(sandbox, COMPLIANCE, {"instance_ids": [debian]})["instances"]
    assert scanned["compliance"] == "NON_COMPLIANT" and scanned["missing_count"] == 3
    assert scanned["security_non_compliant_count"] == 2 and scanned["platform_name"] == "Debian GNU/Linux"

    run_module(
        sandbox,
        COMMAND,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Install", "RebootOption": "RebootIfNeeded"},
            "instance_ids": [debian],
            "wait_timeout": 600,
        },
    )
    (patched,) = run_module(sandbox, COMPLIANCE, {"instance_ids": [debian]})["instances"]
    assert patched["compliance"] == "COMPLIANT" and patched["missing_count"] == 0
    assert patched["installed_pending_reboot_count"] == 0  # RebootIfNeeded rebooted after the kernel shim
    version = run_module(
        sandbox,
        COMMAND,
        {
            "document_name": "AWS-RunShellScript",
            "parameters": {"commands": ["cat /usr/share/medcircle/medcircle-kernel-shim/VERSION"]},
            "instance_ids": [debian],
        },
    )
    assert version["instances"][0]["output"].strip() == "1.1"
