"""A next step never sends IT support to a playbook that is not in the collection."""

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import report


def test_next_step_says_when_its_playbook_is_missing(tmp_path):
    (tmp_path / "audit.yml").write_text("---\n")
    items = [
        {"id": "1.7", "next_step": "Run playbooks/remediate.yml (role ec2_fleet) to require IMDSv2 tokens."},
        {"id": "9.9", "next_step": "Run playbooks/audit.yml again."},
        {"id": "1.1", "next_step": "Ask every listed user to set up MFA today."},
    ]
    report.mark_missing_playbooks(items, str(tmp_path))
    missing, present, manual = items
    assert missing["remediation_available"] is False
    assert "playbooks/remediate.yml is not in this version of the collection yet" in missing["next_step"]
    assert missing["next_step"].startswith("Run playbooks/remediate.yml (role ec2_fleet)")
    assert present["remediation_available"] is True
    assert present["next_step"] == "Run playbooks/audit.yml again."
    assert manual["remediation_available"] is True
    assert manual["next_step"] == "Ask every listed user to set up MFA today."


def test_playbooks_in_subfolders_are_checked_too(tmp_path):
    (tmp_path / "remediate").mkdir()
    (tmp_path / "remediate" / "fleet.yml").write_text("---\n")
    items = [
        {"id": "1.7", "next_step": "Run playbooks/remediate/fleet.yml to require IMDSv2 tokens."},
        {"id": "5.5", "next_step": "Run playbooks/remediate/storage.yml to protect it."},
    ]
    report.mark_missing_playbooks(items, str(tmp_path))
    present, missing = items
    assert present["remediation_available"] is True
    assert present["next_step"] == "Run playbooks/remediate/fleet.yml to require IMDSv2 tokens."
    assert missing["remediation_available"] is False
    assert "playbooks/remediate/storage.yml is not in this version of the collection yet" in missing["next_step"]
