"""The ssm_command and ssm_patch_compliance_info modules, driven through main() with botocore's Stubber.

Every AWS call is stubbed and checked against the service model; a call that is not stubbed fails
the test, so "nothing is sent in check mode" is asserted by not stubbing SendCommand. Waiting is
made instant by replacing the module_utils' clock and sleep.
"""

import datetime
import json
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.medcircle.cloudops.plugins.module_utils import ssm_run
from ansible_collections.medcircle.cloudops.plugins.modules import ssm_command, ssm_patch_compliance_info
from botocore.stub import ANY

NOW = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC)
IDS = ["i-0000000000000000a", "i-0000000000000000b"]
C1 = "00000000-0000-4000-8000-000000000001"
C2 = "00000000-0000-4000-8000-000000000002"


@pytest.fixture
def clients(aws, monkeypatch):
    def client(self, service, retry_decorator=None, **extra):
        assert retry_decorator is not None
        aws.client(service, "us-east-1")  # creates the stubbed client
        raw = aws._clients[(service, "us-east-1")].client
        # the module's retry codes, without its delays
        retry = AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0, catch_extra_error_codes=ssm_run.RETRY_CODES)
        return RetryingBotoClientWrapper(raw, retry)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    clock = {"now": 0.0}

    def sleep(seconds):
        clock["now"] += seconds

    monkeypatch.setattr(ssm_run, "time", SimpleNamespace(sleep=sleep, monotonic=lambda: clock["now"]))
    return aws


def run(module, args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1", "_ansible_check_mode": check}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def info(instance_id, ping="Online"):
    return {
        "InstanceId": instance_id,
        "PingStatus": ping,
        "PlatformType": "Linux",
        "PlatformName": "Debian GNU/Linux",
        "PlatformVersion": "12",
        "ComputerName": "host-" + instance_id[-1],
    }


def managed(aws, instance_ids, listed=None, **filters):
    listed = instance_ids if listed is None else listed
    expected = {"MaxResults": 50, "Filters": [{"Key": "InstanceIds", "Values": instance_ids}]}
    expected.update(filters)
    aws.stub("ssm", "us-east-1").add_response(
        "describe_instance_information",
        {"InstanceInformationList": [info(i) if isinstance(i, str) else info(*i) for i in listed]},
        expected,
    )


def command(command_id, status="Pending", errors=0, targets=1):
    return {
        "CommandId": command_id,
        "DocumentName": "AWS-RunPatchBaseline",
        "Status": status,
        "TargetCount": targets,
        "ErrorCount": errors,
        "MaxConcurrency": "50",
        "MaxErrors": "0",
    }


def invocation(command_id, instance_id, status="Success", code=0, output="MissingCount: 0"):
    return {
        "CommandId": command_id,
        "InstanceId": instance_id,
        "InstanceName": "host",
        "Status": status,
        "StatusDetails": status,
        "CommandPlugins": [
            {
                "Name": "PatchLinux",
                "Status": status,
                "ResponseCode": code,
                "Output": output,
                "ResponseStartDateTime": NOW,
                "ResponseFinishDateTime": NOW,
            }
        ],
    }


def test_bad_rate_fails_before_any_call(clients, capsys):
    rc, result = run(
        ssm_command,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Scan"},
            "instance_ids": IDS,
            "max_concurrency": "0",
        },
        capsys,
    )
    assert rc == 1 and "max_concurrency 0 is not a valid rate" in result["msg"]


def test_bad_patch_operation_names_the_parameter(clients, capsys):
    rc, result = run(
        ssm_command,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Upgrade"}, "instance_ids": IDS},
        capsys,
    )
    assert rc == 1 and "parameters.Operation Upgrade" in result["msg"] and "Scan, Install" in result["msg"]


def test_check_mode_sends_nothing_and_lists_the_targets(clients, capsys):
    managed(clients, IDS)
    rc, result = run(
        ssm_command,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Install"}, "instance_ids": IDS},
        capsys,
        check=True,
    )
    assert rc == 0 and result["changed"] is True and result["status"] == "WouldSend"
    assert [i["instance_id"] for i in result["instances"]] == IDS
    assert result["command_ids"] == []
    clients.stub("ssm", "us-east-1").assert_no_pending_responses()


def test_unmanaged_target_stops_the_run_before_sending(clients, capsys):
    managed(clients, IDS, listed=[IDS[0]])
    rc, result = run(
        ssm_command,
        {"document_name": "AWS-RunShellScript", "parameters": {"commands": ["uptime"]}, "instance_ids": IDS},
        capsys,
    )
    assert rc == 1 and result["status"] == "NotSent"
    assert [i["instance_id"] for i in result["not_managed"]] == [IDS[1]]
    assert "not managed by Systems Manager" in result["msg"]


def test_send_wait_and_report_each_instance(clients, capsys):
    ssm = clients.stub("ssm", "us-east-1")
    managed(clients, IDS)
    ssm.add_response(
        "send_command",
        {"Command": command(C1, targets=2)},
        {
            "DocumentName": "AWS-RunShellScript",
            "InstanceIds": IDS,
            "Parameters": {"commands": ["uptime"]},
            "MaxConcurrency": "1",
            "MaxErrors": "1",
        },
    )
    ssm.add_response("list_commands", {"Commands": [command(C1, "InProgress", targets=2)]}, {"CommandId": C1})
    ssm.add_response("list_commands", {"Commands": [command(C1, "Failed", 1, 2)]}, {"CommandId": C1})
    ssm.add_response(
        "list_command_invocations",
        {
            "CommandInvocations": [
                invocation(C1, IDS[1], "Failed", 3, "x" * 50 + "disk full"),
                invocation(C1, IDS[0], "Success", 0, "up 3 days"),
            ]
        },
        {"CommandId": C1, "Details": True, "MaxResults": 50},
    )
    args = {
        "document_name": "AWS-RunShellScript",
        "parameters": {"commands": ["uptime"]},
        "instance_ids": IDS,
        "max_concurrency": "1",
        "max_errors": "1",
        "output_chars": 9,
        "fail_on_error": False,
    }
    rc, result = run(ssm_command, args, capsys)
    assert rc == 0 and result["changed"] is True and result["status"] == "Failed"
    first, second = result["instances"]
    assert (first["instance_id"], first["status"], first["response_code"]) == (IDS[0], "Success", 0)
    assert (second["status"], second["response_code"], second["output"]) == ("Failed", 3, "disk full")
    assert second["output_truncated"] is True
    assert result["summary"]["failed"] == 1 and result["summary"]["success"] == 1
    ssm.assert_no_pending_responses()


def test_fail_on_error_fails_the_task_with_the_results(clients, capsys):
    ssm = clients.stub("ssm", "us-east-1")
    managed(clients, IDS[:1])
    ssm.add_response("send_command", {"Command": command(C1)}, None)
    ssm.add_response("list_commands", {"Commands": [command(C1, "Failed", 1)]}, {"CommandId": C1})
    ssm.add_response(
        "list_command_invocations",
        {"CommandInvocations": [invocation(C1, IDS[0], "Failed", 1, "boom")]},
        {"CommandId": C1, "Details": True, "MaxResults": 50},
    )
    rc, result = run(
        ssm_command,
        {"document_name": "AWS-RunShellScript", "parameters": {"commands": ["false"]}, "instance_ids": IDS[:1]},
        capsys,
    )
    assert rc == 1 and result["failed"] is True and result["instances"][0]["output"] == "boom"


def test_large_fleet_goes_out_in_commands_of_50_and_the_error_budget_stops_the_rest(clients, capsys):
    ids = [f"i-{n:017x}" for n in range(1, 121)]
    ssm = clients.stub("ssm", "us-east-1")
    for start in (0, 50, 100):
        ssm.add_response(
            "describe_instance_information",
            {"InstanceInformationList": [info(i) for i in ids[start : start + 50]]},
            {"MaxResults": 50, "Filters": [{"Key": "InstanceIds", "Values": ids[start : start + 50]}]},
        )
    # max_concurrency 2 over 3 chunks: one chunk at a time with concurrency 1 each... 2 // 3 = 0 -> 1, 2 active
    ssm.add_response(
        "send_command",
        {"Command": command(C1, targets=50)},
        {
            "DocumentName": "AWS-RunPatchBaseline",
            "InstanceIds": ids[:50],
            "Parameters": {"Operation": ["Install"]},
            "MaxConcurrency": "1",
            "MaxErrors": "1",
        },
    )
    ssm.add_response(
        "send_command",
        {"Command": command(C2, targets=50)},
        {
            "DocumentName": "AWS-RunPatchBaseline",
            "InstanceIds": ids[50:100],
            "Parameters": {"Operation": ["Install"]},
            "MaxConcurrency": "1",
            "MaxErrors": "1",
        },
    )
    ssm.add_response("list_commands", {"Commands": [command(C1, "InProgress", 1, 50)]}, {"CommandId": C1})
    ssm.add_response("list_commands", {"Commands": [command(C2, "InProgress", 1, 50)]}, {"CommandId": C2})
    # two errors > max_errors 1: both running commands are cancelled, the third chunk is never sent
    ssm.add_response("cancel_command", {}, {"CommandId": C1})
    ssm.add_response("cancel_command", {}, {"CommandId": C2})
    ssm.add_response("list_commands", {"Commands": [command(C1, "Cancelled", 1, 50)]}, {"CommandId": C1})
    ssm.add_response("list_commands", {"Commands": [command(C2, "Cancelled", 1, 50)]}, {"CommandId": C2})
    for cid, chunk in ((C1, ids[:50]), (C2, ids[50:100])):
        ssm.add_response(
            "list_command_invocations",
            {
                "CommandInvocations": [invocation(cid, chunk[0], "Failed", 1, "failed")]
                + [invocation(cid, i, "Cancelled", -1, "") for i in chunk[1:]]
            },
            {"CommandId": cid, "Details": True, "MaxResults": 50},
        )
    rc, result = run(
        ssm_command,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Install"},
            "instance_ids": ids,
            "max_concurrency": "2",
            "max_errors": "1",
        },
        capsys,
    )
    assert rc == 1 and result["status"] == "Stopped"
    assert result["command_ids"] == [C1, C2]
    assert result["not_sent"] == ids[100:]
    assert result["summary"]["failed"] == 2 and result["summary"]["cancelled"] == 98
    assert "error budget" in result["msg"]
    ssm.assert_no_pending_responses()


def test_wait_timeout_cancels_what_still_runs(clients, capsys):
    ssm = clients.stub("ssm", "us-east-1")
    managed(clients, IDS[:1])
    ssm.add_response("send_command", {"Command": command(C1)}, None)
    for _ in range(4):
        ssm.add_response("list_commands", {"Commands": [command(C1, "InProgress")]}, {"CommandId": C1})
    ssm.add_response("cancel_command", {}, {"CommandId": C1})
    ssm.add_response(
        "list_command_invocations",
        {"CommandInvocations": [invocation(C1, IDS[0], "InProgress", -1, "")]},
        {"CommandId": C1, "Details": True, "MaxResults": 50},
    )
    rc, result = run(
        ssm_command,
        {
            "document_name": "AWS-RunShellScript",
            "parameters": {"commands": ["sleep 999"]},
            "instance_ids": IDS[:1],
            "wait_timeout": 5,
            "poll_interval": 2,
        },
        capsys,
    )
    assert rc == 1 and result["status"] == "WaitTimedOut" and "timed out after 5s" in result["msg"]
    ssm.assert_no_pending_responses()


def test_throttling_is_retried(clients, capsys):
    ssm = clients.stub("ssm", "us-east-1")
    ssm.add_client_error("describe_instance_information", "ThrottlingException", "Rate exceeded")
    managed(clients, IDS)
    rc, result = run(
        ssm_command,
        {"document_name": "AWS-RunPatchBaseline", "parameters": {"Operation": "Scan"}, "instance_ids": IDS},
        capsys,
        check=True,
    )
    assert rc == 0 and len(result["instances"]) == 2


def test_tag_targets_report_tagged_instances_that_are_not_managed(clients, capsys):
    ssm, ec2 = clients.stub("ssm", "us-east-1"), clients.stub("ec2", "us-east-1")
    ssm.add_response(
        "describe_instance_information",
        {"InstanceInformationList": [info(IDS[0])]},
        {"MaxResults": 50, "Filters": [{"Key": "tag:PatchGroup", "Values": ["prod"]}]},
    )
    ec2.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "Instances": [
                        {"InstanceId": i, "State": {"Name": "running"}, "Tags": [{"Key": "Name", "Value": "n" + i[-1]}]}
                        for i in IDS
                    ]
                }
            ]
        },
        {"Filters": ANY},
    )
    rc, result = run(
        ssm_command,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Scan"},
            "tags": {"PatchGroup": "prod"},
            "on_unmanaged": "skip",
        },
        capsys,
        check=True,
    )
    assert rc == 0 and result["target_ids"] == [IDS[0]]
    assert result["not_managed"][0]["instance_id"] == IDS[1] and result["not_managed"][0]["instance_name"] == "nb"


def test_plan_chunks_shares_the_rate_out():
    ids = [f"i-{n:017x}" for n in range(1, 131)]
    chunks, concurrency, errors, active, budget = ssm_run.plan_chunks(ids, "10%", "5%")
    assert [len(c) for c in chunks] == [50, 50, 30] and (concurrency, errors, active, budget) == ("10%", "5%", 3, 6)
    chunks, concurrency, errors, active, budget = ssm_run.plan_chunks(ids, "30", "0")
    assert (concurrency, errors, active, budget) == ("10", "0", 3, 0)
    assert ssm_run.plan_chunks(ids[:10], "3", "1")[1:] == ("3", "1", 1, 1)


# --- ssm_patch_compliance_info ----------------------------------------------------------------------------


def patch_state(instance_id, missing=0, failed=0, pending=0):
    return {
        "InstanceId": instance_id,
        "PatchGroup": "prod",
        "BaselineId": "pb-0123456789abcdef0",
        "InstalledCount": 400,
        "MissingCount": missing,
        "FailedCount": failed,
        "InstalledPendingRebootCount": pending,
        "SecurityNonCompliantCount": missing,
        "OperationStartTime": NOW,
        "OperationEndTime": NOW,
        "Operation": "Scan",
        "RebootOption": "RebootIfNeeded",
    }


def test_compliance_per_instance_and_fleet_summary(clients, capsys):
    ids = [*IDS, "i-0000000000000000c", "i-0000000000000000d"]
    managed(clients, ids, listed=ids[:3])
    clients.stub("ssm", "us-east-1").add_response(
        "describe_instance_patch_states",
        {"InstancePatchStates": [patch_state(IDS[0]), patch_state(IDS[1], missing=3, pending=1)]},
        {"InstanceIds": ids[:3], "MaxResults": 50},
    )
    rc, result = run(ssm_patch_compliance_info, {"instance_ids": ids}, capsys)
    assert rc == 0 and result["changed"] is False
    by_id = {i["instance_id"]: i for i in result["instances"]}
    assert by_id[IDS[0]]["compliance"] == "COMPLIANT"
    assert (by_id[IDS[1]]["compliance"], by_id[IDS[1]]["missing_count"]) == ("NON_COMPLIANT", 3)
    assert by_id[ids[2]]["compliance"] == "NOT_SCANNED" and by_id[ids[3]]["compliance"] == "NOT_MANAGED"
    assert by_id[IDS[0]]["last_operation_end_time"].startswith("2026-03-01T02:00")
    summary = result["summary"]
    assert (summary["compliant"], summary["non_compliant"], summary["not_scanned"], summary["not_managed"]) == (
        1,
        1,
        1,
        1,
    )
    assert summary["missing_count"] == 3 and summary["baselines"] == {"pb-0123456789abcdef0": 2}


def test_compliance_refuses_bad_ids(clients, capsys):
    rc, result = run(ssm_patch_compliance_info, {"instance_ids": ["web-1"]}, capsys)
    assert rc == 1 and "instance_ids" in result["msg"] and "web-1" in result["msg"]


def test_report_patch_state_reads_each_instance_after_the_run(clients, capsys):
    ssm = clients.stub("ssm", "us-east-1")
    managed(clients, IDS)
    ssm.add_response("send_command", {"Command": command(C1, targets=2)}, None)
    ssm.add_response("list_commands", {"Commands": [command(C1, "Success", 0, 2)]}, {"CommandId": C1})
    ssm.add_response(
        "list_command_invocations",
        {"CommandInvocations": [invocation(C1, IDS[0]), invocation(C1, IDS[1])]},
        {"CommandId": C1, "Details": True, "MaxResults": 50},
    )
    ssm.add_response(
        "describe_instance_patch_states",
        {"InstancePatchStates": [patch_state(IDS[0]), patch_state(IDS[1], failed=1)]},
        {"InstanceIds": IDS, "MaxResults": 50},
    )
    rc, result = run(
        ssm_command,
        {
            "document_name": "AWS-RunPatchBaseline",
            "parameters": {"Operation": "Install"},
            "instance_ids": IDS,
            "report_patch_state": True,
        },
        capsys,
    )
    assert rc == 0
    first, second = result["instances"]
    assert first["patch_state"]["compliance"] == "COMPLIANT" and first["patch_state"]["platform_version"] == "12"
    assert (second["patch_state"]["compliance"], second["patch_state"]["failed_count"]) == ("NON_COMPLIANT", 1)
