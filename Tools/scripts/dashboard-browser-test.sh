#!/usr/bin/env bash
# Drives chromium headless through Dashboard/ on a demo world (see dashboard_browser_test.py).
# Needs chromium and chromium-driver (apt); installs selenium and pytest into a virtual environment.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ODATA_VENV:-${TMPDIR:-/tmp}/cumulus-odata-venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet selenium pytest
export CUMULUS="${1:-$here/../../.build/debug/cumulus}"
exec "$venv/bin/python" -m pytest -q -s "$here/dashboard_browser_test.py"
