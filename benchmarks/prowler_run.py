"""Run Prowler (the other tool the audit is compared with) and the collection's risk_audit module on one sandbox.

Used by benchmarks/prowler_compare.py and benchmarks/audit_scale.py. Prowler lives in its own virtualenv,
.cache/prowler-venv (benchmarks/prowler_env.sh installs it); it is never a dependency of the collection.
Both tools are pointed at the sandbox with AWS_ENDPOINT_URL and dummy credentials.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / ".collections", REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.findings import all_findings  # noqa: E402

PROWLER_VENV = Path(os.environ.get("PROWLER_VENV", REPO / ".cache" / "prowler-venv"))
PROWLER = PROWLER_VENV / "bin" / "prowler"
REGIONS = ("us-east-1", "us-west-2")

# Check ids in findings.py that Prowler spells differently: the audit's id -> Prowler's (none today).
RENAMED_CHECKS = {}


def prowler_available():
    return PROWLER.exists()


def prowler_version():
    done = subprocess.run([str(PROWLER), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    match = re.search(r"(\d+\.\d+\.\d+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def installed_checks():
    """Prowler's AWS check ids, from its installed source tree (one folder per check)."""
    import glob

    pattern = str(PROWLER_VENV / "lib" / "python*" / "site-packages" / "prowler" / "providers" / "aws" / "services")
    found = set()
    for services in glob.glob(pattern):
        for service in Path(services).iterdir():
            if service.is_dir():
                found.update(p.name for p in service.iterdir() if (p / f"{p.name}.py").exists())
    return found


def mapped_checks():
    """(finding id -> Prowler check ids as Prowler spells them, unknown ids) from findings.py's prowler_checks."""
    known = installed_checks()
    by_finding, unknown = {}, set()
    for finding in all_findings():
        checks = []
        for check in finding["prowler_checks"]:
            check = RENAMED_CHECKS.get(check, check)
            if known and check not in known:
                unknown.add(check)
                continue
            checks.append(check)
        if checks:
            by_finding[finding["id"]] = checks
    return by_finding, sorted(unknown)


def aws_env(endpoint):
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGIONS[0],
        "AWS_REGION": REGIONS[0],
    }


def run_prowler(endpoint, checks, out_dir, regions=REGIONS, timeout=3600, scan_unused=False):
    """Run ``prowler aws`` for ``checks`` against the sandbox; return a dict with the wall time, the scan time
    Prowler reports, its exit code and its per-resource findings (json-ocsf)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("prowler*.ocsf.json"):
        old.unlink()
    command = [str(PROWLER), "aws", "-f", *regions, "-c", *sorted(set(checks))]
    command += ["-M", "json-ocsf", "-o", str(out_dir), "-F", "prowler", "--no-banner", "-z"]
    if scan_unused:
        command.append("--scan-unused-services")
    env = {**aws_env(endpoint), "NO_COLOR": "1"}
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - the command is Prowler from our own virtualenv
        command, cwd=out_dir, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.monotonic() - started
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    (out_dir / "prowler.log").write_text(output)
    # alive-progress prints the elapsed time as "17.1s" or "1:02.3" (minutes:seconds) or "1:02:03" (hours).
    scan = re.search(r"Scan completed.*? in ((?:\d+:)*[\d.]+)s?", output)
    scan_seconds = None
    if scan:
        scan_seconds = 0.0
        for part in scan.group(1).split(":"):
            scan_seconds = scan_seconds * 60 + float(part)
    results = []
    report = out_dir / "prowler.ocsf.json"
    if report.exists():
        results = json.loads(report.read_text() or "[]")
    return {
        "wall_seconds": wall,
        "scan_seconds": scan_seconds,
        "returncode": done.returncode,
        "findings": results,
        "log": output,
        "command": command,
    }


def run_audit_module(endpoint, regions=REGIONS, timeout=3600):
    """Run the medcircle.cloudops.risk_audit module as users do (``ansible localhost -m``) on the sandbox;
    return (module result, wall seconds)."""
    bin_dir = Path(sys.executable).parent
    args = json.dumps({"regions": list(regions), "endpoint_url": endpoint})
    env = {
        **aws_env(endpoint),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [str(bin_dir / "ansible"), "localhost", "-c", "local", "-m", "medcircle.cloudops.risk_audit", "-a", args]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - ansible from the project's virtualenv
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.monotonic() - started
    start = done.stdout.find("{")
    if start < 0:
        raise RuntimeError(f"risk_audit printed no JSON (exit {done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout[start:])["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if result.get("failed"):
        raise RuntimeError(f"risk_audit failed: {result.get('msg')}")
    return result, wall
