"""Host facts for the audit (finding 3.1, host half): host_baseline records what the audit reads about a host, and
the audit loads it.

On a real Debian root filesystem reached with chroot (sandbox/rootfs.py): host_baseline with its sshd part off
records sshd PasswordAuthentication yes (Debian's default) in <cloudops_reports_dir>/host-facts/<instance>.json,
and the audit fails 3.1 for that host; host_baseline with the sshd part on records no, and the audit passes it.
A facts file older than risk_audit_host_facts_max_age_hours is not loaded.
"""

import json
import os
import time

import pytest
from playbook import run_playbook

from sandbox import rootfs

CLONE = "pytest-host-facts"
INSTANCE = "i-0a6f00000000000a6"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chroot and the Debian root filesystem need root")
# Only the sshd part: the other parts (packages, agent, updates, time, auditd) are the role's own tests.
ONLY_SSHD = {
    "host_baseline_hosts": "linux",
    "host_baseline_start_services": False,
    "host_baseline_ssm_agent_enabled": False,
    "host_baseline_auto_updates_enabled": False,
    "host_baseline_time_sync_enabled": False,
    "host_baseline_auditd_enabled": False,
}


@pytest.fixture
def host(tmp_path):
    root = rootfs.clone(CLONE, fresh=True)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "linux": {
                    "hosts": {
                        "debian-host": {
                            "ansible_connection": "community.general.chroot",
                            "ansible_host": str(root),
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "instance_id": INSTANCE,
                            "placement": {"region": "us-east-1"},
                        }
                    }
                }
            }
        )
    )
    yield root, inventory
    rootfs.remove(CLONE)


def baseline(sandbox, inventory, reports, sshd):
    run = run_playbook(
        sandbox,
        "playbooks/host_baseline.yml",
        "-i",
        str(inventory),
        extra_vars={**ONLY_SSHD, "host_baseline_sshd_enabled": sshd, "cloudops_reports_dir": str(reports)},
    )
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    return run


def host_resource(sandbox, reports, **extra):
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"cloudops_reports_dir": str(reports), "risk_audit_findings": ["3.1"], **extra},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((reports / "latest" / "audit.json").read_text())
    finding = {f["id"]: f for f in report["findings"]}["3.1"]
    hosts = [r for r in finding["resources"] if r.get("detail") == "from host facts"]
    return hosts[0] if hosts else None


@needs_root
def test_host_facts_make_the_audit_judge_sshd_on_the_host(sandbox, host, tmp_path):
    root, inventory = host
    reports = tmp_path / "reports"
    facts_file = reports / "host-facts" / f"{INSTANCE}.json"

    baseline(sandbox, inventory, reports, sshd=False)
    facts = json.loads(facts_file.read_text())
    assert facts["instance_id"] == INSTANCE and facts["region"] == "us-east-1" and facts["host"] == "debian-host"
    assert facts["sshd_password_authentication"] == "yes"
    assert (
        facts["os_id"] == rootfs.os_release(root)["ID"] and facts["os_version"] == rootfs.os_release(root)["VERSION_ID"]
    )
    assert facts["recorded_at"].endswith("Z")
    before = host_resource(sandbox, reports)
    assert before is not None and before["resource_id"] == INSTANCE
    assert before["status"] == "fail" and before["observed"] == "sshd PasswordAuthentication: yes", before

    run = baseline(sandbox, inventory, reports, sshd=True)
    assert run.task("Turn off password and root log-in for sshd", host="debian-host")["changed"] is True
    assert json.loads(facts_file.read_text())["sshd_password_authentication"] == "no"
    after = host_resource(sandbox, reports)
    assert after["status"] == "pass" and after["observed"] == "sshd PasswordAuthentication: no", after

    # Facts older than the allowed age are not evidence any more.
    old = time.time() - 3 * 3600
    os.utime(facts_file, (old, old))
    assert host_resource(sandbox, reports, risk_audit_host_facts_max_age_hours=2) is None
