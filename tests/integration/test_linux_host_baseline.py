"""playbooks/host_baseline.yml under --check on a fresh Debian root filesystem (sandbox/rootfs.py), reached with
chroot: the plan lists what would change (packages, sshd drop-in), the missing Systems Manager agent is
reported, and nothing changes on the host. The real run, idempotence and the resulting state are verified by the
role's molecule scenario (roles/host_baseline/molecule/default), on the same kind of root.
"""

import json
import os

import pytest
from playbook import run_playbook

from sandbox import rootfs

CLONE = "pytest-host-baseline"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chroot and the Debian root filesystem need root")


@pytest.fixture
def fresh_root():
    root = rootfs.clone(CLONE, fresh=True)
    yield root
    rootfs.remove(CLONE)


@needs_root
def test_check_mode_on_a_fresh_host_plans_the_baseline_and_changes_nothing(sandbox, fresh_root, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "linux": {
                    "hosts": {
                        "debian-host": {
                            "ansible_connection": "community.general.chroot",
                            "ansible_host": str(fresh_root),
                            "ansible_python_interpreter": "/usr/bin/python3",
                        }
                    }
                }
            }
        )
    )
    packages_before = rootfs.installed_packages(fresh_root)
    etc_before = sorted(str(p.relative_to(fresh_root)) for p in (fresh_root / "etc").rglob("*"))

    run = run_playbook(
        sandbox,
        "playbooks/host_baseline.yml",
        "-i",
        str(inventory),
        extra_vars={"host_baseline_hosts": "linux", "host_baseline_start_services": False},
        check=True,
    )
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    install = run.task("Install the packages of the baseline", host="debian-host")
    assert install.get("changed") is True
    assert run.task("Turn off password and root log-in for sshd", host="debian-host").get("changed") is True
    missing = run.task("Report a missing Systems Manager agent", host="debian-host")["msg"]
    assert "Systems Manager agent MISSING" in missing
    result = run.task("Record the result", host="debian-host")["ansible_facts"]["host_baseline_result"]
    assert result["check_mode"] is True
    # the summary says it shows the host as it is now, and claims nothing about services it did not touch
    summary = run.task("Show the baseline of the host", host="debian-host")["msg"]
    assert summary.startswith("debian-host | Debian 12")
    assert (
        "| check mode, nothing was changed; the host now: 3.5 SSM agent missing (at boot: not installed) |" in summary
    )
    assert "services enabled" not in summary, summary
    assert result["sshd_password_authentication"] in ("yes", "unknown")  # Debian's default until the drop-in

    # nothing changed on the host
    assert rootfs.installed_packages(fresh_root) == packages_before
    assert sorted(str(p.relative_to(fresh_root)) for p in (fresh_root / "etc").rglob("*")) == etc_before
    assert not (fresh_root / "etc/ssh/sshd_config.d/00-medcircle-baseline.conf").exists()
