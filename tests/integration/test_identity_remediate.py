"""Strong account passwords (finding 3.1, AWS half): playbooks/remediate/identity.yml on the as-assessed estate.

The as-assessed policy (6 characters, no classes) fails 3.1; check mode sends no mutating call and the module
reports, field by field and with a diff, what it would set; the real run sends one UpdateAccountPasswordPolicy
and 3.1's account resource passes; a second run (and --check) reports no change and sends no mutating call.
A weaker policy in the inventory is refused before any change. The playbook's second play (MFA enforcement,
finding 1.1) runs too; tests/integration/test_mfa_enforcement.py covers it, here it must only keep the rerun clean.
"""

import json

import pytest
from playbook import run_playbook

PLAYBOOK = "playbooks/remediate/identity.yml"


def audit(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["3.1"]},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    finding = {f["id"]: f for f in report["findings"]}["3.1"]
    return next(r for r in finding["resources"] if r["resource_type"] == "AwsAccount")


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    return assessed_sandbox


def test_weaker_policy_is_refused_before_any_change(estate):
    estate.clear_requests()
    weak = {
        "minimum_length": 8,
        "require_symbols": True,
        "require_numbers": True,
        "require_uppercase": True,
        "require_lowercase": True,
        "reuse_prevention": 24,
        "max_age_days": 90,
    }
    run = run_playbook(estate, PLAYBOOK, extra_vars={"cloudops_password_policy": weak})
    assert run.returncode != 0
    failed = run.task("Check cloudops_password_policy")
    assert failed.get("failed") and '"minimum_length": 8' in failed["msg"], failed
    assert estate.requests(mutating=True) == []


def test_audit_fails_and_check_mode_changes_nothing(estate, tmp_path):
    account = audit(estate, tmp_path)
    assert account["status"] == "fail" and "MinimumPasswordLength: 6" in account["observed"], account
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, check=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert estate.requests(mutating=True) == []
    # The module itself is the plan under --check: changed, with the fields it would set and a diff.
    patch = run.task("3.1 | PATCH | Set the strong account password policy")
    assert patch["changed"] is True and not patch.get("skipped"), patch
    assert "MinimumPasswordLength 6 -> 14" in patch["changes"], patch
    assert "PasswordReusePrevention not set -> 24" in patch["changes"], patch
    assert patch["diff"]["before"]["minimum_password_length"] == 6
    assert patch["diff"]["after"]["minimum_password_length"] == 14
    shown = run.task("3.1 | AUDIT | Show what changed")
    assert shown["msg"][0] == "Would change (old -> new):" and "MinimumPasswordLength 6 -> 14" in shown["msg"], shown
    assert shown["changed"] is False
    policy = estate.client("iam").get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 6


def test_remediation_sets_the_policy_and_is_idempotent(estate, tmp_path):
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.task("3.1 | PATCH")["changed"] is True
    operations = [r["operation"] for r in estate.requests(mutating=True)]
    assert operations.count("UpdateAccountPasswordPolicy") == 1, operations
    # The second play (1.1, role mfa_enforcement) creates the MFA policy and group and adds the four console users
    # of the estate (none has an access key); it changes nothing else.
    assert sorted(set(operations) - {"UpdateAccountPasswordPolicy"}) == [
        "AddUserToGroup",
        "AttachGroupPolicy",
        "CreateGroup",
        "CreatePolicy",
    ], operations
    assert operations.count("AddUserToGroup") == 4, operations
    assert run.task("3.1 | AUDIT | Show what changed")["msg"][0] == "Changed (old -> new):"
    policy = estate.client("iam").get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14 and policy["PasswordReusePrevention"] == 24
    assert policy["MaxPasswordAge"] == 90 and policy["AllowUsersToChangePassword"] is True
    assert all(policy[k] for k in ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters"))
    account = audit(estate, tmp_path)
    assert account["status"] == "pass", account
    estate.clear_requests()
    again = run_playbook(estate, PLAYBOOK)
    assert again.returncode == 0
    assert again.stats["localhost"]["changed"] == 0, again.stats
    # The rerun reads the policy and sends nothing that changes it.
    assert estate.requests(service="iam", operation="GetAccountPasswordPolicy")
    assert estate.requests(mutating=True) == []
    assert again.task("3.1 | AUDIT | Show what changed")["msg"][0].startswith("No change:")

    # --check on the remediated account: nothing would change.
    checked = run_playbook(estate, PLAYBOOK, check=True)
    assert checked.returncode == 0
    assert checked.stats["localhost"]["changed"] == 0, checked.stats
    assert estate.requests(mutating=True) == []
