"""risk_audit's ``workers`` option: checked before any call, and the same findings for any value."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.modules import risk_audit
from module_run import run_module

P = "us-east-1"
DR = "us-west-2"
FILTER = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped", "shutting-down"]}]


@pytest.fixture
def stubbed(aws, monkeypatch):
    monkeypatch.setattr(risk_audit, "client_factory", lambda module: aws.client)
    return aws


def run(args, capsys):
    return run_module(risk_audit.main, args, capsys, region=P)


@pytest.mark.parametrize("workers", [0, -3, 65])
def test_workers_out_of_range_fails_before_any_call(stubbed, capsys, workers):
    rc, result = run({"workers": workers}, capsys)
    assert rc == 1
    assert f"workers {workers} is out of range. Allowed: 1 to 64" in result["msg"]


@pytest.mark.parametrize("workers", [1, 16])
def test_any_worker_count_gives_the_same_findings(stubbed, capsys, workers):
    stubbed.stub("sts", P).add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/auditor", "UserId": "AIDA"},
        {},
    )
    for region, tokens in ((P, "optional"), (DR, "required")):
        stubbed.stub("ec2", region).add_response(
            "describe_instances",
            {
                "Reservations": [
                    {"Instances": [{"InstanceId": "i-" + region[-1], "MetadataOptions": {"HttpTokens": tokens}}]}
                ]
            },
            {"Filters": FILTER, "MaxResults": 100},
        )
        stubbed.stub("ec2", region).add_response(
            "get_instance_metadata_defaults", {"AccountLevel": {"HttpTokens": tokens}}, {}
        )
    rc, result = run({"regions": [P, DR], "findings": ["1.7"], "workers": workers}, capsys)
    assert rc == 0
    assert [(r["resource_id"], r["status"]) for r in result["findings"][0]["resources"]] == [
        ("i-1", "fail"),
        ("i-2", "pass"),
        (f"instance-metadata-defaults/{P}", "fail"),
        (f"instance-metadata-defaults/{DR}", "pass"),
    ]
    assert result["api_calls"] == {
        "ec2:DescribeInstances": 2,
        "ec2:GetInstanceMetadataDefaults": 2,
        "sts:GetCallerIdentity": 1,
    }
