#!/usr/bin/env bash
# Every role's molecule scenarios. Each scenario gets its own sandbox on a free
# port, seeded with the estate as assessed, so scenarios run side by side
# (MOLECULE_JOBS at a time, default 2) without seeing each other's changes.
# A scenario's output goes to build/molecule/<role>-<scenario>.log and is
# printed when the scenario fails. A scenario starts from no molecule state (a
# fresh sandbox has none of what an earlier run's prepare made).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export ANSIBLE_CONFIG="$root/ansible.cfg" PATH="$root/.venv/bin:$PATH"
logs="$root/build/molecule"
rm -rf "$logs"
mkdir -p "$logs"

run_scenario() {
    local scenario="$1" role name port log status=0
    role="$(basename "$(dirname "$(dirname "$scenario")")")"
    name="$(basename "$scenario")"
    log="$logs/$role-$name.log"
    port="$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    local started=$SECONDS
    {
        python -m sandbox start --port "$port" --seed as-assessed --background \
            && (cd "roles/$role" && molecule reset -s "$name" >/dev/null 2>&1 || true) \
            && (cd "roles/$role" && SANDBOX_PORT="$port" molecule test -s "$name")
    } >"$log" 2>&1 || status=$?
    python -m sandbox stop --port "$port" >/dev/null 2>&1 || true
    if [ "$status" -eq 0 ]; then
        echo "==> passed: $role / $name ($((SECONDS - started)) s)"
    else
        echo "==> FAILED: $role / $name ($((SECONDS - started)) s); its output:" >&2
        cat "$log" >&2
        echo "==> FAILED: $role / $name" >&2
    fi
    return "$status"
}
export -f run_scenario
export logs

mapfile -t scenarios < <(find roles -mindepth 4 -maxdepth 4 -path '*/molecule/*/molecule.yml' -printf '%h\n' | sort)
if [ ${#scenarios[@]} -eq 0 ]; then
    echo "molecule: no scenario found" >&2
    exit 1
fi
echo "molecule: ${#scenarios[@]} scenario(s), ${MOLECULE_JOBS:-2} at a time"
status=0
printf '%s\n' "${scenarios[@]}" | xargs -P "${MOLECULE_JOBS:-2}" -I{} bash -c 'run_scenario "$1"' _ {} || status=$?
[ "$status" -eq 0 ] && echo "molecule: all ${#scenarios[@]} scenario(s) passed"
exit "$status"
