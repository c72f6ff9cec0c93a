"""The risk audit against the sandbox: playbooks/audit.yml on the seeded estates, and the collector on an
estate built here from ``empty``.

Per finding, the expected status and the resources that must be named; not totals. The audit must make
no mutating call, and read with one paginated call per service and region.
"""

import json
import sys
from pathlib import Path

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.findings import FINDING_IDS  # noqa: E402

P, DR = "us-east-1", "us-west-2"
BUCKET = "medcircle-patient-records-123456789012"
APP = "medcircle-app"
DB = "medcircledb"

# as-assessed: every finding fails, and names these resources (resource id or Name) among the failing ones.
ASSESSED_RESOURCES = {
    "1.1": {"admin", "developer", "s3user", "finance"},
    "1.2": {"admin", "developer"},
    "1.3": {APP},
    "1.4": {"root volume"},
    "1.5": {DB},
    "1.6": {BUCKET},
    "1.7": {APP},
    "2.1": {
        "MedCircleAdminPolicy",
        "MedCircleDeveloperPolicy",
        "MedCircleS3FullAccess",
        "finance/MedCircleFinanceAccess",
    },
    "2.2": {DB},
    "2.3": {DB, BUCKET},
    "2.4": {BUCKET},
    "2.5": {BUCKET},
    "2.6": {BUCKET},
    "2.7": {BUCKET},
    "2.8": {BUCKET},
    "2.9": {BUCKET},
    "2.10": {APP},
    "2.11": {"guardduty/us-east-1", "guardduty/us-west-2"},
    "2.12": {DB},
    "2.13": {DB},
    "2.14": {DB},
    "3.1": {"123456789012"},
    "3.2": {DB},
    "3.3": {"medcircle-app-sg", "medcircle-db-sg", "medcircle-legacy-sg"},
    "3.4": {"ebs-encryption-by-default/us-east-1", "ebs-encryption-by-default/us-west-2"},
    "3.5": {APP},
    "3.6": {"medcircle-legacy-sg"},
    "3.7": {APP},
    "3.8": {APP},
    "4.1": {"123456789012"},
    "4.2": {APP, DB},
    "4.3": {"medcircle-app-sg", "medcircle-db-sg"},
    "4.4": {"wafv2/us-east-1"},
    "4.5": {"vpc"},
    "4.6": {"vpc"},
    "4.7": {"vpc"},
    "5.1": {DB},
    "5.2": {"medcircle-stack"},
    "5.3": {DB},
    "5.4": {DB},
    "5.5": {APP},
    "5.6": {"dr-plan", "dr-drills"},
}

# hardened: every finding passes except these, for the reasons given.
HARDENED_EXCEPTIONS: dict[str, tuple[str, str]] = {}
DR_PLAN = """# MedCircle disaster recovery plan
Alternate site: DR region us-west-2 (warm standby).
RTO 4 hours and RPO 1 hour for the patient-records application and its database.
Roles and responsibilities: incident lead, DBA, network engineer.
Communication plan: DR team contacts on the on-call rota.
Backups: daily AWS Backup with copies to the DR vault.
Testing: quarterly drill; outcomes recorded in the drill history.
"""


def _names(finding, statuses=("fail",)):
    out = set()
    for r in finding["resources"]:
        if r["status"] in statuses:
            out.add(r["resource_id"])
            if r.get("name"):
                out.add(r["name"])
            detail = r.get("detail") or ""
            if detail.startswith("root volume"):
                out.add("root volume")
            if r.get("resource_type") == "AwsEc2Vpc":
                out.add("vpc")
            # 5.6 names the configured plan and drill-history files, or these labels when none is configured
            if r["resource_id"].endswith("dr-plan.md"):
                out.add("dr-plan")
            if r["resource_id"].endswith("drill-history.json"):
                out.add("dr-drills")
    return out


def _audit(sandbox, tmp_path, seed, **extra):
    if seed:
        sandbox.reset(seed)
    sandbox.clear_requests()
    run = run_playbook(
        sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path / "reports"), **extra},
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    audit = json.loads((tmp_path / "reports" / "latest" / "audit.json").read_text())
    return run, audit, sandbox.requests(), tmp_path / "reports"


@pytest.fixture(scope="module")
def assessed(assessed_sandbox, tmp_path_factory):
    return _audit(assessed_sandbox, tmp_path_factory.mktemp("assessed"), None)


@pytest.fixture(scope="module")
def hardened_sandbox():
    """A sandbox of its own, started on the hardened seed (resetting a used sandbox to it is slower)."""
    instance = SandboxClient.start(seed="hardened")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def hardened(hardened_sandbox, assessed):
    """The hardened estate audited into the same reports folder, so it compares with the assessed run."""
    tmp = assessed[3].parent
    (tmp / "dr-plan.md").write_text(DR_PLAN)
    (tmp / "drills.json").write_text(
        json.dumps([{"drill": "dr-drill", "finished_at": "2026-11-20T10:00:00Z", "result": "passed"}])
    )
    return _audit(
        hardened_sandbox,
        tmp,
        None,
        risk_audit_dr_plan_path=str(tmp / "dr-plan.md"),
        risk_audit_dr_drill_history_path=str(tmp / "drills.json"),
    )


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_as_assessed_finding_fails_with_its_resources(assessed, fid):
    _run, audit, _requests, _reports = assessed
    finding = next(f for f in audit["findings"] if f["id"] == fid)
    assert finding["status"] == "fail", finding
    missing = ASSESSED_RESOURCES[fid] - _names(finding)
    assert not missing, f"{fid} does not name {missing} among failing resources: {finding['resources']}"
    assert finding["next_step"] and finding["hipaa"]


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_hardened_finding_passes(hardened, fid):
    _run, audit, _requests, _reports = hardened
    finding = next(f for f in audit["findings"] if f["id"] == fid)
    expected, reason = HARDENED_EXCEPTIONS.get(fid, ("pass", None))
    assert finding["status"] == expected, (reason, finding)


def test_account_level_findings_list_the_regions(assessed):
    _run, audit, _requests, _reports = assessed
    for fid in ("2.3", "2.11", "4.1"):
        finding = next(f for f in audit["findings"] if f["id"] == fid)
        assert finding["regions"] == [P, DR], fid


def test_audit_is_read_only_and_batched(assessed):
    _run, audit, requests, _reports = assessed
    assert [r for r in requests if r["mutating"]] == []
    calls = audit["api_calls"]
    # one paginated read per service and region, whatever the number of resources
    for operation in (
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces",
        "rds:DescribeDBInstances",
        "cloudformation:DescribeStacks",
    ):
        assert calls[operation] == 2, (operation, calls)
    assert calls["iam:GetAccountAuthorizationDetails"] == 1
    assert calls["iam:GetCredentialReport"] == 1
    assert "iam:ListMFADevices" not in calls and "iam:ListUsers" not in calls
    # per-bucket reads: the lower bound, one per bucket and setting
    assert calls["s3:GetBucketVersioning"] == 1
    logged = [r for r in requests if r["service"] == "ec2" and r["operation"] == "DescribeInstances"]
    assert len(logged) == 2


def test_playbook_output_names_failing_findings(assessed):
    run, _audit, _requests, _reports = assessed
    lines = run.task("Show one line per failing finding")["msg"]
    assert any(line.startswith("1.7 | FAIL | high | IMDSv2") for line in lines)
    where = run.task("Show where the reports are")["msg"][0]
    assert "audit.html" in where


def test_report_files_and_comparison(hardened):
    reports = hardened[3]
    latest = reports / "latest"
    for name in ("audit.json", "audit.md", "audit.html", "audit.asff.json", "audit.junit.xml", "compare.md"):
        assert (latest / name).exists(), name
    assert len([p for p in reports.iterdir() if p.name.endswith("-audit")]) == 2
    comparison = json.loads((latest / "compare.json").read_text())
    rows = {r["id"]: r for r in comparison["findings"]}
    assert rows["1.7"]["change"] == "closed" and rows["1.7"]["before"] == "fail"
    assert comparison["counts"]["closed"] >= 30
    asff = json.loads((latest / "audit.asff.json").read_text())
    assert {a["Compliance"]["Status"] for a in asff} <= {"PASSED", "FAILED", "WARNING", "NOT_AVAILABLE"}
    assert len(asff) == 42


def test_severity_gate_fails_the_play(assessed_sandbox, tmp_path):
    run = run_playbook(
        assessed_sandbox,
        "playbooks/audit.yml",
        extra_vars={
            "risk_audit_reports_dir": str(tmp_path),
            "risk_audit_fail_on": "critical",
            "risk_audit_findings": ["1.7", "1.4"],
        },
    )
    assert run.returncode != 0
    gate = run.task("Fail when findings at or above the severity")["msg"]
    assert gate.startswith("1 finding(s) at or above critical severity remain (risk_audit_fail_on=critical): "), gate
    assert "1.4 critical Root volume: Not encrypted. See " in gate and "\n" not in gate, gate
    for name in ("audit.json", "audit.md", "audit.html", "audit.asff.json", "audit.junit.xml"):
        assert (tmp_path / "latest" / name).exists()


def test_comparison_can_be_turned_off_from_the_command_line(assessed_sandbox, tmp_path):
    """risk_audit_compare_previous=false as a command line gives it (the text "false") leaves the comparison out;
    the next run compares again."""

    def run(**extra):
        done = run_playbook(
            assessed_sandbox,
            "playbooks/audit.yml",
            extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_findings": ["1.7"], **extra},
        )
        assert done.returncode == 0, done.stdout[-3000:]
        return done, (tmp_path / "latest").resolve()

    run()
    off, folder = run(risk_audit_compare_previous="false")
    assert not (folder / "compare.json").exists() and "Compared with the previous run" not in off.stdout
    assert "Not compared with an earlier run (risk_audit_compare_previous is false)." in off.stdout
    on, folder = run()
    assert (folder / "compare.json").exists() and "Compared with the previous run" in on.stdout


def test_bad_input_fails_with_the_variable_named(assessed_sandbox, tmp_path):
    run = run_playbook(
        assessed_sandbox,
        "playbooks/audit.yml",
        extra_vars={"risk_audit_reports_dir": str(tmp_path), "risk_audit_fail_on": "severe"},
    )
    assert run.returncode != 0
    assert "risk_audit_fail_on" in run.stdout and "severe" in run.stdout


def _snapshot(sandbox, regions=(P, DR)):
    return AwsSnapshot(lambda service, region: sandbox.client(service, region), list(regions))


def test_estate_built_on_empty_both_ways(sandbox):
    """Two instances in two regions, one of each kind, and a bucket each way: checks say so per resource."""
    sandbox.reset("empty")
    made = {}
    for region, tokens, encrypted in ((P, "optional", False), (DR, "required", True)):
        ec2 = sandbox.client("ec2", region)
        images = ec2.describe_images(Owners=["amazon"])["Images"]
        if not images:
            ec2.register_image(Name="al2023-ami-2023.9-x86_64", RootDeviceName="/dev/xvda")
            images = ec2.describe_images(Owners=["self"])["Images"]
        image_id, root_device = images[0]["ImageId"], images[0].get("RootDeviceName") or "/dev/xvda"
        inst = ec2.run_instances(
            ImageId=image_id,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
            BlockDeviceMappings=[{"DeviceName": root_device, "Ebs": {"VolumeSize": 8, "Encrypted": encrypted}}],
        )["Instances"][0]
        made[region] = inst["InstanceId"]
    # the account default for new instances: required in the DR region only
    sandbox.client("ec2", DR).modify_instance_metadata_defaults(HttpTokens="required")
    s3 = sandbox.client("s3", P)
    s3.create_bucket(Bucket="kept")
    s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket="loose")
    sandbox.clear_requests()

    snap = _snapshot(sandbox)
    results, _summary = checks.run_audit(snap, checks.AuditContext(), ["1.7", "1.4", "2.4", "3.6", "5.2"])
    by_id = {r["id"]: r for r in results}
    imds = {r["resource_id"]: r["status"] for r in by_id["1.7"]["resources"]}
    assert imds == {
        made[P]: "fail",
        made[DR]: "pass",
        f"instance-metadata-defaults/{P}": "fail",
        f"instance-metadata-defaults/{DR}": "pass",
    }
    root = {r["region"]: r["status"] for r in by_id["1.4"]["resources"]}
    assert root == {P: "fail", DR: "pass"}
    versioning = {r["resource_id"]: r["status"] for r in by_id["2.4"]["resources"]}
    assert versioning == {"kept": "pass", "loose": "fail"}
    assert by_id["5.2"]["status"] == "not_applicable"  # no stack anywhere
    assert sandbox.requests(mutating=True) == []
    # only what the five findings need was read: nothing from RDS, IAM, CloudTrail, ...
    services = {key.split(":")[0] for key in snap.api_calls}
    assert services <= {"ec2", "s3", "kms", "cloudformation", "rds", "elbv2"}, snap.api_calls


def test_throttling_and_errors_do_not_hide_other_findings(assessed_sandbox):
    """Throttled reads are retried; a failing service marks its findings 'error' and leaves the others."""
    sandbox = assessed_sandbox
    sandbox.set_faults(
        [
            {"service": "cloudformation", "operation": "DescribeStacks", "error_rate": 1.0},
            {"service": "ec2", "operation": "DescribeInstances", "throttle_rate": 1.0, "count": 2},
        ]
    )
    try:
        results, _summary = checks.run_audit(_snapshot(sandbox), checks.AuditContext(), ["5.2", "1.7"])
    finally:
        sandbox.clear_faults()
    by_id = {r["id"]: r for r in results}
    assert by_id["5.2"]["status"] == "error" and "cloudformation_stacks in us-east-1" in by_id["5.2"]["message"]
    assert by_id["1.7"]["status"] == "fail"
