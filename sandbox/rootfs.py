"""Real Debian root filesystems for sandbox instances and host-role tests.

A sandbox instance can be backed by a real Debian system: a root filesystem built by
``debootstrap`` that SSM Run Command, AWS-RunPatchBaseline and the host roles (linux_upgrade,
host_baseline) change for real, through ``chroot``.

``base(release)``
    builds ``.cache/rootfs/<release>-base`` once (``debootstrap --variant=minbase`` plus python3,
    python3-apt, systemd, openssh-server, apt-utils, ca-certificates, procps) and reuses it on later
    calls. Several processes may ask at once: a file lock lets one build while the others wait; the
    root is built in a temporary directory and renamed into place when complete. The mirror is
    ``http://deb.debian.org/debian`` unless ``CLOUDOPS_DEBIAN_MIRROR`` names another one. Building
    needs root (debootstrap and chroot do) and the network; nothing after it needs the network.

``clone(name)``
    a per-instance copy under ``.cache/rootfs/instances/<name>``: ``/usr`` (most of the size) is
    hard-linked to the base, everything else is copied. dpkg replaces files by rename, never in
    place, so an upgrade in a clone leaves the base's files and package state unchanged.

``run(root, script, timeout)``
    runs ``/bin/sh -c script`` chrooted into the root, inside its own mount and PID namespaces
    (``unshare``) with ``/proc`` mounted. When the script ends, times out or is killed, the kernel
    tears the namespaces down with every process and mount in them: nothing leaks to the host.

Deterministic pending upgrades
------------------------------
A root must have upgrades waiting, some of them security ones, whatever Debian published this
week. The base therefore carries three local, flat apt repositories (``[trusted=yes]``, no
signatures), and its apt sources list only them, so apt works offline:

``/srv/medcircle-debian``
    the Debian packages the host roles install (unattended-upgrades, chrony, auditd and their
    dependencies), downloaded from the mirror when the base is built, plus the 1.0 versions of the
    packages below. Release: Origin ``MedCircle``, Label ``MedCircle-Debian``, Suite ``<release>``.
``/srv/medcircle-updates/security``
    ``medcircle-openssl-shim 1.1`` and ``medcircle-kernel-shim 1.1`` (security updates; the kernel
    one asks for a reboot through ``/var/run/reboot-required``, as Debian's kernel packages do).
    Release: Label ``MedCircle-Security``, Suite ``<release>-security``.
``/srv/medcircle-updates/updates``
    ``medcircle-tools 1.1`` (an ordinary, non-security update). Suite ``<release>-updates``.

The base has the 1.0 versions of all three installed, so ``apt-get -s upgrade`` and ``apt list
--upgradable`` show three upgrades, two of them from a ``-security`` suite (which is how apt, the
SSM agent's Debian patching and the linux_upgrade role tell security updates apart). Each package
is tiny (a VERSION file under ``/usr/share/medcircle/<package>/``), built with ``dpkg-deb``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from sandbox import REPO_ROOT

DEFAULT_RELEASE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MIRROR_ENV = "CLOUDOPS_DEBIAN_MIRROR"
ROOTFS_DIR_ENV = "CLOUDOPS_ROOTFS_DIR"

#: Bumped when what base() builds changes; an older cached base is rebuilt.
BASE_FORMAT = 1
MARKER = ".medcircle-rootfs.json"
DEBOOTSTRAPPED = ".medcircle-debootstrapped"

#: Installed by debootstrap into every base.
BASE_PACKAGES = (
    "apt-utils",
    "ca-certificates",
    "procps",
    "python3",
    "python3-apt",
    "systemd",
    "openssh-server",
    "iproute2",
)

#: Not installed, but available offline from /srv/medcircle-debian (the host roles install them).
OFFLINE_PACKAGES = ("unattended-upgrades", "chrony", "auditd", "systemd-timesyncd")

#: (package, installed version, candidate version, repository, reboot required after upgrade)
SHIM_PACKAGES = (
    ("medcircle-openssl-shim", "1.0", "1.1", "security", False),
    ("medcircle-kernel-shim", "1.0", "1.1", "security", True),
    ("medcircle-tools", "1.0", "1.1", "updates", False),
)

REPOS = {
    # directory under /srv: (Label, Suite suffix)
    "medcircle-debian": ("MedCircle-Debian", ""),
    "medcircle-updates/security": ("MedCircle-Security", "-security"),
    "medcircle-updates/updates": ("MedCircle-Updates", "-updates"),
}

CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class RootfsError(RuntimeError):
    """A root filesystem could not be built, copied or entered."""


class RunTimeout(TimeoutError):
    """run() killed a script that outlived its timeout; what it printed so far is kept."""

    def __init__(self, timeout: float, stdout: str, stderr: str):
        super().__init__(f"script timed out after {timeout:g}s and was killed")
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr


def rootfs_dir() -> Path:
    """Where roots are kept: ``CLOUDOPS_ROOTFS_DIR``, else ``.cache/rootfs`` in the repository."""
    return Path(os.environ.get(ROOTFS_DIR_ENV) or REPO_ROOT / ".cache" / "rootfs")


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise RootfsError(f"{what} needs root (debootstrap, chroot and unshare do); run it as root or under sudo")


def _check_release(release: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9-]*", release or ""):
        raise RootfsError(f"release must be a Debian codename such as 'bookworm', got {release!r}")


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""):
        raise RootfsError(f"clone name must be letters, digits, '.', '_' or '-', got {name!r}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mounts") as handle:
        for line in handle:
            point = line.split()[1].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def _remove_tree(path: Path) -> None:
    """Delete a root, refusing if anything is mounted inside it (a bind of /dev must never be emptied)."""
    if not path.exists() and not path.is_symlink():
        return
    mounted = _mounts_under(path)
    if mounted:
        raise RootfsError(f"refusing to delete {path}: still mounted inside it: {', '.join(mounted)}")
    shutil.rmtree(path)


# --------------------------------------------------------------------------------------------
# Running commands inside a root


def _chroot_env(env: dict[str, str] | None) -> dict[str, str]:
    base_env = {
        "PATH": CHROOT_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "TERM": "dumb",
    }
    base_env.update(env or {})
    return base_env


# Runs as PID 1 of a fresh PID namespace, in a private mount namespace: mounts /proc inside the
# root, then replaces itself with chroot. Everything disappears with the namespace.
_ENTER = 'mount -t proc proc "$1/proc" && exec chroot "$1" /bin/sh -c "$2"'


def run(root: str | os.PathLike, script: str, timeout: float = 600, env: dict[str, str] | None = None):
    """Run ``/bin/sh -c script`` chrooted into ``root``; return ``(rc, stdout, stderr)``.

    The script runs in its own mount and PID namespaces with ``/proc`` mounted, under a clean
    environment (PATH, HOME=/root, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive) plus ``env``.
    After ``timeout`` seconds every process of the script is killed, the namespaces (and their
    mounts) vanish, and :class:`RunTimeout` is raised with the output so far.
    """
    _require_root("rootfs.run")
    root = Path(root)
    if not (root / "bin" / "sh").exists():
        raise RootfsError(f"{root} is not a root filesystem (no /bin/sh inside)")
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "--",
        "/bin/sh",
        "-c",
        _ENTER,
        "rootfs-enter",
        str(root.resolve()),
        script,
    ]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_chroot_env(env),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise RunTimeout(timeout, out.decode(errors="replace"), err.decode(errors="replace")) from None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _run_checked(root: Path, script: str, timeout: float = 900, env: dict[str, str] | None = None) -> str:
    rc, out, err = run(root, script, timeout=timeout, env=env)
    if rc != 0:
        raise RootfsError(f"command failed in {root} (rc={rc}): {script}\n{out[-2000:]}\n{err[-4000:]}")
    return out


# --------------------------------------------------------------------------------------------
# Facts about a root


def _inside(root: Path, relative: str) -> Path:
    """Resolve a path inside the root, following symlinks (absolute ones relative to the root)."""
    path = root
    parts = [p for p in relative.strip("/").split("/") if p]
    hops = 0
    while parts:
        part = parts.pop(0)
        candidate = path / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise RootfsError(f"too many symlinks resolving {relative} in {root}")
            target = os.readlink(candidate)
            parts = [p for p in target.split("/") if p] + parts
            path = root if target.startswith("/") else path
        elif part == "..":
            path = path.parent if path != root else root
        else:
            path = candidate
    return path


def os_release(root: str | os.PathLike) -> dict[str, str]:
    """The root's /etc/os-release as a dict (ID, VERSION_ID, PRETTY_NAME, VERSION_CODENAME, ...)."""
    root = Path(root)
    release = _inside(root, "etc/os-release")
    if not release.exists():
        release = _inside(root, "usr/lib/os-release")
    values = {}
    for line in release.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


# apt-get -s prints one line per package it would upgrade:
#   Inst medcircle-tools [1.0] (1.1 MedCircle-Updates:bookworm-updates [all])
#   Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
_INST = re.compile(
    r"^Inst (?P<package>\S+) \[(?P<installed>[^\]]+)\] \((?P<candidate>\S+) (?P<origins>.*?)(?: \[[^\]]+\])?\)"
)


def parse_simulated_upgrade(text: str) -> list[dict]:
    """Upgrades from ``apt-get -s upgrade``/``dist-upgrade`` output: package, installed, candidate,
    origins (apt's ``Label:Version/Suite`` list) and security (an origin names a security source)."""
    found = []
    for line in text.splitlines():
        match = _INST.match(line)
        if not match:
            continue
        origins = [o.strip() for o in match["origins"].split(",") if o.strip()]
        found.append(
            {
                "package": match["package"],
                "installed": match["installed"],
                "candidate": match["candidate"],
                "origins": origins,
                "security": any("security" in origin.lower() for origin in origins),
            }
        )
    return found


def upgradable(root: str | os.PathLike, update: bool = True, timeout: float = 300) -> list[dict]:
    """Packages with a newer candidate, from real apt in the root: a list of dicts with package,
    installed, candidate, origins and security (bool), sorted by package.

    ``update`` runs ``apt-get update`` first (from the root's own sources: the local repositories,
    no network).
    """
    root = Path(root)
    script = "apt-get -s -o Debug::NoLocking=1 dist-upgrade"
    if update:
        script = "apt-get -qq update && " + script
    out = _run_checked(root, script, timeout=timeout)
    return sorted(parse_simulated_upgrade(out), key=lambda item: item["package"])


def installed_packages(root: str | os.PathLike) -> dict[str, str]:
    """{package: version} of what dpkg says is installed (reads /var/lib/dpkg/status)."""
    status = _inside(Path(root), "var/lib/dpkg/status").read_text()
    result = {}
    for stanza in status.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", stanza, flags=re.M))
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            result[fields["Package"]] = fields.get("Version", "")
    return result


# --------------------------------------------------------------------------------------------
# Local apt repositories


def _build_deb(workdir: Path, package: str, version: str, reboot: bool) -> Path:
    tree = workdir / f"{package}_{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    share = tree / "usr" / "share" / "medcircle" / package
    share.mkdir(parents=True)
    (share / "VERSION").write_text(f"{version}\n")
    (tree / "DEBIAN" / "control").write_text(
        textwrap.dedent(
            f"""\
            Package: {package}
            Version: {version}
            Architecture: all
            Maintainer: MedCircle Cloud Operations <cloudops@medcircle.example>
            Section: misc
            Priority: optional
            Description: MedCircle sandbox package {package}
             A tiny package whose newer version in the sandbox's local apt repositories gives
             every sandbox Debian root a deterministic pending upgrade.
            """
        )
    )
    if reboot:
        postinst = tree / "DEBIAN" / "postinst"
        postinst.write_text(
            textwrap.dedent(
                f"""\
                #!/bin/sh
                set -e
                if [ "$1" = configure ]; then
                    mkdir -p /var/run
                    touch /var/run/reboot-required
                    echo {package} >> /var/run/reboot-required.pkgs
                fi
                """
            )
        )
        postinst.chmod(0o755)
    deb = workdir / f"{package}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


def _deb_fields(deb: Path) -> str:
    out = subprocess.run(["dpkg-deb", "--field", str(deb)], check=True, capture_output=True, text=True).stdout
    return out.rstrip("\n")


def _write_flat_repo(repo: Path, label: str, suite: str) -> None:
    """Packages, Packages.gz-free, and Release for a flat repository (``deb file:DIR ./``)."""
    stanzas = []
    for deb in sorted(repo.glob("*.deb")):
        data = deb.read_bytes()
        stanzas.append(
            "\n".join(
                [
                    _deb_fields(deb),
                    f"Filename: ./{deb.name}",
                    f"Size: {len(data)}",
                    f"MD5sum: {hashlib.md5(data).hexdigest()}",  # noqa: S324 - apt's index format asks for it
                    f"SHA256: {hashlib.sha256(data).hexdigest()}",
                ]
            )
        )
    packages = ("\n\n".join(stanzas) + "\n") if stanzas else ""
    (repo / "Packages").write_text(packages)
    packages_bytes = packages.encode()
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    (repo / "Release").write_text(
        textwrap.dedent(
            f"""\
            Origin: MedCircle
            Label: {label}
            Suite: {suite}
            Codename: {suite}
            Date: {date}
            Architectures: all amd64 arm64
            Description: MedCircle sandbox repository ({label})
            SHA256:
             {hashlib.sha256(packages_bytes).hexdigest()} {len(packages_bytes)} Packages
            """
        )
    )


def _add_local_repositories(root: Path, release: str) -> None:
    srv = root / "srv"
    for directory in REPOS:
        (srv / directory).mkdir(parents=True, exist_ok=True)

    # The Debian packages the host roles install, fetched now so apt needs no network later.
    # The shim packages are not installed yet, so they do not count.
    # One at a time: some of them conflict with each other (chrony and systemd-timesyncd).
    _run_checked(root, "apt-get -qq update", timeout=600)
    for package in OFFLINE_PACKAGES:
        _run_checked(root, f"apt-get -y -q --download-only --no-install-recommends install {package}", timeout=900)
    archives = root / "var" / "cache" / "apt" / "archives"
    for deb in archives.glob("*.deb"):
        shutil.move(str(deb), srv / "medcircle-debian" / deb.name)

    with tempfile.TemporaryDirectory(prefix="medcircle-debs-") as tmp:
        workdir = Path(tmp)
        install_dir = root / "tmp" / "medcircle-install"
        install_dir.mkdir(parents=True, exist_ok=True)
        for package, old, new, repo, reboot in SHIM_PACKAGES:
            old_deb = _build_deb(workdir, package, old, reboot=False)
            new_deb = _build_deb(workdir, package, new, reboot=reboot)
            shutil.copy2(old_deb, srv / "medcircle-debian" / old_deb.name)
            shutil.copy2(old_deb, install_dir / old_deb.name)
            shutil.copy2(new_deb, srv / "medcircle-updates" / repo / new_deb.name)
        _run_checked(root, "dpkg -i /tmp/medcircle-install/*.deb && rm -rf /tmp/medcircle-install")

    for directory, (label, suffix) in REPOS.items():
        _write_flat_repo(srv / directory, label, f"{release}{suffix}")

    # Only the local repositories from now on: apt works offline and always sees the same upgrades.
    sources_list = root / "etc" / "apt" / "sources.list"
    sources_list.write_text(f"# The Debian mirror ({release}) is not used after the build; see /srv.\n")
    (root / "etc" / "apt" / "sources.list.d" / "medcircle.list").write_text(
        "".join(f"deb [trusted=yes] file:/srv/{directory} ./\n" for directory in REPOS)
    )
    _run_checked(root, "apt-get -qq update && apt-get clean", timeout=300)


def _configure(root: Path) -> None:
    # Services are never started inside a root: there is no init running (Debian's chroot convention).
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# No service starts in a chroot.\nexit 101\n")
    policy.chmod(0o755)
    # Keep the root small: no recommends, no docs pulled by later installs.
    (root / "etc" / "apt" / "apt.conf.d" / "90medcircle").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n'
    )
    (root / "etc" / "hostname").write_text("medcircle-sandbox\n")


def _base_path(release: str) -> Path:
    return rootfs_dir() / f"{release}-base"


def _is_ready(path: Path) -> bool:
    marker = path / MARKER
    if not marker.exists():
        return False
    try:
        return json.loads(marker.read_text()).get("format") == BASE_FORMAT
    except ValueError:
        return False


def base(release: str = DEFAULT_RELEASE) -> Path:
    """The base root for ``release``: built once by debootstrap, then reused (see the module doc)."""
    _check_release(release)
    final = _base_path(release)
    if _is_ready(final):
        return final
    _require_root("rootfs.base")
    if shutil.which("debootstrap") is None:
        raise RootfsError("debootstrap is not installed (apt-get install debootstrap)")
    with _locked(rootfs_dir() / f"{release}-base.lock"):
        if _is_ready(final):  # another process built it while this one waited
            return final
        mirror = os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
        building = rootfs_dir() / f"{release}-base.building"
        started = time.monotonic()
        # A build that stopped after debootstrap (network, interrupted) goes on from there.
        if not (building / DEBOOTSTRAPPED).exists():
            _remove_tree(building)
            _debootstrap(building, release, mirror)
        _build_from_debootstrapped(building, release, mirror, started)
        if final.exists():  # an older format
            _remove_tree(final)
        building.rename(final)
    return final


def _debootstrap(building: Path, release: str, mirror: str) -> None:
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", release, str(building), mirror],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        log = building / "debootstrap" / "debootstrap.log"
        detail = log.read_text()[-3000:] if log.exists() else proc.stderr[-3000:]
        raise RootfsError(f"debootstrap {release} from {mirror} failed (rc={proc.returncode}):\n{detail}")
    (building / DEBOOTSTRAPPED).write_text(mirror + "\n")


def _build_from_debootstrapped(building: Path, release: str, mirror: str, started: float) -> None:
    _configure(building)
    _add_local_repositories(building, release)
    (building / DEBOOTSTRAPPED).unlink()
    details = {
        "format": BASE_FORMAT,
        "release": release,
        "mirror": mirror,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started, 1),
    }
    (building / MARKER).write_text(json.dumps(details, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Per-instance clones

# /usr and the local repositories in /srv are hard-linked (dpkg and apt replace files there by rename);
# the rest is copied: it can be appended to or edited in place (logs, dpkg's status-old, configuration
# files edited by shell scripts).
_LINKED = ("usr", "srv")


def _copy_root(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    shutil.copystat(source, dest)
    for entry in sorted(source.iterdir()):
        if entry.name in (MARKER,):
            continue
        mode = "-al" if entry.name in _LINKED and entry.is_dir() and not entry.is_symlink() else "-a"
        subprocess.run(["cp", mode, "--", str(entry), str(dest / entry.name)], check=True, capture_output=True)


def instance_path(name: str) -> Path:
    _check_name(name)
    return rootfs_dir() / "instances" / name


def clone(name: str, release: str = DEFAULT_RELEASE, fresh: bool = False) -> Path:
    """A root of its own for ``name`` under ``.cache/rootfs/instances/<name>``, made from ``base()``.

    An existing clone is returned as it is unless ``fresh`` is true, in which case it is deleted
    and made again from the base.
    """
    _check_name(name)
    source = base(release)
    dest = instance_path(name)
    with _locked(rootfs_dir() / "instances" / f"{name}.lock"):
        if dest.exists() and (dest / ".medcircle-clone.json").exists() and not fresh:
            return dest
        _remove_tree(dest)
        partial = dest.with_name(f"{name}.partial")
        _remove_tree(partial)
        _copy_root(source, partial)
        (partial / ".medcircle-clone.json").write_text(
            json.dumps({"name": name, "release": release, "base": str(source)}) + "\n"
        )
        partial.rename(dest)
    return dest


def remove(name: str) -> None:
    """Delete the clone ``name`` (nothing if it does not exist)."""
    dest = instance_path(name)
    with _locked(rootfs_dir() / "instances" / f"{name}.lock"):
        _remove_tree(dest)


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.rootfs base|clone NAME [--fresh]|upgradable PATH``: print a path or JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sandbox.rootfs")
    commands = parser.add_subparsers(dest="command", required=True)
    base_cmd = commands.add_parser("base", help="build (once) and print the base root")
    base_cmd.add_argument("--release", default=DEFAULT_RELEASE)
    clone_cmd = commands.add_parser("clone", help="make (or reuse) and print an instance root")
    clone_cmd.add_argument("name")
    clone_cmd.add_argument("--release", default=DEFAULT_RELEASE)
    clone_cmd.add_argument("--fresh", action="store_true")
    upg = commands.add_parser("upgradable", help="print the pending upgrades of a root as JSON")
    upg.add_argument("root")
    args = parser.parse_args(argv)
    if args.command == "base":
        print(base(args.release))
    elif args.command == "clone":
        print(clone(args.name, args.release, fresh=args.fresh))
    else:
        print(json.dumps(upgradable(args.root), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
