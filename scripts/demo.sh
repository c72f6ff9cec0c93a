#!/usr/bin/env bash
# make demo: start the sandbox seeded with the estate as assessed, run the main
# job against it: playbooks/site.yml (the estate and its audit, read-only), then
# playbooks/remediate.yml (every finding that can be automated remediated
# between an audit before and an audit after, ending with a DR drill), stop the
# sandbox, say where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SANDBOX_PORT:-4566}"
seed="${SANDBOX_SEED:-as-assessed}"
export SANDBOX_PORT="$port" ANSIBLE_CONFIG="$PWD/ansible.cfg"
run_id="$(date -u +%Y%m%dT%H%M%SZ)"

stop_sandbox() { .venv/bin/python -m sandbox stop --port "$port" >/dev/null 2>&1 || true; }
trap stop_sandbox EXIT

echo "==> Starting the AWS sandbox on 127.0.0.1:$port with the '$seed' estate"
.venv/bin/python -m sandbox start --port "$port" --seed "$seed" --background

echo "==> Running playbooks/site.yml against inventories/sandbox"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/site.yml -e "cloudops_run_id=$run_id"

echo "==> Running playbooks/remediate.yml against inventories/sandbox"
.venv/bin/ansible-playbook -i inventories/sandbox playbooks/remediate.yml -e "cloudops_run_id=$run_id"

echo
echo "==> Done. The results of this run are in reports/ (newest first):"
ls -1dt reports/"$run_id"* 2>/dev/null | sed 's/^/    /'
drill="$(ls -1dt reports/dr/*/drill-report.html 2>/dev/null | head -n 1 || true)"
if [ -n "$drill" ]; then
    echo "    DR drill report: $(readlink -f "$drill")"
fi
if [ -e reports/"$run_id"-audit/audit.html ]; then
    echo "    Audit of the estate as found: $(readlink -f reports/"$run_id"-audit/audit.html)"
fi
if [ -e reports/latest/audit.html ]; then
    echo "    Audit report: $(readlink -f reports/latest/audit.html)"
fi
