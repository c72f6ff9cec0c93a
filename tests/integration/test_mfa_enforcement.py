"""MFA enforcement for console users (finding 1.1): role mfa_enforcement through playbooks/remediate/identity.yml.

The estate is built here on the ``empty`` seed: a console user without MFA (alice), a console user with MFA (bob),
a console user whose only access key is inactive (carol), an API-only user with an active key (svc-reports), a
console user with two active access keys, one still used by a job (ci-deployer), a break-glass console user on
the exclusion list (breakglass), and an API-only user an administrator put in the group by hand (contractor).

Bad input is refused before any change, naming the variable; --check sends no mutating call and shows who would be
added and who is held back; the real run creates the policy (AWS's documented deny without MFA), the group, and
adds exactly the console users without an active key; the rerun changes nothing; a policy changed by hand is said
to be updated, not created; opting ci-deployer in adds it and nothing else. The audit's 1.1 evidence says, per
console user, whether MFA is enforced.

moto does not evaluate IAM policies, so nothing here proves that AWS denies a call without MFA: the tests prove
the document, the attachment and the membership.
"""

import json
import re

import pytest
from playbook import run_playbook

PLAYBOOK = "playbooks/remediate/identity.yml"
POLICY = "MedCircleRequireMFA"
GROUP = "medcircle-mfa-required"
ACCOUNT = "123456789012"
BASE_VARS = {"mfa_enforcement_exclude_users": ["breakglass"]}
ENFORCED = f"MFA enforced by {POLICY} via group {GROUP}: the user can do nothing but set up MFA"


def _console(iam, name):
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="Sandbox-Passw0rd-1!")


@pytest.fixture(scope="module")
def estate(sandbox):
    sandbox.clear_faults()
    sandbox.reset("empty")
    iam = sandbox.client("iam")
    for name in ("alice", "bob", "carol", "ci-deployer", "breakglass"):
        _console(iam, name)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="bob", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    key = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="carol", AccessKeyId=key, Status="Inactive")
    used = iam.create_access_key(UserName="ci-deployer")["AccessKey"]
    # The deployment job still signs calls with its first key; its second key was never used.
    sandbox.client_as(used, "sts").get_caller_identity()
    iam.create_access_key(UserName="ci-deployer")
    iam.create_user(UserName="svc-reports")
    iam.create_access_key(UserName="svc-reports")
    # An administrator made the group by hand and put an API-only user in it.
    iam.create_user(UserName="contractor")
    iam.create_group(GroupName=GROUP)
    iam.add_user_to_group(GroupName=GROUP, UserName="contractor")
    sandbox.clear_requests()
    return sandbox


def members(sandbox):
    return {u["UserName"] for u in sandbox.client("iam").get_group(GroupName=GROUP)["Users"]}


def run(sandbox, check=False, **extra):
    result = run_playbook(
        sandbox, PLAYBOOK, "--tags", "mfa_enforcement", extra_vars={**BASE_VARS, **extra}, check=check
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return result


def report_lines(result):
    return result.task("1.1 | AUDIT | Show who is (or would be) in the group")["msg"]


def line_for(lines, user):
    found = [line for line in lines if line.startswith(user + ":")]
    assert len(found) == 1, (user, lines)
    return found[0]


def audit_1_1(sandbox, tmp_path):
    result = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["1.1"]},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "latest" / "audit.json").read_text())
    finding = {f["id"]: f for f in report["findings"]}["1.1"]
    return finding, {r["resource_id"]: r for r in finding["resources"]}


@pytest.mark.parametrize(
    ("extra", "task", "message"),
    [
        (
            {"mfa_enforcement_exclude_users": "breakglass"},
            "MFA | Check mfa_enforcement_exclude_users",
            'mfa_enforcement_exclude_users must be a list of IAM user names; got "breakglass"',
        ),
        (
            {"mfa_enforcement_users_with_access_keys": ["ci deployer"]},
            "MFA | Check mfa_enforcement_users_with_access_keys",
            'mfa_enforcement_users_with_access_keys must be a list of IAM user names; got ["ci deployer"]',
        ),
        (
            {"mfa_enforcement_policy_name": "Require MFA!"},
            "MFA | Check mfa_enforcement_policy_name",
            'mfa_enforcement_policy_name must be an IAM policy name; got "Require MFA!"',
        ),
    ],
)
def test_bad_input_is_refused_before_any_change(estate, extra, task, message):
    estate.clear_requests()
    result = run_playbook(estate, PLAYBOOK, "--tags", "mfa_enforcement", extra_vars={**BASE_VARS, **extra})
    assert result.returncode != 0
    failed = result.task(task)
    assert failed.get("failed"), failed
    # The message names the variable and the bad value, and says nothing was changed.
    variable, _sep, rest = message.partition(" must be ")
    assert failed["msg"].startswith(variable + " must be "), failed["msg"]
    assert rest.split("; got ")[1] in failed["msg"] and "Nothing was changed." in failed["msg"], failed["msg"]
    assert estate.requests(mutating=True) == []
    assert estate.requests(service="iam") == [], "input is checked before any AWS call"


def test_check_mode_shows_the_plan_and_changes_nothing(estate, tmp_path):
    _before, by_user = audit_1_1(estate, tmp_path)
    assert by_user["alice"]["status"] == "fail" and "MFA not enforced" in by_user["alice"]["observed"], by_user
    estate.clear_requests()
    result = run(estate, check=True)
    assert estate.requests(mutating=True) == []
    assert result.task("1.1 | PATCH | Create or update the policy that allows nothing")["changed"] is True
    assert result.task("1.1 | PATCH | Create the group")["changed"] is True
    lines = report_lines(result)
    assert lines[0].startswith(f"Policy {POLICY}: would be created; group {GROUP}: would change"), lines
    for user in ("alice", "bob", "carol"):
        assert line_for(lines, user) == (
            f"{user}: would be added (console password, no active access key); without signing in with MFA they can"
            " do nothing but set up MFA"
        ), lines
    held = line_for(lines, "ci-deployer")
    assert held.startswith("ci-deployer: console password and active access keys AKIA"), held
    # each key with when it was made and whether (and for what) the automation still uses it
    described = re.findall(r"(AKIA[A-Z0-9]+) \(created (\d{4}-\d\d-\d\d), ([^)]*)\)", held)
    assert sorted(d[2] for d in described) == sorted(
        [f"last used {described[0][1]} by sts in us-east-1", "never used"]
    ), held
    assert "not added, because enforcing MFA would stop calls made with that key" in held
    assert "mfa_enforcement_users_with_access_keys" in held
    assert line_for(lines, "breakglass").startswith("breakglass: on mfa_enforcement_exclude_users"), lines
    assert "no console password" in line_for(lines, "contractor") and "left in the group" in line_for(
        lines, "contractor"
    )
    assert any(line.startswith("No console password (API only), never added: svc-reports") for line in lines), lines
    assert members(estate) == {"contractor"}
    iam = estate.client("iam")
    assert not [p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == POLICY]


def test_enforcement_adds_exactly_the_console_users_without_active_keys(estate):
    estate.clear_requests()
    result = run(estate)
    assert members(estate) == {"alice", "bob", "carol", "contractor"}
    adds = sorted(r["operation"] for r in estate.requests(mutating=True) if r["operation"] == "AddUserToGroup")
    assert len(adds) == 3
    assert not estate.requests(operation="RemoveUserFromGroup")
    iam = estate.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"
    attached = iam.list_attached_group_policies(GroupName=GROUP)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {
        "AllowViewAccountInfo",
        "AllowManageOwnPasswords",
        "AllowManageOwnVirtualMFADevice",
        "AllowManageOwnUserMFA",
        "DenyAllExceptListedIfNoMFA",
    }
    deny = statements["DenyAllExceptListedIfNoMFA"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == "*" and "Action" not in deny
    assert deny["Condition"] == {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    assert set(deny["NotAction"]) == {
        "iam:CreateVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:GetUser",
        "iam:GetMFADevice",
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
        "iam:ResyncMFADevice",
        "sts:GetSessionToken",
    }
    assert statements["AllowManageOwnUserMFA"]["Resource"] == "arn:aws:iam::*:user/${aws:username}"
    lines = report_lines(result)
    assert lines[0] == f"Policy {POLICY}: created; group {GROUP}: changed.", lines
    assert line_for(lines, "alice").startswith("alice: added")
    assert line_for(lines, "ci-deployer").startswith("ci-deployer: console password and active access keys")


def test_second_run_and_check_change_nothing(estate):
    estate.clear_requests()
    again = run(estate)
    assert again.stats["localhost"]["changed"] == 0, again.stats
    assert estate.requests(mutating=True) == []
    lines = report_lines(again)
    assert lines[0] == f"Policy {POLICY}: already as AWS documents it; group {GROUP}: no change.", lines
    assert line_for(lines, "alice") == "alice: already in the group"
    assert line_for(lines, "ci-deployer").startswith("ci-deployer: console password and active access keys")
    checked = run(estate, check=True)
    assert checked.stats["localhost"]["changed"] == 0, checked.stats
    assert estate.requests(mutating=True) == []
    assert members(estate) == {"alice", "bob", "carol", "contractor"}


def test_a_policy_changed_by_hand_is_said_to_be_updated_not_created(estate):
    arn = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"
    iam = estate.client("iam")
    iam.untag_policy(PolicyArn=arn, TagKeys=["Finding"])
    estate.clear_requests()
    checked = run(estate, check=True)
    assert estate.requests(mutating=True) == []
    assert report_lines(checked)[0] == (
        f"Policy {POLICY}: would be updated (its document or tags differed); group {GROUP}: no change."
    ), report_lines(checked)
    applied = run(estate)
    assert report_lines(applied)[0] == (
        f"Policy {POLICY}: updated (its document or tags differed); group {GROUP}: no change."
    ), report_lines(applied)
    assert sorted(r["operation"] for r in estate.requests(mutating=True)) == ["TagPolicy"]
    tags = {t["Key"]: t["Value"] for t in iam.list_policy_tags(PolicyArn=arn)["Tags"]}
    assert tags["Finding"] == "1.1", tags


def test_audit_evidence_says_who_is_enforced(estate, tmp_path):
    finding, by_user = audit_1_1(estate, tmp_path)
    assert finding["status"] == "fail"  # alice and the others must still enrol
    alice = by_user["alice"]
    assert alice["status"] == "fail"
    assert alice["observed"] == f"console password enabled, mfa_active: false; {ENFORCED}", alice
    bob = by_user["bob"]
    assert bob["status"] == "pass" and f"MFA enforced by {POLICY} via group {GROUP}" in bob["observed"], bob
    for user in ("ci-deployer", "breakglass"):
        assert by_user[user]["status"] == "fail"
        assert "MFA not enforced" in by_user[user]["observed"], by_user[user]
    # API-only users are not judged, even the one put in the group by hand.
    assert by_user["svc-reports"]["status"] == "not_applicable"
    assert by_user["contractor"]["status"] == "not_applicable"


def test_opting_in_a_user_with_an_access_key_adds_only_that_user(estate, tmp_path):
    estate.clear_requests()
    result = run(estate, mfa_enforcement_users_with_access_keys=["ci-deployer"])
    assert members(estate) == {"alice", "bob", "carol", "contractor", "ci-deployer"}
    assert [r["operation"] for r in estate.requests(mutating=True)] == ["AddUserToGroup"]
    assert line_for(report_lines(result), "ci-deployer") == (
        "ci-deployer: added (console password; listed in mfa_enforcement_users_with_access_keys, so its access keys go"
        " on working); without signing in with MFA they can do nothing but set up MFA"
    )
    _finding, by_user = audit_1_1(estate, tmp_path)
    assert ENFORCED in by_user["ci-deployer"]["observed"]
    assert "MFA not enforced" in by_user["breakglass"]["observed"]
