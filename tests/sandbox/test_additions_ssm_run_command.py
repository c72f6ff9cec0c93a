"""SSM managed instances, Run Command with rate control, AWS-RunPatchBaseline and maintenance-window runs
in the sandbox (sandbox/additions/ssm_inventory.py, sandbox/additions/ssm_run_command.py)."""

import json
import os
import time

import pytest
from botocore.exceptions import ClientError

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _profile(sb, name, *, core=True, inline=None):
    iam = sb.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    if core:
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="agent", PolicyDocument=json.dumps(inline))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _launch(sb, count, profile=None, tags=None):
    ec2 = sb.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    if tags:
        extra["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    ids = []
    for _ in range(count):  # moto associates an instance profile with the first instance of a launch only
        reply = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)
        ids += [i["InstanceId"] for i in reply["Instances"]]
    return sorted(ids)


def _wait(ssm, command_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        command = ssm.list_commands(CommandId=command_id)["Commands"][0]
        if command["Status"] not in ("Pending", "InProgress", "Cancelling"):
            return command
        time.sleep(0.1)
    raise AssertionError(f"command {command_id} still {command['Status']} after {timeout}s")


def _invocations(ssm, command_id):
    items = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
    return {i["InstanceId"]: i for i in items}


def test_managed_instances_follow_the_instance_profile(clean_sandbox):
    ssm, ec2 = clean_sandbox.client("ssm"), clean_sandbox.client("ec2")
    core = _profile(clean_sandbox, "core")
    inline = _profile(
        clean_sandbox,
        "inline",
        core=False,
        inline={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation"], "Resource": "*"}],
        },
    )
    unrelated = _profile(
        clean_sandbox,
        "unrelated",
        core=False,
        inline={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
    )
    (with_core,) = _launch(clean_sandbox, 1, core)
    (with_inline,) = _launch(clean_sandbox, 1, inline)
    (without,) = _launch(clean_sandbox, 1, unrelated)
    (bare,) = _launch(clean_sandbox, 1)
    # an image without the SSM agent: the role would let it register, but nothing runs to do it
    (no_agent,) = _launch(clean_sandbox, 1, core, tags={"sandbox:ssm-agent": "none"})
    listed = {i["InstanceId"]: i for i in ssm.describe_instance_information()["InstanceInformationList"]}
    assert set(listed) == {with_core, with_inline}
    assert no_agent not in listed
    assert listed[with_core]["PingStatus"] == "Online"
    assert listed[with_core]["PlatformType"] == "Linux"
    assert listed[with_inline]["IamRole"] == "inline"
    assert without not in listed and bare not in listed

    ec2.stop_instances(InstanceIds=[with_inline])
    listed = {i["InstanceId"]: i for i in ssm.describe_instance_information()["InstanceInformationList"]}
    assert listed[with_inline]["PingStatus"] == "ConnectionLost"
    online = ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Online"]}])
    assert [i["InstanceId"] for i in online["InstanceInformationList"]] == [with_core]


def test_describe_instance_information_pages(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 7, _profile(clean_sandbox, "core"))
    first = ssm.describe_instance_information(MaxResults=5)
    assert len(first["InstanceInformationList"]) == 5 and first["NextToken"]
    second = ssm.describe_instance_information(MaxResults=5, NextToken=first["NextToken"])
    assert "NextToken" not in second
    got = [i["InstanceId"] for i in first["InstanceInformationList"] + second["InstanceInformationList"]]
    assert got == ids


def test_root_platform_comes_from_the_rootfs_tag(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    (debian,) = _launch(clean_sandbox, 1, _profile(clean_sandbox, "core"), tags={"sandbox:rootfs": "bookworm"})
    (info,) = ssm.describe_instance_information()["InstanceInformationList"]
    assert info["InstanceId"] == debian
    assert (info["PlatformName"], info["PlatformVersion"]) == ("Debian GNU/Linux", "12")


def test_send_command_answers_at_once_and_patches_the_simulated_fleet(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 3, _profile(clean_sandbox, "core"), tags={"PatchGroup": "prod"})
    clean_sandbox.call("POST", "ssm/instance-failures", {ids[0]: {"exit_code": 0, "delay_seconds": 1}})
    sent = ssm.send_command(
        Targets=[{"Key": "tag:PatchGroup", "Values": ["prod"]}],
        DocumentName="AWS-RunPatchBaseline",
        Parameters={"Operation": ["Scan"]},
    )["Command"]
    assert sent["Status"] in ("Pending", "InProgress")
    assert sent["TargetCount"] == 3
    _wait(ssm, sent["CommandId"])
    clean_sandbox.call("DELETE", "ssm/instance-failures")
    scanned = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]}
    assert set(scanned) == set(ids[1:])  # ids[0] answered from the failure knob: no scan ran
    missing = scanned[ids[1]]["MissingCount"]
    assert missing >= 2 and scanned[ids[1]]["Operation"] == "Scan" and scanned[ids[1]]["PatchGroup"] == "prod"
    summary = ssm.list_compliance_summaries()["ComplianceSummaryItems"][0]
    assert summary["NonCompliantSummary"]["NonCompliantCount"] == 2

    install = ssm.send_command(
        InstanceIds=ids, DocumentName="AWS-RunPatchBaseline", Parameters={"Operation": ["Install"]}
    )["Command"]
    done = _wait(ssm, install["CommandId"])
    assert (done["Status"], done["CompletedCount"], done["ErrorCount"]) == ("Success", 3, 0)
    states = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]}
    assert states[ids[1]]["MissingCount"] == 0
    assert states[ids[1]]["InstalledCount"] == scanned[ids[1]]["InstalledCount"] + missing
    assert states[ids[1]]["Operation"] == "Install"
    items = ssm.list_compliance_items(ResourceIds=[ids[1]], ResourceTypes=["ManagedInstance"])["ComplianceItems"]
    assert len(items) == missing and {i["Status"] for i in items} == {"COMPLIANT"}
    output = _invocations(ssm, install["CommandId"])[ids[1]]["CommandPlugins"][0]
    assert output["Name"] == "PatchLinux" and "MissingCount: 0" in output["Output"]


def test_run_shell_script_without_a_root_is_a_synthetic_success(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    (instance,) = _launch(clean_sandbox, 1, _profile(clean_sandbox, "core"))
    sent = ssm.send_command(
        InstanceIds=[instance], DocumentName="AWS-RunShellScript", Parameters={"commands": ["echo hi"]}
    )["Command"]
    assert _wait(ssm, sent["CommandId"])["Status"] == "Success"
    got = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=instance)
    assert got["Status"] == "Success" and got["ResponseCode"] == 0
    # the output says the script did not run: nothing pretends to have printed "hi"
    assert "sandbox: no root filesystem" in got["StandardOutputContent"]
    assert "hi\n" not in got["StandardOutputContent"]


def test_max_errors_stops_the_rollout(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 5, _profile(clean_sandbox, "core"))
    clean_sandbox.call("POST", "ssm/instance-failures", {ids[0]: 2, ids[1]: 3})
    sent = ssm.send_command(
        InstanceIds=ids,
        DocumentName="AWS-RunPatchBaseline",
        Parameters={"Operation": ["Install"]},
        MaxConcurrency="1",
        MaxErrors="1",
    )["Command"]
    done = _wait(ssm, sent["CommandId"])
    invocations = _invocations(ssm, sent["CommandId"])
    assert done["Status"] == "Failed"
    assert invocations[ids[0]]["Status"] == "Failed"
    assert invocations[ids[0]]["CommandPlugins"][0]["ResponseCode"] == 2
    assert invocations[ids[1]]["Status"] == "Failed"
    assert [invocations[i]["Status"] for i in ids[2:]] == ["Cancelled"] * 3
    assert done["ErrorCount"] == 2
    assert ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"] == []


def test_errors_within_max_errors_leave_the_command_successful(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 4, _profile(clean_sandbox, "core"))
    clean_sandbox.call("POST", "ssm/instance-failures", {ids[0]: 1})
    sent = ssm.send_command(
        InstanceIds=ids,
        DocumentName="AWS-RunPatchBaseline",
        Parameters={"Operation": ["Scan"]},
        MaxConcurrency="50%",
        MaxErrors="25%",
    )["Command"]
    done = _wait(ssm, sent["CommandId"])
    assert (done["Status"], done["ErrorCount"], done["CompletedCount"]) == ("Success", 1, 4)


def test_unmanaged_instance_is_refused_and_cancel_stops_a_command(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    (bare,) = _launch(clean_sandbox, 1)
    with pytest.raises(ClientError) as refused:
        ssm.send_command(InstanceIds=[bare], DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]})
    assert refused.value.response["Error"]["Code"] == "InvalidInstanceId"
    with pytest.raises(ClientError) as bad:
        ids = _launch(clean_sandbox, 1, _profile(clean_sandbox, "core"))
        ssm.send_command(InstanceIds=ids, DocumentName="AWS-RunPatchBaseline", Parameters={"Operation": ["Patch"]})
    assert bad.value.response["Error"]["Code"] == "InvalidParameters"

    clean_sandbox.call("POST", "ssm/instance-failures", {ids[0]: {"exit_code": 0, "delay_seconds": 30}})
    sent = ssm.send_command(InstanceIds=ids, DocumentName="AWS-RunPatchBaseline", Parameters={"Operation": ["Scan"]})
    ssm.cancel_command(CommandId=sent["Command"]["CommandId"])
    started = time.monotonic()
    assert _wait(ssm, sent["Command"]["CommandId"])["Status"] == "Cancelled"
    assert time.monotonic() - started < 5
    assert _invocations(ssm, sent["Command"]["CommandId"])[ids[0]]["Status"] == "Cancelled"


def test_stopped_instance_times_out_on_delivery(clean_sandbox):
    ssm, ec2 = clean_sandbox.client("ssm"), clean_sandbox.client("ec2")
    ids = _launch(clean_sandbox, 2, _profile(clean_sandbox, "core"))
    ec2.stop_instances(InstanceIds=[ids[1]])
    sent = ssm.send_command(
        InstanceIds=ids,
        DocumentName="AWS-RunPatchBaseline",
        Parameters={"Operation": ["Scan"]},
        TimeoutSeconds=30,
        MaxErrors="1",
    )["Command"]
    done = _wait(ssm, sent["CommandId"])
    invocations = _invocations(ssm, sent["CommandId"])
    assert invocations[ids[1]]["Status"] == "TimedOut"
    assert invocations[ids[1]]["StatusDetails"] == "Delivery Timed Out"
    assert invocations[ids[0]]["Status"] == "Success"
    assert done["DeliveryTimedOutCount"] == 1 and done["Status"] == "Success"


def _window(sb, ids, *, max_errors="0", cutoff=1, duration=2, operation="Install"):
    ssm = sb.client("ssm")
    window = ssm.create_maintenance_window(
        Name="patch-now",
        Schedule="cron(0 3 ? * SUN *)",
        Duration=duration,
        Cutoff=cutoff,
        AllowUnassociatedTargets=False,
    )["WindowId"]
    target = ssm.register_target_with_maintenance_window(
        WindowId=window, ResourceType="INSTANCE", Targets=[{"Key": "tag:PatchGroup", "Values": ["prod"]}]
    )["WindowTargetId"]
    ssm.register_task_with_maintenance_window(
        WindowId=window,
        Targets=[{"Key": "WindowTargetIds", "Values": [target]}],
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        MaxConcurrency="1",
        MaxErrors=max_errors,
        Priority=1,
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": [operation]}}},
    )
    return window


def test_maintenance_window_runs_now_and_is_recorded(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 3, _profile(clean_sandbox, "core"), tags={"PatchGroup": "prod"})
    window = _window(clean_sandbox, ids)
    result = clean_sandbox.call("POST", "ssm/maintenance-windows/run", {"WindowId": window})
    assert result["Status"] == "SUCCESS"
    states = ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]
    assert sorted(s["InstanceId"] for s in states) == ids
    assert {(s["Operation"], s["MissingCount"]) for s in states} == {("Install", 0)}
    (execution,) = ssm.describe_maintenance_window_executions(WindowId=window)["WindowExecutions"]
    assert execution["WindowExecutionId"] == result["WindowExecutionId"] and execution["Status"] == "SUCCESS"
    (task,) = ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution["WindowExecutionId"])[
        "WindowExecutionTaskIdentities"
    ]
    assert task["TaskArn"] == "AWS-RunPatchBaseline" and task["Status"] == "SUCCESS"
    invocations = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=execution["WindowExecutionId"], TaskId=task["TaskExecutionId"]
    )["WindowExecutionTaskInvocationIdentities"]
    assert len(invocations) == 3 and {i["Status"] for i in invocations} == {"SUCCESS"}


def test_maintenance_window_honours_max_errors_and_cutoff(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    ids = _launch(clean_sandbox, 3, _profile(clean_sandbox, "core"), tags={"PatchGroup": "prod"})
    window = _window(clean_sandbox, ids, max_errors="0")
    clean_sandbox.call("POST", "ssm/instance-failures", {ids[0]: 1})
    failed = clean_sandbox.call("POST", "ssm/maintenance-windows/run", {"WindowId": window})
    assert failed["Status"] == "FAILED"
    assert ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"] == []

    late = clean_sandbox.call("POST", "ssm/maintenance-windows/run", {"WindowId": window, "cutoff_seconds": 0})
    assert late["Status"] == "TIMED_OUT"
    assert late["Tasks"][0]["Status"] == "CANCELLED"


def test_instance_failures_route_refuses_bad_input(clean_sandbox):
    from sandbox_client import SandboxError

    with pytest.raises(SandboxError, match="exit_code"):
        clean_sandbox.call("POST", "ssm/instance-failures", {"i-1": {"exit": 1}})
    with pytest.raises(SandboxError, match="not found"):
        clean_sandbox.call("POST", "ssm/maintenance-windows/run", {"WindowId": "mw-0000000000000000"})


# --- real Debian roots --------------------------------------------------------------------------------------


# `make integration` builds the base root first (python -m sandbox.rootfs base); building it needs root.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root")


@needs_root
def test_root_backed_instance_runs_shell_and_patches_for_real(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    (instance,) = _launch(clean_sandbox, 1, _profile(clean_sandbox, "core"), tags={"sandbox:rootfs": "bookworm"})
    sent = ssm.send_command(
        InstanceIds=[instance], DocumentName="AWS-RunShellScript", Parameters={"commands": ["cat /etc/os-release"]}
    )["Command"]
    _wait(ssm, sent["CommandId"], timeout=120)
    got = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=instance)
    assert got["Status"] == "Success" and "ID=debian" in got["StandardOutputContent"]

    scan = ssm.send_command(
        InstanceIds=[instance], DocumentName="AWS-RunPatchBaseline", Parameters={"Operation": ["Scan"]}
    )
    _wait(ssm, scan["Command"]["CommandId"], timeout=120)
    (state,) = ssm.describe_instance_patch_states(InstanceIds=[instance])["InstancePatchStates"]
    assert state["MissingCount"] >= 3 and state["SecurityNonCompliantCount"] >= 2

    install = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunPatchBaseline",
        Parameters={"Operation": ["Install"], "RebootOption": ["NoReboot"]},
    )
    assert _wait(ssm, install["Command"]["CommandId"], timeout=300)["Status"] == "Success"
    (state,) = ssm.describe_instance_patch_states(InstanceIds=[instance])["InstancePatchStates"]
    assert state["MissingCount"] == 0 and state["FailedCount"] == 0
    assert state["InstalledPendingRebootCount"] >= 1  # the kernel shim asks for a reboot; NoReboot keeps it pending

    check = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["dpkg-query -W -f='${Version}' medcircle-openssl-shim"]},
    )
    _wait(ssm, check["Command"]["CommandId"], timeout=120)
    got = ssm.get_command_invocation(CommandId=check["Command"]["CommandId"], InstanceId=instance)
    assert got["StandardOutputContent"].strip() == "1.1"


@needs_root
def test_root_backed_execution_timeout(clean_sandbox):
    ssm = clean_sandbox.client("ssm")
    (instance,) = _launch(clean_sandbox, 1, _profile(clean_sandbox, "core"), tags={"sandbox:rootfs": "bookworm"})
    sent = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["sleep 30"], "executionTimeout": ["2"]},
    )["Command"]
    done = _wait(ssm, sent["CommandId"], timeout=120)
    got = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=instance)
    assert (done["Status"], got["Status"], got["StatusDetails"]) == ("Failed", "TimedOut", "Execution Timed Out")
