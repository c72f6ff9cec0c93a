"""Run the estate's schedules now: every AWS Backup plan and every enabled DLM policy in the given regions,
as AWS runs them on their schedule (through the control routes of sandbox/additions/backup_jobs.py and
sandbox/additions/dlm.py). The demo uses it for "the first night" after the remediation, so that the
cross-region copies the DR drill recovers from exist.

    python -m sandbox run-schedules --port P [--region us-east-1 ...]
"""

import json
import urllib.request

import boto3


def _post(endpoint: str, path: str, payload: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the local sandbox only
        f"{endpoint}/_sandbox/{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - the local sandbox only
        return json.loads(answer.read() or b"{}")


def dlm_line(region: str, policy: dict, done: dict) -> str:
    """What one run of a DLM policy did, in words: made, deleted by retention, copied, refused."""
    kind = "image(s)" if (policy.get("PolicyDetails") or {}).get("PolicyType") == "IMAGE_MANAGEMENT" else "snapshot(s)"
    name = policy.get("Description") or policy["PolicyId"]
    parts = [f"{len(done.get('created', []))} {kind} made", f"{len(done.get('deleted', []))} deleted by retention"]
    copied = {}
    for made in done.get("copies", []):
        copied[made["region"]] = copied.get(made["region"], 0) + 1
    parts += [f"{count} copied to {target}" for target, count in sorted(copied.items())]
    if done.get("deleted_copies"):
        parts.append(f"{len(done['deleted_copies'])} old copies deleted")
    for error in done.get("errors", []):
        parts.append(f"copy of {error['source']} to {error['region']} refused: {error['error']}")
    return f"{region}: DLM policy {name} ({policy['PolicyId']}): {', '.join(parts)}"


def run(port: int, regions: list[str]) -> list[str]:
    """Lines saying what ran: one per backup plan and per DLM policy."""
    endpoint = f"http://127.0.0.1:{port}"
    lines = []
    for region in regions:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
        backup = session.client("backup", region_name=region, endpoint_url=endpoint)
        for plan in backup.list_backup_plans().get("BackupPlansList", []):
            done = _post(endpoint, "backup/run-plan", {"region": region, "plan_id": plan["BackupPlanId"]})
            jobs, copies = len(done.get("backup_jobs", [])), len(done.get("copy_jobs", []))
            lines.append(f"{region}: backup plan {plan['BackupPlanName']}: {jobs} backup job(s), {copies} copy job(s)")
        dlm = session.client("dlm", region_name=region, endpoint_url=endpoint)
        for summary in dlm.get_lifecycle_policies(State="ENABLED").get("Policies", []):
            policy = dlm.get_lifecycle_policy(PolicyId=summary["PolicyId"])["Policy"]
            done = _post(endpoint, "dlm/run", {"region": region, "policy_id": summary["PolicyId"]})
            lines.append(dlm_line(region, policy, done))
    return lines
