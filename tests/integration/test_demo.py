"""`make demo` as a newcomer runs it: sandbox up, site.yml, sandbox down, and where to look."""

import json
import os
import re
import subprocess
from pathlib import Path

from sandbox_client import SandboxClient, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_id(out):
    """The demo's run id, from the first audit's report folder it names."""
    return re.search(r"/reports/(\d{8}T\d{6}Z)-audit", out).group(1)


def test_demo_audits_remediates_drills_ends_with_the_audit_report_and_stops_the_sandbox():
    port = free_port()
    env = {**os.environ, "SANDBOX_PORT": str(port), "SANDBOX_SEED": "as-assessed"}
    # an earlier demo's DR plan and drill history: they were of another sandbox
    history = REPO_ROOT / "reports" / "dr" / "drill-history.json"
    plan = REPO_ROOT / "reports" / "dr" / "dr-plan.md"
    history.parent.mkdir(parents=True, exist_ok=True)
    earlier = {"drills": [{"drill_id": "drill-of-an-earlier-demo", "result": "pass"}]}
    history.write_text(json.dumps(earlier))
    plan.write_text("# DR plan of an earlier demo\n")
    done = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=2400, check=False
    )
    out = done.stdout
    assert done.returncode == 0, out[-5000:] + done.stderr[-3000:]
    assert f"Starting the AWS sandbox on 127.0.0.1:{port} with the 'as-assessed' estate" in out
    assert "IMDSv1 allowed (HttpTokens optional)" in out
    assert "weakness(es) visible in the data" in out
    # every report path IT support is shown is a plain one: <checkout>/reports/..., never playbooks/../reports
    shown = re.findall(r"(/\S*/reports/\S*)", out)
    assert shown and all(path.startswith(f"{REPO_ROOT}/reports/") for path in shown), sorted(set(shown))[:10]
    report = re.search(r"Audit report: (\S+audit\.html)", out)
    assert report, out[-3000:]
    html = Path(report.group(1)).read_text()
    assert "1.1" in html and "5.6" in html
    # the remediation run closes findings: its after-audit says so against its before-audit
    compared = re.findall(r"Compared with the previous run: closed (\d+), still open (\d+), newly open (\d+)", out)
    assert len(compared) >= 2, out[-3000:]
    closed, _still_open, newly_open = (int(n) for n in compared[-2])
    assert closed >= 12, compared
    assert newly_open == 0, compared
    # after the retired originals, the first night's copies and the drill, the final audit passes what the
    # fleet, encryption, network, monitoring, storage, patching, backup, database, stack, identity and DR
    # capabilities close (the drill recovers every system of the plan, patient records included)
    final = json.loads((Path(report.group(1)).parent / "audit.json").read_text())
    status = {f["id"]: f["status"] for f in final["findings"]}
    closed_by_the_collection = [
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "1.7",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "2.6",
        "2.7",
        "2.8",
        "2.9",
        "2.10",
        "2.11",
        "2.12",
        "2.13",
        "2.14",
        "3.1",
        "3.2",
        "3.3",
        "3.4",
        "3.5",
        "3.6",
        "3.7",
        "3.8",
        "4.1",
        "4.3",
        "4.4",
        "4.5",
        "4.6",
        "4.7",
        "5.1",
        "5.2",
        "5.3",
        "5.4",
        "5.5",
        "5.6",
    ]
    assert {fid: status[fid] for fid in closed_by_the_collection} == dict.fromkeys(closed_by_the_collection, "pass")
    # 4.2: the databases no longer answer from the internet; what stays open is the application server in a public
    # subnet (an instance cannot change subnet: the fleet's Auto Scaling group without public addresses replaces it)
    segmentation = next(f for f in final["findings"] if f["id"] == "4.2")
    exposed = {r["resource_type"] for r in segmentation["resources"] if r["status"] == "fail"}
    assert exposed == {"AwsEc2Instance"}, segmentation["resources"]
    assert re.search(r"DR drill report: \S+drill-report\.html", out), out[-3000:]
    # the earlier demo's plan and history are kept aside: the first audit finds no DR plan, this sandbox's plan and
    # history count only its own drill
    kept = re.search(r"The DR plan and drill history of an earlier demo \(another sandbox\) are kept in (\S+)/", out)
    assert kept, out[:3000]
    assert json.loads((REPO_ROOT / kept.group(1) / "drill-history.json").read_text()) == earlier
    assert (REPO_ROOT / kept.group(1) / "dr-plan.md").read_text() == "# DR plan of an earlier demo\n"
    first = json.loads((REPO_ROOT / "reports" / f"{run_id(out)}-audit" / "audit.json").read_text())
    dr_plan = next(f for f in first["findings"] if f["id"] == "5.6")
    assert {r["resource_id"] for r in dr_plan["resources"] if r["status"] == "fail"} == {str(plan), str(history)}
    drills = json.loads(history.read_text())["drills"]
    assert len(drills) == 1 and drills[0]["drill_id"] != "drill-of-an-earlier-demo", drills
    assert plan.read_text() != "# DR plan of an earlier demo\n"
    assert all(int(n) <= 1 for n in re.findall(r"(\d+) drill\(s\) on record", out)), re.findall(r".*on record.*", out)
    # what stays for people (1.2, 2.1): the evidence for the security lead, per identity the two findings fail
    review = re.search(r"Access review for 1.2 and 2.1: (\S+access-review\.md)", out)
    assert review, out[-3000:]
    identities = json.loads((Path(review.group(1)).parent / "access-review.json").read_text())["identities"]
    assert "arn:aws:iam::123456789012:user/admin" in {i["arn"] for i in identities}
    assert "## user admin" in Path(review.group(1)).read_text()
    # The last thing printed is where to look, and the sandbox is gone afterwards.
    assert out.rstrip().splitlines()[-1].startswith("    Audit report: ")
    try:
        SandboxClient(port).health()
    except OSError:
        pass
    else:
        raise AssertionError(f"the demo left its sandbox running on port {port}")
