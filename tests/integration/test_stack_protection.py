"""Stack protection (finding 5.2): playbooks/remediate/stacks.yml on the as-assessed estate, read back by the audit.

The as-assessed stack has termination protection off and the audit fails 5.2; check mode sends no mutating call
and lists the stack; the real run protects it (and a stack in the DR region); the audit then passes 5.2, and a
second run changes nothing. Bad input fails before any call that changes anything.
"""

import json

import pytest
from playbook import run_playbook

P, DR = "us-east-1", "us-west-2"
PLAYBOOK = "playbooks/remediate/stacks.yml"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["5.2"]},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    return {f["id"]: f for f in report["findings"]}["5.2"]


def protection(sandbox, region):
    stacks = sandbox.client("cloudformation", region).describe_stacks()["Stacks"]
    return {s["StackName"]: s.get("EnableTerminationProtection", False) for s in stacks}


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    assessed_sandbox.client("cloudformation", DR).create_stack(StackName="medcircle-dr-network", TemplateBody=TEMPLATE)
    return assessed_sandbox


def test_bad_input_fails_before_any_change(estate):
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, extra_vars={"stack_protection_stack_names": ["medcircle app"]})
    assert run.returncode != 0
    assert run.task("Check the stack selection")["msg"] == (
        'stack_protection_stack_names or stack_protection_exclude_stack_names: "medcircle app" has a space (stack names'
        " and patterns have none). Nothing was changed."
    )
    assert estate.requests(mutating=True) == []


def test_audit_fails_and_check_mode_changes_nothing(estate, tmp_path):
    finding = audit(estate, tmp_path)
    assert finding["status"] == "fail", finding
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert estate.requests(mutating=True) == []
    sweep = run.task("5.2 | PATCH")
    assert sweep["changed"] is True
    assert {(s["region"], s["stack_name"]) for s in sweep["stacks"] if s["changed"]} == {
        (P, "medcircle-stack"),
        (DR, "medcircle-dr-network"),
    }, sweep
    lines = run.task("5.2 | AUDIT | Show each stack")["msg"]
    assert any("would turn on" in line for line in lines), lines
    assert not any(protection(estate, P).values()) and not any(protection(estate, DR).values())


def test_remediation_closes_the_finding_and_is_idempotent(estate, tmp_path):
    run = run_playbook(estate, PLAYBOOK)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert all(protection(estate, P).values()) and protection(estate, P)
    assert protection(estate, DR) == {"medcircle-dr-network": True}
    updates = estate.requests(operation="UpdateTerminationProtection")
    assert len(updates) == 2
    finding = audit(estate, tmp_path)
    assert finding["status"] == "pass", finding
    estate.clear_requests()
    again = run_playbook(estate, PLAYBOOK)
    assert again.returncode == 0
    assert again.stats["localhost"]["changed"] == 0, again.stats
    assert estate.requests(mutating=True) == []
