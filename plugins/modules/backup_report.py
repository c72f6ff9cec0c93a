#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_report
version_added: 0.2.0
short_description: Write the backup report (JSON, Markdown, HTML) of the protected resources
description:
  - Reads the AWS Backup vaults of each region (read-only) and writes, per protected resource, the newest
    recovery point in each region, its age against the RPO target, and the last restore of it and its result (a
    restore test of a restore testing plan AWS runs (with its validation status when one was reported) or a restore
    started on demand).
  - Writes C(backup-report.json), C(backup-report.md) and C(backup-report.html) into O(dest).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  regions:
    description: The regions to read (primary first).
    type: list
    elements: str
    required: true
  rpo_hours:
    description: The recovery point objective; a resource whose newest point in the primary region is older fails.
    type: int
    default: 24
  dest:
    description: The folder the reports are written to (created when absent).
    type: path
    required: true
notes:
  - Supports C(check_mode) (the reports are still written; AWS is only read).
  - "IAM permissions: C(backup:ListBackupVaults), C(backup:ListRecoveryPointsByBackupVault), C(backup:ListRestoreJobs)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Backup | Write the backup report
  medcircle.cloudops.backup_report:
    regions: [us-east-1, us-west-2]
    rpo_hours: 24
    dest: reports/backups
"""

RETURN = r"""
resources:
  description: One entry per protected resource.
  returned: always
  type: list
  elements: dict
  sample:
    - resource_arn: arn:aws:rds:us-east-1:123456789012:db:medcircledb
      status: pass
      last_restore:
        status: COMPLETED
        restore_testing_plan_arn: arn:aws:backup:us-east-1:123456789012:restore-testing-plan:medcircle_restore_test-1a2b
        validation_status: SUCCESSFUL
files:
  description: The files written.
  returned: always
  type: list
  elements: str
  sample: [reports/backups/backup-report.json]
"""

import contextlib
import datetime
import html
import json
import os

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.backup import THROTTLED


def _pages(call, key, **kwargs):
    while True:
        page = call(aws_retry=True, **kwargs)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def collect(clients, regions, rpo_hours, now):
    resources = {}
    restores = {}
    for region in regions:
        client = clients[region]
        for vault in _pages(client.list_backup_vaults, "BackupVaultList"):
            for point in _pages(
                client.list_recovery_points_by_backup_vault,
                "RecoveryPoints",
                BackupVaultName=vault["BackupVaultName"],
            ):
                if point.get("Status") != "COMPLETED":
                    continue
                entry = resources.setdefault(
                    point["ResourceArn"],
                    {"resource_arn": point["ResourceArn"], "resource_type": point.get("ResourceType"), "regions": {}},
                )
                newest = entry["regions"].get(region)
                if newest is None or point["CreationDate"] > newest["created"]:
                    entry["regions"][region] = {
                        "created": point["CreationDate"],
                        "recovery_point_arn": point["RecoveryPointArn"],
                        "vault": vault["BackupVaultName"],
                    }
        for job in _pages(client.list_restore_jobs, "RestoreJobs"):
            restores.setdefault(job.get("RecoveryPointArn"), []).append(job)
    out = []
    for entry in sorted(resources.values(), key=lambda e: e["resource_arn"]):
        points = {p["recovery_point_arn"] for p in entry["regions"].values()}
        jobs = [job for arn, found in restores.items() if arn in points for job in found]
        last = max(jobs, key=lambda j: j.get("CreationDate"), default=None)
        primary = entry["regions"].get(regions[0])
        age = (now - primary["created"]).total_seconds() / 3600 if primary else None
        ok = age is not None and age <= rpo_hours and all(r in entry["regions"] for r in regions)
        out.append(
            {
                "resource_arn": entry["resource_arn"],
                "resource_type": entry["resource_type"],
                "status": "pass" if ok else "fail",
                "rpo_hours": rpo_hours,
                "age_hours": round(age, 1) if age is not None else None,
                "newest": {
                    r: {
                        **p,
                        "created": _iso(p["created"]),
                        "age_hours": round((now - p["created"]).total_seconds() / 3600, 1),
                    }
                    for r, p in entry["regions"].items()
                },
                "missing_regions": [r for r in regions if r not in entry["regions"]],
                "last_restore": {
                    "restore_job_id": last.get("RestoreJobId"),
                    "status": last.get("Status"),
                    "created": _iso(last.get("CreationDate")),
                    "created_resource_arn": last.get("CreatedResourceArn"),
                    "restore_testing_plan_arn": (last.get("CreatedBy") or {}).get("RestoreTestingPlanArn"),
                    "validation_status": last.get("ValidationStatus"),
                }
                if last
                else None,
            }
        )
    return out


def _restore_cell(restore):
    if not restore:
        return "never tested"
    kind = "restore test" if restore.get("restore_testing_plan_arn") else "restore"
    text = f"{kind} {restore['status']} {restore['created']}"
    if restore.get("validation_status"):
        text += f", validation {restore['validation_status']}"
    return text


def render(report):
    lines = [
        "# Backup report",
        "",
        f"Generated {report['generated']}; RPO target {report['rpo_hours']} h; regions {', '.join(report['regions'])}.",
        "",
        "| Resource | Status | "
        + " | ".join(f"Newest in {r} (age h)" for r in report["regions"])
        + " | Last restore |",
        "| --- | --- | " + " | ".join(["---"] * len(report["regions"])) + " | --- |",
    ]
    rows = []
    for item in report["resources"]:
        cells = [item["resource_arn"], item["status"].upper()]
        for region in report["regions"]:
            point = item["newest"].get(region)
            cells.append(f"{point['created']} ({point['age_hours']})" if point else "none")
        restore = item["last_restore"]
        cells.append(_restore_cell(restore))
        rows.append(cells)
        lines.append("| " + " | ".join(cells) + " |")
    if not report["resources"]:
        lines.append(
            "| (no protected resource has a recovery point) | FAIL | "
            + " | ".join([""] * len(report["regions"]))
            + " | |"
        )
    markdown = "\n".join(lines) + "\n"
    head = ["Resource", "Status"] + [f"Newest in {r} (age h)" for r in report["regions"]] + ["Last restore"]
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Backup report</title></head><body>"
        f"<h1>Backup report</h1><p>Generated {html.escape(report['generated'])}; "
        f"RPO target {report['rpo_hours']} h.</p>"
        "<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )
    return markdown, page


def main():
    argument_spec = {
        "regions": {"type": "list", "elements": "str", "required": True},
        "rpo_hours": {"type": "int", "default": 24},
        "dest": {"type": "path", "required": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    regions = module.params["regions"]
    retry = AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLED)
    try:
        clients = {r: module.client("backup", region=r, retry_decorator=retry) for r in regions}
        now = datetime.datetime.now(datetime.timezone.utc)
        resources = collect(clients, regions, module.params["rpo_hours"], now)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not read the backups")
    report = {
        "generated": now.isoformat(),
        "regions": regions,
        "rpo_hours": module.params["rpo_hours"],
        "resources": resources,
    }
    markdown, page = render(report)
    dest = module.params["dest"]
    os.makedirs(dest, exist_ok=True)
    files = []
    for name, text in (
        ("backup-report.json", json.dumps(report, indent=2, sort_keys=True)),
        ("backup-report.md", markdown),
        ("backup-report.html", page),
    ):
        path = os.path.join(dest, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        files.append(path)
    module.exit_json(changed=False, resources=resources, files=files)


if __name__ == "__main__":
    main()
