"""Real Debian roots: built once, cloned cheaply, entered with chroot, with deterministic upgrades."""

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from sandbox import rootfs

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap, chroot and unshare need root")

EXPECTED_UPGRADES = {
    "medcircle-kernel-shim": ("1.0", "1.1", True),
    "medcircle-openssl-shim": ("1.0", "1.1", True),
    "medcircle-tools": ("1.0", "1.1", False),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _processes_in(root: Path) -> list[int]:
    """PIDs whose root directory is inside ``root`` (chrooted there)."""
    found = []
    target = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "root").startswith(target):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def base():
    return rootfs.base()


@pytest.fixture
def fresh_clone(base, request):
    name = f"pytest-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    root = rootfs.clone(name, fresh=True)
    yield root
    rootfs.remove(name)


def test_simulated_upgrade_lines_are_parsed():
    text = "\n".join(
        [
            "Reading package lists...",
            "Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])",
            "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, "
            "Debian:12-updates/stable-updates [all])",
            "Conf libssl3 (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])",
        ]
    )
    assert rootfs.parse_simulated_upgrade(text) == [
        {
            "package": "libssl3",
            "installed": "3.0.15-1~deb12u1",
            "candidate": "3.0.16-1~deb12u1",
            "origins": ["Debian-Security:12/stable-security"],
            "security": True,
        },
        {
            "package": "tzdata",
            "installed": "2024a-0+deb12u1",
            "candidate": "2025b-0+deb12u1",
            "origins": ["Debian:12.11/stable", "Debian:12-updates/stable-updates"],
            "security": False,
        },
    ]


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "-x"])
def test_bad_clone_names_are_refused_before_anything_happens(name):
    with pytest.raises(rootfs.RootfsError, match="clone name must be"):
        rootfs.clone(name)


def test_bad_release_is_refused():
    with pytest.raises(rootfs.RootfsError, match="release must be a Debian codename"):
        rootfs.base("Bookworm; rm -rf /")


@needs_root
def test_base_is_built_once_then_reused(base):
    marker = json.loads((base / rootfs.MARKER).read_text())
    assert marker["release"] == "bookworm"
    assert base == rootfs.rootfs_dir() / "bookworm-base"
    started = time.monotonic()
    assert rootfs.base() == base
    assert time.monotonic() - started < 1, "a built base must be reused, not rebuilt"
    assert json.loads((base / rootfs.MARKER).read_text())["built"] == marker["built"]
    assert not (rootfs.rootfs_dir() / "bookworm-base.building").exists()


@needs_root
def test_base_is_debian_with_the_tools_the_roles_need(base):
    release = rootfs.os_release(base)
    assert release["ID"] == "debian"
    assert release["VERSION_ID"] == "12"
    assert "bookworm" in release["PRETTY_NAME"]
    installed = rootfs.installed_packages(base)
    for package in ("python3", "python3-apt", "systemd", "openssh-server", "apt-utils"):
        assert package in installed, package
    assert installed["medcircle-openssl-shim"] == "1.0"
    # apt uses only the local repositories: nothing points at the network any more
    sources = (base / "etc/apt/sources.list.d/medcircle.list").read_text()
    assert "http" not in sources and "http" not in (base / "etc/apt/sources.list").read_text()


@needs_root
def test_upgradable_finds_the_local_security_updates(fresh_clone):
    upgrades = rootfs.upgradable(fresh_clone)
    found = {item["package"]: (item["installed"], item["candidate"], item["security"]) for item in upgrades}
    assert found == EXPECTED_UPGRADES
    security = [item for item in upgrades if item["security"]]
    assert all(any("bookworm-security" in origin for origin in item["origins"]) for item in security)


@needs_root
def test_role_packages_install_offline(fresh_clone):
    rc, out, err = rootfs.run(fresh_clone, "apt-get -y -q install unattended-upgrades chrony auditd", timeout=300)
    assert rc == 0, out + err
    installed = rootfs.installed_packages(fresh_clone)
    assert {"unattended-upgrades", "chrony", "auditd"} <= set(installed)


@needs_root
def test_upgrade_in_a_clone_changes_the_clone_only(base, fresh_clone):
    base_status = _digest(base / "var/lib/dpkg/status")
    base_version_file = base / "usr/share/medcircle/medcircle-openssl-shim/VERSION"
    assert base_version_file.read_text() == "1.0\n"

    rc, out, err = rootfs.run(fresh_clone, "apt-get -qq update && apt-get -y -q dist-upgrade", timeout=300)
    assert rc == 0, out + err

    clone_packages = rootfs.installed_packages(fresh_clone)
    assert {name: clone_packages[name] for name in EXPECTED_UPGRADES} == dict.fromkeys(EXPECTED_UPGRADES, "1.1")
    assert (fresh_clone / "usr/share/medcircle/medcircle-openssl-shim/VERSION").read_text() == "1.1\n"
    assert rootfs.upgradable(fresh_clone) == []
    # the kernel update asks for a reboot, as Debian's do
    assert "medcircle-kernel-shim" in (fresh_clone / "run/reboot-required.pkgs").read_text()

    base_packages = rootfs.installed_packages(base)
    assert {name: base_packages[name] for name in EXPECTED_UPGRADES} == dict.fromkeys(EXPECTED_UPGRADES, "1.0")
    assert _digest(base / "var/lib/dpkg/status") == base_status
    assert base_version_file.read_text() == "1.0\n"
    assert not (base / "run/reboot-required").exists()


@needs_root
def test_clone_is_reused_unless_fresh(base):
    root = rootfs.clone("pytest-reuse", fresh=True)
    try:
        (root / "root/mark").write_text("kept\n")
        assert rootfs.clone("pytest-reuse") == root
        assert (root / "root/mark").read_text() == "kept\n"
        assert not (base / "root/mark").exists()
        rootfs.clone("pytest-reuse", fresh=True)
        assert not (root / "root/mark").exists()
    finally:
        rootfs.remove("pytest-reuse")
    assert not root.exists()


@needs_root
def test_run_is_chrooted_with_proc_and_a_clean_environment(fresh_clone):
    rc, out, err = rootfs.run(
        fresh_clone,
        'test -r /proc/self/status && cat /etc/hostname && echo "$PATH|$GREETING" && echo oops >&2; exit 3',
        timeout=30,
        env={"GREETING": "hello"},
    )
    assert rc == 3
    assert out.splitlines() == ["medcircle-sandbox", f"{rootfs.CHROOT_PATH}|hello"]
    assert err.strip() == "oops"
    assert rootfs._mounts_under(fresh_clone) == []


@needs_root
def test_run_times_out_and_leaves_no_process_or_mount(fresh_clone):
    started = time.monotonic()
    with pytest.raises(rootfs.RunTimeout) as raised:
        rootfs.run(fresh_clone, "echo started; (sleep 60 &) ; sleep 60", timeout=1.5)
    assert time.monotonic() - started < 10
    assert raised.value.stdout.strip() == "started"
    assert raised.value.timeout == 1.5
    deadline = time.monotonic() + 5
    while _processes_in(fresh_clone) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_in(fresh_clone) == []
    assert rootfs._mounts_under(fresh_clone) == []


@needs_root
def test_run_refuses_a_directory_that_is_not_a_root(tmp_path):
    with pytest.raises(rootfs.RootfsError, match="not a root filesystem"):
        rootfs.run(tmp_path, "true", timeout=5)
