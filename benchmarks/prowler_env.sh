#!/usr/bin/env bash
# Install Prowler (the other tool the audit is compared with) into its own virtualenv,
# .cache/prowler-venv, never into the project's .venv: Prowler is not a project dependency.
#
#   bash benchmarks/prowler_env.sh          # idempotent: does nothing when the pinned version is there
#   .cache/prowler-venv/bin/prowler --version
#
# uv resolves Prowler's dependencies in about a minute; plain pip's resolver takes far longer.
# Override the interpreter with PYTHON=python3.12, the folder with PROWLER_VENV=/path.
set -euo pipefail

PROWLER_VERSION="${PROWLER_VERSION:-5.46.0}"
UV_VERSION="${UV_VERSION:-0.13.9}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PROWLER_VENV:-$REPO/.cache/prowler-venv}"
PYTHON="${PYTHON:-python3.11}"

installed() {
    [ -x "$VENV/bin/prowler" ] &&
        [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("prowler"))' 2>/dev/null)" = "$PROWLER_VERSION" ]
}

if installed; then
    echo "prowler $PROWLER_VERSION already in $VENV"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
echo "installing prowler==$PROWLER_VERSION with uv"
VIRTUAL_ENV="$VENV" "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" "prowler==$PROWLER_VERSION"

installed || { echo "prowler $PROWLER_VERSION did not install into $VENV" >&2; exit 1; }
echo "prowler $("$VENV/bin/prowler" --version 2>/dev/null | tail -1) ready in $VENV"
