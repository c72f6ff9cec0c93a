#!/usr/bin/env bash
# make demo: start the sandbox seeded with the estate as assessed, run
# playbooks/site.yml against it, stop the sandbox, say where the results are.
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

echo
echo "==> Done. The results of this run are in reports/ (newest first):"
ls -1dt reports/"$run_id"* 2>/dev/null | sed 's/^/    /'
if [ -e reports/latest/audit.html ]; then
    echo "    Audit report: $(readlink -f reports/latest/audit.html)"
fi
