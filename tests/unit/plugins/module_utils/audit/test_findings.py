"""The findings' metadata agrees with the risk register (../shared/risk-register.yaml beside the clone)."""

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import findings

REPO = Path(__file__).resolve().parents[5]
REGISTER = REPO.parent / "shared" / "risk-register.yaml"
HIPAA = re.compile(r"^164\.3(08|10|12|14|16)\([a-z]\)(\(\d+\))?(\([ivx]+\))?(\([A-Z]\))?$")


@pytest.fixture(scope="module")
def register():
    # CI lays shared/ beside the clone; without it this comparison cannot be made, which is a failure.
    assert REGISTER.exists(), f"{REGISTER} is not beside the clone: the findings cannot be checked against it"
    return yaml.safe_load(REGISTER.read_text())["findings"]


def test_same_ids_titles_severities_assessments(register):
    ours = findings.all_findings()
    assert [f["id"] for f in ours] == [str(f["id"]) for f in register]
    for mine, theirs in zip(ours, register, strict=True):
        assert mine["title"] == theirs["title"], mine["id"]
        assert mine["severity"] == theirs["severity"], mine["id"]
        assert mine["assessments"] == theirs["assessments"], mine["id"]


def test_every_finding_is_complete():
    all_ = findings.all_findings()
    assert len(all_) == 42
    for item in all_:
        assert item["severity"] in findings.SEVERITIES
        assert item["categories"] and set(item["categories"]) <= set(findings.CATEGORIES)
        assert item["hipaa"] and all(HIPAA.match(ref) for ref in item["hipaa"]), item["id"]
        assert all(re.match(r"^[a-z0-9_]+$", c) for c in item["prowler_checks"]), item["id"]
        rem = item["remediation"]
        assert rem["type"] in ("automated", "manual")
        if rem["type"] == "automated":
            # what IT support is sent to exists: the playbook, and the role or module doing the work
            assert (REPO / rem["playbook"]).is_file(), (item["id"], rem["playbook"])
            assert bool(rem["role"]) != bool(rem["module"]), item["id"]
            if rem["role"]:
                assert (REPO / "roles" / rem["role"] / "tasks" / "main.yml").is_file(), (item["id"], rem["role"])
            else:
                assert (REPO / "plugins" / "modules" / f"{rem['module']}.py").is_file(), (item["id"], rem["module"])
                assert f"medcircle.cloudops.{rem['module']}:" in (REPO / rem["playbook"]).read_text(), item["id"]
        else:
            assert rem["manual"] and not (rem["playbook"] or rem["role"] or rem["module"]), item["id"]
        assert item["next_step"].endswith(".")


def test_anchor_prowler_ids():
    expected = {
        "1.7": "ec2_instance_imdsv2_enabled",
        "3.4": "ec2_ebs_volume_encryption",
        "1.3": "ec2_instance_profile_attached",
        "3.5": "ec2_instance_managed_by_ssm",
        "3.8": "ssm_managed_compliant_patching",
        "1.5": "rds_instance_storage_encrypted",
        "5.3": "rds_instance_multi_az",
        "5.4": "rds_instance_deletion_protection",
        "2.8": "s3_bucket_secure_transport_policy",
        "4.6": "vpc_flow_logs_enabled",
        "5.2": "cloudformation_stacks_termination_protection_enabled",
        "2.10": "dlm_ebs_snapshot_lifecycle_policy_exists",
    }
    for fid, check in expected.items():
        assert check in findings.get_finding(fid)["prowler_checks"], fid


def test_numeric_order():
    assert sorted(["2.10", "2.9", "1.1"], key=findings.sort_key) == ["1.1", "2.9", "2.10"]


@pytest.mark.parametrize(
    ("remediation", "line"),
    [
        (
            {"type": "automated", "playbook": "playbooks/remediate.yml", "role": "backup"},
            "playbooks/remediate.yml (role backup)",
        ),
        (
            {
                "type": "automated",
                "playbook": "playbooks/remediate/fleet.yml",
                "role": None,
                "module": "ec2_instance_hardening",
            },
            "playbooks/remediate/fleet.yml (module ec2_instance_hardening)",
        ),
        ({"type": "manual", "manual": "Ask the owner."}, "manual: Ask the owner."),
    ],
)
def test_describe_remediation(remediation, line):
    assert findings.describe_remediation(remediation) == line


def test_fleet_findings_name_the_module_that_hardens_running_instances():
    by_id = {f["id"]: f for f in findings.all_findings()}
    for fid in ("1.7", "5.5"):
        rem = by_id[fid]["remediation"]
        assert (rem["playbook"], rem["role"], rem["module"]) == (
            "playbooks/remediate/fleet.yml",
            None,
            "ec2_instance_hardening",
        ), fid
        assert "playbooks/remediate/fleet.yml" in by_id[fid]["next_step"], fid


def _roles_run_by(playbook, seen=None):
    """Every role a playbook runs: its plays' roles, include_role/import_role tasks, and the playbooks it imports."""
    seen = set() if seen is None else seen
    if playbook in seen:
        return set()
    seen.add(playbook)
    found = set()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                if isinstance(node.get(key), dict):
                    found.add(node[key]["name"].rsplit(".", 1)[-1])
            if "ansible.builtin.import_playbook" in node:
                found.update(_roles_run_by((playbook.parent / node["ansible.builtin.import_playbook"]).resolve(), seen))
            for role in node.get("roles") or []:
                found.add((role["role"] if isinstance(role, dict) else role).rsplit(".", 1)[-1])
            for key in ("pre_tasks", "tasks", "post_tasks", "block", "rescue", "always"):
                walk(node.get(key))

    walk(yaml.safe_load(playbook.read_text()))
    return found


@pytest.mark.parametrize("finding", findings.all_findings(), ids=lambda f: f["id"])
def test_the_remediation_playbook_runs_the_role_named_and_is_no_runbook(finding):
    rem = finding["remediation"]
    if rem["type"] != "automated" or not rem["role"]:
        return
    # the failover and failback runbooks act on production during a disaster: they remediate nothing
    assert rem["playbook"] not in ("playbooks/dr_failover.yml", "playbooks/dr_failback.yml"), finding["id"]
    assert rem["role"] in _roles_run_by((REPO / rem["playbook"]).resolve()), (finding["id"], rem)
    assert rem["playbook"] in finding["next_step"] or "playbooks/remediate.yml" in finding["next_step"], finding["id"]
