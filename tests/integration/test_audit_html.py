"""audit.html in headless Chromium: it renders on a phone-sized window, shows the summary and every
finding, and logs no console error. The screenshot stays in tests/output/audit.png.

The report is made from an audit of the as-assessed estate run here through the collector (one sandbox
reset, no playbook), so the page shows real evidence.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks, report  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.findings import FINDING_IDS  # noqa: E402

OUTPUT = REPO / "tests" / "output"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]
CONSOLE_ERROR = re.compile(r"Uncaught|CONSOLE\(\d+\)|console\.error|Refused to load|net::ERR_", re.I)


@pytest.fixture(scope="module", autouse=True)
def chromium_present():
    # `make test` installs it (scripts/system-deps.sh); a missing browser is a failure, not a pass.
    assert CHROMIUM, "chromium is not installed: run `make system-deps` (apt-get install -y chromium)"


@pytest.fixture(scope="module")
def report_page(assessed_sandbox, tmp_path_factory):
    sandbox = assessed_sandbox
    snap = AwsSnapshot(lambda service, region: sandbox.client(service, region), ["us-east-1", "us-west-2"])
    account = snap.get("account")
    results, summary = checks.run_audit(snap, checks.AuditContext())
    audit = {
        "account_id": account["account_id"],
        "regions": snap.regions,
        "collected_at": "2026-11-28T12:00:00Z",
        "findings": results,
        "summary": summary,
        "api_calls": dict(snap.api_calls),
    }
    previous = {"findings": [dict(f, status="fail") for f in results], "collected_at": "2026-11-01T12:00:00Z"}
    doc = report.build_document(audit, previous)
    dest = tmp_path_factory.mktemp("html")
    folder, files = report.plan_run(doc, str(dest), formats=["html"])
    report.write_run(folder, files, str(dest))
    return Path(folder) / "audit.html", doc


def _chromium(profile, *args, timeout=120):
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_dom_has_summary_and_every_finding(report_page, tmp_path):
    page, doc = report_page
    run = _chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-3000:]
    dom = run.stdout
    assert 'id="summary"' in dom and "By severity" in dom and "By assessment" in dom
    assert f'id="count-fail">{doc["summary"]["by_status"]["fail"]}<' in dom
    for fid in FINDING_IDS:
        assert f'id="finding-{fid}"' in dom, fid
    assert 'id="comparison"' in dom
    errors = [line for line in run.stderr.splitlines() if CONSOLE_ERROR.search(line)]
    assert errors == [], errors


def test_phone_screenshot(report_page, tmp_path):
    page, _doc = report_page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / "audit.png"
    if shot.exists():
        shot.unlink()
    run = _chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=390,2000", "--hide-scrollbars", page.as_uri()
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    errors = [line for line in run.stderr.splitlines() if CONSOLE_ERROR.search(line)]
    assert errors == [], errors


def test_page_needs_nothing_from_outside(report_page):
    page, _doc = report_page
    text = page.read_text()
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media (max-width:700px)" in text
