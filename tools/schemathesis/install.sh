#!/usr/bin/env bash
# Installs Schemathesis (PyPI) into a virtual environment cached outside the repo and prints
# the path of its `schemathesis` command. calor-api's schema test runs it against the API's
# own OpenAPI description.
set -euo pipefail
version=4.32.5
venv="${CALOR_CACHE:-$HOME/.cache/calor}/schemathesis-$version"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version" >&2
fi
echo "$venv/bin/schemathesis"
