"""Does the audit agree with Prowler on the same estate? Resource-level verdicts, finding by finding.

For each seed (the estate as assessed, and hardened) this script starts a sandbox, runs the collection's
risk_audit module as users do (``ansible localhost -m medcircle.cloudops.risk_audit``), then runs Prowler
(the other tool; its own virtualenv, see benchmarks/prowler_env.sh) with ``AWS_ENDPOINT_URL`` at the same
sandbox for the Prowler checks each finding maps to (``prowler_checks`` in findings.py). Prowler's
per-resource PASS/FAIL of a finding's checks is folded into one verdict per resource (FAIL when any mapped
check fails it) and set beside the audit's verdict for that resource.

    bash benchmarks/prowler_env.sh                   # once: installs Prowler into .cache/prowler-venv
    .venv/bin/python benchmarks/prowler_compare.py   # both seeds; writes reports/benchmarks/prowler_compare.*
    .venv/bin/python benchmarks/prowler_compare.py --seeds as-assessed --scan-unused

Rows: ``agree`` (both judged the resource, same verdict), ``disagree`` (both judged it, different verdicts),
``audit only`` / ``prowler only`` (one tool judged a resource the other did not). Every disagreement and
every one-sided row is matched against EXPLANATIONS; an unexplained one is printed as such and makes the
exit status 1, so a new difference is looked at rather than lost.
"""

import argparse
import datetime
import fnmatch
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prowler_run
from prowler_run import REGIONS, REPO
from sandbox_client import SandboxClient

REPORT_DIR = REPO / "reports" / "benchmarks"
KINDS = ("agree", "disagree", "exempt", "audit_only", "prowler_only")

# Prowler checks that judge the account as a whole (one verdict, whatever trail or log group it names) or
# one region of it; their rows meet the audit's account-level evidence under "account" / "account/<region>".
ACCOUNT_CHECKS = {
    "cloudtrail_multi_region_enabled",
    "cloudtrail_s3_dataevents_read_enabled",
    "cloudtrail_s3_dataevents_write_enabled",
    "cloudwatch_log_metric_filter_unauthorized_api_calls",
    "vpc_different_regions",
    "iam_root_mfa_enabled",
    "iam_password_policy_minimum_length_14",
    "iam_password_policy_uppercase",
    "iam_password_policy_lowercase",
    "iam_password_policy_number",
    "iam_password_policy_symbol",
    "iam_password_policy_reuse_24",
}
REGION_CHECKS = {
    "ec2_ebs_default_encryption",
    "ec2_instance_account_imdsv2_enabled",
    "guardduty_is_enabled",
    "dlm_ebs_snapshot_lifecycle_policy_exists",
    "backup_plans_exist",
}
# The audit's account-level evidence rows: resource types, and id prefixes of per-region placeholders.
AUDIT_REGION_PREFIXES = ("guardduty/", "wafv2/", "ebs-encryption-by-default/", "instance-metadata-defaults/")

# (finding, row kind, resource key pattern) -> why the two tools differ there. Row kinds: disagree (both
# judged, verdicts differ), exempt (the audit rules the resource out of the finding by design, Prowler judges
# it), audit_only, prowler_only. Written after looking at each difference on the sandbox's two seeds.
_UNUSED_SG = (
    "Prowler judges only security groups attached to a network interface (unless --scan-unused-services); the "
    "sandbox creates no network interface for RDS instances, load balancers or interface endpoints, so Prowler "
    "skips those groups. The audit judges every group (an open group is one attachment away from exposure)."
)
_NO_PATCH_DATA = (
    "Prowler's ssm_managed_compliant_patching judges only instances that Systems Manager manages and that have "
    "patch compliance data (ssm:ListResourceComplianceSummaries); on the as-assessed estate no instance is "
    "managed, so Prowler has no verdict. The audit fails an instance without patch data (finding 3.8 is that no "
    "patching is recorded at all) and agrees with Prowler once instances are managed (hardened estate)."
)
_LOG_TARGET = (
    "The bucket receives other buckets' server access logs: AWS delivers those logs only to SSE-S3 buckets "
    "that do not log themselves, so the audit rules it out of this finding; Prowler fails it."
)
EXPLANATIONS = {
    ("1.2", "audit_only", "*"): (
        "Finding 1.2 judges identities (users, roles, groups) and identical policies shared by different jobs; "
        "the mapped Prowler checks judge policy documents, so identities have no Prowler row."
    ),
    ("1.2", "prowler_only", "*"): (
        "Prowler reports the policy documents themselves; the audit reports the identities that hold them "
        "under 1.2 and the policy documents under 2.1 (where the two tools are compared policy by policy)."
    ),
    ("1.4", "prowler_only", "account/*"): (
        "EBS encryption by default is an account setting; the audit reports it under 3.4 (where both tools "
        "agree), not under 1.4, which is about root volumes."
    ),
    ("1.4", "prowler_only", "vol-*"): (
        "A data volume: finding 1.4 covers root volumes, ec2_ebs_volume_encryption every volume. The audit "
        "judges data volumes under 3.4, where both tools agree."
    ),
    ("1.7", "audit_only", "account/*"): (
        "Scope: Prowler's ec2_instance_account_imdsv2_enabled judges a region's IMDS default for new instances only "
        "when the region has instances (unless --scan-unused-services); the as-assessed DR region has none. The "
        "audit judges the default in every audited region: the first instances launched there in a failover would "
        "otherwise allow IMDSv1."
    ),
    ("1.6", "exempt", "*"): _LOG_TARGET,
    ("2.1", "disagree", "MedCircleS3FullAccess"): (
        'Real difference in criteria: "s3:*" on Resource "*" is full read/write on patient data, which 2.1 '
        "fails; Prowler's mapped checks only look for '*:*', 'kms:*' and 'cloudtrail:*'."
    ),
    ("2.1", "disagree", "*/*"): (
        'Real difference in criteria: an inline policy granting whole services ("rds:*", ...) on Resource "*" '
        "fails 2.1; Prowler's inline-policy check only looks for '*:*' administrator grants."
    ),
    ("2.2", "prowler_only", "account/*"): (
        "Granularity: backup_plans_exist says whether any AWS Backup plan exists in the account; the audit "
        "judges whether each database is covered by a backup plan or automated backups."
    ),
    ("2.3", "audit_only", "*"): (
        "Finding 2.3 also requires a DR-region copy of each database; no Prowler check covers RDS cross-region "
        "copies (only s3_bucket_cross_region_replication is mapped)."
    ),
    ("2.3", "prowler_only", "*"): (
        "Scope: the audit requires replication of the buckets that hold patient data (tag DataClass=phi; every "
        "bucket when none is tagged) in the primary region; Prowler fails every bucket without replication, "
        "including the DR replica itself, the CloudTrail bucket and the access-log buckets."
    ),
    ("2.5", "exempt", "*"): _LOG_TARGET,
    ("2.6", "exempt", "*"): (
        "Scope: Object Lock is required on the buckets that hold patient data (tag DataClass=phi); the audit "
        "rules the other buckets out, Prowler fails every bucket without Object Lock."
    ),
    ("2.7", "exempt", "*"): _LOG_TARGET,
    ("2.9", "audit_only", "*"): (
        "Granularity and criteria: the audit judges each bucket and accepts either CloudTrail data events or "
        "server access logs delivered to a log bucket that admits them; Prowler's mapped checks give one "
        "account verdict and accept only a trail recording data events of all buckets."
    ),
    ("2.9", "prowler_only", "account"): (
        "Granularity and criteria: Prowler's CloudTrail data-event verdict is account-wide and accepts only a "
        "trail recording all buckets' object events; the audit judges each bucket (see the bucket rows) and "
        "also accepts server access logs. On the hardened estate the buckets log through server access logs, "
        "so the audit passes them where Prowler fails the account."
    ),
    ("2.10", "audit_only", "i-*"): (
        "Granularity: the audit judges whether a DLM policy targets each instance's volumes; Prowler's "
        "dlm_ebs_snapshot_lifecycle_policy_exists gives one verdict per region (the account/<region> rows), "
        "with the same outcome on both estates."
    ),
    ("2.10", "prowler_only", "account/*"): (
        "Granularity: Prowler judges per region whether any DLM policy exists; the audit judges each "
        "instance's volumes (the instance rows), with the same outcome."
    ),
    ("2.12", "disagree", "*"): (
        "Sandbox artifact: the database has MonitoringInterval 60 (enhanced monitoring on), but the sandbox "
        "(moto) never returns EnhancedMonitoringResourceArn, the field Prowler's check reads; AWS returns it "
        "whenever enhanced monitoring is on. The audit reads MonitoringInterval (and RDS alarms)."
    ),
    ("2.13", "exempt", "*"): (
        "A read replica in the DR region: the audit judges failover on the source database and rules the "
        "replica out; Prowler judges the replica's MultiAZ flag."
    ),
    ("3.3", "audit_only", "sg-*"): _UNUSED_SG,
    ("3.4", "audit_only", "account/us-west-2"): (
        "Prowler judges EBS encryption by default only in regions that hold volumes (unless "
        "--scan-unused-services); the audit judges it in every audited region."
    ),
    ("3.6", "disagree", "sg-*"): (
        "Sandbox artifact, and a difference in method: the group is used by an RDS instance or an interface "
        "VPC endpoint. The sandbox creates no network interface for those, and Prowler counts only network "
        "interfaces (and Lambda functions), so it calls the group unused; the audit also reads the groups "
        "named by DescribeDBInstances, load balancers and VPC endpoints. On AWS both would see it used."
    ),
    ("3.8", "audit_only", "*"): _NO_PATCH_DATA,
    ("4.2", "prowler_only", "vpc-*"): (
        "vpc_subnet_separate_private_public judges the VPC's subnet layout; finding 4.2 lists the servers and "
        "databases reachable from the internet (where both tools agree), not the VPC."
    ),
    ("4.3", "audit_only", "sg-*"): _UNUSED_SG,
    ("4.3", "disagree", "sg-*"): (
        "Prowler's port-22/3306/3389 checks PASS a group that has all ports open ('was not checked against the "
        "specific port'), leaving it to the all-ports check (mapped to 3.3, where both fail it); the audit "
        "fails it under 4.3 as well, because SSH and MySQL are open to the internet."
    ),
    ("4.4", "audit_only", "account/*"): (
        "Criteria: finding 4.4 asks for a regional web ACL in each region that runs the application (none on "
        "the as-assessed estate: audit FAIL); wafv2_webacl_logging_enabled judges logging on existing web ACLs "
        "only, so Prowler has nothing to report for the region itself."
    ),
    ("4.4", "prowler_only", "*"): (
        "Criteria: Prowler fails the web ACL because it has no logging configuration; the audit's 4.4 asks for "
        "the web ACL to exist (it does: the account/<region> rows pass). WAF logging is not part of this "
        "finding's requirement."
    ),
    ("4.5", "disagree", "vpc-*"): (
        "Real difference in criteria: the audit passes a VPC when a Network Firewall policy exists in the "
        "region even though no firewall in the VPC enforces it yet (its evidence says so); Prowler requires a "
        "firewall in the VPC. Prowler is stricter here; see the suggestions in "
        "docs/reference/prowler-comparison.md."
    ),
    ("5.3", "exempt", "*"): (
        "A read replica in the DR region: the audit judges Multi-AZ on the source database and rules the "
        "replica out; Prowler judges the replica's MultiAZ flag."
    ),
}


def explain(finding, kind, key):
    for (fid, k, pattern), text in EXPLANATIONS.items():
        if fid == finding and k == kind and fnmatch.fnmatchcase(key, pattern) and text:
            return text
    return None


def audit_key(resource):
    rid, region, rtype = resource["resource_id"], resource.get("region") or "", resource.get("resource_type")
    if rtype == "AwsAccount" or rid.startswith(AUDIT_REGION_PREFIXES) or rtype == "AwsGuardDutyDetector":
        if rtype == "AwsAccount" and ("," in region or region in ("global", "")):
            return "account"
        return f"account/{region}"
    return rid


def prowler_key(check, finding):
    resource = (finding.get("resources") or [{}])[0]
    if check in ACCOUNT_CHECKS:
        return "account"
    if check in REGION_CHECKS:
        return "account/{}".format(resource.get("region"))
    return resource.get("name") or resource.get("uid") or "?"


def fold(verdicts):
    """One verdict from several: FAIL beats MANUAL beats PASS."""
    for verdict in ("FAIL", "ERROR", "MANUAL", "PASS", "N/A"):
        if verdict in verdicts:
            return verdict
    return None


def compare(audit_result, prowler_findings, by_finding):
    by_check = defaultdict(list)
    for item in prowler_findings:
        by_check[item["metadata"]["event_code"]].append(item)
    rows = []
    for finding in audit_result["findings"]:
        fid = finding["id"]
        checks = by_finding.get(fid)
        if not checks:
            continue
        audit = defaultdict(set)
        observed = defaultdict(list)
        for resource in finding["resources"]:
            status = {
                "pass": "PASS",
                "fail": "FAIL",
                "manual": "MANUAL",
                "error": "ERROR",
                "not_applicable": "N/A",
            }.get(resource["status"])
            if status:
                audit[audit_key(resource)].add(status)
                observed[audit_key(resource)].append(resource.get("observed") or "")
        prowler = defaultdict(set)
        detail = defaultdict(list)
        for check in checks:
            for item in by_check.get(check, []):
                key = prowler_key(check, item)
                prowler[key].add(item["status_code"])
                detail[key].append(f"{check} {item['status_code']}: {item.get('status_detail', '')}")
        resources = []
        for key in sorted(set(audit) | set(prowler)):
            a, p = fold(audit.get(key, ())), fold(prowler.get(key, ()))
            if a == p:
                kind = "agree"
            elif a == "N/A":
                kind = "exempt" if p else "audit_only"
            else:
                kind = "disagree" if a and p else "audit_only" if a else "prowler_only"
            if kind == "audit_only" and a == "N/A":
                continue  # ruled out by the audit and not judged by Prowler: nothing to compare
            resources.append(
                {
                    "resource": key,
                    "kind": kind,
                    "audit": a,
                    "prowler": p,
                    "audit_observed": observed.get(key, []),
                    "prowler_checks": sorted(detail.get(key, [])),
                    "explanation": None if kind == "agree" else explain(fid, kind, key),
                }
            )
        silent = [c for c in checks if not by_check.get(c)]
        counts = Counter(r["kind"] for r in resources)
        rows.append(
            {
                "finding": fid,
                "title": finding["title"],
                "audit_status": finding["status"],
                "prowler_status": fold({r["prowler"] for r in resources if r["prowler"]}),
                "prowler_checks": checks,
                "checks_without_output": silent,
                "counts": {k: counts.get(k, 0) for k in KINDS},
                "resources": resources,
            }
        )
    return rows


# Checks that produced no Prowler row on a seed, and why (the sandbox's request log tells which call failed).
SILENT_CHECKS = {
    "iam_root_mfa_enabled": (
        "No result: the sandbox's IAM credential report has no <root_account> line, so Prowler has no root user "
        "to judge (AWS always lists it)."
    ),
    "iam_aws_attached_policy_no_administrative_privileges": (
        "No AWS managed administrator policy is attached to any identity in the estate: nothing to report."
    ),
    "ec2_securitygroup_allow_ingress_from_internet_to_any_port": (
        "Prowler runs this check only on groups in use (attached to a network interface) that the all-ports "
        "check has not already failed; on the as-assessed estate the one group in use fails all ports."
    ),
    "ssm_managed_compliant_patching": _NO_PATCH_DATA,
    "wafv2_webacl_logging_enabled": "No web ACL exists on this estate; the check judges existing web ACLs only.",
    "backup_plans_exist": (
        "No Backup plan and no Backup vault exist: Prowler's check reports only when a plan or a vault exists."
    ),
}


def sandbox_gaps(sandbox):
    """Operations Prowler called that the sandbox answered with 501 (not implemented), with counts."""
    gaps = Counter()
    for request in sandbox.requests():
        if int(request.get("status") or 0) == 501:
            gaps["{}:{}".format(request.get("service"), request.get("operation"))] += 1
    return dict(sorted(gaps.items()))


def run_seed(seed, by_finding, out_dir, scan_unused):
    with SandboxClient.start(seed=seed) as sandbox:
        audit, audit_wall = prowler_run.run_audit_module(sandbox.endpoint)
        sandbox.clear_requests()
        checks = sorted({c for cs in by_finding.values() for c in cs})
        prowler = prowler_run.run_prowler(sandbox.endpoint, checks, out_dir / seed, scan_unused=scan_unused)
        gaps = sandbox_gaps(sandbox)
        prowler_calls = len(sandbox.requests())
    rows = compare(audit, prowler["findings"], by_finding)
    silent = sorted({c for row in rows for c in row["checks_without_output"]})
    return {
        "seed": seed,
        "audit_wall_seconds": round(audit_wall, 2),
        "audit_module_seconds": audit["duration_seconds"],
        "audit_api_calls": sum(audit["api_calls"].values()),
        "audit_source_errors": audit["source_errors"],
        "prowler_wall_seconds": round(prowler["wall_seconds"], 2),
        "prowler_scan_seconds": prowler["scan_seconds"],
        "prowler_returncode": prowler["returncode"],
        "prowler_api_calls": prowler_calls,
        "prowler_results": len(prowler["findings"]),
        "sandbox_not_implemented": gaps,
        "checks_without_output": {c: SILENT_CHECKS.get(c) or None for c in silent},
        "rows": rows,
    }


def print_seed(result):
    print(f"\n=== seed {result['seed']}")
    print(
        f"audit (module) {result['audit_wall_seconds']:.1f}s wall ({result['audit_module_seconds']:.1f}s inside "
        f"the module, {result['audit_api_calls']} API calls); Prowler {result['prowler_wall_seconds']:.1f}s wall "
        f"(scan {result['prowler_scan_seconds']}s, {result['prowler_api_calls']} API calls, "
        f"{result['prowler_results']} results)"
    )
    print(
        f"{'finding':<8}{'audit':<7}{'prowler':<8}{'agree':>6}{'differ':>7}{'exempt':>7}{'a-only':>7}{'p-only':>7}"
        "  checks"
    )
    for row in result["rows"]:
        c = row["counts"]
        print(
            f"{row['finding']:<8}{row['audit_status']:<7}{row['prowler_status'] or '-':<8}{c['agree']:>6}"
            f"{c['disagree']:>7}{c['exempt']:>7}{c['audit_only']:>7}{c['prowler_only']:>7}"
            f"  {', '.join(row['prowler_checks'])}"
        )
    print("\ndifferences (resource: audit verdict / Prowler verdict: explanation)")
    for row in result["rows"]:
        for r in row["resources"]:
            if r["kind"] != "agree":
                why = r["explanation"] or "UNEXPLAINED"
                print(f"  {row['finding']:<5} {r['kind']:<13}{r['resource']}: {r['audit']} / {r['prowler']}: {why}")
    if result["checks_without_output"]:
        print("\nProwler checks with no result on this estate")
        for check, why in result["checks_without_output"].items():
            print(f"  {check}: {why or 'UNEXPLAINED'}")
    if result["sandbox_not_implemented"]:
        print("\nsandbox answered 501 (not implemented) to Prowler for:")
        for op, n in result["sandbox_not_implemented"].items():
            print(f"  {op} x{n}")


def markdown(report):
    lines = [
        "# Audit vs Prowler: resource-level verdicts",
        "",
        f"Generated {report['generated']} by `benchmarks/prowler_compare.py`; Prowler {report['prowler_version']}, "
        f"regions {', '.join(REGIONS)}.",
        "",
    ]
    if report["unknown_checks"]:
        lines += [f"Check ids in findings.py that Prowler does not have: {', '.join(report['unknown_checks'])}", ""]
    for result in report["seeds"]:
        lines += [
            f"## Seed `{result['seed']}`",
            "",
            f"Audit {result['audit_wall_seconds']:.1f} s ({result['audit_api_calls']} API calls); Prowler "
            f"{result['prowler_wall_seconds']:.1f} s wall, scan {result['prowler_scan_seconds']} s "
            f"({result['prowler_api_calls']} API calls).",
            "",
            "| finding | audit | Prowler | agree | disagree | exempt | audit only | Prowler only | Prowler checks |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in result["rows"]:
            c = row["counts"]
            lines.append(
                f"| {row['finding']} | {row['audit_status']} | {row['prowler_status'] or '-'} | {c['agree']} | "
                f"{c['disagree']} | {c['exempt']} | {c['audit_only']} | {c['prowler_only']} | "
                f"{', '.join(row['prowler_checks'])} |"
            )
        lines += ["", "| finding | kind | resource | audit | Prowler | explanation |", "|---|---|---|---|---|---|"]
        for row in result["rows"]:
            for r in row["resources"]:
                if r["kind"] != "agree":
                    lines.append(
                        f"| {row['finding']} | {r['kind']} | {r['resource']} | {r['audit'] or '-'} | "
                        f"{r['prowler'] or '-'} | {r['explanation'] or 'UNEXPLAINED'} |"
                    )
        if result["checks_without_output"]:
            lines += ["", "Prowler checks with no result:", ""]
            lines += [f"- `{c}`: {w or 'UNEXPLAINED'}" for c, w in result["checks_without_output"].items()]
        if result["sandbox_not_implemented"]:
            lines += ["", "Operations Prowler called that the sandbox does not implement (HTTP 501):", ""]
            lines += [f"- `{op}` x{n}" for op, n in result["sandbox_not_implemented"].items()]
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", default=["as-assessed", "hardened"])
    parser.add_argument("--scan-unused", action="store_true", help="pass --scan-unused-services to Prowler")
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "prowler-compare", help="Prowler's outputs")
    args = parser.parse_args()
    if not prowler_run.prowler_available():
        print(f"Prowler is not installed in {prowler_run.PROWLER_VENV}: run bash benchmarks/prowler_env.sh")
        return 2
    by_finding, unknown = prowler_run.mapped_checks()
    if unknown:
        print(f"check ids in findings.py that Prowler {prowler_run.prowler_version()} does not have: {unknown}")
    renamed = {a: b for a, b in prowler_run.RENAMED_CHECKS.items() if b in {c for v in by_finding.values() for c in v}}
    for old, new in renamed.items():
        print(f"findings.py names {old}; Prowler names it {new} (compared under Prowler's name)")
    started = time.monotonic()
    results = [run_seed(seed, by_finding, args.out, args.scan_unused) for seed in args.seeds]
    for result in results:
        print_seed(result)
    report = {
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "prowler_version": prowler_run.prowler_version(),
        "scan_unused_services": args.scan_unused,
        "renamed_checks": renamed,
        "unknown_checks": unknown,
        "seeds": results,
    }
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "prowler_compare.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORT_DIR / "prowler_compare.md").write_text(markdown(report))
    unexplained = sum(
        1
        for result in results
        for row in result["rows"]
        for r in row["resources"]
        if r["kind"] != "agree" and not r["explanation"]
    ) + sum(1 for result in results for why in result["checks_without_output"].values() if not why)
    print(f"\nwrote {REPORT_DIR / 'prowler_compare.md'} and .json in {time.monotonic() - started:.0f}s")
    print(f"unexplained differences: {unexplained}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
