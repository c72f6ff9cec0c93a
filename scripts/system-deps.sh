#!/usr/bin/env bash
# Debian packages the test suites and the demo need. Installed with apt-get when
# missing (CI and the sandbox machines run as root); otherwise say what to install.
#   bash scripts/system-deps.sh               # everything make test needs
#   bash scripts/system-deps.sh debootstrap   # only these (make demo)
set -euo pipefail
# chromium: the audit report is checked in a real browser (tests/integration/test_audit_html.py).
# debootstrap: Debian root filesystems back sandbox instances (SSM Run Command: the patch
# window's scans and installs, the drill's health checks) and the host roles' molecule scenarios.
if [ $# -gt 0 ]; then
    packages=("$@")
else
    packages=(chromium debootstrap)
fi
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "system-deps: missing Debian packages: ${missing[*]}" >&2
    echo "system-deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
