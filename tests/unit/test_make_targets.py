"""The README's two commands set up what they need on a fresh machine: `make demo` installs the Debian
package its sandbox instances need before it starts the demo, `make test` those of every suite."""

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _dry_run(target):
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.splitlines()


def _index(lines, text):
    return next(n for n, line in enumerate(lines) if text in line)


def test_make_demo_installs_debootstrap_before_the_demo_runs():
    lines = _dry_run("demo")
    assert _index(lines, "scripts/system-deps.sh debootstrap") < _index(lines, "scripts/demo.sh")


def test_make_test_installs_every_system_package_before_the_suites():
    lines = _dry_run("test")
    deps = _index(lines, "scripts/system-deps.sh")
    assert lines[deps].strip().endswith("scripts/system-deps.sh")  # no list: chromium and debootstrap
    assert deps < _index(lines, "pytest")
