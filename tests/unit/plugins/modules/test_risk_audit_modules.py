"""The risk_audit and risk_audit_report modules, driven through main().

risk_audit's client factory is pointed at stubbed boto3 clients, so every call is checked by
botocore's Stubber and any call that was not stubbed (a mutating one included) fails the test.
"""

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.medcircle.cloudops.plugins.modules import risk_audit, risk_audit_report

P = "us-east-1"
DR = "us-west-2"
FILTER = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped", "shutting-down"]}]


@pytest.fixture
def stubbed(aws, monkeypatch):
    monkeypatch.setattr(risk_audit, "client_factory", lambda module: aws.client)
    return aws


def run(module, args, capsys, check_mode=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": P}
    if module is risk_audit_report:
        base = {}
    base.update(args)
    if check_mode:
        base["_ansible_check_mode"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def _identity(aws):
    aws.stub("sts", P).add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/auditor", "UserId": "AIDA"},
        {},
    )


def test_imds_finding_over_two_regions(stubbed, capsys):
    _identity(stubbed)
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
        stubbed.stub("ec2", region).add_response("get_instance_metadata_defaults", {"AccountLevel": {}}, {})
    rc, result = run(risk_audit, {"regions": [P, DR], "findings": ["1.7"]}, capsys, check_mode=True)
    assert rc == 0 and result["changed"] is False
    assert result["regions"] == [P, DR] and result["account_id"] == "123456789012"
    (finding,) = result["findings"]
    assert finding["id"] == "1.7" and finding["status"] == "fail"
    assert finding["resources"][0]["observed"].startswith("HttpTokens: optional")
    assert result["summary"]["by_status"]["fail"] == 1
    assert finding["resources"][-1]["observed"].startswith("account default HttpTokens: no-preference")
    assert result["api_calls"] == {
        "ec2:DescribeInstances": 2,
        "ec2:GetInstanceMetadataDefaults": 2,
        "sts:GetCallerIdentity": 1,
    }


def test_error_is_reported_per_finding(stubbed, capsys):
    _identity(stubbed)
    stubbed.stub("cloudformation", P).add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="denied", http_status_code=403
    )
    rc, result = run(risk_audit, {"findings": ["5.2"]}, capsys)
    assert rc == 0
    assert result["findings"][0]["status"] == "error"
    assert "AccessDenied" in result["source_errors"]["cloudformation_stacks us-east-1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"findings": ["9.9"]}, "unknown finding id(s) 9.9"),
        ({"public_ingress_ports": [70000]}, "public_ingress_ports 70000 is not a TCP port"),
        ({"eol_overrides": {"amzn2:2": "someday"}}, "is not a date"),
        ({"dr_drill_max_age_days": -1}, "dr_drill_max_age_days -1 is negative"),
    ],
)
def test_bad_input_fails_before_any_call(stubbed, capsys, args, message):
    rc, result = run(risk_audit, args, capsys)
    assert rc == 1 and message in result["msg"]


AUDIT = {
    "account_id": "123456789012",
    "regions": [P],
    "collected_at": "2026-11-28T12:00:00Z",
    "findings": [
        {
            "id": "1.7",
            "title": "IMDSv2: Is set as optional in the EC2 instance",
            "severity": "high",
            "categories": ["Vulnerability Assessment"],
            "status": "fail",
            "resources": [
                {
                    "resource_id": "i-1",
                    "region": P,
                    "status": "fail",
                    "observed": "HttpTokens: optional",
                    "expected": "HttpTokens: required",
                }
            ],
            "hipaa": ["164.312(d)"],
            "prowler_checks": ["ec2_instance_imdsv2_enabled"],
            "remediation": {
                "type": "automated",
                "playbook": "playbooks/remediate.yml",
                "role": "ec2_fleet",
                "manual": None,
            },
            "next_step": "Run it.",
            "failing_resources": 1,
        }
    ],
}


def test_report_check_mode_writes_nothing(tmp_path, capsys):
    rc, result = run(risk_audit_report, {"audit": AUDIT, "dest": str(tmp_path)}, capsys, check_mode=True)
    assert rc == 0 and result["changed"] is True
    assert {os.path.basename(f) for f in result["files"]} == {
        "audit.json",
        "audit.md",
        "audit.html",
        "audit.asff.json",
        "audit.junit.xml",
    }
    assert list(tmp_path.iterdir()) == []
    assert result["failing"][0].startswith("1.7 | FAIL | high | IMDSv2")


def test_report_writes_run_folder_latest_and_comparison(tmp_path, capsys):
    rc, _first = run(risk_audit_report, {"audit": AUDIT, "dest": str(tmp_path)}, capsys)
    assert rc == 0 and os.path.islink(tmp_path / "latest")
    fixed = json.loads(json.dumps(AUDIT))
    fixed["findings"][0]["status"] = "pass"
    fixed["findings"][0]["resources"][0]["status"] = "pass"
    rc, second = run(
        risk_audit_report,
        {"audit": fixed, "dest": str(tmp_path), "previous_path": str(tmp_path / "latest" / "audit.json")},
        capsys,
    )
    assert rc == 0
    assert second["comparison"]["closed"] == 1
    assert os.readlink(tmp_path / "latest") == os.path.basename(second["run_dir"])
    assert (tmp_path / "latest" / "compare.md").exists()


def test_report_refuses_something_else(tmp_path, capsys):
    rc, result = run(risk_audit_report, {"audit": {"msg": "oops"}, "dest": str(tmp_path)}, capsys)
    assert rc == 1 and "findings list" in result["msg"]
