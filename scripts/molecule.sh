#!/usr/bin/env bash
# Every role's molecule scenarios, against one sandbox on a free port seeded
# with the estate as assessed (each scenario that needs another state resets
# it through the sandbox's control endpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export SANDBOX_PORT="$port" ANSIBLE_CONFIG="$root/ansible.cfg" PATH="$root/.venv/bin:$PATH"
trap '.venv/bin/python -m sandbox stop --port "$port" >/dev/null 2>&1 || true' EXIT
.venv/bin/python -m sandbox start --port "$port" --seed as-assessed --background
status=0
scenarios=0
for role in roles/*/; do
    [ -d "$role/molecule" ] || continue
    for scenario in "$role"molecule/*/; do
        [ -f "$scenario/molecule.yml" ] || continue
        name="$(basename "$scenario")"
        echo "==> molecule test: $(basename "$role") / $name"
        curl -fsS -X POST -H 'Content-Type: application/json' \
            -d '{"seed": "as-assessed"}' "http://127.0.0.1:$port/_sandbox/reset" >/dev/null
        scenarios=$((scenarios + 1))
        if ! (cd "$role" && molecule test -s "$name"); then
            echo "==> FAILED: $(basename "$role") / $name" >&2
            status=1
        fi
    done
done
echo "molecule: $scenarios scenario(s) run"
[ "$scenarios" -gt 0 ] || { echo "molecule: no scenario found" >&2; exit 1; }
exit $status
