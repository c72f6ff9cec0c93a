#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<ns>/<name>:
# copy the shipped files there (amazon.aws and community.aws beside it) and
# run it with the pinned ansible-core.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
if [ ! -x .venv-sanity/bin/ansible-test ]; then
    # ansible-test runs from its own virtualenv, with the same ansible-core pin.
    python3.11 -m venv .venv-sanity
    .venv-sanity/bin/python -m pip install --quiet "$(grep '^ansible-core==' requirements.txt)" 2>&1 | grep -v 'is ignored' || true
fi
work="$root/build/sanity"
rm -rf "$work"
mkdir -p "$work/ansible_collections/medcircle/cloudops"
git ls-files -z --cached --others --exclude-standard \
    | grep -zvE '^(sandbox|benchmarks|scripts|\.ci)/|^tests/(unit|integration|sandbox|output)/|^tests/[^/]*$' \
    | xargs -0 cp --parents -t "$work/ansible_collections/medcircle/cloudops"
site="$("$root/.venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')"
for ns in amazon community; do
    mkdir -p "$work/ansible_collections/$ns"
done
ln -s "$site/ansible_collections/amazon/aws" "$work/ansible_collections/amazon/aws"
ln -s "$site/ansible_collections/community/aws" "$work/ansible_collections/community/aws"
# ansible-test bootstraps pip in its virtualenvs with a script it downloads
# from a host outside the package registries; give it the local stand-in.
pip_version="$(grep -ohE "pip='[0-9.]+'" "$root"/.venv-sanity/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1 | tr -dc '0-9.')"
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/scripts/sanity/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$work/ansible_collections/medcircle/cloudops"
git init -q . && git add -A >/dev/null
"$root/.venv-sanity/bin/ansible-test" sanity --python 3.11 --local --requirements --color no "$@"
