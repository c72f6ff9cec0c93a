#!/usr/bin/env bash
# make demo: start the sandbox seeded with the estate as assessed and run the
# main job against it:
#   1. playbooks/site.yml: the estate and its audit, read-only;
#   2. playbooks/remediate.yml: every finding that can be automated remediated
#      between an audit before and an audit after (fleet, encryption, networks,
#      monitoring, S3 and its replication, databases, Linux, patching, backups,
#      stacks, passwords, the DR site);
#      (then the application owner's confirmation retires the unencrypted
#      original of the database);
#   3. the first night: the sandbox runs the new backup plans and DLM policies
#      as AWS runs them on their schedule, so the DR region holds copies;
#   4. playbooks/dr_drill.yml: the first DR drill, with its report;
#   5. playbooks/audit.yml: the audit again, compared with the one after the
#      remediation;
#   6. playbooks/access_review.yml: for the findings people decide (1.2, 2.1),
#      what each over-permitted identity is allowed and really used;
# then stop the sandbox and say where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SANDBOX_PORT:-4566}"
seed="${SANDBOX_SEED:-as-assessed}"
export SANDBOX_PORT="$port" ANSIBLE_CONFIG="$PWD/ansible.cfg"
run_id="$(date -u +%Y%m%dT%H%M%SZ)"

stop_sandbox() { .venv/bin/python -m sandbox stop --port "$port" >/dev/null 2>&1 || true; }
trap stop_sandbox EXIT

# A new sandbox: the DR plan and drill history an earlier demo left are of another estate; keep them aside, so
# the audit, the DR plan and the drill judge only this sandbox's.
earlier=()
for file in reports/dr/dr-plan.md reports/dr/dr-plan.html reports/dr/drill-history.json; do
    [ -e "$file" ] && earlier+=("$file")
done
if [ "${#earlier[@]}" -gt 0 ]; then
    mkdir -p "reports/dr/earlier-demo-$run_id"
    mv "${earlier[@]}" "reports/dr/earlier-demo-$run_id/"
    echo "==> The DR plan and drill history of an earlier demo (another sandbox) are kept in reports/dr/earlier-demo-$run_id/"
fi

echo "==> Starting the AWS sandbox on 127.0.0.1:$port with the '$seed' estate"
.venv/bin/python -m sandbox start --port "$port" --seed "$seed" --background

echo "==> Running playbooks/site.yml against inventories/sandbox"
# A new sandbox: the audit of an earlier demo in reports/ is of another estate, so this one is not compared with it.
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/site.yml -e "cloudops_run_id=$run_id" \
    -e risk_audit_compare_previous=false

echo "==> Running playbooks/remediate.yml against inventories/sandbox"
# The demo retires the unencrypted originals of the EBS swaps at once; production keeps them for
# ebs_encryption_original_retention_days.
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/remediate.yml -e "cloudops_run_id=$run_id" \
    -e ebs_encryption_original_retention_days=0 -e ebs_encryption_cleanup_originals=true

echo "==> The application owner has checked the encrypted database: retire the unencrypted original"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/remediate/rds.yml -e rds_protection_encrypt_delete_original=true

echo "==> The first night: the backup plans and DLM policies run as AWS runs them on their schedule"
.venv/bin/python -m sandbox run-schedules --port "$port" --region us-east-1

echo "==> Running playbooks/dr_drill.yml: the first DR drill, every system of the plan"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/dr_drill.yml

echo "==> Running playbooks/audit.yml: the estate after the remediation and the drill"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/audit.yml -e "risk_audit_run_id=$run_id-final"

echo "==> Running playbooks/access_review.yml: what the identities 1.2 and 2.1 fail really use (for the security lead)"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/access_review.yml -e "access_review_run_id=$run_id"

echo
echo "==> Done. The results of this run are in reports/ (newest first):"
ls -1dt reports/"$run_id"* 2>/dev/null | sed 's/^/    /'
drill="$(ls -1dt reports/dr/*/drill-report.html 2>/dev/null | head -n 1 || true)"
if [ -n "$drill" ]; then
    echo "    DR drill report: $(readlink -f "$drill")"
fi
if [ -e reports/"$run_id"-access-review/access-review.md ]; then
    echo "    Access review for 1.2 and 2.1: $(readlink -f reports/"$run_id"-access-review/access-review.md)"
fi
if [ -e reports/"$run_id"-audit/audit.html ]; then
    echo "    Audit of the estate as found: $(readlink -f reports/"$run_id"-audit/audit.html)"
fi
if [ -e reports/latest/audit.html ]; then
    echo "    Audit report: $(readlink -f reports/latest/audit.html)"
fi
